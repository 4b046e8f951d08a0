import re
from decimal import Decimal

from ledger.render import (
    Sheet,
    Unit,
    display_sheet,
    money,
    render_html_page,
    render_markdown,
    share,
)

SHEET = Sheet(
    title="Revenue",
    columns=("company", "gross"),
    rows=(("Nvidia", "70.00"), ("A|B", "1.00")),
    numeric=frozenset({"gross"}),
    notes=("organic = gross - circular",),
)


def test_money_groups_thousands_and_keeps_two_decimals():
    assert money(Decimal("1234567.5")) == "1,234,567.50"
    assert money(Decimal("3"), grouped=False) == "3.00"


def test_share_is_a_percentage():
    assert share(Decimal("0.6195")) == "62.0%"


def test_markdown_table_right_aligns_numbers_and_escapes_pipes():
    assert render_markdown([SHEET]) == (
        "## Revenue\n\n"
        "| company | gross |\n"
        "|---|---:|\n"
        "| Nvidia | 70.00 |\n"
        "| A\\|B | 1.00 |\n"
        "\n"
        "- organic = gross - circular\n"
    )


def test_money_in_billions_divides_and_rounds_for_display_only():
    assert money(Decimal("12869460223.78"), unit=Unit.BILLIONS) == "12.87"
    assert money(Decimal("1500"), unit=Unit.THOUSANDS) == "1.50"
    assert money(Decimal("1500")) == "1,500.00"


# --------------------------------------------------------------------------------------------
# Units and rounding that adds up


def _amounts(*values: str) -> tuple[str, ...]:
    return tuple(money(Decimal(v)) for v in values)


THIRDS = Sheet(
    title="Thirds",
    columns=("company", "gross"),
    rows=(
        ("A", *_amounts("333000")),
        ("B", *_amounts("333000")),
        ("C", *_amounts("334000")),
        ("total", *_amounts("1000000")),
    ),
    numeric=frozenset({"gross"}),
)


def test_parts_shown_in_millions_add_up_to_the_total_shown():
    """0.333 + 0.333 + 0.334 M: rounded one by one 0.33 x 3 = 0.99 != 1.00."""
    shown = display_sheet(THIRDS, Unit.MILLIONS)
    assert [row[1] for row in shown.rows] == ["0.33", "0.33", "0.34", "1.00"]


def test_a_total_of_all_but_one_row_is_found_and_kept():
    """``total (others)`` adds up every row but the failed company's, which sits below it."""
    sheet = Sheet(
        "Loss",
        ("company", "loss"),
        (
            ("A", *_amounts("333000")),
            ("B", *_amounts("333000")),
            ("failed", *_amounts("6000")),
            ("C", *_amounts("334000")),
            ("total (others)", *_amounts("1000000")),
        ),
        numeric=frozenset({"loss"}),
    )
    shown = display_sheet(sheet, Unit.MILLIONS)
    assert [row[1] for row in shown.rows] == ["0.33", "0.33", "0.01", "0.34", "1.00"]


def test_declared_column_sums_hold_in_every_printed_row():
    sheet = Sheet(
        "Figures",
        ("company", "gross", "circular", "organic"),
        (
            ("A", *_amounts("1000000", "333000", "667000")),
            ("B", *_amounts("1000000", "666000", "334000")),
            ("total", *_amounts("2000000", "999000", "1001000")),
        ),
        numeric=frozenset({"gross", "circular", "organic"}),
        sums=(("gross", ("circular", "organic")),),
    )
    shown = display_sheet(sheet, Unit.MILLIONS)
    for row in shown.rows:
        gross, circular, organic = (Decimal(c) for c in row[1:])
        assert gross == circular + organic
    assert sum(Decimal(r[2]) for r in shown.rows[:2]) == Decimal(shown.rows[2][2])


def test_markdown_picks_one_readable_unit_per_report_and_says_so():
    text = render_markdown([THIRDS])
    assert "| total | 1,000.00 |" in text  # in thousands: at most four digits before the point
    assert "- Amounts in thousands (K), rounded so that printed parts add up" in text


def test_markdown_keeps_the_unit_it_is_given():
    assert "| C | 334,000.00 |" in render_markdown([THIRDS], unit=Unit.ONE)


def test_html_cells_show_the_unit_and_keep_exact_cents_in_their_title():
    page = render_html_page("t", "m", [THIRDS], unit=Unit.MILLIONS)
    assert '<td class="num" title="334,000.00">0.34</td>' in page


def test_html_tables_sit_in_a_box_that_scrolls_sideways():
    page = render_html_page("t", "m", [THIRDS])
    assert "<div class='scroll'><table>" in page
    assert ".scroll { overflow-x: auto;" in page


def test_html_page_with_four_sections_has_contents_with_working_anchors():
    page = render_html_page("t", "m", [THIRDS, SHEET], [("<svg></svg>", "A chart. More.")] * 2)
    anchors = re.findall(r'href="#([^"]+)"', page)
    assert len(anchors) == 4
    assert all(f'id="{a}"' in page for a in anchors)
    assert ">A chart</a>" in page  # a figure is named by its caption's first sentence


def test_html_page_with_few_sections_has_no_contents():
    assert "<nav" not in render_html_page("t", "m", [THIRDS])


def test_html_legend_names_each_colour_used():
    page = render_html_page("t", "m", [THIRDS], legend=[("#0072b2", "organic revenue")])
    assert 'style="background:#0072b2"></span>organic revenue' in page
