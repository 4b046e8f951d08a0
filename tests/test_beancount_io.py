"""Tests of ledger.beancount_io: legs -> one beancount book per company -> legs, reconciled."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ledger.accounts import payee_accounts, payer_accounts
from ledger.beancount_io import (
    BooksRead,
    bean_check,
    book_entries,
    check_books,
    read_books,
    render_book,
    write_books,
)
from ledger.legs_csv import read_legs_csv, write_legs_csv
from ledger.model import EXTERNAL, BadInput, Kind, LedgerError, Leg, Price, Status

D = Decimal

# A tiny deal, checkable by hand: Nvidia invests 100 in OpenAI, OpenAI buys 60.50 of chips.
DEAL = (
    Leg(date(2025, 9, 22), "nv-oai", 1, "Nvidia", "OpenAI", Kind.EQUITY, D("100"), source="PR"),
    Leg(
        date(2025, 10, 1),
        "nv-oai",
        2,
        "OpenAI",
        "Nvidia",
        Kind.SALE,
        D("60.5"),
        status=Status.CONTRACTED,
        estimate=True,
        note="chips tied to the investment",
    ),
)

NVIDIA_BOOK = """\
; roundtrip book: every leg is one transaction, mirrored in the counterparty's book.
option "title" "Nvidia"
option "operating_currency" "USD"

2025-09-22 open Assets:Investments:OpenAI                       USD
2025-09-22 open Liabilities:Payable:OpenAI                      USD
2025-10-01 open Assets:Receivable:OpenAI                        USD
2025-10-01 open Income:Sales:OpenAI                             USD

2025-09-22 * "OpenAI" "Nvidia equity to OpenAI (leg 1 of nv-oai)" ^deal-nv-oai
  deal: "nv-oai"
  leg: 1
  counterparty: "OpenAI"
  kind: "equity"
  status: "realized"
  source: "PR"
  Assets:Investments:OpenAI    100.00 USD
  Liabilities:Payable:OpenAI  -100.00 USD

2025-10-01 ! "OpenAI" "OpenAI sale to Nvidia (leg 2 of nv-oai)" ^deal-nv-oai
  deal: "nv-oai"
  leg: 2
  counterparty: "OpenAI"
  kind: "sale"
  status: "contracted"
  estimate: TRUE
  note: "chips tied to the investment"
  Assets:Receivable:OpenAI   60.50 USD
  Income:Sales:OpenAI       -60.50 USD
"""

OPENAI_BOOK = """\
; roundtrip book: every leg is one transaction, mirrored in the counterparty's book.
option "title" "OpenAI"
option "operating_currency" "USD"

2025-09-22 open Assets:Receivable:Nvidia                        USD
2025-09-22 open Equity:Issued:Nvidia                            USD
2025-10-01 open Expenses:Purchases:Nvidia                       USD
2025-10-01 open Liabilities:Payable:Nvidia                      USD

2025-09-22 * "Nvidia" "Nvidia equity to OpenAI (leg 1 of nv-oai)" ^deal-nv-oai
  deal: "nv-oai"
  leg: 1
  counterparty: "Nvidia"
  kind: "equity"
  status: "realized"
  source: "PR"
  Assets:Receivable:Nvidia   100.00 USD
  Equity:Issued:Nvidia      -100.00 USD

2025-10-01 ! "Nvidia" "OpenAI sale to Nvidia (leg 2 of nv-oai)" ^deal-nv-oai
  deal: "nv-oai"
  leg: 2
  counterparty: "Nvidia"
  kind: "sale"
  status: "contracted"
  estimate: TRUE
  note: "chips tied to the investment"
  Expenses:Purchases:Nvidia    60.50 USD
  Liabilities:Payable:Nvidia  -60.50 USD
"""


def _strip(leg: Leg) -> Leg:
    """The leg without its provenance, for comparing what was written with what was read."""
    return dataclasses.replace(leg, filename="", lineno=0)


def _book(folder: Path, company: str, legs: tuple[Leg, ...], **kwargs: object) -> Path:
    """Write one company's book from ``legs`` (a fault is introduced by passing other legs)."""
    entries = book_entries(legs, companies=[company], **kwargs)[company]  # type: ignore[arg-type]
    path = folder / f"{company.lower()}.beancount"
    path.write_text(render_book(company, entries), encoding="utf-8")
    return path


