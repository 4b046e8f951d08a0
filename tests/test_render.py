from decimal import Decimal

from ledger.render import Sheet, Unit, money, render_csv, render_markdown, share

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


def test_csv_has_header_and_rows_only():
    assert render_csv(SHEET) == "company,gross\nNvidia,70.00\nA|B,1.00\n"


def test_money_in_billions_divides_and_rounds_for_display_only():
    assert money(Decimal("12869460223.78"), unit=Unit.BILLIONS) == "12.87"
    assert money(Decimal("1500"), unit=Unit.THOUSANDS) == "1.50"
    assert money(Decimal("1500")) == "1,500.00"
