"""Cells of the audit sheets: amounts, shares and notes read from the JSON contract.

Shared by :mod:`ledger.audit_views` (exposure profile, HTML) and :mod:`ledger.contagion_views`
(failures, ranking). Every amount goes through :data:`UNIT`, the display unit of the sheets
being built (set by :func:`ledger.audit_views.run_audit` for one call).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from ledger.render import Unit, money, share
from ledger.units import amount_text
from ledger.views import to_decimal

__all__ = [
    "NO_REVENUE",
    "UNIT",
    "amount_cell",
    "amount_words",
    "booked_baseline",
    "company_cell",
    "conventions_note",
    "cut_text",
    "decimal_cell",
    "estimated_deals_note",
    "margin_loss",
    "pct_cell",
    "ratio_cell",
    "times_cell",
    "total_of",
]

#: The display unit of the sheets being built (set by :func:`run_audit` for one call): the
#: sheets read amounts from the JSON contract in many places, and all of them go through here.
UNIT: ContextVar[Unit] = ContextVar("audit_unit", default=Unit.ONE)


def amount_cell(text: str | None) -> str:
    """An amount string of the contract as a money cell in the display unit."""
    return decimal_cell(to_decimal(text))


def decimal_cell(amount: Decimal | None) -> str:
    """A Decimal (a total computed here) as a money cell in the display unit."""
    return money(amount, unit=UNIT.get())


def amount_words(text: str | None) -> str:
    """An amount of the contract in prose, naming its unit (``1,019.90 B``; exact for unit 1)."""
    return amount_text(to_decimal(text), UNIT.get())


def pct_cell(text: str | None) -> str:
    """A share string as a percentage cell."""
    return share(to_decimal(text))


#: A multiple whose denominator (the company's revenue) is zero or missing.
NO_REVENUE = "n/a: no revenue booked"


def times_cell(text: str | None) -> str:
    """A multiple as text: ``275.6×``, ``0.62×`` below 10.

    Below 0.1, two significant digits (``0.0026×`` rather than a misleading ``0.00×``);
    :data:`NO_REVENUE` when there is no denominator.
    """
    if text is None:
        return NO_REVENUE
    value = Decimal(text)
    if 0 < abs(value) < Decimal("0.1"):
        return f"{float(value):.2g}×"
    return f"{value:,.1f}×" if value >= 10 else f"{value:.2f}×"


def ratio_cell(text: str | None) -> str:
    """A four-decimal ratio string as it stands (empty when there is none)."""
    return "" if text is None else text


def company_cell(row: dict[str, Any]) -> str:
    """A company's name, starred when its figures rest on estimates."""
    return row["company"] + (" *" if row.get("estimated") else "")


def cut_text(cut: str) -> str:
    """``0.5000`` -> ``50%``."""
    text = f"{Decimal(cut) * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def total_of(values: Sequence[str | None]) -> Decimal:
    """The exact sum of amount strings (missing ones count nothing)."""
    return sum((Decimal(v) for v in values if v is not None), Decimal(0))


def estimated_deals_note(deals: Sequence[str]) -> tuple[str, ...]:
    """The note naming the estimated deals a sheet rests on (none: none)."""
    if not deals:
        return ()
    return (
        f"{len(deals)} deal{'s' if len(deals) != 1 else ''} used carry estimated amounts "
        f"(estimate: TRUE): {', '.join(deals)}.",
    )


def conventions_note(data: dict[str, Any]) -> tuple[str, ...]:
    """The scenario's conventions, for a report header (absent from contracts saved before)."""
    conventions = data.get("conventions")
    if not conventions:
        return ()
    start = f" from {conventions['as_of']}" if conventions.get("as_of") else ""
    return (f"Conventions{start}: {conventions['text']}.",)


def booked_baseline(data: dict[str, Any]) -> bool:
    """Whether the baseline is the web as booked (contracts saved before say nothing: given)."""
    return (data.get("conventions") or {}).get("baseline") == "booked"


def margin_loss(data: dict[str, Any]) -> bool:
    """Whether the contract's loss convention is the margin."""
    return (data.get("conventions") or {}).get("loss") == "margin"
