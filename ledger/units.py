"""Amounts for people: display units (K/M/B), money cells, rounding that adds up.

Display units; money cells that keep their exact value; rounding in a display unit so that
printed parts add up to printed totals.

In: exact Decimal amounts. Out: text. A table cell made by :func:`money` is an :class:`Amount`,
a ``str`` that also remembers the exact amount, so a renderer can show it again in any unit
(and an HTML page can put the exact cents in a ``title``) without the view that built the table
knowing which unit the reader will get. Prose uses :func:`amount_text`, which names its unit
(``1,019.90 B``).

Rounding in a unit (:func:`controlled_rounding`): every figure is rounded to a neighbouring
multiple of the display quantum (the cent of the unit, e.g. 0.01 B = 10 M), down or up, so
that every stated sum (a total row, ``gross = organic + circular``) still holds in print —
*controlled rounding* of a table (Cox & Ernst 1982; Bacharach 1966), solved as a tiny 0-1
program that moves each figure as little as possible. For a table whose sums form a network
(rows adding up to a total row, columns adding up to other columns) a solution always exists;
should none exist, every figure is rounded half to even on its own.

Example: parts 0.333 B, 0.333 B, 0.334 B, total 1.000 B: independently 0.33 + 0.33 + 0.33 ≠
1.00; controlled, the part nearest to rounding up (0.334) shows 0.34.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import TypeVar

__all__ = [
    "FIXED_UNITS",
    "Amount",
    "Unit",
    "amount_text",
    "controlled_rounding",
    "format_quanta",
    "money",
    "readable_unit",
    "share",
]


class Unit(StrEnum):
    """The unit amounts are shown in.

    ``auto`` lets the renderer choose (see :func:`readable_unit` for files, the terminal width
    for tables on screen). Files for machines keep exact cents.
    """

    AUTO = "auto"
    ONE = "1"
    THOUSANDS = "K"
    MILLIONS = "M"
    BILLIONS = "B"

    @property
    def scale(self) -> Decimal:
        """What one shown unit is worth.

        Raises:
            ValueError: for ``auto``, which is not a unit until it is chosen.
        """
        if self is Unit.AUTO:
            raise ValueError("the auto unit has no scale until it is chosen")
        return Decimal(10) ** {"1": 0, "K": 3, "M": 6, "B": 9}[self.value]

    @property
    def words(self) -> str:
        """``billions`` etc., for the note under a table."""
        return {"auto": "", "1": "units", "K": "thousands", "M": "millions", "B": "billions"}[
            self.value
        ]


#: The units a figure can be shown in, smallest first.
FIXED_UNITS = (Unit.ONE, Unit.THOUSANDS, Unit.MILLIONS, Unit.BILLIONS)

#: A readable figure has at most this many digits before the decimal point (``9,999.99``).
_READABLE_DIGITS = 4


class Amount(str):
    """A money cell: the text shown and the exact amount behind it.

    The text is ``exact`` formatted in the unit the cell was built in; ``exact`` is None for an
    empty cell.

    It is a ``str``, so every consumer that only wants text keeps working; renderers that know
    it re-format ``exact`` in their own unit.
    """

    exact: Decimal | None

    def __new__(cls, text: str, exact: Decimal | None) -> Amount:
        """A cell showing ``text`` for the amount ``exact``."""
        cell = super().__new__(cls, text)
        cell.exact = exact
        return cell

    def __reduce__(self) -> tuple[type, tuple[str, Decimal | None]]:
        """Pickle the text and the exact amount (a str subclass's attributes are not)."""
        return (Amount, (str(self), self.exact))


def format_quanta(quanta: int, grouped: bool = True) -> str:
    """A whole number of hundredths (of some unit) as ``1,234.56``."""
    value = Decimal(quanta).scaleb(-2)
    return f"{value:,.2f}" if grouped else f"{value:.2f}"


def _scaled(amount: Decimal, unit: Unit) -> Decimal:
    return amount if unit is Unit.ONE else amount / unit.scale


def money(amount: Decimal | None, *, grouped: bool = True, unit: Unit = Unit.ONE) -> Amount:
    """A two-decimal amount, with thousands separators for people (``grouped``), as a cell.

    With a unit K, M or B the amount is divided and rounded (half to even) for display only:
    ``money(Decimal("12869460223.78"), unit=Unit.BILLIONS) == "12.87"``; the cell keeps the
    exact amount (``.exact``). ``auto`` shows the exact amount: the renderer picks the unit.
    """
    if amount is None:
        return Amount("", None)
    shown = Unit.ONE if unit is Unit.AUTO else unit
    value = _scaled(amount, shown).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return Amount(f"{value:,.2f}" if grouped else f"{value:.2f}", amount)


def readable_unit(amounts: Iterable[Decimal | None]) -> Unit:
    """The unit a report reads best in.

    The smallest in which its largest amount has at most four digits before the decimal point
    (``1,019.90`` B rather than ``1,019,900.00`` M); B for anything larger, 1 for a report
    without amounts.
    """
    largest = max((abs(a) for a in amounts if a is not None), default=Decimal(0))
    for unit in FIXED_UNITS:
        if largest / unit.scale < 10**_READABLE_DIGITS:
            return unit
    return Unit.BILLIONS


def amount_text(amount: Decimal | None, unit: Unit = Unit.AUTO) -> str:
    """An amount in prose, naming its unit: ``1,019.90 B``.

    ``auto`` picks the largest unit the amount is at least one of (3.7e9 reads ``3.70 B``);
    unit 1 gives the exact amount, ``1,019,900,000,000.00``.
    """
    if amount is None:
        return ""
    chosen = unit
    if unit is Unit.AUTO:
        chosen = next((u for u in reversed(FIXED_UNITS) if abs(amount) >= u.scale), Unit.ONE)
    text = str(money(amount, unit=chosen))
    return text if chosen is Unit.ONE else f"{text} {chosen.value}"


K = TypeVar("K", bound=Hashable)


def share(value: Decimal | None) -> str:
    """A share in [0, 1] as a percentage with one decimal."""
    if value is None:
        return ""
    return f"{value * 100:.1f}%"


def quanta(amount: Decimal, unit: Unit) -> Fraction:
    """``amount`` in hundredths of ``unit``, exactly."""
    return Fraction(amount) * 100 / Fraction(unit.scale)


def _half_even(value: Fraction) -> int:
    whole = math.floor(value)
    rest = value - whole
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and whole % 2):
        return whole + 1
    return whole