def _line(path: Path, start: str, nth: int = 0) -> int:
    """The 1-based number of the ``nth`` line of ``path`` that starts with ``start``."""
    lines = path.read_text().splitlines()
    return [i for i, line in enumerate(lines, 1) if line.startswith(start)][nth]


def _txn(path: Path, nth: int = 0) -> int:
    """The 1-based line number of the ``nth`` transaction of ``path``."""
    lines = path.read_text().splitlines()
    return [i for i, line in enumerate(lines, 1) if re.match(r"\d{4}-\d\d-\d\d [*!] ", line)][nth]


def _only(errors: tuple[LedgerError, ...], word: str) -> LedgerError:
    found = [e for e in errors if word in e.message]
    assert len(found) == 1, errors
    return found[0]


# --------------------------------------------------------------------------------------------
# Writing


def test_tiny_deal_books_match_the_hand_checked_text() -> None:
    books = book_entries(DEAL)
    assert render_book("Nvidia", books["Nvidia"]) == NVIDIA_BOOK
    assert render_book("OpenAI", books["OpenAI"]) == OPENAI_BOOK


def test_write_books_names_files_after_the_lowercased_account_component(tmp_path: Path) -> None:
    legs = (Leg(date(2025, 1, 1), "d", 1, "xAI", "OpenAI", Kind.SALE, D("1")),)
    paths = write_books(legs, tmp_path / "books")
    assert [p.name for p in paths] == ["openai.beancount", "xai.beancount"]
    assert 'option "title" "xAI"' in paths[1].read_text()
    assert "Expenses:Purchases:OpenAI" in paths[1].read_text()
    assert "Income:Sales:XAI" in paths[0].read_text()


def test_written_books_pass_the_loader(tmp_path: Path) -> None:
    for path in write_books(DEAL, tmp_path):
        assert bean_check(path) == ()


def test_written_books_pass_the_bean_check_executable(tmp_path: Path) -> None:
    exe = shutil.which("bean-check") or str(Path(sys.executable).parent / "bean-check")
    for path in write_books(DEAL, tmp_path):
        done = subprocess.run([exe, str(path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_bean_check_reports_the_loaders_errors_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.beancount"
    path.write_text('option "title" "Bad"\n\n2025-01-01 open Assets:Cash\n2025-13-01 oops\n')
    errors = bean_check(path)
    assert errors
    assert all(e.filename == str(path) for e in errors)
    assert {e.lineno for e in errors} == {4}


def test_external_legs_appear_in_one_book_only() -> None:
    legs = (
        Leg(date(2025, 1, 1), "subs", 1, EXTERNAL, "OpenAI", Kind.SALE, D("13")),
        Leg(date(2025, 1, 2), "bank", 1, "OpenAI", EXTERNAL, Kind.REPAYMENT, D("2")),
    )
    books = book_entries(legs)
    assert list(books) == ["OpenAI"]
    transactions = [e for e in books["OpenAI"] if isinstance(e, data.Transaction)]
    assert [t.meta["counterparty"] for t in transactions] == [EXTERNAL, EXTERNAL]


def test_listed_companies_without_legs_get_a_header_only_book() -> None:
    books = book_entries(DEAL, companies=["Oracle", EXTERNAL])
    assert list(books) == ["Nvidia", "OpenAI", "Oracle"]
    assert books["Oracle"] == []
    assert render_book("Oracle", books["Oracle"]) == (
        "; roundtrip book: every leg is one transaction, mirrored in the counterparty's book.\n"
        'option "title" "Oracle"\n'
        'option "operating_currency" "USD"\n'
    )


def test_warrant_books_carry_units_commodity_and_prices() -> None:
    warrant = Leg(
        date(2025, 10, 6),
        "amd-oai",
        1,
        "AMD",
        "OpenAI",
        Kind.WARRANT,
        D("97"),
        status=Status.ANNOUNCED,
        units=D("1.6E+8"),
        commodity="AMDW",
    )
    prices = (
        Price(date(2025, 12, 31), "AMDW", D("600")),
        Price(date(2025, 10, 6), "AMDW", D("0.60625")),
        Price(date(2025, 10, 6), "NVDA", D("1")),  # no book holds NVDA: written nowhere
    )
    books = book_entries((warrant,), prices)
    text = render_book("OpenAI", books["OpenAI"])
    assert "2025-10-06 commodity AMDW\n" in text
    assert text.count(" price AMDW") == 2
    assert "NVDA" not in text
    assert '  units: 160000000\n  commodity: "AMDW"\n' in text
    assert '2025-10-06 ! "AMD" "AMD warrant of 160000000 AMDW to OpenAI' in text
    assert "  Assets:Warrants:AMD     97.00 USD\n" in text
    assert "  Income:PaperGains:AMD  -97.00 USD\n" in text
    assert render_book("AMD", books["AMD"]).count(" price AMDW") == 2


def test_same_legs_in_any_order_give_the_same_bytes() -> None:
    once = {c: render_book(c, e) for c, e in book_entries(DEAL).items()}
    again = {c: render_book(c, e) for c, e in book_entries(DEAL[::-1]).items()}
    assert once == again


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"payee": "Nvidia"}, "payer and payee are both"),
        ({"amount": D("0")}, "positive"),
        ({"amount": D("1.005")}, "more than 2 decimals"),
        ({"deal": "nv oai"}, "cannot be a beancount link"),
        ({"currency": "usd"}, "not a beancount currency"),
        ({"units": D("5")}, "units and commodity go together"),
    ],
)
def test_unbookable_legs_raise_bad_input_naming_the_leg(
    change: dict[str, object], words: str
) -> None:
    leg = dataclasses.replace(DEAL[0], filename="deals.yaml", lineno=7, **change)  # type: ignore[arg-type]
    with pytest.raises(BadInput) as caught:
        book_entries((leg,))
    assert any(words in e.message and e.lineno == 7 for e in caught.value.errors)
    assert caught.value.errors[0].filename == "deals.yaml"


