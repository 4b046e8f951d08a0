"""Eliminations: netting written back into the books, dated per quarter of the legs.

Every web is netted, written as books, and each company's eliminations are loaded with its
book by beancount: the result must be bean-check clean, move exactly the circular figure and
leave exactly the organic one; the quarter dating is checked on webs small enough to redo by
hand.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from beancount.core import data

from ledger.books_load import load
from ledger.books_read import check_books, read_books
from ledger.books_write import write_books
from ledger.eliminations import (
    ELIMINATION_FLAG,
    elimination_files,
    eliminations,
    write_eliminations,
)
from ledger.flows import build_flow_graph
from ledger.legs_csv import read_legs_csv
from ledger.model import Basis, Kind, Leg, Period, Status
from ledger.netting import NettingResult, net

EXAMPLES = Path(__file__).parent / "fixtures" / "examples"


def example(name: str) -> tuple[Leg, ...]:
    legs, errors = read_legs_csv(EXAMPLES / f"{name}.csv")
    assert errors == []
    return legs


def leg(
    deal, payer, payee, kind, amount, *, day=date(2025, 6, 1), number=1, status=Status.REALIZED
):
    return Leg(day, deal, number, payer, payee, Kind(kind), Decimal(amount), "USD", status)


def tie():
    """A invests 1.01 in H; H buys 100 from each of B and C; both sell 100 back to A."""
    return [
        leg("stake", "A", "H", "equity", "1.01"),
        leg("hub-b", "H", "B", "sale", "100"),
        leg("hub-c", "H", "C", "sale", "100"),
        leg("b-back", "B", "A", "sale", "100"),
        leg("c-back", "C", "A", "sale", "100"),
    ]


WEBS = {
    "triangle": lambda: example("triangle"),
    "vendor_financing": lambda: example("vendor_financing"),
    "dotcom_ads": lambda: example("dotcom_ads"),
    "capacity_swap": lambda: example("capacity_swap"),
    # Fractional canonical split: A gets 0.505 back through each of B and C.
    "tie_of_a_cent": tie,
}


def netted(legs, method: str = "max", period: Period | None = None) -> NettingResult:
    return net(build_flow_graph(legs, period), method)


def load_with_eliminations(tmp_path: Path, legs, method: str = "max"):
    """Books and elimination files written to tmp_path; per company the loaded ledger.

    The eliminations are written from the books folder, so each file includes its book and
    is loaded alone, as Fava would open it.
    """
    result = netted(legs, method)
    books = tmp_path / "books"
    write_books(legs, books)
    paths = write_eliminations(result, legs, tmp_path / "eliminations", books)
    loaded = {}
    for figures, path in zip(result.companies, paths, strict=True):
        entries, errors, options = load([path])
        loaded[figures.company] = (figures, entries, errors, options)
    return result, loaded


def income(entries, prefix: str) -> Decimal:
    return sum(
        (
            posting.units.number
            for entry in entries
            if isinstance(entry, data.Transaction)
            for posting in entry.postings
            if posting.account.startswith(prefix)
        ),
        Decimal(0),
    )


@pytest.mark.parametrize("web", sorted(WEBS))
def test_eliminations_load_with_each_book_without_errors(tmp_path, web):
    _, loaded = load_with_eliminations(tmp_path, WEBS[web]())
    assert {company: errors for company, (_, _, errors, _) in loaded.items()} == {
        company: () for company in loaded
    }


@pytest.mark.parametrize("web", sorted(WEBS))
def test_eliminated_income_is_the_circular_revenue(tmp_path, web):
    """Income is negative in beancount: Income:Circular:* sums to minus the circular figure."""
    _, loaded = load_with_eliminations(tmp_path, WEBS[web]())
    for figures, entries, _, _ in loaded.values():
        assert -income(entries, "Income:Circular:") == figures.circular, figures.company


@pytest.mark.parametrize("web", sorted(WEBS))
def test_revenue_left_after_eliminations_is_organic(tmp_path, web):
    _, loaded = load_with_eliminations(tmp_path, WEBS[web]())
    for figures, entries, _, _ in loaded.values():
        left = sum(
            (income(entries, f"Income:{label}:") for label in ("Sales", "Cloud", "Lease")),
            Decimal(0),
        )
        assert -left == figures.organic, figures.company


def test_eliminations_file_has_its_own_title_and_includes_its_book(tmp_path):
    _, loaded = load_with_eliminations(tmp_path, example("triangle"))
    _, _, _, options = loaded["Nvidia"]
    assert options["title"] == "Nvidia: organic revenue (max netting, realized basis, period all)"
    text = (tmp_path / "eliminations" / "nvidia.eliminations.beancount").read_text()
    assert 'include "../books/nvidia.beancount"\n' in text


def test_eliminations_of_a_contracted_basis_include_the_commitments_too(tmp_path):
    legs = [
        leg("stake", "A", "B", "equity", "100"),
        leg("back", "B", "A", "sale", "60", status=Status.CONTRACTED),
    ]
    write_books(legs, tmp_path / "books")
    result = net(build_flow_graph(legs, basis=Basis.CONTRACTED))
    [path, _] = write_eliminations(result, legs, tmp_path / "out", tmp_path / "books")
    assert 'include "../books/a.commitments.beancount"\n' in path.read_text()
    entries, errors, _ = load([path])
    assert errors == () and -income(entries, "Income:Circular:") == Decimal("60.00")


def test_check_of_a_folder_bean_checks_a_book_with_its_eliminations(tmp_path):
    """Eliminations in the books folder are not read as books, but checked with theirs."""
    legs = example("triangle")
    write_books(legs, tmp_path)
    # Placed by hand: roundtrip itself refuses to write eliminations into a books folder.
    for name, text in elimination_files(netted(legs), legs, tmp_path, tmp_path).items():
        (tmp_path / name).write_text(text)
    assert check_books(tmp_path) == ()
    broken = tmp_path / "nvidia.eliminations.beancount"
    broken.write_text(broken.read_text().replace("-40.00 USD", "-41.00 USD"))
    errors = check_books(tmp_path)
    assert errors and all(e.filename == str(broken) for e in errors)


def test_pro_rata_eliminations_add_up_to_the_pro_rata_figures(tmp_path):
    _, loaded = load_with_eliminations(tmp_path, example("triangle"), "pro-rata")
    assert {
        c: -income(entries, "Income:Circular:") for c, (_, entries, _, _) in loaded.items()
    } == {"Nvidia": Decimal("27.78"), "OpenAI": Decimal("0"), "Oracle": Decimal("40.00")}


def test_a_company_without_circular_revenue_gets_a_file_with_no_transaction(tmp_path):
    legs = example("triangle")
    paths = write_eliminations(netted(legs), legs, tmp_path)
    assert [p.name for p in paths] == [
        "nvidia.eliminations.beancount",
        "openai.eliminations.beancount",
        "oracle.eliminations.beancount",
    ]
    openai = paths[1].read_text()
    assert openai.startswith("; roundtrip eliminations for OpenAI")
    assert [line for line in openai.splitlines() if line and not line.startswith(";")] == [
        'option "title" "OpenAI: organic revenue (max netting, realized basis, period all)"'
    ]


def test_elimination_entries_are_flagged_and_linked_to_their_deals():
    legs = example("triangle")
    nvidia = eliminations(netted(legs), legs)["Nvidia"]
    assert [(e.flag, sorted(e.links), sorted(e.tags)) for e in nvidia] == [
        (ELIMINATION_FLAG, ["deal-oai-nv-chips"], ["circular"]),
        (ELIMINATION_FLAG, ["deal-orcl-nv-chips"], ["circular"]),
    ]
    assert [[(p.account, str(p.units.number)) for p in e.postings] for e in nvidia] == [
        [("Income:Sales:OpenAI", "60.00"), ("Income:Circular:Sales:OpenAI", "-60.00")],
        [("Income:Sales:Oracle", "40.00"), ("Income:Circular:Sales:Oracle", "-40.00")],
    ]


def test_eliminations_are_dated_on_the_last_day_of_their_legs_quarter():
    """The triangle's legs fall on 2025-09-22..2025-10-02: OpenAI's 60 of chips (2025-10-01)
    is eliminated on 2025-12-31, Oracle's 40 (2025-10-02) too."""
    legs = example("triangle")
    nvidia = eliminations(netted(legs), legs)["Nvidia"]
    assert [(e.date, e.meta["quarter"]) for e in nvidia] == [
        (date(2025, 12, 31), "2025Q4"),
        (date(2025, 12, 31), "2025Q4"),
    ]