def controlled_rounding(
    values: dict[K, Fraction], sums: Sequence[tuple[K, Sequence[K]]]
) -> dict[K, int]:
    """Each value rounded down or up to a whole number so that every sum still holds.

    ``sums`` are ``(total, parts)`` keys; the figures move as little as possible (least total
    absolute change).

    ``values`` must satisfy the sums exactly. Values that are whole stay as they are; when no
    such rounding exists (the sums are not a network), every value is rounded half to even.
    """
    rounded = {key: _half_even(value) for key, value in values.items()}
    if not sums:
        return rounded
    involved = {k for total, parts in sums for k in (total, *parts)}
    free = [k for k in values if k in involved and values[k].denominator != 1]
    if not free:
        return rounded
    solution = _solve(values, sums, free)
    if solution is None:
        return rounded
    return {**rounded, **solution}


def _solve(
    values: dict[K, Fraction], sums: Sequence[tuple[K, Sequence[K]]], free: list[K]
) -> dict[K, int] | None:
    """The 0-1 program: x_k = floor_k + d_k, each sum's parts minus its total = 0."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    index = {key: i for i, key in enumerate(free)}
    floors = {key: math.floor(value) for key, value in values.items()}
    rows, rhs = [], []
    for total, parts in sums:
        row = np.zeros(len(free))
        constant = floors[total] - sum(floors[p] for p in parts)
        for key, sign in [(total, -1.0), *((p, 1.0) for p in parts)]:
            if key in index:
                row[index[key]] += sign
        if not row.any():
            if constant != 0:
                return None
            continue
        rows.append(row)
        rhs.append(float(constant))
    # Rounding up instead of down costs (1 - fraction) - fraction = 1 - 2 * fraction.
    cost = np.array([float(1 - 2 * (values[k] - floors[k])) for k in free])
    constraints = [LinearConstraint(np.array(rows), rhs, rhs)] if rows else []
    result = milp(
        cost,
        constraints=constraints,
        integrality=np.ones(len(free)),
        bounds=Bounds(0, 1),
        options={"presolve": True},
    )
    if result.status != 0 or result.x is None:
        return None
    return {key: floors[key] + round(float(result.x[i])) for key, i in index.items()}