def test_duplicate_legs_raise_bad_input() -> None:
    with pytest.raises(BadInput, match="given twice"):
        book_entries((DEAL[0], DEAL[0]))


def test_companies_sharing_a_book_file_raise_bad_input() -> None:
    legs = (Leg(date(2025, 1, 1), "d", 1, "xAI", "XAI", Kind.SALE, D("1")),)
    with pytest.raises(BadInput, match="would share the book xai.beancount"):
        book_entries(legs)


def test_write_books_replaces_its_books_and_leaves_other_files_alone(tmp_path: Path) -> None:
    (tmp_path / "nvidia.beancount").write_text("old")
    (tmp_path / "deals.yaml").write_text("mine")
    (tmp_path / "stale.beancount").write_text("not ours")
    write_books(DEAL, tmp_path)
    assert (tmp_path / "nvidia.beancount").read_text() == NVIDIA_BOOK
    assert (tmp_path / "deals.yaml").read_text() == "mine"
    assert (tmp_path / "stale.beancount").read_text() == "not ours"


def test_write_books_changes_nothing_when_a_book_fails_the_loader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "books"
    out.mkdir()
    (out / "nvidia.beancount").write_text("old nvidia")
    (out / "notes.txt").write_text("keep")
    before = {p.name: p.read_text() for p in out.iterdir()}
    real = loader.load_file

    def failing(filename: str, **kwargs: object) -> tuple[list, list, dict]:
        entries, errors, options = real(filename, **kwargs)
        if filename.endswith("openai.beancount"):  # the second book fails; the first passed
            errors = [*errors, loader.LoadError(data.new_metadata(filename, 3), "boom", None)]
        return entries, errors, options

    monkeypatch.setattr(loader, "load_file", failing)
    with pytest.raises(BadInput) as caught:
        write_books(DEAL, out)
    assert caught.value.errors == (LedgerError(str(out / "openai.beancount"), 3, "boom"),)
    assert {p.name: p.read_text() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["books"]  # no staging left behind


def test_write_books_does_not_create_out_dir_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(filename: str, **kwargs: object) -> tuple[list, list, dict]:
        return [], [loader.LoadError(data.new_metadata(filename, 1), "boom", None)], {}

    monkeypatch.setattr(loader, "load_file", failing)
    with pytest.raises(BadInput):
        write_books(DEAL, tmp_path / "books")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# Reading and reconciling

HAND_NVIDIA = """\
; Typed by hand: elided amount, metadata in any order, other directives.
option "title" "Nvidia"
option "operating_currency" "USD"

2025-01-01 open Assets:Investments:OpenAI
2025-01-01 open Liabilities:Payable:OpenAI
2025-01-01 open Assets:Receivable:External
2025-01-01 open Income:Sales:External

2025-09-22 * "OpenAI" "First tranche"
  status: "realized"
  kind: "equity"
  counterparty: "OpenAI"
  leg: 1
  deal: "nv-oai"
  Assets:Investments:OpenAI   100 USD
  Liabilities:Payable:OpenAI

2025-09-30 * "Gaming GPUs, fiscal 2025"  ^deal-nv-revenue
  deal: "nv-revenue"
  leg: 1
  counterparty: "External"
  kind: "sale"
  status: "realized"
  estimate: TRUE
  note: "approximate, from the annual report"
  Income:Sales:External         -130500000000.00 USD
  Assets:Receivable:External     130500000000.00 USD

2025-10-01 balance Assets:Investments:OpenAI   100 USD
2025-10-02 price AMDW  0.5 USD
"""

HAND_OPENAI = """\
option "title" "OpenAI"

2025-09-22 open Assets:Receivable:Nvidia USD
2025-09-22 open Equity:Issued:Nvidia
2025-09-22 * "Nvidia" "Nvidia buys shares" ^deal-nv-oai
  deal: "nv-oai"
  leg: 1
  kind: "equity"
  status: "realized"
  counterparty: "Nvidia"
  Equity:Issued:Nvidia  -100.00 USD
  Assets:Receivable:Nvidia
"""


def test_hand_written_books_following_the_convention_read_fine(tmp_path: Path) -> None:
    (tmp_path / "nvidia.beancount").write_text(HAND_NVIDIA)
    (tmp_path / "openai.beancount").write_text(HAND_OPENAI)
    read = read_books(tmp_path)
    assert read.errors == ()
    assert read.companies == ("Nvidia", "OpenAI")
    nvidia = str(tmp_path / "nvidia.beancount")
    assert read.legs == (
        Leg(date(2025, 9, 22), "nv-oai", 1, "Nvidia", "OpenAI", Kind.EQUITY, D("100"),
            filename=nvidia, lineno=10),
        Leg(date(2025, 9, 30), "nv-revenue", 1, EXTERNAL, "Nvidia", Kind.SALE,
            D("130500000000.00"), estimate=True, note="approximate, from the annual report",
            filename=nvidia, lineno=19),
    )  # fmt: skip
    assert read.prices == (Price(date(2025, 10, 2), "AMDW", D("0.5"), "USD", nvidia, 31),)
    assert set(read.entries) == {"Nvidia", "OpenAI"}


def test_read_books_accepts_a_list_of_files_and_check_books_agrees(tmp_path: Path) -> None:
    paths = write_books(DEAL, tmp_path)
    read = read_books(list(paths))
    assert isinstance(read, BooksRead)
    assert [_strip(leg) for leg in read.legs] == [_strip(leg) for leg in DEAL]
    assert read.legs[0].filename == str(tmp_path / "nvidia.beancount")
    assert read.legs[1].filename == str(tmp_path / "openai.beancount")  # the payer's book
    assert check_books(tmp_path) == read.errors == ()


def test_one_sided_leg_names_the_book_that_has_it_and_the_book_that_lacks_it(
    tmp_path: Path,
) -> None:
    nvidia = _book(tmp_path, "Nvidia", DEAL)
    openai = _book(tmp_path, "OpenAI", DEAL[1:])
    error = _only(check_books(tmp_path), "one-sided")
    assert (error.filename, error.lineno) == (str(nvidia), _txn(nvidia))
    assert str(openai) in error.message
    assert error.deal == "nv-oai"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"amount": D("120")}, "amount 100.00 vs 120.00"),
        ({"date": date(2025, 9, 21)}, "date 2025-09-22 vs 2025-09-21"),
        ({"currency": "EUR"}, "currency USD vs EUR"),
        ({"kind": Kind.LOAN}, "kind equity vs loan"),
        ({"status": Status.CONTRACTED}, "status realized vs contracted"),
    ],
)
def test_mismatched_pair_names_both_files_and_lines(
    tmp_path: Path, change: dict[str, object], words: str
) -> None:
    nvidia = _book(tmp_path, "Nvidia", DEAL)
    other = (dataclasses.replace(DEAL[0], **change), DEAL[1])  # type: ignore[arg-type]
    openai = _book(tmp_path, "OpenAI", other)
    error = _only(check_books(tmp_path), "mismatched")
    assert words in error.message
    assert (error.filename, error.lineno) == (str(nvidia), _txn(nvidia))
    assert f"{openai}:{_txn(openai)}" in error.message