def test_an_edge_split_over_two_quarters_is_pro_rated_by_leg_amount():
    """A invests 90 in B; B buys 100 in February and 200 in August from A. The 90 that comes
    back is pro-rated 1:2: 30.00 on 2025-03-31 and 60.00 on 2025-09-30."""
    legs = [
        leg("stake", "A", "B", "equity", "90", day=date(2025, 1, 5)),
        leg("chips", "B", "A", "sale", "100", day=date(2025, 2, 10)),
        leg("chips", "B", "A", "sale", "200", day=date(2025, 8, 1), number=2),
    ]
    result = netted(legs)
    assert result.company("A").circular == Decimal("90.00")
    entries = eliminations(result, legs)["A"]
    assert [(e.date, e.postings[0].units.number) for e in entries] == [
        (date(2025, 3, 31), Decimal("30.00")),
        (date(2025, 9, 30), Decimal("60.00")),
    ]


def test_a_period_ending_inside_a_quarter_dates_its_eliminations_on_its_last_day():
    legs = example("triangle")
    period = Period.parse("2025-09-01..2025-11-15")
    entries = eliminations(netted(legs, period=period), legs)
    assert {e.date for e in entries["Nvidia"]} == {date(2025, 11, 14)}


def test_eliminations_of_a_fractional_split_add_up_to_the_rounded_figure():
    """A gets 0.505 back through B and through C: its two entries give 1.01, not 1.00/1.02."""
    legs = tie()
    result = netted(legs)
    figures = {f.company: str(f.circular) for f in result.companies}
    assert (figures["A"], figures["H"]) == ("1.01", "0.00")
    amounts = sorted(e.postings[0].units.number for e in eliminations(result, legs)["A"])
    assert amounts == [Decimal("0.50"), Decimal("0.51")]


