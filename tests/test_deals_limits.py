"""The deals file's limits (ledger/limits.py): refused up front, at their line, memory bounded.

Every template parameter that multiplies legs (``count``, ``years``/``months`` with ``per``,
``every``, and the lists: spv ``equity``/``debt``, warrant ``tranches``, backstop ``drawn``,
``legs``) is checked before a single leg is made; so are dates, amounts, and the run's totals.
"""

from __future__ import annotations

import textwrap
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger import deals
from ledger.cli import app
from ledger.deals import read_deals
from ledger.limits import MAX_DATE, MAX_LEGS_PER_DEAL
from ledger.model import LedgerError

HEADER = """\
version: 1
currency: USD
companies:
  - name: A
  - name: B
deals:
"""
DEAL_LINE = HEADER.count("\n") + 1  # the line of the first "- id:"

#: The 17-line deals file of issue 16, which exhausted 24 GB before this check.
BILLION = HEADER + textwrap.dedent("""\
      - id: big
        title: "a billion tranches"
        date: 2025-01-01
        source: "issue 16"
        template: tranches
        payer: A
        payee: B
        kind: sale
        total: 100B
        count: 1000000000
        every: 1m
    """)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deals.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def deal(tmp_path: Path, body: str, deal_id: str = "d") -> Path:
    """A deals file with one deal ``deal_id`` dated 2025-01-01 and the given fields."""
    fields = f"- id: {deal_id}\n  title: t\n  date: 2025-01-01\n"
    fields += textwrap.indent(textwrap.dedent(body), "  ")
    return write(tmp_path, HEADER + textwrap.indent(fields, "  "))


def errors_of(path: Path) -> list[LedgerError]:
    return read_deals(path)[3]


def only_error(path: Path) -> LedgerError:
    errors = errors_of(path)
    assert len(errors) == 1, errors
    return errors[0]