def test_reversed_direction_is_a_mismatch(tmp_path: Path) -> None:
    _book(tmp_path, "Nvidia", DEAL)
    flipped = dataclasses.replace(DEAL[0], payer="OpenAI", payee="Nvidia")
    _book(tmp_path, "OpenAI", (flipped, DEAL[1]))
    assert "payer Nvidia vs OpenAI" in _only(check_books(tmp_path), "mismatched").message


def test_unbalanced_transaction_is_reported_once_at_its_line(tmp_path: Path) -> None:
    nvidia = _book(tmp_path, "Nvidia", DEAL)
    _book(tmp_path, "OpenAI", DEAL)
    nvidia.write_text(nvidia.read_text().replace("-100.00 USD", "-90.00 USD"))
    errors = check_books(tmp_path)
    assert errors == (
        LedgerError(str(nvidia), _txn(nvidia),
                    "Transaction does not balance: (10.00 USD)", "nv-oai"),
    )  # fmt: skip


def test_book_failing_the_loader_reports_its_errors_with_file_and_line(tmp_path: Path) -> None:
    nvidia = _book(tmp_path, "Nvidia", DEAL)
    _book(tmp_path, "OpenAI", DEAL)
    text = nvidia.read_text() + "\n2025-12-01 open Assets:Cash\n2025-12-02 * nonsense\n"
    nvidia.write_text(text)
    errors = check_books(tmp_path)
    assert errors
    assert {(e.filename, e.lineno) for e in errors} == {(str(nvidia), text.count("\n"))}