def test_eliminations_over_all_quarters_equal_the_netted_figure_of_the_shipped_books():
    """The netted figures never move: only where they are dated."""
    from ledger.deals import read_deals

    legs, _, _, errors = read_deals(Path(__file__).parent.parent / "books" / "deals.yaml")
    assert errors == []
    result = net(build_flow_graph(legs, basis=Basis.ANNOUNCED))
    entries = eliminations(result, legs)
    for figures in result.companies:
        moved = sum(
            (e.postings[0].units.number for e in entries.get(figures.company, [])), Decimal(0)
        )
        assert moved == figures.circular, figures.company


def test_check_gives_the_same_problems_with_its_standalone_checks_in_a_second_process(
    tmp_path, monkeypatch
):
    """Invariant: where the standalone checks run (here, or in a worker process for many
    books) changes no problem found, nor their order."""
    import ledger.books_read as books_read

    legs = example("triangle")
    write_books(legs, tmp_path)
    for name, text in elimination_files(netted(legs), legs, tmp_path, tmp_path).items():
        (tmp_path / name).write_text(text)
    broken = tmp_path / "nvidia.eliminations.beancount"
    broken.write_text(broken.read_text().replace("-40.00 USD", "-41.00 USD"))
    here = check_books(tmp_path)
    monkeypatch.setattr(books_read, "PARALLEL_BOOKS", 1)
    monkeypatch.setattr(books_read.os, "cpu_count", lambda: 2)
    assert here and check_books(tmp_path) == here


