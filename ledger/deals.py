"""The deals file: companies and deals written by hand in YAML, expanded into legs by templates.

In: a YAML deals file. Out: :class:`~ledger.model.Leg` records (numbered 1..n within each deal
in expansion order), :class:`~ledger.model.Price` marks for non-cash grants, the declared
companies, and every problem found as a :class:`~ledger.model.LedgerError` (``file:line:
message [deal id]``), all collected at once. A bad deal is left out, not repaired: use the legs
only when there are no errors. :func:`read_input` reads either this file or a flat legs CSV
(:mod:`ledger.legs_csv`), by suffix.

The format's manual is ``docs/deals-file.md``: the top level, every template (``single``,
``tranches``, ``term``, ``spv``, ``warrant``, ``backstop``, ``legs``) with every field and an
example each, amounts, dates and durations, statuses, splitting, errors and limits.
``tests/test_docs.py`` loads every example there and checks that each field table lists exactly
the fields of its model below, so the manual and this module cannot drift apart.

A tiny deals file::

    version: 1
    companies: [Nvidia, OpenAI]
    deals:
      - id: nv-oai-equity
        title: "Nvidia to invest up to $100B in OpenAI"
        date: 2025-09-22
        template: tranches
        payer: Nvidia
        payee: OpenAI
        kind: equity
        total: 100B
        count: 10
        statuses: {realized: 1}

expands into ten legs Nvidia -> OpenAI of kind equity, $10,000,000,000.00 each, dated
2025-09-22, 2026-09-22, ..., 2034-09-22, leg 1 realized, legs 2..10 announced, all with
``lineno`` = the line of ``- id: nv-oai-equity``.

How the work is split: :func:`load_deals` parses the YAML (remembering the line of every value;
an alias is built once and shared, so aliases of aliases cost memory in proportion to the file)
and validates each deal's shape with the pydantic models below, which also check the limits of
:mod:`ledger.limits` before a leg is made (legs per deal for every parameter that multiplies
them, legs and amounts per file, dates, including the last date of a generated schedule);
:func:`expand` makes the legs and checks them (payer == payee, a leg before its deal's date, the
file's total); :func:`read_deals` does both.
"""

from __future__ import annotations

import calendar
import difflib
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, Self

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from ledger.legs_csv import read_legs_csv
from ledger.limits import (
    MAX_DATE,
    MAX_LEG_AMOUNT,
    MAX_LEG_CENTS,
    MAX_LEGS,
    MAX_LEGS_PER_DEAL,
    MAX_NAME_CHARS,
    MAX_TOTAL_CENTS,
    MIN_DATE,
)
from ledger.model import (
    EXTERNAL,
    Company,
    Kind,
    LedgerError,
    Leg,
    Price,
    Status,
    account_component,
    from_cents,
    to_cents,
)

__all__ = [
    "TEMPLATES",
    "AnyDeal",
    "BackstopDeal",
    "CompanyDecl",
    "Deal",
    "DealsFile",
    "Draw",
    "ExplicitLeg",
    "Grant",
    "Lease",
    "LegsDeal",
    "Mark",
    "Purchase",
    "SingleDeal",
    "SpvDeal",
    "Stake",
    "Statuses",
    "TermDeal",
    "TranchesDeal",
    "WarrantDeal",
    "expand",
    "load_deals",
    "parse_amount",
    "read_deals",
    "read_input",
]

TEMPLATES = ("single", "tranches", "term", "spv", "warrant", "backstop", "legs")

_DEAL_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_COMMODITY = re.compile(r"[A-Z](?:[A-Z0-9'._-]*[A-Z0-9])?")
_AMOUNT = re.compile(
    r"(?P<sign>-?)\s*\$?\s*(?P<number>(?:\d+(?:[_,]\d+)*)?(?:\.\d+)?)\s*(?P<scale>[KkMmBbTt]?)"
)
_EXPONENT = re.compile(r"[-+]?\$?\d*\.?\d+[eE][-+]?\d+")
_SCALES = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
_DURATION = re.compile(r"(?P<n>\d+)\s*(?P<unit>[ym])")
_PER_MONTHS = {"year": 12, "quarter": 3, "month": 1}
_KIND_NAMES = ", ".join(kind.value for kind in Kind)
_STATUS_NAMES = ", ".join(status.value for status in Status)
_TOP_KEYS = ("version", "currency", "companies", "deals")
_DATE_RANGE = f"{MIN_DATE} to {MAX_DATE}; see ledger/limits.py"
# A user's value quoted in a message, cut short: YAML aliases can make a value of a small file
# huge (a "billion laughs"), and an error message must not print it whole.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 1, 4, 4, 80, 80


def _shown(value: Any) -> str:
    """``repr(value)``, bounded in size whatever the value."""
    return _REPR.repr(value)


# -- values ------------------------------------------------------------------------------------