@pytest.mark.parametrize("key", ["deal", "leg", "counterparty", "kind", "status"])
def test_missing_roundtrip_metadata_is_reported_at_the_transaction(
    tmp_path: Path, key: str
) -> None:
    nvidia = _book(tmp_path, "Nvidia", DEAL)
    _book(tmp_path, "OpenAI", DEAL)
    lines = nvidia.read_text().splitlines(keepends=True)
    first = _line(nvidia, f"  {key}:")
    nvidia.write_text("".join(lines[: first - 1] + lines[first:]))
    errors = check_books(tmp_path)
    error = _only(errors, "lacks roundtrip metadata")
    assert error.message.startswith(f"transaction lacks roundtrip metadata: {key} ")
    assert (error.filename, error.lineno) == (str(nvidia), _txn(nvidia))


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ('kind: "equity"', 'kind: "gift"', "unknown kind 'gift'"),
        ('status: "realized"', 'status: "rumoured"', "unknown status 'rumoured'"),
    ],
)
def test_unknown_kind_or_status_is_reported(tmp_path: Path, old: str, new: str, words: str) -> None:
    nvidia = _book(tmp_path, "Nvidia", DEAL)
    _book(tmp_path, "OpenAI", DEAL)
    nvidia.write_text(nvidia.read_text().replace(old, new))
    error = _only(check_books(tmp_path), words)
    assert (error.filename, error.lineno) == (str(nvidia), _txn(nvidia))


def test_counterparty_without_a_book_is_an_unknown_company(tmp_path: Path) -> None:
    nvidia = _book(tmp_path, "Nvidia", DEAL)
    errors = check_books([nvidia])
    assert len(errors) == 2
    assert all("unknown company" in e.message and "names OpenAI" in e.message for e in errors)
    assert [e.lineno for e in errors] == [
        _txn(nvidia),
        _txn(nvidia, 1),
    ]


def test_duplicate_leg_in_one_book_names_both_lines(tmp_path: Path) -> None:
    nvidia = _book(tmp_path, "Nvidia", DEAL)
    _book(tmp_path, "OpenAI", DEAL)
    text = nvidia.read_text()
    first = text.index("2025-09-22 *")
    nvidia.write_text(text + "\n" + text[first : text.index("\n\n", first) + 1])
    error = _only(check_books(tmp_path), "duplicate")
    assert (error.filename, error.lineno) == (str(nvidia), _txn(nvidia, 2))
    assert f"{nvidia}:{_txn(nvidia)}" in error.message


