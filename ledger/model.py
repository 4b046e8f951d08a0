"""The plain data every pass of roundtrip shares: legs, kinds, statuses, bases, errors.

Data flows one way (SPEC §2):

    deals file / legs CSV  ->  Leg records  ->  beancount books  ->  flow graph  ->  results

A :class:`Leg` is one dated transfer of value between two companies, of one :class:`Kind`, at one
:class:`Status`. It is booked as one balanced transaction in the payer's book and one in the
payee's book, mirrored. Every record read from a file carries its provenance (``filename``,
``lineno``), as beancount's own directives do, so that every problem can be reported as
``file:line: message``.

Money is :class:`~decimal.Decimal` here; solvers convert to integer cents once, with
:func:`to_cents`, and back once, with :func:`from_cents`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

__all__ = [
    "EXTERNAL",
    "Basis",
    "BadInput",
    "Cents",
    "Company",
    "DealId",
    "FlowClass",
    "Kind",
    "Leg",
    "LedgerError",
    "Period",
    "Price",
    "RoundtripError",
    "Status",
    "account_component",
    "flow_class",
    "format_errors",
    "from_cents",
    "included_in_basis",
    "to_cents",
]

Company = str
DealId = str
Cents = int

#: The one node that stands for everybody outside the web: end customers, markets, banks.
EXTERNAL: Company = "External"

CENT = Decimal("0.01")


class Kind(StrEnum):
    """What a leg transfers. The closed set of SPEC §2."""

    SALE = "sale"
    CLOUD = "cloud"
    LEASE = "lease"
    EQUITY = "equity"
    LOAN = "loan"
    REPAYMENT = "repayment"
    WARRANT = "warrant"
    BACKSTOP = "backstop"
    TAX = "tax"
    DIVIDEND = "dividend"


class Status(StrEnum):
    """How far a leg has got: a public "up to" figure, a signed contract, or delivered."""

    ANNOUNCED = "announced"
    CONTRACTED = "contracted"
    REALIZED = "realized"


class Basis(StrEnum):
    """Which statuses a report counts: realized ⊂ contracted ⊂ announced."""

    REALIZED = "realized"
    CONTRACTED = "contracted"
    ANNOUNCED = "announced"


class FlowClass(StrEnum):
    """How the flow graph treats a leg.

    ``revenue`` edges are the payee's revenue; ``financing`` and ``transfer`` edges move money
    that can fund purchases but are nobody's revenue; ``noncash`` legs move no money (warrants,
    backstops not drawn) and are reported as paper value only.
    """

    REVENUE = "revenue"
    FINANCING = "financing"
    TRANSFER = "transfer"
    NONCASH = "noncash"


# The one table that says what each kind is. A backstop is contingent until drawn: see
# :func:`flow_class`.
KIND_CLASS: dict[Kind, FlowClass] = {
    Kind.SALE: FlowClass.REVENUE,
    Kind.CLOUD: FlowClass.REVENUE,
    Kind.LEASE: FlowClass.REVENUE,
    Kind.EQUITY: FlowClass.FINANCING,
    Kind.LOAN: FlowClass.FINANCING,
    Kind.REPAYMENT: FlowClass.FINANCING,
    Kind.DIVIDEND: FlowClass.FINANCING,
    Kind.TAX: FlowClass.TRANSFER,
    Kind.WARRANT: FlowClass.NONCASH,
    Kind.BACKSTOP: FlowClass.NONCASH,
}

_BASIS_STATUSES: dict[Basis, frozenset[Status]] = {
    Basis.REALIZED: frozenset({Status.REALIZED}),
    Basis.CONTRACTED: frozenset({Status.REALIZED, Status.CONTRACTED}),
    Basis.ANNOUNCED: frozenset(Status),
}


def flow_class(kind: Kind, status: Status) -> FlowClass:
    """The class of a leg in the flow graph.

    A backstop is a promise to buy unused capacity: once drawn (``realized``) it is a purchase
    of capacity, i.e. revenue to the capacity seller; before that it moves no money.
    """
    if kind is Kind.BACKSTOP and status is Status.REALIZED:
        return FlowClass.REVENUE
    return KIND_CLASS[kind]


def included_in_basis(status: Status, basis: Basis) -> bool:
    """Whether a leg of this status counts under this reporting basis."""
    return status in _BASIS_STATUSES[basis]


@dataclass(frozen=True, slots=True)
class Leg:
    """One dated transfer of value: ``payer`` gives ``payee`` ``amount`` of ``currency``.

    ``deal`` and ``leg`` (1-based within the deal) identify it; the pair is unique in a web.
    ``units``/``commodity`` describe a non-cash grant (e.g. 160M ``AMD.WARRANT``) whose value is
    marked with price directives. ``title`` is the deal's own description (it narrates the
    leg's transactions); ``capex`` marks a ``sale`` the buyer capitalises as equipment (chips
    and systems it installs: ASC 360) rather than expenses. ``filename``/``lineno`` say where
    it was read from.
    """

    date: date
    deal: DealId
    leg: int
    payer: Company
    payee: Company
    kind: Kind
    amount: Decimal
    currency: str = "USD"
    status: Status = Status.REALIZED
    estimate: bool = False
    note: str = ""
    source: str = ""
    units: Decimal | None = None
    commodity: str | None = None
    filename: str = "<unknown>"
    lineno: int = 0
    title: str = ""
    capex: bool = False

    @property
    def key(self) -> tuple[DealId, int]:
        """The identity of the leg across books and stores."""
        return (self.deal, self.leg)

    @property
    def flow_class(self) -> FlowClass:
        """The class of this leg in the flow graph (see :func:`flow_class`)."""
        return flow_class(self.kind, self.status)


@dataclass(frozen=True, slots=True)
class Price:
    """A mark: one ``commodity`` is worth ``amount`` ``currency`` on ``date``."""

    date: date
    commodity: str
    amount: Decimal
    currency: str = "USD"
    filename: str = "<unknown>"
    lineno: int = 0


class LedgerError(NamedTuple):
    """A problem in the user's data, reported as ``file:line: message`` (beancount's habit).

    User-data problems are collected as these records, never raised one at a time, so that a
    user sees every problem of a file at once and nothing is written.
    """

    filename: str
    lineno: int
    message: str
    deal: str | None = None
    #: For a leg seen from both of its books, the other book's side: its transaction's file
    #: and line, or the book's file and line 0 when that book lacks the leg (one-sided). The
    #: error is reported once, here; a view of the other book (the beancount plugin) shows it
    #: too. Not printed.
    mirror: tuple[str, int] | tuple[()] = ()

    def __str__(self) -> str:
        where = f"{self.filename}:{self.lineno}" if self.lineno else self.filename
        deal = f" [deal {self.deal}]" if self.deal else ""
        return f"{where}: {self.message}{deal}"


def format_errors(errors: list[LedgerError] | tuple[LedgerError, ...]) -> str:
    """All errors, one per line, in the order they were found."""
    return "\n".join(str(error) for error in errors)


class RoundtripError(Exception):
    """Base of the few exceptions roundtrip raises; user-data problems are LedgerErrors."""


class BadInput(RoundtripError):
    """Raised at a boundary (CLI, store) when a pass returned errors: carries them all."""

    def __init__(self, errors: list[LedgerError] | tuple[LedgerError, ...]) -> None:
        self.errors: tuple[LedgerError, ...] = tuple(errors)
        super().__init__(format_errors(self.errors))


class EnvironmentProblem(RoundtripError):
    """A problem of the machine, not of the input: the CLI exits 1 with one line.

    A full disk or a missing tool is not the user's data at fault, so it exits 1 where bad
    input exits 2.
    """

    def __init__(self, errors: list[LedgerError] | tuple[LedgerError, ...]) -> None:
        self.errors: tuple[LedgerError, ...] = tuple(errors)
        super().__init__(format_errors(self.errors))


class CannotWrite(EnvironmentProblem):
    """The machine refused a write: nothing was written (every writer stages, then renames).

    A full disk, a read-only or missing folder, a file where a folder goes.
    """

    @classmethod
    def of(cls, error: OSError, where: object) -> CannotWrite:
        """The error of a failed file-system call, said at ``where`` (the path the user gave)."""
        return cls([LedgerError(str(where), 0, f"cannot write: {error.strerror or error}")])


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open date range ``[start, end)``; ``None`` ends are open."""

    start: date | None = None
    end: date | None = None
    label: str = field(default="all", compare=False)

    def contains(self, day: date) -> bool:
        """Whether ``day`` falls in the period."""
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)

    @classmethod
    def parse(cls, text: str | None) -> Period:
        """Parse ``2025``, ``2025Q3``, ``2025-09`` or ``2025-01-01..2025-07-01`` (end exclusive).

        Raises:
            ValueError: the text is none of these forms.
        """
        if text is None or text in ("", "all"):
            return cls()
        text = text.strip()
        if m := re.fullmatch(r"(\d{4})", text):
            year = int(m[1])
            return cls(date(year, 1, 1), date(year + 1, 1, 1), text)
        if m := re.fullmatch(r"(\d{4})[Qq]([1-4])", text):
            year, quarter = int(m[1]), int(m[2])
            start = date(year, 3 * quarter - 2, 1)
            end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
            return cls(start, end, text)
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            year, month = int(m[1]), int(m[2])
            start = date(year, month, 1)
            end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
            return cls(start, end, text)
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})?\.\.(\d{4}-\d{2}-\d{2})?", text):
            start = date.fromisoformat(m[1]) if m[1] else None
            end = date.fromisoformat(m[2]) if m[2] else None
            return cls(start, end, text)
        raise ValueError(f"not a period: {text!r} (try 2025, 2025Q3, 2025-09 or A..B)")

    def as_dict(self) -> dict[str, Any]:
        """The JSON form in every output: the label, ISO dates, ``None`` for an open end."""
        return {
            "label": self.label,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }


