"""The deals file: every template on a tiny file, every validation error, read_input."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.deals import (
    TEMPLATES,
    _add_months,
    _split,
    expand,
    load_deals,
    parse_amount,
    read_deals,
    read_input,
)
from ledger.model import Kind, LedgerError, Leg, Price, Status, format_errors

SMALL = Path(__file__).parent / "fixtures" / "deals" / "small.yaml"

HEADER = """\
version: 1
currency: USD
companies:
  - name: Nvidia
  - name: OpenAI
  - name: SPV
deals:
"""
FIRST_DEAL_LINE = HEADER.count("\n") + 1  # the line of the first "- id:"


def deals_file(tmp_path: Path, deals: str, header: str = HEADER) -> Path:
    """A deals file: the header, then the deals (written flush left, indented here)."""
    path = tmp_path / "deals.yaml"
    path.write_text(header + textwrap.indent(textwrap.dedent(deals), "  "), encoding="utf-8")
    return path


def expanded(path: Path) -> tuple[Leg, ...]:
    legs, _, _, errors = read_deals(path)
    assert errors == [], format_errors(errors)
    return legs


def summary(legs: tuple[Leg, ...]) -> list[tuple]:
    """What a reader checks by hand: number, date, payer, payee, kind, amount, status, line."""
    return [
        (
            leg.leg,
            leg.date.isoformat(),
            leg.payer,
            leg.payee,
            leg.kind.value,
            str(leg.amount),
            leg.status.value,
            leg.lineno,
        )
        for leg in legs
    ]


def only_error(path: Path) -> LedgerError:
    _, _, _, errors = read_deals(path)
    assert len(errors) == 1, format_errors(errors)
    return errors[0]


def marked_line(path: Path) -> int:
    """The line marked ``# <-`` in a test file."""
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if "# <-" in line)