def test_flag_contradicting_the_status_is_reported(tmp_path: Path) -> None:
    nvidia = _book(tmp_path, "Nvidia", DEAL)
    _book(tmp_path, "OpenAI", DEAL)
    nvidia.write_text(nvidia.read_text().replace("2025-09-22 *", "2025-09-22 !"))
    assert "flag ! contradicts status realized" in _only(check_books(tmp_path), "flag").message


def test_postings_off_the_chart_of_accounts_are_reported(tmp_path: Path) -> None:
    nvidia = _book(tmp_path, "Nvidia", DEAL)
    _book(tmp_path, "OpenAI", DEAL)
    nvidia.write_text(
        nvidia.read_text().replace("Assets:Investments:OpenAI ", "Assets:Investments:Oracle ")
    )
    error = _only(check_books(tmp_path), "do not fit")
    assert "the payer books Assets:Investments:OpenAI / Liabilities:Payable:OpenAI" in error.message


def test_book_without_a_title_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "nvidia.beancount"
    path.write_text("2025-01-01 open Assets:Cash\n")
    assert [e.message for e in check_books(tmp_path)] == [
        'the book names no company: add option "title" "<name>"'
    ]


def test_two_books_of_one_company_are_reported(tmp_path: Path) -> None:
    first = _book(tmp_path, "Nvidia", DEAL)
    second = tmp_path / "nvidia-copy.beancount"
    second.write_text(first.read_text())
    error = _only(check_books([first, second, _book(tmp_path, "OpenAI", DEAL)]), "second book")
    assert (error.filename, error.lineno) == (str(second), 0)
    assert str(first) in error.message


def test_books_giving_one_commodity_two_prices_on_a_day_are_reported(tmp_path: Path) -> None:
    nvidia = _book(tmp_path, "Nvidia", DEAL)
    openai = _book(tmp_path, "OpenAI", DEAL)
    nvidia.write_text(nvidia.read_text() + "2025-10-02 price AMDW 0.50 USD\n")
    openai.write_text(openai.read_text() + "2025-10-02 price AMDW 0.70 USD\n")
    error = _only(check_books(tmp_path), "price of AMDW")
    assert (error.filename, error.lineno) == (str(openai), _line(openai, "2025-10-02 price"))
    assert f"0.50 at {nvidia}:{_line(nvidia, '2025-10-02 price')}" in error.message


def test_empty_folder_and_missing_file_are_reported(tmp_path: Path) -> None:
    assert "no *.beancount books" in check_books(tmp_path)[0].message
    assert check_books([tmp_path / "nope.beancount"])[0].message == "no such book file"


# --------------------------------------------------------------------------------------------
# Properties

COMPANIES = ("Nvidia", "OpenAI", "xAI", "AMD", EXTERNAL)
TEXT = st.text(alphabet='ab "\\é', max_size=6)


@st.composite
def legs_strategy(draw: st.DrawFn) -> tuple[Leg, ...]:
    """Small webs: distinct (deal, leg) keys, no self-loops, amounts of 2 decimals > 0."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(("d-a", "d-b", "deal-c")), st.integers(1, 4)),
            unique=True,
            max_size=8,
        )
    )
    legs = []
    for deal, number in keys:
        payer, payee = draw(
            st.lists(st.sampled_from(COMPANIES), min_size=2, max_size=2, unique=True)
        )
        kind = draw(st.sampled_from((*Kind, Kind.WARRANT)))  # warrants twice as often
        grant = kind is Kind.WARRANT and draw(st.booleans())
        legs.append(
            Leg(
                date=draw(st.dates(date(2024, 1, 1), date(2026, 12, 31))),
                deal=deal,
                leg=number,
                payer=payer,
                payee=payee,
                kind=kind,
                amount=D(draw(st.integers(1, 10**13))).scaleb(-2),
                currency=draw(st.sampled_from(("USD", "USD", "EUR"))),
                status=draw(st.sampled_from(Status)),
                estimate=draw(st.booleans()),
                note=draw(TEXT),
                source=draw(TEXT),
                units=D(draw(st.integers(1, 10**9))) if grant else None,
                commodity="AMDW" if grant else None,
            )
        )
    return tuple(legs)


PRICES = st.lists(
    st.builds(
        Price,
        st.dates(date(2024, 1, 1), date(2026, 12, 31)),
        st.just("AMDW"),
        st.integers(0, 10**6).map(lambda n: D(n).scaleb(-3)),
    ),
    max_size=3,
    unique_by=lambda p: p.date,
)

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(legs_strategy())
def test_every_generated_transaction_balances(legs: tuple[Leg, ...]) -> None:
    """Every transaction's postings sum to zero in each currency, with exactly two postings."""
    for entries in book_entries(legs).values():
        for entry in entries:
            if isinstance(entry, data.Transaction):
                assert len(entry.postings) == 2
                assert sum(p.units.number for p in entry.postings) == 0