def test_eliminations_include_a_hand_written_book_whatever_its_file_is_called(tmp_path):
    """A hand-written book is named by its title, not its file, and may keep its contracted
    legs in itself: its eliminations include it and load with it (the other book too)."""
    legs = [
        leg("stake", "A", "B", "equity", "100"),
        leg("back", "B", "A", "sale", "60", status=Status.CONTRACTED),
    ]
    books = tmp_path / "books"
    write_books(legs, books)
    # One file per company, as a person keeps it: the commitments moved into the book itself.
    mine = tmp_path / "mine"
    mine.mkdir()
    for slug, name in (("a", "A ledger 2025"), ("b", "b")):
        text = (books / f"{slug}.beancount").read_text()
        commitments = (books / f"{slug}.commitments.beancount").read_text()
        (mine / f"{name}.beancount").write_text(text + "\n" + commitments)
    assert check_books(mine) == ()
    result = net(build_flow_graph(legs, basis=Basis.CONTRACTED))
    paths = write_eliminations(result, legs, tmp_path / "out", mine)
    texts = {path.name: path.read_text() for path in paths}
    assert 'include "../mine/A ledger 2025.beancount"\n' in texts["a.eliminations.beancount"]
    assert 'include "../mine/b.beancount"\n' in texts["b.eliminations.beancount"]
    for path in paths:
        entries, errors, _ = load([path])
        assert errors == (), path
    entries, _, _ = load([tmp_path / "out" / "a.eliminations.beancount"])
    assert -income(entries, "Income:Circular:") == Decimal("60.00")


HAND_A = """\
option "title" "A"
plugin "beancount.plugins.auto_accounts"

2025-02-01 * "B" "Sale to B" ^deal-ab
  deal: "ab"
  leg: 1
  counterparty: "B"
  kind: "sale"
  status: "realized"
  Assets:Bank:Checking   100.00 USD
  Income:Sales:B        -100.00 USD

2025-03-01 * "B" "Cloud from B" ^deal-ba
  deal: "ba"
  leg: 1
  counterparty: "B"
  kind: "cloud"
  status: "realized"
  Expenses:Cloud:B        40.00 USD
  Assets:Bank:Checking
"""

HAND_B = """\
option "title" "B"
plugin "beancount.plugins.auto_accounts"

2025-02-01 * "A" "Purchase from A" ^deal-ab
  deal: "ab"
  leg: 1
  counterparty: "A"
  kind: "sale"
  status: "realized"
  Expenses:Purchases:A   100.00 USD
  Assets:Bank:Checking

2025-03-01 * "A" "Cloud to A" ^deal-ba
  deal: "ba"
  leg: 1
  counterparty: "A"
  kind: "cloud"
  status: "realized"
  Assets:Bank:Checking    40.00 USD
  Income:Cloud:A
"""


def test_eliminations_of_books_whose_plugin_opens_their_accounts_load_with_them(tmp_path):
    """Beancount runs only the plugins of the file it loads: each eliminations file names its
    book's own (here ``auto_accounts``, which opens every account the book uses)."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "a.beancount").write_text(HAND_A)
    (mine / "b.beancount").write_text(HAND_B)
    read = read_books(mine)
    assert read.errors == ()
    result = net(build_flow_graph(read.legs))
    paths = write_eliminations(result, read.legs, tmp_path / "out", mine)
    for path in paths:
        assert 'plugin "beancount.plugins.auto_accounts"\n' in path.read_text()
        _, errors, _ = load([path])
        assert errors == (), (path, errors)
    entries, _, _ = load([tmp_path / "out" / "a.eliminations.beancount"])
    assert -income(entries, "Income:Circular:") == Decimal("40.00")