def peak_bytes(path: Path) -> int:
    """The peak memory Python allocates while reading ``path``."""
    tracemalloc.start()
    try:
        read_deals(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _items(n: int, item: str) -> str:
    return "[" + ", ".join([item] * n) + "]"


def _tranches(count: int, every: str = "1y", start: str = "2190-12-31") -> str:
    return (
        f"template: tranches\npayer: A\npayee: B\nkind: sale\ntotal: 1M\ncount: {count}\n"
        f"every: {every}\nstart: {start}\n"
    )


# -- legs per deal -----------------------------------------------------------------------------


def test_a_billion_tranches_are_refused_at_the_count_line(tmp_path: Path):
    error = only_error(write(tmp_path, BILLION))
    assert BILLION.count("\n") == 17
    assert (error.lineno, error.deal) == (DEAL_LINE + 9, "big")
    assert error.message == (
        "count: 1,000,000,000 legs: more than one deal may make (10,000; see ledger/limits.py)"
    )


def test_a_billion_tranches_are_refused_without_allocating_them(tmp_path: Path):
    assert peak_bytes(write(tmp_path, BILLION)) < 10 * 2**20


def test_check_refuses_a_billion_tranches_with_exit_2(tmp_path: Path):
    result = CliRunner().invoke(app, ["check", str(write(tmp_path, BILLION))])
    assert result.exit_code == 2
    assert f"deals.yaml:{DEAL_LINE + 9}: count: 1,000,000,000 legs" in result.stderr
    assert result.stderr.endswith("[deal big]\n1 problem found; nothing was written.\n")


def test_a_deal_of_exactly_the_limit_is_accepted(tmp_path: Path):
    body = "template: legs\nlegs: " + _items(
        MAX_LEGS_PER_DEAL, "{payer: A, payee: B, kind: sale, amount: 1}"
    )
    legs, _, _, errors = read_deals(deal(tmp_path, body))
    assert errors == [] and len(legs) == MAX_LEGS_PER_DEAL


def test_a_monthly_schedule_meets_the_date_limit_before_the_count_limit(tmp_path: Path):
    """From 1900, 3,600 monthly legs reach 2199-12: the dates bound every schedule first."""
    ok = deal(tmp_path, _tranches(3600, every="1m", start="1900-01-01"), deal_id="ok")
    ok.write_text(ok.read_text().replace("date: 2025-01-01", "date: 1900-01-01"))
    assert errors_of(ok) == []
    ok.write_text(ok.read_text().replace("count: 3600", "count: 3601"))
    assert "run to 2200-01, past the last date" in only_error(ok).message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "template: term\npayer: A\npayee: B\nkind: sale\ntotal: 1M\nmonths: 20000\n"
            "per: month\n",
            "a term of 20000 months makes 20,000 legs",
        ),
        (
            "template: term\npayer: A\npayee: B\nkind: sale\ntotal: 1M\nyears: 1000000000\n",
            "a term of 1000000000 years makes 1,000,000,000 legs",
        ),
        (
            "template: spv\nspv: B\nlease:\n  to: A\n  total: 1M\n  years: 1000\n  per: month\n",
            "a lease of 12000 months makes 12,000 legs",
        ),
        (
            "template: backstop\nbuyer: A\nseller: B\namount: 1M\nyears: 1000000\nper: quarter\n",
            "a promise spread over 4000000 quarters makes 4,000,000 legs",
        ),
    ],
    ids=["term-months", "term-years", "spv-lease", "backstop-spread"],
)
def test_every_period_count_is_bounded_before_expansion(tmp_path: Path, body: str, message: str):
    error = only_error(deal(tmp_path, body))
    assert message in error.message
    assert error.deal == "d"


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (
            "template: legs\nlegs: "
            + _items(MAX_LEGS_PER_DEAL + 1, "{payer: A, payee: B, kind: sale, amount: 1}"),
            "this legs deal",
        ),
        (
            "template: warrant\ngrantor: A\nholder: B\ncommodity: AW\ntranches: "
            + _items(MAX_LEGS_PER_DEAL + 1, "{date: 2025-01-01, units: 1, value: 1}"),
            "this warrant",
        ),
        (
            "template: spv\nspv: B\nequity: "
            + _items(MAX_LEGS_PER_DEAL, "{from: A, amount: 1}")
            + "\nbuys: {from: A, amount: 1}",
            "this spv",
        ),
        (
            "template: backstop\nbuyer: A\nseller: B\namount: 1M\ndrawn: "
            + _items(MAX_LEGS_PER_DEAL, "{date: 2025-02-01, amount: 1}"),
            "this backstop",
        ),
    ],
    ids=["legs", "warrant", "spv", "backstop"],
)
def test_every_list_of_legs_is_bounded(tmp_path: Path, body: str, what: str):
    error = only_error(deal(tmp_path, body))
    assert error.message == (
        f"{what} makes 10,001 legs: more than one deal may make (10,000; see ledger/limits.py)"
    )


