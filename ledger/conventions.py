"""The conventions a stress test states: horizon, loss per kind, baseline, means (SPEC §4).

A contagion figure is only as good as the conventions behind it, so they are plain data, one
:class:`Conventions` per run, printed in every report header and carried in the JSON.

Horizon
    An obligation falls due on its leg's date (a term contract is booked as one leg per
    period: each instalment falls due on its own date). A scenario starts on ``as_of`` (the
    books' date: the last realized leg, or the day before the period's end) and clears what
    falls due by ``as_of + horizon``; what fell due earlier and is still not realized is
    overdue and counts too. ``horizon_months=None`` clears every obligation at once, whatever
    its date (the liquidation view of Eisenberg & Noe, and this engine's view before issue 14).
Loss per kind
    A cancelled contract for goods or services (``sale``, ``cloud``, ``lease``) costs the
    supplier its margin, not the face value: it is spared the cost of delivering. Under
    ``Loss.MARGIN`` a supplier keeps only ``margin[kind]`` of every such payment towards its own
    debts (the rest pays that cost) and loses ``margin[kind]`` of every such dollar it is not
    paid; money lent, invested or owed as tax loses its face value. ``Loss.FACE`` counts every
    dollar at face value. Default margins and their sources: :data:`DEFAULT_MARGINS`.
Baseline
    ``Baseline.BOOKED``: the web as booked — every company, the failing one too, pays what it
    can from its own means; companies that cannot are baseline defaults, shown as such, and a
    scenario's losses are the scenario minus this baseline. ``Baseline.GIVEN`` (the engine's
    convention before issue 14) hands the failing company assets equal to all it owes, a world
    that cannot happen.
Means
    ``Means.BOOKS``: what a company's book holds at ``as_of`` — its cash (realized inflows from
    the web and from outside, equity and loans received, less realized payments:
    :func:`ledger.accounts.booked_cash`) plus the equipment it capitalised (at cost), never
    below zero — plus what outsiders owe it within the horizon. ``Means.OUTSIDE`` (before issue
    14): its realized inflows from ``External`` in the period only.

Example::

    >>> Conventions().loss_text()
    'margin (sale 75%, cloud 14%, lease 100%)'
    >>> LEGACY.horizon_text()
    'all obligations at once, whatever their date'
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from ledger.model import Kind

__all__ = [
    "DEFAULT_MARGINS",
    "EXECUTORY",
    "LEGACY",
    "MARGIN_SOURCES",
    "Baseline",
    "Conventions",
    "Loss",
    "Means",
    "add_months",
    "from_options",
    "parse_horizon",
    "parse_margins",
]


class Loss(StrEnum):
    """How a supplier's loss on a cancelled contract for goods or services is counted."""

    MARGIN = "margin"
    FACE = "face"


class Baseline(StrEnum):
    """The world a scenario is measured against."""

    BOOKED = "booked"
    GIVEN = "given"


class Means(StrEnum):
    """What a company has to pay its obligations with, besides what its debtors pay it."""

    BOOKS = "books"
    OUTSIDE = "outside"


#: Kinds whose obligations are contracts for goods or services still to be delivered.
EXECUTORY = (Kind.SALE, Kind.CLOUD, Kind.LEASE)

#: Gross margin per kind: the share of a payment for goods or services that the supplier keeps.
DEFAULT_MARGINS: Mapping[Kind, Fraction] = MappingProxyType(
    {Kind.SALE: Fraction(75, 100), Kind.CLOUD: Fraction(14, 100), Kind.LEASE: Fraction(1)}
)

