"""Tables on screen: at 80 columns and wider, names stay whole, figures adapt, notes wrap.

Every verb that prints a table is run on the shipped books at 80, 100 and 160 columns (the CLI
reads ``COLUMNS`` off a terminal); every line must fit, nothing may be cut (no ``…``), and
every company and deal name must appear whole, never split across lines or cells.
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from ledger.cli import app
from ledger.inputs import read_web
from ledger.render import Sheet, money
from ledger.terminal import SheetsView, SheetView, sheet_names, wrap
from ledger.units import Unit

REPO = Path(__file__).parent.parent
BOOKS = REPO / "books"
WEB = read_web(BOOKS)
COMPANIES = set(WEB.companies)
DEALS = {leg.deal for leg in WEB.legs}
WIDTHS = (80, 100, 160)

VERBS = {
    "net": ["net", BOOKS],
    "net pro-rata": ["net", BOOKS, "--method", "pro-rata", "--basis", "announced"],
    "net bounds": ["net", BOOKS, "--bounds", "--basis", "contracted"],
    "audit": ["audit", BOOKS],
    "audit fail": ["audit", BOOKS, "--fail", "OpenAI"],
    "audit all": ["audit", BOOKS, "--all"],
    "show companies": ["show", BOOKS, "companies"],
    "show deals": ["show", BOOKS, "deals"],
    "show legs": ["show", BOOKS, "legs"],
    "load": ["load", BOOKS],
}
DB_DIR = Path(tempfile.mkdtemp(prefix="roundtrip-terminal-"))


def printed(args: list, width: int) -> str:
    return _printed(tuple(str(a) for a in args), width)


@functools.cache
def _printed(args: tuple[str, ...], width: int) -> str:
    """What the command prints at ``width`` columns (each command runs once per width)."""
    if args[0] == "load":  # a store of its own for every run
        args = [*args, "--db", f"sqlite:///{DB_DIR}/load-{width}-{len(list(DB_DIR.iterdir()))}.db"]
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return result.stdout


def cells(text: str) -> list[str]:
    """Every cell-like piece of the output: runs of text set apart by two spaces or more."""
    return [c for line in text.splitlines() for c in re.split(r"\s{2,}", line.strip()) if c]


@pytest.fixture(scope="module", autouse=True)
def _remove_the_stores():
    yield
    shutil.rmtree(DB_DIR, ignore_errors=True)


@pytest.fixture(scope="module", params=WIDTHS, ids=lambda w: f"{w}cols")
def width(request):
    return request.param


@pytest.fixture(scope="module", params=list(VERBS), ids=list(VERBS))
def output(request, width):
    return request.param, width, printed(VERBS[request.param], width)


def test_every_line_fits_the_terminal(output):
    _, width, text = output
    assert max(cell_len(line) for line in text.splitlines()) <= width


def test_no_line_ends_in_padding_off_a_terminal(output):
    """Piped into a file, a table's lines carry no trailing spaces (noise to diff and grep)."""
    _, _, text = output
    assert [line for line in text.splitlines() if line != line.rstrip()] == []


def test_nothing_is_cut_with_an_ellipsis(output):
    _, _, text = output
    assert "…" not in text


def whole_names(text: str) -> set[str]:
    """The company and deal names that appear whole (not inside a longer word) in ``text``."""
    return {
        name
        for name in COMPANIES | DEALS
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)
    }


def test_every_name_shown_at_160_columns_is_shown_whole_at_every_width(output):
    verb, _, text = output
    wide = printed(VERBS[verb], 160)
    if verb != "load":
        assert whole_names(wide) - {"External"}  # the table names companies at all
    assert whole_names(text) == whole_names(wide)


def test_no_cell_holds_a_broken_name(output):
    """A cell that is the start of a name but not a name itself would be a name cut short."""
    _, _, text = output
    names = COMPANIES | DEALS
    for cell in cells(text):
        bare = cell.removesuffix(" *").rstrip(",")
        assert not any(name.startswith(bare) and bare != name for name in names) or bare in names, (
            cell
        )


#: The verbs that print sentences and file lists rather than tables (each into a folder of its
#: own per width, so that every run writes afresh).
PROSE_VERBS = {
    "check": lambda out: ["check", BOOKS],
    "check deals": lambda out: ["check", BOOKS / "deals.yaml"],
    "book": lambda out: ["book", BOOKS / "deals.yaml", "--out", out / "books"],
    "report": lambda out: ["report", "--books", BOOKS, "--out", out / "reports"],
    "simulate": lambda out: ["simulate", "--companies", 5, "--legs", 20, "--out", out / "w.csv"],
}


@pytest.mark.parametrize("verb", list(PROSE_VERBS))
def test_the_other_verbs_wrap_their_sentences_at_every_width(verb, tmp_path, monkeypatch):
    """What check, book, report and simulate say fits the terminal, broken between words: at
    every width the same words in the same order."""
    monkeypatch.chdir(tmp_path)  # the folders they write are named as a user names them: 80/books
    said = {}
    for width in WIDTHS:
        out = Path(str(width))
        out.mkdir()
        args = [str(a) for a in PROSE_VERBS[verb](out)]
        result = CliRunner().invoke(app, args, env={"COLUMNS": str(width)})
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert max(cell_len(line) for line in lines) <= width, (width, result.stdout)
        said[width] = result.stdout.replace(str(out), "OUT").split()
    assert said[80] == said[100] == said[160]


