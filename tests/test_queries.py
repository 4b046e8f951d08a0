"""The saved queries, run through beanquery's Python API over the shipped books.

Each query is taken from the ``query`` directive ``roundtrip book`` wrote into the view (what
Fava's Query page lists) and checked against ``roundtrip net --format json`` (revenue) or
``roundtrip show … legs --format json`` (deals and commitments).
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import beanquery
import pytest
from beancount import loader
from beancount.core import data
from typer.testing import CliRunner

from ledger.cli import app
from ledger.netted_view import FORWARD_QUERIES, NETTED_QUERIES, queries

REPO = Path(__file__).parent.parent
BOOKS = REPO / "books"
ZERO = Decimal("0.00")


def _json(*args: str) -> object:
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


NET = _json("net", str(BOOKS), "--cycles", "all")
LEGS = _json("show", str(BOOKS), "legs")["legs"]
COMPANIES = [figures["company"] for figures in NET["companies"]]


def _saved(view: Path, name: str) -> list[tuple]:
    """Run the view's saved query ``name`` with beanquery's DB-API connection, the view loaded
    as bean-query loads it (beancount's loader: the plugin runs)."""
    entries, errors, options = loader._load([(str(view), True)], None, None, None)
    assert errors == []
    [query] = [e for e in entries if isinstance(e, data.Query) and e.name == name]
    connection = beanquery.connect("beancount:", entries=entries, errors=errors, options=options)
    return connection.execute(query.query_string).fetchall()


def _view(company: str, kind: str) -> Path:
    return BOOKS / f"{company.lower()}.{kind}.beancount"


def _figures(company: str) -> dict:
    return next(f for f in NET["companies"] if f["company"] == company)


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def test_every_shipped_query_is_saved_in_a_view() -> None:
    assert set(NETTED_QUERIES) | set(FORWARD_QUERIES) == set(queries())
    assert (REPO / "queries").resolve() == (REPO / "ledger" / "queries").resolve()


@pytest.mark.parametrize("company", COMPANIES)
def test_organic_and_circular_by_quarter_add_up_to_net(company: str) -> None:
    rows = _saved(_view(company, "netted"), "organic-vs-circular")
    totals = defaultdict(Decimal)
    for quarter, revenue, amount in rows:
        assert quarter[:4].isdigit() and quarter[4:6] == "-Q"
        totals[revenue] += amount
    figures = _figures(company)
    assert totals["organic"].quantize(ZERO) == Decimal(figures["organic"])
    assert totals["circular"].quantize(ZERO) == Decimal(figures["circular"])


def test_nvidias_circular_revenue_falls_in_the_quarters_of_its_legs() -> None:
    rows = _saved(_view("Nvidia", "netted"), "organic-vs-circular")
    circular = {quarter: amount for quarter, revenue, amount in rows if revenue == "circular"}
    assert set(circular) == {"2024-Q4", "2025-Q3"}
    assert sum(circular.values()) == Decimal(_figures("Nvidia")["circular"]) > 0


@pytest.mark.parametrize("company", COMPANIES)
def test_circular_by_counterparty_is_what_the_cycles_pay_the_company(company: str) -> None:
    """Witnesses carry the whole circulation: a payer's circular revenue to the company is the
    sum of the cycles' amounts on the payer's revenue edges into it."""
    expected = defaultdict(Decimal)
    for cycle in NET["cycles"]:
        for payer, kind, payee in zip(
            cycle["path"][:-1], cycle["kinds"], cycle["path"][1:], strict=True
        ):
            if payee == company and kind in ("sale", "cloud", "lease", "backstop"):
                expected[payer] += Decimal(cycle["amount"])
    rows = _saved(_view(company, "netted"), "circular-by-counterparty")
    assert {name: amount for name, amount in rows} == dict(expected)
    assert sum((a for _, a in rows), ZERO) == Decimal(_figures(company)["circular"])
    assert [a for _, a in rows] == sorted((a for _, a in rows), reverse=True)


def _posted_legs(company: str) -> list[dict]:
    """The company's legs that post (an undrawn guarantee carries its amount as metadata)."""
    return [
        leg
        for leg in LEGS
        if company in (leg["payer"], leg["payee"])
        and not (leg["kind"] == "backstop" and leg["status"] != "realized")
    ]


@pytest.mark.parametrize("company", COMPANIES)
def test_deals_by_status_count_and_add_up_the_companys_legs(company: str) -> None:
    expected: dict[tuple[str, str], list] = defaultdict(lambda: [0, ZERO])
    for leg in _posted_legs(company):
        expected[(leg["status"], leg["deal"])][0] += 1
        expected[(leg["status"], leg["deal"])][1] += _amount(leg["amount"])
    rows = _saved(_view(company, "forward"), "deals-by-status")
    assert {(s, d): [n, a] for s, d, n, a in rows} == dict(expected)


@pytest.mark.parametrize("company", ["Nvidia", "OpenAI"])
def test_the_netted_views_deals_are_the_realized_ones(company: str) -> None:
    rows = _saved(_view(company, "netted"), "deals-by-status")
    assert rows and {status for status, *_ in rows} == {"realized"}


@pytest.mark.parametrize("company", COMPANIES)
def test_commitments_outstanding_are_the_contracted_and_announced_legs(company: str) -> None:
    expected: dict[tuple[str, str], list] = defaultdict(lambda: [0, ZERO])
    for leg in _posted_legs(company):
        if leg["status"] != "realized":
            other = leg["payee"] if leg["payer"] == company else leg["payer"]
            expected[(leg["status"], other)][0] += 1
            expected[(leg["status"], other)][1] += _amount(leg["amount"])
    rows = _saved(_view(company, "forward"), "commitments-outstanding")
    assert {(s, c): [n, a] for s, c, n, a in rows} == dict(expected)


@pytest.mark.parametrize("company", COMPANIES)
def test_guarantees_outstanding_are_the_undrawn_backstops_of_either_side(company: str) -> None:
    """The undrawn backstops post nothing (ASC 460), so commitments-outstanding, which adds
    postings, cannot show them: this query lists them from their metadata, in the guarantor's
    view ("to") and in the beneficiary's ("from")."""
    expected = sorted(
        (
            leg["date"],
            f"Capacity guarantee {'to ' + leg['payee'] if leg['payer'] == company else 'from ' + leg['payer']} (undrawn)",
            leg["status"],
            leg["deal"],
            _amount(leg["amount"]),
        )
        for leg in LEGS
        if company in (leg["payer"], leg["payee"])
        and leg["kind"] == "backstop"
        and leg["status"] != "realized"
    )
    rows = _saved(_view(company, "forward"), "guarantees-outstanding")
    assert [(str(d), g, s, deal, a.number) for d, g, s, deal, a in rows] == expected
    assert (company in ("Nvidia", "CoreWeave")) == bool(rows)


def test_the_package_data_ships_every_query_and_template() -> None:
    """A non-editable install has what `book` writes and what Fava renders: every file of
    ledger/ that is not Python matches a package-data glob of pyproject.toml."""
    import fnmatch
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["ledger"]
    package = REPO / "ledger"
    data_files = [
        p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert {"queries/deals-by-status.bql", "fava_ext/templates/CircularRevenue.html"} <= set(
        data_files
    )
    assert [f for f in data_files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []
