"""One validation, one limit, every verb: the same input is refused by all with one message."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.legs_frame import frame_of_legs
from ledger.model import Kind, Leg
from ledger.validate import web_checks

runner = CliRunner()
HEADER = "date,deal,payer,payee,kind,amount,currency,status\n"


def verbs(path: Path, tmp_path: Path) -> dict[str, list[str]]:
    """Every verb that reads legs, with arguments that would write somewhere new."""
    return {
        "net": ["net", str(path), "--format", "json"],
        "audit": ["audit", str(path), "--format", "json"],
        "check": ["check", str(path)],
        "show": ["show", str(path), "legs"],
        "book": ["book", str(path), "--out", str(tmp_path / "books")],
        "load": ["load", str(path), "--db", f"sqlite:///{tmp_path / 'store.db'}"],
    }


def refusals(path: Path, tmp_path: Path) -> dict[str, tuple[int, str]]:
    outcome = {}
    for verb, arguments in verbs(path, tmp_path).items():
        result = runner.invoke(app, arguments)
        outcome[verb] = (result.exit_code, result.stderr)
    return outcome


def assert_every_verb_refuses(path: Path, tmp_path: Path, words: str) -> None:
    outcome = refusals(path, tmp_path)
    messages = {verb: text for verb, (_, text) in outcome.items()}
    assert {code for code, _ in outcome.values()} == {2}, outcome
    assert len(set(messages.values())) == 1, messages
    assert words in messages["net"]
    assert not (tmp_path / "books").exists()
    assert not (tmp_path / "store.db").exists()


@pytest.mark.parametrize("amount", ["1e30", "99999999999999999.99"])
def test_every_verb_refuses_an_amount_beyond_the_limit_alike(tmp_path: Path, amount: str) -> None:
    path = tmp_path / "big.csv"
    path.write_text(HEADER + f"2025-01-01,a,X,Y,sale,{amount},USD,realized\n", encoding="utf-8")
    assert_every_verb_refuses(path, tmp_path, f"{path}:2: amount")


def test_every_verb_refuses_names_that_would_share_a_book_alike(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text(
        HEADER
        + "2025-01-01,a,OpenAI,Y,sale,1,USD,realized\n"
        + "2025-01-02,b,Y,openai,sale,1,USD,realized\n",
        encoding="utf-8",
    )
    assert_every_verb_refuses(
        path, tmp_path, f"{path}:3: companies 'OpenAI' (line 2) and 'openai' would share"
    )


def test_every_verb_refuses_an_empty_web_alike(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(HEADER, encoding="utf-8")
    assert_every_verb_refuses(path, tmp_path, "no legs")


def test_a_deals_file_with_colliding_leg_names_is_refused(tmp_path: Path) -> None:
    from datetime import date
    from decimal import Decimal

    legs = [
        Leg(date(2025, 1, 1), "a", 1, "Open AI", "Y", Kind.SALE, Decimal(1), lineno=4),
        Leg(date(2025, 1, 1), "b", 1, "Y", "Open.AI", Kind.SALE, Decimal(1), lineno=9),
    ]
    (error,) = web_checks(frame_of_legs(legs))
    assert error.lineno == 9
    assert "'Open AI' (line 4) and 'Open.AI'" in error.message


def test_web_checks_refuse_a_leg_above_the_limit_from_any_source() -> None:
    from datetime import date
    from decimal import Decimal

    leg = Leg(date(2025, 1, 1), "a", 1, "X", "Y", Kind.SALE, Decimal("1e14"), lineno=3)
    (error,) = web_checks(frame_of_legs([leg]))
    assert "above the largest amount of one leg" in error.message


@pytest.mark.parametrize("day", ["1600-03-15", "2300-03-15", "9999-12-31"])
def test_every_verb_refuses_a_book_leg_dated_outside_the_limits_alike(
    tmp_path: Path, day: str
) -> None:
    """beancount takes years 1 to 9999 and pandas' timestamps end in 2262: a book's leg dated
    outside 1900..2199 is one line at its transaction (the payer's), not an internal error."""
    books = _two_books(tmp_path, day)
    assert_every_verb_refuses(
        books, tmp_path, f"{books / 'b.beancount'}:4: date {day} is outside 1900-01-01..2199-12-31"
    )


def _two_books(tmp_path: Path, day: str, after: str = "") -> Path:
    """A's and B's books holding one sale dated ``day``; ``after`` ends A's book."""
    books = tmp_path / "mine"
    books.mkdir()
    for company, other, accounts in (
        ("A", "B", ("Assets:Cash", "Income:Sales:B")),
        ("B", "A", ("Expenses:Purchases:A", "Assets:Cash")),
    ):
        (books / f"{company.lower()}.beancount").write_text(
            f'option "title" "{company}"\nplugin "beancount.plugins.auto_accounts"\n\n'
            f'{day} * "{other}" "a leg"\n'
            f'  deal: "far"\n  leg: 1\n  counterparty: "{other}"\n'
            f'  kind: "sale"\n  status: "realized"\n'
            f"  {accounts[0]}  10.00 USD\n  {accounts[1]}  -10.00 USD\n"
            + (after if company == "A" else ""),
            encoding="utf-8",
        )
    return books


def test_every_verb_refuses_a_book_price_dated_outside_the_limits_alike(tmp_path: Path) -> None:
    """A price mark of a book is held to the dates a deals file's prices are."""
    books = _two_books(tmp_path, "2025-01-01", "\n2300-01-01 price XYZ 40 USD\n")
    where = f"{books / 'a.beancount'}:13"
    assert_every_verb_refuses(books, tmp_path, f"{where}: price of XYZ: date 2300-01-01 is outside")