#: Where each default margin comes from (repeated in the README).
MARGIN_SOURCES: Mapping[Kind, str] = MappingProxyType(
    {
        Kind.SALE: "Nvidia fiscal 2025 GAAP gross margin, 75.0% (Form 10-K, 2025-02-26); most "
        "sale legs of the web are Nvidia's chips and systems",
        Kind.CLOUD: "Oracle's gross margin on renting Nvidia GPUs, about 14% (The Information, "
        "2025-10-07, from Oracle's internal documents)",
        Kind.LEASE: "100%: a lessor's equipment is already bought, so a cancelled lease loses "
        "the whole rent",
    }
)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clipped to the month's last day."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class Conventions:
    """The conventions of one stress test (see the module docstring)."""

    horizon_months: int | None = 12
    loss: Loss = Loss.MARGIN
    margins: Mapping[Kind, Fraction] = field(default_factory=lambda: dict(DEFAULT_MARGINS))
    baseline: Baseline = Baseline.BOOKED
    means: Means = Means.BOOKS
    as_of: date | None = None

    def margin(self, kind: Kind) -> Fraction:
        """The share of a payment of this kind its payee keeps (1 under ``Loss.FACE``)."""
        if self.loss is Loss.FACE or kind not in EXECUTORY:
            return Fraction(1)
        return self.margins.get(kind, Fraction(1))

    def due_by(self, as_of: date) -> date | None:
        """The last day an obligation can fall due and be cleared (None: no limit)."""
        if self.horizon_months is None:
            return None
        return add_months(as_of, self.horizon_months)

    def with_as_of(self, as_of: date | None) -> Conventions:
        """The same conventions starting on ``as_of``."""
        return replace(self, as_of=as_of)

    def horizon_text(self) -> str:
        """``12 months`` or ``all dates``."""
        if self.horizon_months is None:
            return "all obligations at once, whatever their date"
        return f"{self.horizon_months} months"

    def loss_text(self) -> str:
        """``face value`` or ``margin (sale 75%, ...)``."""
        if self.loss is Loss.FACE:
            return "face value"
        rates = ", ".join(f"{kind.value} {_pct(self.margin(kind))}" for kind in EXECUTORY)
        return f"margin ({rates})"

    def describe(self) -> str:
        """One line a report header carries."""
        baseline = "as booked" if self.baseline is Baseline.BOOKED else "failing company given"
        means = "the books" if self.means is Means.BOOKS else "outside revenue"
        return (
            f"horizon {self.horizon_text()}; loss: {self.loss_text()}; baseline: {baseline}; "
            f"means: {means}"
        )

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: margins as four-decimal strings, dates ISO."""
        return {
            "horizon_months": self.horizon_months,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "due_by": None if self.as_of is None else _iso(self.due_by(self.as_of)),
            "loss": self.loss.value,
            "margins": {kind.value: _ratio(self.margin(kind)) for kind in EXECUTORY},
            "baseline": self.baseline.value,
            "means": self.means.value,
            "text": self.describe(),
        }


#: The conventions of this engine before issue 14: every obligation due at once at face value,
#: the failing company handed what it owes, means = outside revenue. Kept to reproduce old
#: figures (``--horizon all --loss face --baseline given --means outside``).
LEGACY = Conventions(
    horizon_months=None, loss=Loss.FACE, baseline=Baseline.GIVEN, means=Means.OUTSIDE
)


def _pct(value: Fraction) -> str:
    text = f"{float(value * 100):.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _ratio(value: Fraction) -> str:
    return f"{float(value):.4f}"


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def parse_horizon(text: str) -> int | None:
    """``12m``, ``2y``, ``18`` (months) or ``all`` (None).

    Raises:
        ValueError: anything else.
    """
    cleaned = text.strip().lower()
    if cleaned == "all":
        return None
    scale = 12 if cleaned.endswith("y") else 1
    number = cleaned.rstrip("my")
    if not number.isdigit() or int(number) == 0:
        raise ValueError(f"a horizon is a number of months (12m), years (2y) or all, not {text!r}")
    return int(number) * scale


def parse_margins(items: list[str]) -> dict[Kind, Fraction]:
    """``["cloud=0.14", "sale=0.6"]`` over the defaults.

    Raises:
        ValueError: an item is not ``kind=rate`` with a goods-or-services kind and a rate in
            [0, 1].
    """
    margins = dict(DEFAULT_MARGINS)
    names = ", ".join(kind.value for kind in EXECUTORY)
    for item in items:
        kind_text, _, rate_text = item.partition("=")
        try:
            kind = Kind(kind_text.strip().lower())
            rate = Fraction(rate_text.strip())
        except ValueError:
            raise ValueError(f"--margin takes kind=rate (kinds: {names}), not {item!r}") from None
        if kind not in EXECUTORY:
            raise ValueError(f"--margin is for goods and services ({names}), not {kind.value}")
        if not 0 <= rate <= 1:
            raise ValueError(f"a margin is a share between 0 and 1, not {rate_text.strip()}")
        margins[kind] = rate
    return margins


def from_options(
    horizon: str = "12m",
    loss: Loss = Loss.MARGIN,
    margins: list[str] | None = None,
    baseline: Baseline = Baseline.BOOKED,
    means: Means = Means.BOOKS,
    as_of: str | None = None,
) -> Conventions:
    """The conventions the command-line options ask for.

    Raises:
        ValueError: a horizon, margin or date that does not read (the message says which).
    """
    try:
        day = None if as_of is None else date.fromisoformat(as_of)
    except ValueError:
        raise ValueError(f"--as-of takes an ISO date (2025-09-30), not {as_of!r}") from None
    return Conventions(
        horizon_months=parse_horizon(horizon),
        loss=loss,
        margins=parse_margins(margins or []),
        baseline=baseline,
        means=means,
        as_of=day,
    )