def test_the_legs_of_one_input_are_bounded(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(deals, "MAX_LEGS", 25)
    body = "template: tranches\npayer: A\npayee: B\nkind: sale\ntotal: 1M\ncount: 10\n"
    text = HEADER + "".join(
        textwrap.indent(
            f"- id: d{i}\n  title: t\n  date: 2025-01-01\n" + textwrap.indent(body, "  "), "  "
        )
        for i in range(3)
    )
    legs, _, _, errors = read_deals(write(tmp_path, text))
    assert [(e.deal, e.message) for e in errors] == [
        ("d2", "the deals so far make 30 legs; one input holds at most 25 (see ledger/limits.py)")
    ]
    assert len(legs) == 20


# -- dates -------------------------------------------------------------------------------------


def test_a_schedule_past_year_9999_is_a_clean_error_at_the_deal(tmp_path: Path):
    path = deal(
        tmp_path, "template: term\npayer: A\npayee: B\nkind: sale\ntotal: 100B\nyears: 9000\n"
    )
    error = only_error(path)
    assert (error.lineno, error.deal) == (DEAL_LINE, "d")
    assert error.message == (
        "9,000 legs 12 months apart from 2025-01-01 run to 11024-01, past the last date "
        "roundtrip takes (2199-12-31; see ledger/limits.py)"
    )


def test_check_refuses_a_schedule_past_year_9999_without_a_traceback(tmp_path: Path):
    path = deal(
        tmp_path, "template: term\npayer: A\npayee: B\nkind: sale\ntotal: 100B\nyears: 9000\n"
    )
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "run to 11024-01, past the last date roundtrip takes" in result.stderr


def test_a_schedule_ending_on_the_last_date_is_accepted(tmp_path: Path):
    legs, _, _, errors = read_deals(deal(tmp_path, _tranches(10)))
    assert errors == [] and legs[-1].date == MAX_DATE


def test_a_schedule_one_step_past_the_last_date_is_refused(tmp_path: Path):
    error = only_error(deal(tmp_path, _tranches(11)))
    assert "11 legs 12 months apart from 2190-12-31 run to 2200-12" in error.message


def test_a_long_step_is_bounded_like_a_long_count(tmp_path: Path):
    error = only_error(deal(tmp_path, _tranches(2, every="100000000y", start="2025-01-01")))
    assert "run to 100002025-01, past the last date" in error.message


@pytest.mark.parametrize("day", ["1899-12-31", "2200-01-01", "9999-12-31"])
def test_a_date_outside_the_range_is_refused_where_it_is_written(tmp_path: Path, day: str):
    path = deal(
        tmp_path,
        f"template: legs\nlegs:\n  - date: {day}\n    payer: A\n    payee: B\n    kind: sale\n"
        "    amount: 1\n",
    )
    error = only_error(path)
    assert error.lineno == DEAL_LINE + 5
    assert error.message == (
        f"legs[0].date: date {day} is outside the dates roundtrip takes "
        "(1900-01-01 to 2199-12-31; see ledger/limits.py)"
    )


# -- amounts -----------------------------------------------------------------------------------


def test_an_amount_above_the_limit_of_a_leg_is_refused(tmp_path: Path):
    path = deal(tmp_path, "template: single\npayer: A\npayee: B\nkind: sale\namount: 10T\n")
    assert only_error(path).message == (
        "amount: 10T is more than one leg may carry (9,999,999,999,999.99; see ledger/limits.py)"
    )


def test_a_total_may_exceed_a_leg_when_each_tranche_stays_within_it(tmp_path: Path):
    body = "template: tranches\npayer: A\npayee: B\nkind: sale\ntotal: 100T\ncount: 11\n"
    legs, _, _, errors = read_deals(deal(tmp_path, body))
    assert errors == [] and len(legs) == 11


def test_a_total_whose_tranches_exceed_a_leg_is_refused(tmp_path: Path):
    body = "template: tranches\npayer: A\npayee: B\nkind: sale\ntotal: 100T\ncount: 10\n"
    assert "puts more on a leg than one may carry" in only_error(deal(tmp_path, body)).message


def test_the_amounts_of_one_input_are_bounded(tmp_path: Path):
    body = (
        "template: tranches\npayer: A\npayee: B\nkind: sale\ntotal: 9000T\ncount: 1000\nevery: 1m\n"
    )
    text = HEADER + "".join(
        textwrap.indent(
            f"- id: d{i}\n  title: t\n  date: 2025-01-01\n" + textwrap.indent(body, "  "), "  "
        )
        for i in range(2)
    )
    errors = errors_of(write(tmp_path, text))
    assert [(e.deal, e.message) for e in errors] == [
        (
            "d1",
            "the legs so far add up to 18,000,000,000,000,000.00, more than one input may "
            "(10,000,000,000,000,000.00; see ledger/limits.py)",
        )
    ]


# -- names and YAML ----------------------------------------------------------------------------


def test_a_company_name_above_the_limit_is_refused(tmp_path: Path):
    text = HEADER.replace("- name: B", "- name: " + "B" * 121).replace("deals:\n", "deals: []\n")
    (error,) = errors_of(write(tmp_path, text))
    assert error.message == "company name of 121 characters: at most 120 (see ledger/limits.py)"


LAUGHS = "".join(
    f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}" if i else "lol"] * 10) + "]\n" for i in range(9)
)


def test_yaml_aliases_of_aliases_cost_memory_in_proportion_to_the_file(tmp_path: Path):
    """A "billion laughs" (10**9 strings from 9 lines of aliases) is read in bounded memory."""
    text = HEADER.replace("deals:\n", LAUGHS + "deals:\n") + (
        "  - id: x\n    title: *a8\n    date: 2025-01-01\n    template: single\n"
        "    payer: A\n    payee: B\n    kind: sale\n    amount: *a8\n"
    )
    path = write(tmp_path, text)
    assert peak_bytes(path) < 10 * 2**20
    messages = [e.message for e in errors_of(path)]
    assert len(messages) == 11 and all(len(m) < 200 for m in messages)