def _number(value: Any, what: str) -> Decimal:
    """The exact Decimal an amount-like YAML value stands for (sign kept)."""
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal | float):
        raise ValueError(f'{_shown(value)} is not {what} (write e.g. 350M, "6.3B" or 1200000)')
    if isinstance(value, float):
        raise ValueError(
            f"{_shown(value)} is an unquoted YAML float, which is not exact: quote it and use a "
            'suffix, e.g. "6.3B" or "1234.56"'
        )
    if isinstance(value, int | Decimal):
        return Decimal(value)
    text = value.strip()
    if _EXPONENT.fullmatch(text):
        raise ValueError(f'{text!r} uses an exponent: write it with a suffix, e.g. "6.3B"')
    match = _AMOUNT.fullmatch(text)
    if not match or not match["number"]:
        raise ValueError(
            f'{text!r} is not {what} (write e.g. 350M, "6.3B", 12_500_000_000 or "1,000.50")'
        )
    try:
        number = Decimal(match["number"].replace(",", "").replace("_", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise ValueError(f"{text!r} is not {what}") from None
    number *= _SCALES[match["scale"].upper()]
    return -number if match["sign"] else number


def _plain(number: Decimal) -> Decimal:
    """A Decimal without exponent notation (160M units prints as 160000000, not 1.6E+8)."""
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


def parse_amount(value: Any) -> Decimal:
    """Parse a money amount of one leg: > 0, at most 2 decimals, within the limit of a leg.

    ``"6.3B"`` -> ``Decimal("6300000000.00")``; ``"1,000.50"`` -> ``Decimal("1000.50")``.

    Raises:
        ValueError: with the message a user should read.
    """
    amount = _total(value)
    if amount > MAX_LEG_AMOUNT:
        raise ValueError(
            f"{value} is more than one leg may carry ({MAX_LEG_AMOUNT:,}; see ledger/limits.py)"
        )
    return amount


def _total(value: Any) -> Decimal:
    """An amount that templates split into legs: > 0, at most 2 decimals, below the run's limit."""
    number = _number(value, "an amount")
    if number <= 0:
        raise ValueError(f"must be > 0, got {value}")
    if number * 100 > MAX_TOTAL_CENTS:
        raise ValueError(
            f"{value} is more than all legs of one input may add up to "
            f"({from_cents(MAX_TOTAL_CENTS):,}; see ledger/limits.py)"
        )
    try:
        return from_cents(to_cents(number))
    except ValueError:
        raise ValueError(f"{value} has more than 2 decimals") from None


def _quantity(value: Any) -> Decimal:
    """Units or a price: > 0, any number of decimals."""
    number = _number(value, "a number")
    if number <= 0:
        raise ValueError(f"must be > 0, got {value}")
    return _plain(number)


def _day(value: Any) -> date:
    """A ``YYYY-MM-DD`` date from ``MIN_DATE`` to ``MAX_DATE`` (:mod:`ledger.limits`).

    YAML reads unquoted dates as dates already.
    """
    day = _calendar_day(value)
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValueError(f"date {day} is outside the dates roundtrip takes ({_DATE_RANGE})")
    return day


def _calendar_day(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"bad date {_shown(value)}: expected YYYY-MM-DD")


def _kind(value: Any) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise ValueError(f"unknown kind {_shown(value)} (expected one of: {_KIND_NAMES})") from None


def _status(value: Any) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise ValueError(
            f"unknown status {_shown(value)} (expected one of: {_STATUS_NAMES})"
        ) from None


def _months(value: Any) -> int:
    """A duration ``<n>y`` or ``<n>m`` as a number of months."""
    match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match or int(match["n"]) == 0:
        raise ValueError(f"bad duration {_shown(value)}: expected e.g. 1y, 6m, 3m or 1m")
    return int(match["n"]) * (12 if match["unit"] == "y" else 1)


def _version(value: Any) -> int:
    if value != 1 or isinstance(value, bool):
        raise ValueError(f"this roundtrip reads version 1, not {_shown(value)}")
    return 1


def _commodity(value: str) -> str:
    if not _COMMODITY.fullmatch(value):
        raise ValueError(
            f"bad commodity {value!r}: upper-case letters, digits and ' . _ - "
            "(a beancount commodity such as USD or AMDW)"
        )
    return value


def _deal_id(value: str) -> str:
    if not _DEAL_ID.fullmatch(value):
        raise ValueError(f"bad deal id {value!r}: lowercase letters, digits and dashes only")
    return value


@dataclass(frozen=True, slots=True)
class _Context:
    """What field checks need to know about the rest of the file."""

    currency: str
    companies: frozenset[str] | None  # None: the companies section is broken, do not check


def _company(value: str, info: ValidationInfo) -> str:
    """A payer/payee: a declared company or External."""
    context = info.context
    if not value.strip():
        raise ValueError("empty company name")
    known = context.companies if isinstance(context, _Context) else None
    if known is not None and value != EXTERNAL and value not in known:
        raise ValueError(
            f"unknown company {value!r} (declare it under companies:, or use {EXTERNAL})"
        )
    return value


def _declared(value: str, info: ValidationInfo) -> str:
    """A company that keeps its own book (an SPV): declared, never External."""
    if value == EXTERNAL:
        raise ValueError(f"{EXTERNAL} keeps no book: an SPV must be a declared company")
    return _company(value, info)


def _currency(value: str, info: ValidationInfo) -> str:
    _commodity(value)
    context = info.context
    if isinstance(context, _Context) and value != context.currency:
        raise ValueError(
            f"mixed currencies: {value} here, but the file's currency is {context.currency} and "
            "a deals file has no prices to convert them; convert the amount and note the rate"
        )
    return value


Amount = Annotated[Decimal, PlainValidator(parse_amount)]
Total = Annotated[Decimal, PlainValidator(_total)]
Quantity = Annotated[Decimal, PlainValidator(_quantity)]
Day = Annotated[date, PlainValidator(_day)]
KindName = Annotated[Kind, PlainValidator(_kind)]
StatusName = Annotated[Status, PlainValidator(_status)]
Months = Annotated[int, PlainValidator(_months)]
CompanyName = Annotated[str, AfterValidator(_company)]
OwnCompany = Annotated[str, AfterValidator(_declared)]
Currency = Annotated[str, AfterValidator(_currency)]
Commodity = Annotated[str, AfterValidator(_commodity)]
DealIdName = Annotated[str, AfterValidator(_deal_id)]
Count = Annotated[int, Field(ge=1, strict=True)]
LegCount = Annotated[int, Field(ge=1, strict=True), AfterValidator(lambda n: _check_size(n))]
Per = Literal["year", "quarter", "month"]


# -- models ------------------------------------------------------------------------------------


class _Node(BaseModel):
    """A mapping of the deals file: unknown fields refused, frozen, and aware of its line."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)
    _line: int = PrivateAttr(default=0)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_line(cls, data: Any, handler: Callable[[Any], _Node]) -> _Node:
        node = handler(data)
        node._line = getattr(data, "line", 0)
        return node

    @property
    def line(self) -> int:
        """The line of the YAML mapping this came from (0 when built in code)."""
        return self._line


class Statuses(_Node):
    """``statuses: {realized: N1, contracted: N2}``: the rest are announced."""

    realized: Annotated[int, Field(ge=0, strict=True)] = 0
    contracted: Annotated[int, Field(ge=0, strict=True)] = 0


def _status_plan(
    count: int, statuses: Statuses | None, status: Status | None, default: Status
) -> tuple[Status, ...]:
    """The status of each of ``count`` generated legs."""
    if statuses is None:
        return (status or default,) * count
    rest = count - statuses.realized - statuses.contracted
    return (
        (Status.REALIZED,) * statuses.realized
        + (Status.CONTRACTED,) * statuses.contracted
        + (Status.ANNOUNCED,) * rest
    )


def _check_statuses(count: int, statuses: Statuses | None, status: Status | None) -> None:
    if statuses is not None and status is not None:
        raise ValueError("give statuses or status, not both")
    if statuses is not None and statuses.realized + statuses.contracted > count:
        raise ValueError(
            f"statuses realized {statuses.realized} + contracted {statuses.contracted} exceed "
            f"the {count} legs"
        )


def _period_plan(years: int | None, months: int | None, per: Per) -> tuple[int, int]:
    """How many periods a term has and how many months each lasts."""
    if years is not None and months is not None:
        raise ValueError("give years or months, not both")
    if years is None and months is None:
        raise ValueError("missing field 'years' (or 'months')")
    step = _PER_MONTHS[per]
    total = years * 12 if years is not None else months or 0
    if total % step:
        raise ValueError(f"{total} months are not a whole number of {per}s")
    return total // step, step


def _check_split(total: Decimal, count: int) -> None:
    cents = to_cents(total)
    if cents < count:
        raise ValueError(f"total {total} is too small to split into {count} legs")
    if cents // count + cents % count > MAX_LEG_CENTS:
        raise ValueError(
            f"total {total} in {count} legs puts more on a leg than one may carry "
            f"({MAX_LEG_AMOUNT:,}; see ledger/limits.py): split it into more legs"
        )


def _check_size(count: int, what: str = "") -> int:
    """Refuse a template that would make more legs than one deal may, before making any."""
    if count > MAX_LEGS_PER_DEAL:
        raise ValueError(
            f"{what + ' makes ' if what else ''}{count:,} legs: more than one deal may make "
            f"({MAX_LEGS_PER_DEAL:,}; see ledger/limits.py)"
        )
    return count


def _check_schedule(start: date, step: int, count: int) -> None:
    """Refuse a schedule whose last leg falls after the last date, found without building it."""
    months = start.year * 12 + start.month - 1 + (count - 1) * step
    year, month = divmod(months, 12)
    if year > MAX_DATE.year or _add_months(start, (count - 1) * step) > MAX_DATE:
        raise ValueError(
            f"{count:,} legs {step} month{'s' if step != 1 else ''} apart from {start} run to "
            f"{year}-{month + 1:02d}, past the last date roundtrip takes ({MAX_DATE}; see "
            "ledger/limits.py)"
        )


class _Item(_Node):
    """The fields every leg-making item may set for its own leg(s)."""

    estimate: bool | None = None
    note: str | None = None


class CompanyDecl(_Node):
    """A company that keeps a book: its display name and a note."""

    name: str
    note: str = ""


class _DealBase(_Node):
    """Fields every deal has, whatever its template."""

    id: DealIdName
    title: str
    date: Day
    source: str = ""
    note: str = ""
    estimate: bool = False
    currency: Currency | None = None


class _OneLeg(_Node):
    """The fields of one leg written out: who pays whom, what, how much, and any grant."""

    payer: CompanyName
    payee: CompanyName
    kind: KindName
    amount: Amount
    status: StatusName = Status.REALIZED
    units: Quantity | None = None
    commodity: Commodity | None = None
    capex: bool = False

    @model_validator(mode="after")
    def _grant(self) -> Self:
        _check_grant(self.units, self.commodity)
        _check_capex(self.capex, self.kind)
        return self


class SingleDeal(_DealBase, _OneLeg):
    """One leg, dated the deal's date."""

    template: Literal["single"]


class TranchesDeal(_DealBase):
    """``total`` in ``count`` equal tranches, ``every`` apart from ``start``."""

    template: Literal["tranches"]
    payer: CompanyName
    payee: CompanyName
    kind: KindName
    total: Total
    count: LegCount
    start: Day | None = None
    every: Months = 12
    statuses: Statuses | None = None
    status: StatusName | None = None
    capex: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> TranchesDeal:
        _check_capex(self.capex, self.kind)
        _check_schedule(self.start or self.date, self.every, self.count)
        _check_statuses(self.count, self.statuses, self.status)
        _check_split(self.total, self.count)
        return self


class TermDeal(_DealBase):
    """A contract of ``total`` recognised per period over a term."""

    template: Literal["term"]
    payer: CompanyName
    payee: CompanyName
    kind: KindName
    total: Total
    start: Day | None = None
    years: Count | None = None
    months: Count | None = None
    per: Per = "year"
    statuses: Statuses | None = None
    status: StatusName | None = None
    capex: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> TermDeal:
        _check_capex(self.capex, self.kind)
        count, step = _period_plan(self.years, self.months, self.per)
        _check_size(count, f"a term of {count} {self.per}s")
        _check_schedule(self.start or self.date, step, count)
        _check_statuses(count, self.statuses, self.status)
        _check_split(self.total, count)
        return self


class Stake(_Item):
    """An spv equity or debt item: ``from`` puts ``amount`` into the SPV."""

    from_: CompanyName = Field(alias="from")
    amount: Amount
    status: StatusName = Status.REALIZED
    date: Day | None = None


class Purchase(_Item):
    """The spv's purchase from its vendor."""

    from_: CompanyName = Field(alias="from")
    kind: KindName = Kind.SALE
    amount: Amount
    status: StatusName = Status.REALIZED
    date: Day | None = None
    capex: bool = False

    @model_validator(mode="after")
    def _equipment(self) -> Self:
        _check_capex(self.capex, self.kind)
        return self


class Lease(_Item):
    """The spv's lease to its lessee, one leg per period."""

    to: CompanyName
    total: Total
    start: Day | None = None
    years: Count | None = None
    months: Count | None = None
    per: Per = "year"
    statuses: Statuses | None = None
    status: StatusName | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Lease:
        count, _ = _period_plan(self.years, self.months, self.per)
        _check_size(count, f"a lease of {count} {self.per}s")
        _check_statuses(count, self.statuses, self.status)
        _check_split(self.total, count)
        return self


class SpvDeal(_DealBase):
    """A special-purpose vehicle: equity and debt in, a purchase out, a lease back in."""

    template: Literal["spv"]
    spv: OwnCompany
    equity: tuple[Stake, ...] = ()
    debt: tuple[Stake, ...] = ()
    buys: Purchase | None = None
    lease: Lease | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> SpvDeal:
        if not (self.equity or self.debt or self.buys or self.lease):
            raise ValueError("an spv deal needs at least one of equity, debt, buys, lease")
        leased = 0
        if self.lease is not None:
            leased, step = _period_plan(self.lease.years, self.lease.months, self.lease.per)
            _check_schedule(self.lease.start or self.date, step, leased)
        _check_size(len(self.equity) + len(self.debt) + bool(self.buys) + leased, "this spv")
        return self


class Grant(_Item):
    """A warrant tranche: ``units`` granted on ``date``, worth ``value`` then."""

    date: Day
    units: Quantity
    value: Amount
    status: StatusName = Status.REALIZED


class Mark(_Node):
    """A price mark: one unit is worth ``price`` (file currency) on ``date``."""

    date: Day
    price: Quantity


class WarrantDeal(_DealBase):
    """A non-cash grant of ``commodity`` units, valued by price marks."""

    template: Literal["warrant"]
    grantor: CompanyName
    holder: CompanyName
    commodity: Commodity
    tranches: Annotated[tuple[Grant, ...], Field(min_length=1)]
    prices: tuple[Mark, ...] = ()

    @model_validator(mode="after")
    def _bounded(self) -> WarrantDeal:
        _check_size(len(self.tranches), "this warrant")
        return self


class Draw(_Item):
    """A realized draw on a backstop."""

    date: Day
    amount: Amount


class BackstopDeal(_DealBase):
    """A promise to buy unused capacity: contingent until drawn."""

    template: Literal["backstop"]
    buyer: CompanyName
    seller: CompanyName
    amount: Total
    status: StatusName = Status.CONTRACTED
    drawn: tuple[Draw, ...] = ()
    start: Day | None = None
    years: Count | None = None
    months: Count | None = None
    per: Per = "year"

    @model_validator(mode="after")
    def _consistent(self) -> BackstopDeal:
        drawn = sum((draw.amount for draw in self.drawn), Decimal(0))
        if drawn > self.amount:
            raise ValueError(f"draws of {drawn} exceed the backstop amount {self.amount}")
        promised = 0
        if self.spread and self.undrawn:
            promised, step = _period_plan(self.years, self.months, self.per)
            _check_size(promised, f"a promise spread over {promised} {self.per}s")
            _check_schedule(self.start or self.date, step, promised)
            _check_split(self.undrawn, promised)
        elif self.undrawn:
            promised = 1
            _check_split(self.undrawn, 1)
        _check_size(promised + len(self.drawn), "this backstop")
        return self

    @property
    def spread(self) -> bool:
        """Whether the undrawn promise is spread over periods."""
        return self.years is not None or self.months is not None

    @property
    def undrawn(self) -> Decimal:
        """What is still only promised."""
        return self.amount - sum((draw.amount for draw in self.drawn), Decimal(0))


class ExplicitLeg(_Item, _OneLeg):
    """One leg of a ``legs`` deal, written out in full."""

    date: Day | None = None
    source: str | None = None
    currency: Currency | None = None


class LegsDeal(_DealBase):
    """Explicit legs: the escape hatch."""

    template: Literal["legs"]
    legs: Annotated[tuple[ExplicitLeg, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _bounded(self) -> LegsDeal:
        _check_size(len(self.legs), "this legs deal")
        return self


def _check_grant(units: Decimal | None, commodity: str | None) -> None:
    if (units is None) != (commodity is None):
        raise ValueError("units and commodity go together: give both or neither")


def _check_capex(capex: bool, kind: Kind) -> None:
    if capex and kind is not Kind.SALE:
        raise ValueError(
            f"capex (equipment the buyer capitalises) goes with kind sale, not {kind.value}"
        )


AnyDeal = SingleDeal | TranchesDeal | TermDeal | SpvDeal | WarrantDeal | BackstopDeal | LegsDeal
#: A deal of any template, told apart by its ``template`` field.
Deal = Annotated[AnyDeal, Field(discriminator="template")]
_DEAL = TypeAdapter(Deal)


class _Header(_Node):
    """The top level; companies and deals are checked one by one afterwards."""

    version: Annotated[int, PlainValidator(_version)]
    currency: Commodity = "USD"
    companies: list[Any]
    deals: list[Any]


@dataclass(frozen=True, slots=True)
class DealsFile:
    """A deals file that passed validation (the deals that did not are left out)."""

    filename: str
    currency: str = "USD"
    companies: tuple[CompanyDecl, ...] = ()
    deals: tuple[AnyDeal, ...] = ()
    version: int = 1

    @property
    def names(self) -> tuple[Company, ...]:
        """The declared companies' display names, in file order."""
        return tuple(company.name for company in self.companies)

    @property
    def titles(self) -> dict[str, str]:
        """Deal id -> title (for narrations and reports)."""
        return {deal.id: deal.title for deal in self.deals}


# -- YAML with lines ---------------------------------------------------------------------------

_Loc = tuple[str | int, ...]


class _Map(dict[str, Any]):
    """A YAML mapping that remembers the line it starts on."""

    __slots__ = ("line",)

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line


@dataclass
class _Reader:
    """Builds plain Python data from YAML nodes, recording the line of every value."""

    filename: str
    loader: yaml.SafeLoader
    lines: dict[_Loc, int] = field(default_factory=dict)
    errors: list[LedgerError] = field(default_factory=list)
    _active: set[int] = field(default_factory=set)
    _built: dict[int, Any] = field(default_factory=dict)

    def error(self, node: yaml.Node, message: str) -> None:
        self.errors.append(LedgerError(self.filename, node.start_mark.line + 1, message))

    def build(self, node: yaml.Node, path: _Loc) -> Any:
        # An alias is the same node again: build it once and share the value, so that aliases
        # of aliases (a "billion laughs") cost memory in proportion to the file, not to their
        # expansion.
        if id(node) in self._built:
            return self._built[id(node)]
        if id(node) in self._active:
            self.error(node, "recursive YAML alias")
            return None
        self._active.add(id(node))
        try:
            value = self._build(node, path)
        finally:
            self._active.discard(id(node))
        self._built[id(node)] = value
        return value

    def _build(self, node: yaml.Node, path: _Loc) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, child in enumerate(node.value):
                self.lines[(*path, i)] = child.start_mark.line + 1
                items.append(self.build(child, (*path, i)))
            return items
        try:
            return self.loader.construct_object(node, deep=True)
        except ValueError:
            return node.value  # e.g. 2025-13-01: let the field say it is a bad date
        except yaml.YAMLError as exc:
            self.error(node, f"bad YAML value: {getattr(exc, 'problem', exc)}")
            return None

    def _mapping(self, node: yaml.MappingNode, path: _Loc) -> _Map:
        result = _Map(node.start_mark.line + 1)
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merges.append((key_node, value_node))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node, "a key must be a plain name")
                continue
            key = key_node.value
            if key in result:
                self.error(key_node, f"duplicate key {key!r}")
                continue
            self.lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, (*path, key))
        for key_node, value_node in merges:
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                merged = self.build(source, (*path, "<<"))
                if not isinstance(merged, dict):
                    self.error(key_node, "<< must merge a mapping")
                    continue
                for key, value in merged.items():
                    if key not in result:
                        self.lines[(*path, key)] = key_node.start_mark.line + 1
                        result[key] = value
        return result


def _yaml_error(filename: str, text: str, exc: yaml.YAMLError) -> LedgerError:
    """A parser error at its line, naming the deal whose ``id:`` precedes it."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    lineno = mark.line + 1 if mark is not None else 0
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"malformed YAML: {problem}" + (f" ({context})" if context else "")
    # PyYAML's text may run over several lines ("... not allowed\n  in <file>"): one line.
    return LedgerError(filename, lineno, " ".join(message.split()), _deal_above(text, lineno))


def _deal_above(text: str, lineno: int) -> str | None:
    """The id of the deal a line belongs to, read from the nearest ``id:`` above it.

    Used where the YAML could not be parsed into deals, so the error can still name one.
    """
    for line in text.splitlines()[:lineno][::-1]:
        if match := re.match(r"\s*(?:-\s+)?id:\s*['\"]?([a-z0-9-]+)", line):
            return match[1]
        if re.match(r"deals\s*:", line):
            return None
    return None


def _parse_yaml(path: Path) -> tuple[Any, dict[_Loc, int], list[LedgerError]]:
    """The file's data (dicts remember their line), the line of every value, and errors."""
    filename = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, {}, [LedgerError(filename, 0, f"cannot read deals file: {exc}")]
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        reader = _Reader(filename, loader)
        data = reader.build(root, ()) if root is not None else None
    except yaml.YAMLError as exc:
        return None, {}, [_yaml_error(filename, text, exc)]
    finally:
        loader.dispose()
    errors = [error._replace(deal=_deal_above(text, error.lineno)) for error in reader.errors]
    return data, reader.lines, errors


# -- pydantic errors -> LedgerErrors -----------------------------------------------------------


def _has(data: Any, part: str | int) -> bool:
    if isinstance(data, Mapping):
        return part in data
    return isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)


def _resolve(data: Any, loc: Sequence[str | int]) -> _Loc:
    """The part of a pydantic error location that exists in the data (drops union tags)."""
    path: list[str | int] = []
    for part in loc:
        if _has(data, part):
            data = data[part]
            path.append(part)
    return tuple(path)


def _where(path: _Loc) -> str:
    """``equity[1].amount`` for a path inside a deal."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: Mapping[str, Any], field_path: _Loc, top: bool = False) -> str:
    """A pydantic error in the words of the deals file."""
    kind = error["type"]
    loc = error["loc"]
    name = str(loc[-1]) if loc else ""
    where = _where(field_path) or name
    value = error.get("input")
    if kind == "missing":
        return f"missing field {name!r}"
    if kind == "extra_forbidden" and top:
        return f"unknown top-level key {name!r} (expected one of: {', '.join(_TOP_KEYS)})"
    if kind == "extra_forbidden":
        return f"unknown field {name!r}"
    if kind == "union_tag_invalid":
        expected = ", ".join(TEMPLATES)
        return f"unknown template {_shown(value.get('template'))} (expected one of: {expected})"
    if kind == "union_tag_not_found":
        return f"missing field 'template' (one of: {', '.join(TEMPLATES)})"
    if kind == "value_error":
        text = str(error["ctx"]["error"])
        return f"{where}: {text}" if field_path and isinstance(field_path[-1], str) else text
    if kind == "string_type":
        return f"{where} must be text, got {_shown(value)} (quote it)"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{where} must be a whole number, got {_shown(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{where} must be true or false, got {_shown(value)}"
    if kind in ("greater_than_equal", "greater_than"):
        return (
            f"{where} must be {error['msg'].removeprefix('Input should be ')}, got {_shown(value)}"
        )
    if kind == "too_short":
        return f"{where} needs at least one item"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{where or 'this'} must be a mapping of fields, got {_shown(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"{where} must be a list, got {_shown(value)}"
    if kind == "literal_error":
        return f"bad {where} {_shown(value)}: expected {error['ctx']['expected']}"
    return f"{where}: {error['msg']}"


def _pair_misspellings(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold a missing field and a near-identical unknown one into one error with a hint."""
    missing = {(e["loc"][:-1], str(e["loc"][-1])): e for e in errors if e["type"] == "missing"}
    result = []
    used: set[int] = set()
    for e in errors:
        if e["type"] != "extra_forbidden":
            continue
        parent, name = e["loc"][:-1], str(e["loc"][-1])
        near = [m for (p, m) in missing if p == parent]
        if guess := difflib.get_close_matches(name, near, n=1, cutoff=0.6):
            used.add(id(missing[(parent, guess[0])]))
            e = {**e, "hint": guess[0]}
        result.append(e)
    return [e for e in errors if e["type"] != "extra_forbidden" and id(e) not in used] + result


def _relevant(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop "needs at least one item" where the list's items failed: it only echoes them."""
    return [
        e
        for e in errors
        if e["type"] != "too_short"
        or not any(o is not e and o["loc"][: len(e["loc"])] == e["loc"] for o in errors)
    ]


def _validation_errors(
    exc: ValidationError,
    raw: Any,
    base: _Loc,
    lines: Mapping[_Loc, int],
    fallback: int,
    filename: str,
    deal: str | None,
) -> list[LedgerError]:
    """Every pydantic error of one validated item, at the best line found for it.

    A deal's errors start with its template (the union's tag), which is dropped: an spv
    deal's tag ``spv`` is also one of its fields.
    """
    out = []
    tag = raw.get("template") if isinstance(raw, Mapping) and base[:1] == ("deals",) else None
    for error in _relevant(_pair_misspellings(list(exc.errors()))):
        loc = error["loc"]
        if tag is not None and loc[:1] == (tag,):
            error = {**error, "loc": loc[1:]}
        if error["type"] == "union_tag_invalid":
            error = {**error, "loc": ("template",)}
        path = _resolve(raw, error["loc"])
        line = next(
            (
                lines[(*base, *path[:n])]
                for n in range(len(path), -1, -1)
                if (*base, *path[:n]) in lines
            ),
            fallback,
        )
        message = _message(error, path, top=not base)
        if "hint" in error:
            message += f" (did you mean {error['hint']!r}?)"
        out.append(LedgerError(filename, line, message, deal))
    return out


# -- loading -----------------------------------------------------------------------------------


def _load_companies(
    raw: list[Any], lines: Mapping[_Loc, int], filename: str
) -> tuple[tuple[CompanyDecl, ...], frozenset[str], list[LedgerError]]:
    """The declared companies, every name given (to check deals against), and errors."""
    companies: list[CompanyDecl] = []
    names: set[str] = set()
    errors: list[LedgerError] = []
    components: dict[str, str] = {}
    for i, item in enumerate(raw):
        line = lines.get(("companies", i), 0)
        if isinstance(item, str):
            shorthand = _Map(line)
            shorthand["name"] = item
            item = shorthand
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            names.add(item["name"])
        try:
            company = CompanyDecl.model_validate(item)
        except ValidationError as exc:
            errors += _validation_errors(exc, item, ("companies", i), lines, line, filename, None)
            continue
        problem = _company_problem(company.name, components)
        if problem:
            errors.append(LedgerError(filename, line, problem))
            continue
        components[account_component(company.name)] = company.name
        companies.append(company)
    return tuple(companies), frozenset(names), errors


def _company_problem(name: str, components: Mapping[str, str]) -> str | None:
    if name == EXTERNAL:
        return f"{EXTERNAL} is implicit: do not declare it"
    if len(name) > MAX_NAME_CHARS:
        return (
            f"company name of {len(name)} characters: at most {MAX_NAME_CHARS} "
            "(see ledger/limits.py)"
        )
    try:
        component = account_component(name)
    except ValueError:
        return f"company name {name!r} has no letters or digits"
    if component in components:
        other = components[component]
        if other == name:
            return f"company {name!r} is declared twice"
        return f"companies {other!r} and {name!r} would share the account name {component!r}"
    return None


def _load_deals(
    raw: list[Any], context: _Context, lines: Mapping[_Loc, int], filename: str
) -> tuple[list[Any], list[LedgerError]]:
    deals: list[Any] = []
    errors: list[LedgerError] = []
    seen: dict[str, int] = {}
    made = 0
    for i, item in enumerate(raw):
        base = ("deals", i)
        line = lines.get(base, 0)
        deal_id = item.get("id") if isinstance(item, Mapping) else None
        deal_id = deal_id if isinstance(deal_id, str) else None
        if not isinstance(item, Mapping):
            errors.append(LedgerError(filename, line, "a deal must be a mapping of fields"))
            continue
        try:
            deal = _DEAL.validate_python(item, context=context)
        except ValidationError as exc:
            errors += _validation_errors(exc, item, base, lines, line, filename, deal_id)
            continue
        made += _leg_count(deal)
        if made > MAX_LEGS:
            message = (
                f"the deals so far make {made:,} legs; one input holds at most {MAX_LEGS:,} "
                "(see ledger/limits.py)"
            )
            errors.append(LedgerError(filename, line, message, deal.id))
            break
        if deal.id in seen:
            errors.append(
                LedgerError(
                    filename,
                    lines.get((*base, "id"), line),
                    f"duplicate deal id {deal.id!r} (first on line {seen[deal.id]})",
                    deal.id,
                )
            )
            continue
        seen[deal.id] = deal.line
        deals.append(deal)
    return deals, errors


def _leg_count(deal: AnyDeal) -> int:
    """How many legs a validated deal will make, counted without making them."""
    if isinstance(deal, TranchesDeal):
        return deal.count
    if isinstance(deal, TermDeal):
        return _period_plan(deal.years, deal.months, deal.per)[0]
    if isinstance(deal, SpvDeal):
        lease = deal.lease
        leased = _period_plan(lease.years, lease.months, lease.per)[0] if lease else 0
        return len(deal.equity) + len(deal.debt) + bool(deal.buys) + leased
    if isinstance(deal, WarrantDeal):
        return len(deal.tranches)
    if isinstance(deal, BackstopDeal):
        promised = 0
        if deal.undrawn > 0:
            promised = _period_plan(deal.years, deal.months, deal.per)[0] if deal.spread else 1
        return promised + len(deal.drawn)
    if isinstance(deal, LegsDeal):
        return len(deal.legs)
    return 1


def load_deals(path: Path) -> tuple[DealsFile, list[LedgerError]]:
    """Parse and validate a deals file, keeping the line of every deal and item.

    Returns:
        The valid part of the file (bad deals are left out) and every problem found.
    """
    path = Path(path)
    filename = str(path)
    data, lines, errors = _parse_yaml(path)
    empty = DealsFile(filename)
    if data is None:
        return empty, errors or [
            LedgerError(filename, 1, "empty deals file: expected version, companies, deals")
        ]
    if not isinstance(data, Mapping):
        return empty, [
            LedgerError(
                filename, 1, "a deals file is a mapping: version, currency, companies, deals"
            )
        ]
    try:
        header: _Header | None = _Header.model_validate(data)
    except ValidationError as exc:
        errors += _validation_errors(exc, data, (), lines, 1, filename, None)
        header = None
    companies_raw = data.get("companies")
    deals_raw = data.get("deals")
    companies: tuple[CompanyDecl, ...] = ()
    names: frozenset[str] | None = None
    if isinstance(companies_raw, list):
        companies, names, company_errors = _load_companies(companies_raw, lines, filename)
        errors += company_errors
    currency = data.get("currency", "USD")
    currency = currency if isinstance(currency, str) else "USD"
    deals: list[Any] = []
    if isinstance(deals_raw, list):
        deals, deal_errors = _load_deals(deals_raw, _Context(currency, names), lines, filename)
        errors += deal_errors
    result = DealsFile(
        filename=filename,
        currency=header.currency if header else currency,
        companies=companies,
        deals=tuple(deals),
        version=header.version if header else 1,
    )
    return result, sorted(errors, key=lambda e: e.lineno)


# -- expansion ---------------------------------------------------------------------------------


class _Draft(NamedTuple):
    """A leg before it gets its deal's defaults and its number."""

    date: date
    payer: Company
    payee: Company
    kind: Kind
    amount: Decimal
    status: Status
    line: int
    estimate: bool | None = None
    note: str | None = None
    source: str | None = None
    units: Decimal | None = None
    commodity: str | None = None
    capex: bool = False


def _add_months(start: date, months: int) -> date:
    """``start`` + ``months`` whole months, the day clamped to the month's end."""
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


def _split(total: Decimal, count: int) -> list[Decimal]:
    """``total`` in ``count`` parts of exact cents; the remainder cents go to the first."""
    cents = to_cents(total)
    base, remainder = divmod(cents, count)
    return [from_cents(base + (remainder if k == 0 else 0)) for k in range(count)]


def _series(
    start: date, step: int, total: Decimal, statuses: Sequence[Status], make: Callable[..., _Draft]
) -> list[_Draft]:
    """Equal legs of ``total``, one per status, ``step`` months apart from ``start``."""
    amounts = _split(total, len(statuses))
    return [
        make(date=_add_months(start, k * step), amount=amount, status=status)
        for k, (amount, status) in enumerate(zip(amounts, statuses, strict=True))
    ]


def _expand_single(deal: SingleDeal) -> list[_Draft]:
    return [
        _Draft(
            deal.date,
            deal.payer,
            deal.payee,
            deal.kind,
            deal.amount,
            deal.status,
            deal.line,
            units=deal.units,
            commodity=deal.commodity,
            capex=deal.capex,
        )
    ]


def _expand_tranches(deal: TranchesDeal) -> list[_Draft]:
    statuses = _status_plan(deal.count, deal.statuses, deal.status, Status.ANNOUNCED)

    def make(**fields: Any) -> _Draft:
        return _Draft(
            payer=deal.payer,
            payee=deal.payee,
            kind=deal.kind,
            line=deal.line,
            capex=deal.capex,
            **fields,
        )

    return _series(deal.start or deal.date, deal.every, deal.total, statuses, make)


def _expand_term(deal: TermDeal) -> list[_Draft]:
    count, step = _period_plan(deal.years, deal.months, deal.per)
    statuses = _status_plan(count, deal.statuses, deal.status, Status.ANNOUNCED)

    def make(**fields: Any) -> _Draft:
        return _Draft(
            payer=deal.payer,
            payee=deal.payee,
            kind=deal.kind,
            line=deal.line,
            capex=deal.capex,
            **fields,
        )

    return _series(deal.start or deal.date, step, deal.total, statuses, make)


def _expand_spv(deal: SpvDeal) -> list[_Draft]:
    drafts = [
        _Draft(
            stake.date or deal.date,
            stake.from_,
            deal.spv,
            kind,
            stake.amount,
            stake.status,
            stake.line,
            stake.estimate,
            stake.note,
        )
        for stakes, kind in ((deal.equity, Kind.EQUITY), (deal.debt, Kind.LOAN))
        for stake in stakes
    ]
    if buys := deal.buys:
        drafts.append(
            _Draft(
                buys.date or deal.date,
                deal.spv,
                buys.from_,
                buys.kind,
                buys.amount,
                buys.status,
                buys.line,
                buys.estimate,
                buys.note,
                capex=buys.capex,
            )
        )
    if lease := deal.lease:
        count, step = _period_plan(lease.years, lease.months, lease.per)
        statuses = _status_plan(count, lease.statuses, lease.status, Status.ANNOUNCED)

        def make(**fields: Any) -> _Draft:
            return _Draft(
                payer=lease.to,
                payee=deal.spv,
                kind=Kind.LEASE,
                line=lease.line,
                estimate=lease.estimate,
                note=lease.note,
                **fields,
            )

        drafts += _series(lease.start or deal.date, step, lease.total, statuses, make)
    return drafts


def _expand_warrant(deal: WarrantDeal) -> list[_Draft]:
    return [
        _Draft(
            grant.date,
            deal.grantor,
            deal.holder,
            Kind.WARRANT,
            grant.value,
            grant.status,
            grant.line,
            grant.estimate,
            grant.note,
            units=grant.units,
            commodity=deal.commodity,
        )
        for grant in deal.tranches
    ]


def _expand_backstop(deal: BackstopDeal) -> list[_Draft]:
    drafts: list[_Draft] = []
    if deal.undrawn > 0:

        def make(**fields: Any) -> _Draft:
            return _Draft(
                payer=deal.buyer, payee=deal.seller, kind=Kind.BACKSTOP, line=deal.line, **fields
            )

        start = deal.start or deal.date
        if deal.spread:
            count, step = _period_plan(deal.years, deal.months, deal.per)
            drafts += _series(start, step, deal.undrawn, (deal.status,) * count, make)
        else:
            drafts.append(make(date=start, amount=deal.undrawn, status=deal.status))
    drafts += [
        _Draft(
            draw.date,
            deal.buyer,
            deal.seller,
            Kind.BACKSTOP,
            draw.amount,
            Status.REALIZED,
            draw.line,
            draw.estimate,
            draw.note,
        )
        for draw in deal.drawn
    ]
    return drafts


def _expand_legs(deal: LegsDeal) -> list[_Draft]:
    return [
        _Draft(
            leg.date or deal.date,
            leg.payer,
            leg.payee,
            leg.kind,
            leg.amount,
            leg.status,
            leg.line,
            leg.estimate,
            leg.note,
            leg.source,
            leg.units,
            leg.commodity,
            leg.capex,
        )
        for leg in deal.legs
    ]


_EXPANDERS: dict[str, Callable[[Any], list[_Draft]]] = {
    "single": _expand_single,
    "tranches": _expand_tranches,
    "term": _expand_term,
    "spv": _expand_spv,
    "warrant": _expand_warrant,
    "backstop": _expand_backstop,
    "legs": _expand_legs,
}


def _legs_of(deal: Any, deals_file: DealsFile) -> list[Leg]:
    """A deal's legs, numbered 1..n in expansion order, with the deal's defaults filled in."""
    return [
        Leg(
            date=draft.date,
            deal=deal.id,
            leg=number,
            payer=draft.payer,
            payee=draft.payee,
            kind=draft.kind,
            amount=draft.amount,
            currency=deals_file.currency,
            status=draft.status,
            estimate=deal.estimate if draft.estimate is None else draft.estimate,
            note=draft.note or deal.note,
            source=draft.source or deal.source,
            units=draft.units,
            commodity=draft.commodity,
            filename=deals_file.filename,
            lineno=draft.line or deal.line,
            title=deal.title,
            capex=draft.capex,
        )
        for number, draft in enumerate(_EXPANDERS[deal.template](deal), start=1)
    ]


def _leg_errors(deal: Any, legs: Iterable[Leg], filename: str) -> list[LedgerError]:
    """Self-loops and legs before the deal's date: one error per source line and problem."""
    found: dict[tuple[int, str], LedgerError] = {}
    for leg in legs:
        if leg.payer == leg.payee:
            message = f"payer and payee are both {leg.payer!r}: a leg must go between two companies"
            found.setdefault(
                (leg.lineno, "loop"), LedgerError(filename, leg.lineno, message, deal.id)
            )
        if leg.date < deal.date:
            message = f"leg dated {leg.date} is before the deal's date {deal.date}"
            found.setdefault(
                (leg.lineno, "early"), LedgerError(filename, leg.lineno, message, deal.id)
            )
    return list(found.values())


def _prices_of(deal: Any, deals_file: DealsFile) -> list[Price]:
    if not isinstance(deal, WarrantDeal):
        return []
    return [
        Price(
            mark.date,
            deal.commodity,
            mark.price,
            deals_file.currency,
            deals_file.filename,
            mark.line or deal.line,
        )
        for mark in deal.prices
    ]


def expand(
    deals_file: DealsFile,
) -> tuple[tuple[Leg, ...], tuple[Price, ...], list[LedgerError]]:
    """Expand every deal's template into legs, and warrant marks into prices.

    Returns:
        The legs (deal by deal, in file order), the price marks, and the problems of the
        generated legs (payer == payee, a leg dated before its deal).
    """
    legs: list[Leg] = []
    prices: list[Price] = []
    errors: list[LedgerError] = []
    cents = 0
    for deal in deals_file.deals:
        deal_legs = _legs_of(deal, deals_file)
        errors += _leg_errors(deal, deal_legs, deals_file.filename)
        cents += sum(to_cents(leg.amount) for leg in deal_legs)
        if cents > MAX_TOTAL_CENTS:
            message = (
                f"the legs so far add up to {from_cents(cents):,}, more than one input may "
                f"({from_cents(MAX_TOTAL_CENTS):,}; see ledger/limits.py)"
            )
            errors.append(LedgerError(deals_file.filename, deal.line, message, deal.id))
            break
        legs += deal_legs
        prices += _prices_of(deal, deals_file)
    return tuple(legs), tuple(prices), sorted(errors, key=lambda e: e.lineno)


def read_deals(
    path: Path,
) -> tuple[tuple[Leg, ...], tuple[Price, ...], tuple[Company, ...], list[LedgerError]]:
    """Load, validate and expand a deals file.

    Returns:
        legs, prices, the declared companies' names (External excluded), and every problem.
    """
    deals_file, errors = load_deals(path)
    legs, prices, expand_errors = expand(deals_file)
    return legs, prices, deals_file.names, sorted(errors + expand_errors, key=lambda e: e.lineno)


def read_input(
    path: Path,
) -> tuple[tuple[Leg, ...], tuple[Price, ...], tuple[Company, ...], list[LedgerError]]:
    """Read a deals file (``.yaml``/``.yml``) or a legs CSV (``.csv``), by suffix.

    For a CSV, the companies are every name its legs use but External, sorted, and there are no
    prices.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return read_deals(path)
    if suffix == ".csv":
        legs, errors = read_legs_csv(path)
        names = sorted({leg.payer for leg in legs} | {leg.payee for leg in legs})
        return legs, (), tuple(name for name in names if name != EXTERNAL), errors
    return (
        (),
        (),
        (),
        [
            LedgerError(
                str(path),
                0,
                f"unknown input {suffix or 'without suffix'}: expected .yaml, .yml or .csv",
            )
        ],
    )