@FAST
@given(legs_strategy())
def test_every_leg_is_mirrored_in_exactly_its_books(legs: tuple[Leg, ...]) -> None:
    """A leg is one transaction in the payer's book and one in the payee's (one if External),
    same date and amount, on the accounts the chart gives each side."""
    books = book_entries(legs)
    seen: Counter[tuple[str, int]] = Counter()
    for entries in books.values():
        for entry in entries:
            if isinstance(entry, data.Transaction):
                seen[(entry.meta["deal"], int(entry.meta["leg"]))] += 1
    for leg in legs:
        sides = [(leg.payer, payer_accounts(leg.kind, leg.payee), leg.payee),
                 (leg.payee, payee_accounts(leg.kind, leg.payer), leg.payer)]  # fmt: skip
        sides = [side for side in sides if side[0] != EXTERNAL]
        assert seen[leg.key] == len(sides)
        for company, accounts, counterparty in sides:
            [entry] = [
                e for e in books[company]
                if isinstance(e, data.Transaction) and e.meta["deal"] == leg.deal
                and e.meta["leg"] == leg.leg
            ]  # fmt: skip
            assert entry.date == leg.date
            assert entry.payee == entry.meta["counterparty"] == counterparty
            assert [(p.account, p.units.number) for p in entry.postings] == [
                (accounts.debit, leg.amount),
                (accounts.credit, -leg.amount),
            ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(legs_strategy(), PRICES)
def test_books_read_back_into_the_same_legs_and_the_same_bytes(
    legs: tuple[Leg, ...], prices: list[Price]
) -> None:
    """legs -> books -> read_books gives the same legs (and the prices some book holds), with
    no errors; writing what was read gives byte-identical books."""
    companies = ("Oracle",)
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp, "first"), Path(tmp, "second")
        paths = write_books(legs, first, prices, companies)
        read = read_books(first)
        assert read.errors == ()
        assert sorted(map(_strip, read.legs), key=_sort) == sorted(map(_strip, legs), key=_sort)
        held = {leg.commodity for leg in legs if leg.commodity}
        assert {_mark(p) for p in read.prices} == {_mark(p) for p in prices if p.commodity in held}
        again = write_books(read.legs, second, read.prices, read.companies)
        assert [p.name for p in again] == [p.name for p in paths]
        for one, other in zip(paths, again, strict=True):
            assert one.read_bytes() == other.read_bytes()
        assert not [name for name in os.listdir(tmp) if name.startswith(".")]


def _sort(leg: Leg) -> tuple[str, int]:
    return leg.key


def _mark(price: Price) -> tuple[date, str, Decimal, str]:
    return (price.date, price.commodity, price.amount, price.currency)


def test_module_docstring_example_holds() -> None:
    leg = Leg(date(2025, 9, 22), "nv-oai", 1, "Nvidia", "OpenAI", Kind.EQUITY, D("100"))
    assert sorted(book_entries([leg])) == ["Nvidia", "OpenAI"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(legs_strategy())
def test_csv_to_books_to_csv_round_trips_byte_for_byte(legs: tuple[Leg, ...]) -> None:
    """Invariant: a legs CSV written as books and read back writes the identical CSV.

    A legs CSV holds one currency (it has no prices) and trimmed text, so the generated legs
    are made to fit first.
    """
    assume(legs)
    legs = tuple(
        replace(leg, currency="USD", note=leg.note.strip(), source=leg.source.strip())
        for leg in legs
    )
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp, "first.csv"), Path(tmp, "second.csv")
        write_legs_csv(legs, first)
        from_csv, errors = read_legs_csv(first)
        assert errors == []
        write_books(from_csv, Path(tmp, "books"))
        read = read_books(Path(tmp, "books"))
        assert read.errors == ()
        write_legs_csv(read.legs, second)
        assert second.read_bytes() == first.read_bytes()