# -- amounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        (350000000, "350000000.00"),
        ("100B", "100000000000.00"),
        ("6.3B", "6300000000.00"),
        ("350M", "350000000.00"),
        ("900M", "900000000.00"),
        ("1.92B", "1920000000.00"),
        ("12_500_000_000", "12500000000.00"),
        ("1,000.50", "1000.50"),
        ("$2B", "2000000000.00"),
        ("1.5k", "1500.00"),
        ("0.01", "0.01"),
        ("1T", "1000000000000.00"),
    ],
)
def test_amounts_scale_exactly(text: object, amount: str) -> None:
    assert parse_amount(text) == Decimal(amount)
    assert str(parse_amount(text)) == amount


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (6.3e9, "unquoted YAML float"),
        (1.5, "unquoted YAML float"),
        ("6.3e9", "exponent"),
        ("lots", "not an amount"),
        ("", "not an amount"),
        (True, "not an amount"),
        (0, "must be > 0"),
        ("-5M", "must be > 0"),
        ("1.005", "more than 2 decimals"),
        ("1.234567K", "more than 2 decimals"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(value: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_amount(value)


# -- helpers of the templates ------------------------------------------------------------------


def test_adding_months_clamps_to_the_month_end_without_drifting() -> None:
    start = date(2025, 1, 31)
    assert [_add_months(start, k) for k in range(4)] == [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
    ]
    assert _add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_remainder_cents_go_to_the_first_part() -> None:
    assert _split(Decimal("100.00"), 3) == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]


@settings(max_examples=200, deadline=None)
@given(cents=st.integers(1, 10**14), count=st.integers(1, 60))
def test_a_split_adds_up_to_the_total_exactly(cents: int, count: int) -> None:
    """Invariant: parts sum to the total, are equal but for the first, which is largest."""
    if cents < count:
        return
    total = Decimal(cents) / 100
    parts = _split(total, count)
    assert sum(parts) == total and len(parts) == count
    assert len(set(parts[1:])) <= 1 and parts[0] >= parts[-1]
    assert parts[0] - parts[-1] < Decimal(count) / 100


# -- templates ---------------------------------------------------------------------------------


def test_single_is_one_realized_leg_on_the_deal_date(tmp_path: Path) -> None:
    path = deals_file(
        tmp_path,
        """\
        - id: chips
          title: "OpenAI buys chips"
          date: 2025-10-01
          template: single
          payer: OpenAI
          payee: Nvidia
          kind: sale
          amount: 50M
        """,
    )
    assert summary(expanded(path)) == [
        (1, "2025-10-01", "OpenAI", "Nvidia", "sale", "50000000.00", "realized", FIRST_DEAL_LINE)
    ]


def test_tranches_split_the_total_with_statuses_in_order(tmp_path: Path) -> None:
    path = deals_file(
        tmp_path,
        """\
        - id: nv-oai
          title: "Nvidia invests in OpenAI"
          date: 2025-09-22
          template: tranches
          payer: Nvidia
          payee: OpenAI
          kind: equity
          total: "100.00"
          count: 3
          start: 2025-10-31
          every: 1m
          statuses: {realized: 1, contracted: 1}
        """,
    )
    line = FIRST_DEAL_LINE
    assert summary(expanded(path)) == [
        (1, "2025-10-31", "Nvidia", "OpenAI", "equity", "33.34", "realized", line),
        (2, "2025-11-30", "Nvidia", "OpenAI", "equity", "33.33", "contracted", line),
        (3, "2025-12-31", "Nvidia", "OpenAI", "equity", "33.33", "announced", line),
    ]


def test_tranches_default_to_yearly_from_the_deal_date_and_announced(tmp_path: Path) -> None:
    path = deals_file(
        tmp_path,
        """\
        - id: nv-oai
          title: "Nvidia invests in OpenAI"
          date: 2025-09-22
          template: tranches
          payer: Nvidia
          payee: OpenAI
          kind: equity
          total: 20B
          count: 2
        """,
    )
    assert [(leg.date, leg.amount, leg.status) for leg in expanded(path)] == [
        (date(2025, 9, 22), Decimal("10000000000.00"), Status.ANNOUNCED),
        (date(2026, 9, 22), Decimal("10000000000.00"), Status.ANNOUNCED),
    ]


def test_term_makes_one_leg_per_period_at_its_start(tmp_path: Path) -> None:
    path = deals_file(
        tmp_path,
        """\
        - id: cloud
          title: "OpenAI rents cloud"
          date: 2025-09-23
          template: term
          payer: OpenAI
          payee: Nvidia
          kind: cloud
          total: 300M
          start: 2025-10-01
          months: 6
          per: quarter
          status: contracted
        """,
    )
    line = FIRST_DEAL_LINE
    assert summary(expanded(path)) == [
        (1, "2025-10-01", "OpenAI", "Nvidia", "cloud", "150000000.00", "contracted", line),
        (2, "2026-01-01", "OpenAI", "Nvidia", "cloud", "150000000.00", "contracted", line),
    ]


def test_spv_expands_equity_debt_purchase_and_lease_in_order(tmp_path: Path) -> None:
    path = deals_file(
        tmp_path,
        """\
        - id: spv
          title: "An SPV buys chips and leases them"
          date: 2025-10-08
          template: spv
          spv: SPV
          equity:
            - {from: OpenAI, amount: 15}
            - {from: Nvidia, amount: 5, status: contracted}
          debt:
            - {from: External, amount: 30, date: 2025-10-09}
          buys: {from: Nvidia, amount: 50}
          lease:
            to: OpenAI
            total: 60
            years: 2
            statuses: {realized: 1}
        """,
    )
    d = FIRST_DEAL_LINE
    assert summary(expanded(path)) == [
        (1, "2025-10-08", "OpenAI", "SPV", "equity", "15.00", "realized", d + 6),
        (2, "2025-10-08", "Nvidia", "SPV", "equity", "5.00", "contracted", d + 7),
        (3, "2025-10-09", "External", "SPV", "loan", "30.00", "realized", d + 9),
        (4, "2025-10-08", "SPV", "Nvidia", "sale", "50.00", "realized", d + 10),
        (5, "2025-10-08", "OpenAI", "SPV", "lease", "30.00", "realized", d + 12),
        (6, "2026-10-08", "OpenAI", "SPV", "lease", "30.00", "announced", d + 12),
    ]


def test_warrant_grants_units_and_marks_prices(tmp_path: Path) -> None:
    path = deals_file(
        tmp_path,
        """\
        - id: warrant
          title: "Nvidia grants OpenAI a warrant"
          date: 2025-10-06
          template: warrant
          grantor: Nvidia
          holder: OpenAI
          commodity: NVW
          tranches:
            - {date: 2025-10-06, units: 160M, value: 1B}
            - {date: 2026-10-06, units: "0.5", value: 10, status: announced}
          prices:
            - {date: 2025-12-31, price: "12.345"}
        """,
    )
    legs, prices, _, errors = read_deals(path)
    assert errors == []
    d = FIRST_DEAL_LINE
    assert summary(legs) == [
        (1, "2025-10-06", "Nvidia", "OpenAI", "warrant", "1000000000.00", "realized", d + 8),
        (2, "2026-10-06", "Nvidia", "OpenAI", "warrant", "10.00", "announced", d + 9),
    ]
    assert [(leg.units, leg.commodity) for leg in legs] == [
        (Decimal(160_000_000), "NVW"),
        (Decimal("0.5"), "NVW"),
    ]
    assert str(legs[0].units) == "160000000"
    assert prices == (
        Price(date(2025, 12, 31), "NVW", Decimal("12.345"), "USD", str(path), d + 11),
    )


def test_backstop_keeps_only_the_undrawn_promise_then_the_draws(tmp_path: Path) -> None:
    path = deals_file(
        tmp_path,
        """\
        - id: backstop
          title: "Nvidia backstops capacity"
          date: 2025-09-15
          template: backstop
          buyer: Nvidia
          seller: OpenAI
          amount: 6.3B
          drawn:
            - {date: 2025-12-01, amount: 300M}
        """,
    )
    d = FIRST_DEAL_LINE
    assert summary(expanded(path)) == [
        (1, "2025-09-15", "Nvidia", "OpenAI", "backstop", "6000000000.00", "contracted", d),
        (2, "2025-12-01", "Nvidia", "OpenAI", "backstop", "300000000.00", "realized", d + 8),
    ]


def test_backstop_spreads_the_undrawn_promise_when_given_a_term(tmp_path: Path) -> None:
    path = deals_file(
        tmp_path,
        """\
        - id: backstop
          title: "Nvidia backstops capacity"
          date: 2025-09-15
          template: backstop
          buyer: Nvidia
          seller: OpenAI
          amount: 100
          start: 2026-01-01
          years: 1
          per: quarter
        """,
    )
    assert [(leg.date.isoformat(), str(leg.amount)) for leg in expanded(path)] == [
        ("2026-01-01", "25.00"),
        ("2026-04-01", "25.00"),
        ("2026-07-01", "25.00"),
        ("2026-10-01", "25.00"),
    ]


def test_a_fully_drawn_backstop_has_no_promise_leg(tmp_path: Path) -> None:
    path = deals_file(
        tmp_path,
        """\
        - id: backstop
          title: "Drawn in full"
          date: 2025-09-15
          template: backstop
          buyer: Nvidia
          seller: OpenAI
          amount: 10
          drawn: [{date: 2025-10-01, amount: 4}, {date: 2025-11-01, amount: 6}]
        """,
    )
    assert [(leg.leg, leg.amount, leg.status) for leg in expanded(path)] == [
        (1, Decimal("4.00"), Status.REALIZED),
        (2, Decimal("6.00"), Status.REALIZED),
    ]


def test_legs_are_written_out_with_their_own_fields(tmp_path: Path) -> None:
    path = deals_file(
        tmp_path,
        """\
        - id: revenue
          title: "Revenue from outside"
          date: 2025-01-01
          source: "annual reports"
          note: "approximate"
          estimate: true
          template: legs
          legs:
            - {payer: External, payee: Nvidia, kind: sale, amount: 130.5B}
            - payer: External
              payee: OpenAI
              kind: sale
              amount: 3.7B
              date: 2025-12-31
              status: announced
              estimate: false
              note: "reported, not audited"
              source: "press"
              currency: USD
        """,
    )
    first, second = expanded(path)
    d = FIRST_DEAL_LINE
    assert summary((first, second)) == [
        (1, "2025-01-01", "External", "Nvidia", "sale", "130500000000.00", "realized", d + 8),
        (2, "2025-12-31", "External", "OpenAI", "sale", "3700000000.00", "announced", d + 9),
    ]
    assert (first.source, first.note, first.estimate) == ("annual reports", "approximate", True)
    assert (second.source, second.note, second.estimate) == (
        "press",
        "reported, not audited",
        False,
    )


def test_every_leg_carries_deal_id_file_and_currency(tmp_path: Path) -> None:
    header = HEADER.replace("currency: USD", "currency: EUR")
    path = deals_file(
        tmp_path,
        """\
        - id: chips
          title: "OpenAI buys chips"
          date: 2025-10-01
          template: single
          payer: OpenAI
          payee: Nvidia
          kind: sale
          amount: 1
        """,
        header,
    )
    (leg,) = expanded(path)
    assert (leg.deal, leg.filename, leg.currency) == ("chips", str(path), "EUR")


# -- the shared example ------------------------------------------------------------------------


def test_the_small_example_uses_every_template_and_loads_cleanly() -> None:
    deals_file_, errors = load_deals(SMALL)
    assert errors == []
    assert sorted({deal.template for deal in deals_file_.deals}) == sorted(TEMPLATES)
    legs, prices, companies, errors = read_deals(SMALL)
    assert errors == []
    assert companies == ("Nvidia", "OpenAI", "Oracle", "AMD", "CoreWeave", "xAI", "xAI-SPV")
    counts = {deal.id: sum(leg.deal == deal.id for leg in legs) for deal in deals_file_.deals}
    assert counts == {
        "nv-oai-equity": 4,
        "oai-nv-chips": 1,
        "oai-orcl-cloud": 4,
        "xai-spv": 6,
        "amd-oai-warrant": 2,
        "nv-cw-backstop": 2,
        "external-revenue": 5,
    }
    assert [(p.commodity, p.amount) for p in prices] == [("AMDW", Decimal(25))]


def test_the_small_example_says_what_it_expands_into() -> None:
    legs, _, _, _ = read_deals(SMALL)
    by_key = {leg.key: leg for leg in legs}
    assert by_key["nv-oai-equity", 2].date == date(2026, 3, 22)
    assert by_key["nv-oai-equity", 2].status is Status.CONTRACTED
    assert by_key["oai-nv-chips", 1].estimate is True
    assert by_key["xai-spv", 3].note == "debt share assumed"
    assert by_key["nv-cw-backstop", 1].amount == Decimal("60000000.00")
    assert by_key["external-revenue", 4].amount == Decimal("1920000.00")
    assert by_key["external-revenue", 5].source == "press reports"


def test_deals_file_knows_titles_and_names() -> None:
    deals_file_, _ = load_deals(SMALL)
    assert deals_file_.titles["oai-nv-chips"] == "OpenAI buys Nvidia systems"
    assert deals_file_.names[0] == "Nvidia"


# -- bad input: one clear error each -----------------------------------------------------------

SINGLE = """\
- id: deal-x
  title: "A deal"
  date: 2025-06-01
  template: single
  payer: Nvidia
  payee: OpenAI
  kind: sale
  amount: 5M
"""

#: (case, deal text, words of the message); the offending line is marked "# <-".
BAD_DEALS = [
    ("malformed YAML", SINGLE.replace("  kind: sale", " kind: sale  # <-"), "malformed YAML"),
    ("duplicate key", SINGLE + "  kind: loan  # <-\n", "duplicate key 'kind'"),
    ("missing field", SINGLE.replace("  amount: 5M\n", ""), "missing field 'amount'"),
    ("unknown field", SINGLE + "  colour: red  # <-\n", "unknown field 'colour'"),
    (
        "misspelt field",
        SINGLE.replace("  kind: sale", "  knd: sale  # <-"),
        "unknown field 'knd' (did you mean 'kind'?)",
    ),
    (
        "unknown template",
        SINGLE.replace("template: single", "template: one  # <-"),
        "unknown template 'one'",
    ),
    (
        "unknown company",
        SINGLE.replace("payer: Nvidia", "payer: Nvdia  # <-"),
        "unknown company 'Nvdia'",
    ),
    ("payer is payee", SINGLE.replace("payee: OpenAI", "payee: Nvidia"), "both 'Nvidia'"),
    ("unknown kind", SINGLE.replace("kind: sale", "kind: gift  # <-"), "unknown kind 'gift'"),
    ("unknown status", SINGLE + "  status: done  # <-\n", "unknown status 'done'"),
    ("non-numeric amount", SINGLE.replace("amount: 5M", "amount: lots  # <-"), "not an amount"),
    ("zero amount", SINGLE.replace("amount: 5M", "amount: 0  # <-"), "must be > 0"),
    ("negative amount", SINGLE.replace("amount: 5M", "amount: -5M  # <-"), "must be > 0"),
    ("three decimals", SINGLE.replace("amount: 5M", 'amount: "1.005"  # <-'), "more than 2"),
    ("unquoted float", SINGLE.replace("amount: 5M", "amount: 6.3  # <-"), "unquoted YAML float"),
    ("exponent", SINGLE.replace("amount: 5M", "amount: 6.3e9  # <-"), "exponent"),
    ("bad date", SINGLE.replace("date: 2025-06-01", "date: 2025-13-01  # <-"), "bad date"),
    ("text date", SINGLE.replace("date: 2025-06-01", "date: June 2025  # <-"), "bad date"),
    ("mixed currencies", SINGLE + "  currency: EUR  # <-\n", "mixed currencies"),
    ("bad estimate", SINGLE + "  estimate: maybe  # <-\n", "must be true or false"),
    ("bad deal id", SINGLE.replace("id: deal-x", "id: Deal_X  # <-"), "bad deal id"),
    ("title not text", SINGLE.replace('title: "A deal"', "title: 2025  # <-"), "must be text"),
]


@pytest.mark.parametrize(("case", "text", "words"), BAD_DEALS, ids=[c[0] for c in BAD_DEALS])
def test_each_bad_deal_gives_one_error_naming_file_line_and_deal(
    tmp_path: Path, case: str, text: str, words: str
) -> None:
    path = deals_file(tmp_path, text)
    error = only_error(path)
    deal = "Deal_X" if case == "bad deal id" else "deal-x"
    line = FIRST_DEAL_LINE if "# <-" not in text else marked_line(path)
    assert str(error).startswith(f"{path}:{line}: ")
    if case == "bad deal id":  # an id that is not an id cannot name the deal
        assert error.deal is None or error.deal == deal
    else:
        assert str(error).endswith(f"[deal {deal}]")
    assert words in error.message


TRANCHES = """\
- id: tr
  title: "Tranches"
  date: 2025-06-01
  template: tranches
  payer: Nvidia
  payee: OpenAI
  kind: equity
  total: 10
  count: 2
"""

BAD_TEMPLATE_FIELDS = [
    (
        "statuses exceed count",
        TRANCHES + "  statuses: {realized: 2, contracted: 1}\n",
        "exceed the 2 legs",
        False,
    ),
    (
        "status and statuses",
        TRANCHES + "  status: realized\n  statuses: {realized: 1}\n",
        "not both",
        False,
    ),
    ("bad duration", TRANCHES + "  every: 2w  # <-\n", "bad duration '2w'", True),
    ("zero count", TRANCHES.replace("count: 2", "count: 0  # <-"), "count must be", True),
    ("too small to split", TRANCHES.replace("total: 10", 'total: "0.01"'), "too small", False),
    ("start before deal", TRANCHES + "  start: 2025-05-01\n", "before the deal's date", False),
    (
        "unknown status key",
        TRANCHES + "  statuses: {done: 1}  # <-\n",
        "unknown field 'done'",
        True,
    ),
]


@pytest.mark.parametrize(
    ("case", "text", "words", "marked"),
    BAD_TEMPLATE_FIELDS,
    ids=[c[0] for c in BAD_TEMPLATE_FIELDS],
)
def test_bad_template_fields_give_one_error(
    tmp_path: Path, case: str, text: str, words: str, marked: bool
) -> None:
    path = deals_file(tmp_path, text)
    error = only_error(path)
    line = marked_line(path) if marked else FIRST_DEAL_LINE
    assert str(error).startswith(f"{path}:{line}: ")
    assert str(error).endswith("[deal tr]")
    assert words in error.message


OTHER_BAD = [
    (
        "term months not whole periods",
        """\
- id: tr
  title: "Term"
  date: 2025-06-01
  template: term
  payer: Nvidia
  payee: OpenAI
  kind: cloud
  total: 10
  months: 5
  per: quarter
""",
        "not a whole number of quarters",
    ),
    (
        "term without years",
        """\
- id: tr
  title: "Term"
  date: 2025-06-01
  template: term
  payer: Nvidia
  payee: OpenAI
  kind: cloud
  total: 10
""",
        "missing field 'years'",
    ),
    (
        "bad per",
        """\
- id: tr
  title: "Term"
  date: 2025-06-01
  template: term
  payer: Nvidia
  payee: OpenAI
  kind: cloud
  total: 10
  years: 1
  per: week  # <-
""",
        "bad per 'week'",
    ),
    (
        "spv is External",
        """\
- id: tr
  title: "SPV"
  date: 2025-06-01
  template: spv
  spv: External  # <-
  equity: [{from: Nvidia, amount: 1}]
""",
        "External keeps no book",
    ),
    (
        "spv with nothing",
        """\
- id: tr
  title: "SPV"
  date: 2025-06-01
  template: spv
  spv: SPV
""",
        "needs at least one of",
    ),
    (
        "spv item not a mapping",
        """\
- id: tr
  title: "SPV"
  date: 2025-06-01
  template: spv
  spv: SPV
  equity:
    - 5  # <-
""",
        "equity[0] must be a mapping",
    ),
    (
        "spv stake from unknown",
        """\
- id: tr
  title: "SPV"
  date: 2025-06-01
  template: spv
  spv: SPV
  equity:
    - {from: Nobody, amount: 1}  # <-
""",
        "from: unknown company 'Nobody'",
    ),
    (
        "spv lease to itself",
        """\
- id: tr
  title: "SPV"
  date: 2025-06-01
  template: spv
  spv: SPV
  lease: {to: SPV, total: 10, years: 1}  # <-
""",
        "both 'SPV'",
    ),
    (
        "warrant bad commodity",
        """\
- id: tr
  title: "Warrant"
  date: 2025-06-01
  template: warrant
  grantor: Nvidia
  holder: OpenAI
  commodity: nv-w  # <-
  tranches: [{date: 2025-06-01, units: 1, value: 1}]
""",
        "bad commodity 'nv-w'",
    ),
    (
        "warrant without tranches",
        """\
- id: tr
  title: "Warrant"
  date: 2025-06-01
  template: warrant
  grantor: Nvidia
  holder: OpenAI
  commodity: NVW
  tranches: []  # <-
""",
        "tranches needs at least one item",
    ),
    (
        "warrant price missing",
        """\
- id: tr
  title: "Warrant"
  date: 2025-06-01
  template: warrant
  grantor: Nvidia
  holder: OpenAI
  commodity: NVW
  tranches: [{date: 2025-06-01, units: 1, value: 1}]
  prices:
    - {date: 2025-07-01}  # <-
""",
        "missing field 'price'",
    ),
    (
        "draws exceed backstop",
        """\
- id: tr
  title: "Backstop"
  date: 2025-06-01
  template: backstop
  buyer: Nvidia
  seller: OpenAI
  amount: 10
  drawn: [{date: 2025-07-01, amount: 11}]
""",
        "exceed the backstop amount",
    ),
    (
        "draw before the deal",
        """\
- id: tr
  title: "Backstop"
  date: 2025-06-01
  template: backstop
  buyer: Nvidia
  seller: OpenAI
  amount: 10
  drawn:
    - {date: 2025-05-01, amount: 1}  # <-
""",
        "leg dated 2025-05-01 is before the deal's date 2025-06-01",
    ),
    (
        "leg before the deal",
        """\
- id: tr
  title: "Legs"
  date: 2025-06-01
  template: legs
  legs:
    - {payer: Nvidia, payee: OpenAI, kind: sale, amount: 1}
    - {payer: Nvidia, payee: OpenAI, kind: sale, amount: 1, date: 2024-01-01}  # <-
""",
        "before the deal's date",
    ),
    (
        "leg in another currency",
        """\
- id: tr
  title: "Legs"
  date: 2025-06-01
  template: legs
  legs:
    - {payer: Nvidia, payee: OpenAI, kind: sale, amount: 1, currency: EUR}  # <-
""",
        "currency: mixed currencies: EUR here",
    ),
    (
        "units without commodity",
        """\
- id: tr
  title: "Legs"
  date: 2025-06-01
  template: legs
  legs:
    - {payer: Nvidia, payee: OpenAI, kind: warrant, amount: 1, units: 5}  # <-
""",
        "units and commodity go together",
    ),
    (
        "legs not a list",
        """\
- id: tr
  title: "Legs"
  date: 2025-06-01
  template: legs
  legs: {payer: Nvidia}  # <-
""",
        "legs must be a list",
    ),
    (
        "missing template",
        """\
- id: tr
  title: "Nothing"
  date: 2025-06-01
""",
        "missing field 'template'",
    ),
]


@pytest.mark.parametrize(("case", "text", "words"), OTHER_BAD, ids=[c[0] for c in OTHER_BAD])
def test_bad_fields_of_every_template_give_one_error(
    tmp_path: Path, case: str, text: str, words: str
) -> None:
    path = deals_file(tmp_path, text)
    error = only_error(path)
    line = marked_line(path) if "# <-" in text else FIRST_DEAL_LINE
    assert str(error).startswith(f"{path}:{line}: ")
    assert str(error).endswith("[deal tr]")
    assert words in error.message


def test_a_duplicate_deal_id_is_one_error_on_the_second(tmp_path: Path) -> None:
    path = deals_file(tmp_path, SINGLE + SINGLE.replace("- id: deal-x", "- id: deal-x  # <-"))
    error = only_error(path)
    assert str(error) == (
        f"{path}:{marked_line(path)}: duplicate deal id 'deal-x' (first on line "
        f"{FIRST_DEAL_LINE}) [deal deal-x]"
    )


def test_a_bad_deal_does_not_hide_the_others(tmp_path: Path) -> None:
    second = SINGLE.replace("deal-x", "deal-y").replace("kind: sale", "kind: gift")
    third = SINGLE.replace("deal-x", "deal-z").replace("amount: 5M", "amount: 0")
    path = deals_file(tmp_path, SINGLE + second + third)
    legs, _, _, errors = read_deals(path)
    assert [e.deal for e in errors] == ["deal-y", "deal-z"]
    assert [leg.deal for leg in legs] == ["deal-x"]


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (HEADER.replace("deals:", "owner: me  # <-\ndeals:"), "unknown top-level key 'owner'"),
        (HEADER.replace("version: 1", "version: 2  # <-"), "reads version 1, not 2"),
        (HEADER.replace("currency: USD", "currency: usd  # <-"), "bad commodity 'usd'"),
        (
            HEADER.replace("companies:", "companies: Nvidia  # <-")
            .replace("  - name: Nvidia\n", "")
            .replace("  - name: OpenAI\n", "")
            .replace("  - name: SPV\n", ""),
            "companies must be a list",
        ),
    ],
)
def test_bad_top_level_gives_one_error_on_its_line(tmp_path: Path, header: str, words: str) -> None:
    path = deals_file(tmp_path, SINGLE, header)
    error = only_error(path)
    assert str(error).startswith(f"{path}:{marked_line(path)}: ")
    assert words in error.message