def test_net_shows_every_company_as_a_row_at_every_width(width):
    text = printed(VERBS["net"], width)
    first = {re.split(r"\s{2,}", line.strip())[0].removesuffix(" *") for line in text.splitlines()}
    revenue_companies = {
        c for c in COMPANIES if any(leg.payee == c for leg in WEB.legs) and c != "External"
    }
    assert revenue_companies - {"xAI", "xAI-SPV"} <= first


def test_show_deals_keeps_every_deal_id_whole(width):
    text = printed(VERBS["show deals"], width)
    assert set(cells(text)) | {c.split(" ")[0] for c in cells(text)} >= DEALS


def test_unit_is_chosen_to_fit_and_said_under_the_table():
    narrow = printed(VERBS["net"], 80)
    wide = printed(VERBS["net"], 160)
    assert "Amounts in billions of USD (B), chosen to fit the width" in narrow
    assert "Amounts in" not in printed(["net", REPO / "tests/fixtures/examples/triangle.csv"], 80)
    assert "Amounts in" not in wide and "638,000,000,000.00" in wide  # exact cents fit 160


def test_a_unit_the_user_gives_is_kept_even_if_the_table_must_split():
    text = printed([*VERBS["net"], "--unit", "1"], 80)
    assert "Amounts in" not in text
    assert "676,000,000,000.00" in printed([*VERBS["audit"], "--unit", "1"], 160)
    assert "(1/" in text  # the figures table is shown in panels, names repeated on each


def test_show_deals_takes_a_unit():
    text = printed([*VERBS["show deals"], "--unit", "M"], 160)
    assert "Amounts in millions (M)" in text


def test_notes_wrap_between_words_and_are_not_cut():
    text = printed(VERBS["audit fail"], 80)
    assert "against the web as booked, where every company (the failing one too) pays" in (
        " ".join(text.split())
    )


# --------------------------------------------------------------------------------------------
# The layout rules, on small sheets


SHEET = Sheet(
    title="Revenue",
    columns=("company", "gross", "note"),
    rows=(
        ("xAI SPV", money(Decimal("1234567.89")), "bought from Advanced Micro Devices in 2025"),
        ("total", money(Decimal("1234567.89")), ""),
    ),
    numeric=frozenset({"gross"}),
    notes=("xAI SPV buys chips; Advanced Micro Devices sells them.",),
)


def render(renderable, width: int) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def test_wrap_breaks_between_words_never_inside_a_name():
    names = frozenset({"Advanced Micro Devices"})
    assert wrap("sold to Advanced Micro Devices today", 12, names) == [
        "sold to",
        "Advanced Micro Devices",
        "today",
    ]


def test_a_list_of_names_breaks_only_after_commas():
    assert wrap("Nvidia, xAI SPV, OpenAI", 10, commas_only=True) == [
        "Nvidia,",
        "xAI SPV,",
        "OpenAI",
    ]


def test_names_of_the_sheet_include_the_first_column_and_lists():
    sheet = Sheet("t", ("company", "parties"), (("AMD *", "xAI SPV, Nvidia"),))
    assert sheet_names([sheet]) == {"AMD", "xAI SPV", "Nvidia"}


def test_a_narrow_sheet_shows_amounts_in_a_larger_unit_and_says_so():
    text = render(SheetView(SHEET), 34)
    assert "1.23" in text and "Amounts in millions (M), chosen to fit the width" in " ".join(
        text.split()
    )
    assert max(len(line) for line in text.splitlines()) <= 34


def test_a_name_with_a_space_is_never_split_in_table_or_notes():
    text = render(SheetView(SHEET, names=frozenset({"xAI SPV", "Advanced Micro Devices"})), 34)
    assert all("xAI SPV" in line for line in text.splitlines() if "xAI" in line)
    assert all("Advanced Micro Devices" in line for line in text.splitlines() if "Advanced" in line)


def test_a_wide_sheet_that_cannot_fit_is_split_into_panels_repeating_the_names():
    wide = Sheet(
        "Wide",
        ("company", *(f"figure {i}" for i in range(8))),
        (("Nvidia", *(money(Decimal(10**12 + i)) for i in range(8))),),
        numeric=frozenset(f"figure {i}" for i in range(8)),
    )
    text = render(SheetView(wide, Unit.ONE), 80)
    assert "Wide (1/" in text and "Wide (2/" in text
    assert sum(1 for line in text.splitlines() if line.startswith("Nvidia")) >= 2


def test_sheets_of_one_command_share_one_unit():
    small = Sheet("Small", ("company", "x"), (("A", money(Decimal("5"))),), frozenset({"x"}))
    text = render(SheetsView([SHEET, small]), 34)
    assert text.count("Amounts in millions (M)") == 2 and "0.00" in text


def test_a_table_that_fits_in_no_unit_keeps_its_figures_when_a_larger_unit_saves_no_panel():
    """The triangle's losses are dollars: at 80 columns the loss table needs two panels in any
    unit, so billions would only print every loss as 0.00 beside Nvidia's 149.2% of revenue."""
    args = ["audit", REPO / "tests" / "fixtures" / "examples" / "triangle.csv", "--fail", "OpenAI"]
    text = printed(args, 80)
    nvidia = next(line for line in text.splitlines() if line.startswith("Nvidia "))
    assert nvidia.split()[1:] == ["49.20", "0.00", "100.00", "149.20"]
    assert "Amounts in" not in text.split("Conventions", 1)[0]