def to_cents(amount: Decimal) -> Cents:
    """Exact conversion into a solver's integer cents.

    Raises:
        ValueError: the amount has more than two decimals (it would not convert exactly).
    """
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} has more than 2 decimals")
    return int(cents)


def from_cents(cents: Cents) -> Decimal:
    """Integer cents back to a two-decimal Decimal."""
    return (Decimal(cents) / 100).quantize(CENT)


_NON_ACCOUNT = re.compile(r"[^A-Za-z0-9-]+")


# Cached: books name a few thousand companies in millions of postings.
@lru_cache(maxsize=1 << 16)
def account_component(name: Company) -> str:
    """Map a display name to a valid beancount account component.

    beancount wants a capital letter or digit first and letters, digits or dashes after:
    ``xAI`` -> ``XAI``, ``US Gov`` -> ``US-Gov``. The display name stays in metadata.

    Raises:
        ValueError: nothing of the name is left to make a component of.
    """
    cleaned = _NON_ACCOUNT.sub("-", name.strip()).strip("-")
    if not cleaned:
        raise ValueError(f"company name {name!r} has no letters or digits")
    first = cleaned[0]
    if first.islower():
        # xAI -> XAI: upper-case a leading run of lower-case letters that precedes a capital,
        # else just the first letter (openai -> Openai).
        m = re.match(r"[a-z]+(?=[A-Z])", cleaned)
        cleaned = m[0].upper() + cleaned[m.end() :] if m else first.upper() + cleaned[1:]
    return cleaned