@pytest.mark.parametrize(
    ("company", "words"),
    [
        ("External", "External is implicit"),
        ("Nvidia", "declared twice"),
        ("NVIDIA!", None),
        ("nvidia", "share the account name 'Nvidia'"),
        ("---", "no letters or digits"),
    ],
)
def test_bad_company_declarations(tmp_path: Path, company: str, words: str | None) -> None:
    header = HEADER.replace("deals:", f'  - name: "{company}"  # <-\ndeals:')
    path = deals_file(tmp_path, SINGLE, header)
    _, _, _, errors = read_deals(path)
    if words is None:  # NVIDIA! -> account NVIDIA, distinct from Nvidia: fine
        assert errors == []
        return
    assert len(errors) == 1, format_errors(errors)
    assert str(errors[0]).startswith(f"{path}:{marked_line(path)}: ")
    assert words in errors[0].message


def test_names_sharing_an_account_component_are_refused(tmp_path: Path) -> None:
    header = HEADER.replace("deals:", '  - name: "xAI"\n  - name: "XAI"  # <-\ndeals:')
    path = deals_file(tmp_path, SINGLE, header)
    error = only_error(path)
    assert str(error).startswith(f"{path}:{marked_line(path)}: ")
    assert "share the account name 'XAI'" in error.message


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", 1, "empty deals file"),
        ("- just\n- a list\n", 1, "a deals file is a mapping"),
        ("version: 1\ncompanies: []\n", 1, "missing field 'deals'"),
        ("version: 1\n---\nversion: 1\n", 2, "malformed YAML"),
        ("version: 1\ncompanies: [\ndeals: []\n", 4, "malformed YAML"),
    ],
)
def test_files_that_are_not_deals_files(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "deals.yaml"
    path.write_text(text)
    error = only_error(path)
    assert str(error).startswith(f"{path}:{line}: ") and words in error.message


def test_every_problem_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    header = HEADER.replace("deals:", "  - name: External\ndeals:")
    second = SINGLE.replace("deal-x", "deal-y").replace("kind: sale", "kind: gift")
    path = deals_file(tmp_path, SINGLE.replace("amount: 5M", "amount: 0") + second, header)
    _, _, _, errors = read_deals(path)
    assert len(errors) == 3
    assert [e.lineno for e in errors] == sorted(e.lineno for e in errors)


def test_yaml_anchors_and_merges_share_fields(tmp_path: Path) -> None:
    path = deals_file(
        tmp_path,
        """\
        - &base
          id: a
          title: "A"
          date: 2025-06-01
          template: single
          payer: Nvidia
          payee: OpenAI
          kind: sale
          amount: 1
        - <<: *base
          id: b
          amount: 2
        """,
    )
    legs = expanded(path)
    assert [(leg.deal, leg.amount) for leg in legs] == [
        ("a", Decimal("1.00")),
        ("b", Decimal("2.00")),
    ]


def test_expand_reports_legs_that_load_alone_accepts(tmp_path: Path) -> None:
    """load_deals checks shapes; expand checks the legs (here a self-loop)."""
    path = deals_file(tmp_path, SINGLE.replace("payee: OpenAI", "payee: Nvidia"))
    deals_file_, errors = load_deals(path)
    assert errors == [] and len(deals_file_.deals) == 1
    _, _, expand_errors = expand(deals_file_)
    assert [e.message for e in expand_errors] == [
        "payer and payee are both 'Nvidia': a leg must go between two companies"
    ]


# -- read_input --------------------------------------------------------------------------------


def test_read_input_reads_a_deals_file() -> None:
    legs, prices, companies, errors = read_input(SMALL)
    assert errors == [] and len(legs) == 24 and len(prices) == 1 and "xAI-SPV" in companies


def test_read_input_reads_a_legs_csv(examples: Path) -> None:
    legs, prices, companies, errors = read_input(examples / "vendor_financing.csv")
    assert errors == [] and prices == ()
    assert companies == ("Nvidia", "OpenAI")
    assert len(legs) == 3


def test_read_input_refuses_other_suffixes(tmp_path: Path) -> None:
    path = tmp_path / "deals.txt"
    path.write_text("")
    _, _, _, errors = read_input(path)
    assert len(errors) == 1 and "expected .yaml, .yml or .csv" in str(errors[0])


def test_a_missing_deals_file_is_an_error_not_an_exception(tmp_path: Path) -> None:
    _, _, _, errors = read_input(tmp_path / "nope.yaml")
    assert len(errors) == 1 and "cannot read" in str(errors[0])


def test_kinds_of_every_leg_are_model_kinds() -> None:
    legs, _, _, _ = read_deals(SMALL)
    assert all(isinstance(leg.kind, Kind) and isinstance(leg.status, Status) for leg in legs)


def test_a_duplicate_key_does_not_hide_other_problems(tmp_path: Path) -> None:
    second = SINGLE.replace("deal-x", "deal-y").replace("kind: sale", "kind: gift")
    path = deals_file(tmp_path, SINGLE + "  kind: loan\n" + second)
    _, _, _, errors = read_deals(path)
    assert [(e.deal, e.message[:13]) for e in errors] == [
        ("deal-x", "duplicate key"),
        ("deal-y", "kind: unknown"),
    ]


def test_the_manuals_example_expands_as_it_says(tmp_path: Path) -> None:
    """The module docstring of ledger.deals is the user manual: its example must stay true."""
    import ledger.deals

    manual = ledger.deals.__doc__ or ""
    example = manual.split("A tiny deals file::\n\n")[1].split("\n\nexpands")[0]
    path = tmp_path / "manual.yaml"
    path.write_text(textwrap.dedent(example))
    legs = expanded(path)
    assert len(legs) == 10
    assert {leg.amount for leg in legs} == {Decimal("10000000000.00")}
    assert (legs[0].date, legs[-1].date) == (date(2025, 9, 22), date(2034, 9, 22))
    assert [leg.status for leg in legs[:2]] == [Status.REALIZED, Status.ANNOUNCED]
    lines = textwrap.dedent(example).splitlines()
    assert legs[0].lineno == 1 + next(n for n, line in enumerate(lines) if "id: nv-oai" in line)
