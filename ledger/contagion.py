"""Contagion: what happens to the web when one company fails or cuts its spending (SPEC §4).

In: legs, a failing company, a spending ``cut`` in [0, 1] (1 = failure), a
:class:`~ledger.model.Period` and a :class:`~ledger.model.Basis`. Out: a
:class:`ContagionReport` — each company's loss in cents and as a share of its revenue and of its
equity, split by channel, and who defaults in which round. :func:`systemic_ranking` fails every
company alone and ranks them by the loss they cause to the others.

Three channels carry the shock. Each is measured against a **baseline**: the same web in which
F spends and pays all it owes as booked. A company that could not pay its own obligations even
then is a *baseline default*, and is not blamed on F.

1. **Lost revenue** (spending channel, *realized* flows of the period). The failed company F cuts
   every purchase (revenue edge it pays) by ``cut``. A company V that loses part of its inflow
   spends less in proportion: its cut ``x_V = lost_V / inflow_V``, where ``inflow_V`` is all the
   money V received in the period (revenue, financing, transfers, from anybody, External too)
   and ``lost_V = Σ_U x_U · purchases(U→V)``. F's own cut is ``cut + (1 − cut) · lost_F /
   inflow_F``. The round-by-round propagation (round 1: F's vendors, round 2: their vendors, …)
   converges to the least solution of this linear system, which is computed directly, exactly
   — no round cap is needed, and cycles (F's vendors buying from F) are followed to the end.
   Every ``x`` stays in [0, 1] because nobody can lose more inflow than it had.
2. **Unpaid obligations** (Eisenberg–Noe clearing). Obligations ``L[i][j]`` are: every leg not
   yet realized that counts under the basis and falls in the period (contracted/announced
   purchases, investments, loans, taxes, dividends; undrawn backstops are contingent and left
   out), plus the outstanding principal of realized loans at the end of the period (loans less
   repayments, dated before the end; any date before counts: a stock). Repayment legs not yet
   realized are the schedule of that principal and are not counted twice. As in Eisenberg–Noe,
   all obligations are cleared at once (a liquidation view). A company's external assets ``e``
   are its realized money inflows from External in the period plus what External owes it
   (External always pays). External is a creditor node that owes nothing. F's payments are
   given, not cleared: all it owes in the baseline, ``(1 − cut)`` of it in the scenario
   (nothing on failure), whatever its own assets. Loss = the extra shortfall on what a company
   is owed, scenario against baseline.
3. **Written-down equity**. Stakes are realized equity legs and warrants dated before the end
   of the period (a stock), at their marked value when they carry units and a price
   (:class:`PriceMarks`), else at their booked value. An investor (or warrant holder) writes
   down ``cut`` of its stake in F (all of it on failure), and all of its stake in every company
   that defaults in the clearing (equity is junior to debt: a company that cannot pay its
   obligations has worthless equity), less what the baseline already wrote off.

A company's revenue is its realized gross revenue in the period; its equity (the proxy its loss
is measured against) is all realized equity it received up to the end of the period. Its
``exposure`` — the most it could lose — is its realized revenue from web companies plus what it
is owed plus its stakes; a loss never exceeds it.

The clearing itself is :func:`clearing_vector`: the greatest clearing vector of Eisenberg & Noe,
"Systemic Risk in Financial Systems", Management Science 47(2), 2001, by their fictitious default
algorithm — at most n rounds, each solving one linear system for the defaulting set, O(n⁴) in the
worst case, exact in :class:`~fractions.Fraction` arithmetic on webs of up to
:data:`EXACT_LIMIT` nodes and in float64 (with a stated tolerance) above.

Example (A owes B 100 and has 60 from outside; B owes C 50 and has nothing else)::

    >>> result = clearing_vector([[0, 100, 0], [0, 0, 50], [0, 0, 0]], [60, 0, 0])
    >>> [str(p) for p in result.payments], result.default_round
    (['60', '50', '0'], (1, None, None))
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from ledger.flows import MixedCurrencies, build_flow_graph
from ledger.model import (
    EXTERNAL,
    BadInput,
    Basis,
    Cents,
    Company,
    Kind,
    LedgerError,
    Leg,
    Period,
    Price,
    Status,
    from_cents,
    included_in_basis,
    to_cents,
)

__all__ = [
    "EXACT_LIMIT",
    "FLOAT_TOLERANCE",
    "ClearingResult",
    "ClearingRow",
    "CompanyLoss",
    "ContagionReport",
    "PriceMarks",
    "SystemicImpact",
    "SystemicRanking",
    "cents_text",
    "clearing_vector",
    "ratio_text",
    "simulate_failure",
    "systemic_ranking",
    "verify_clearing",
]

#: Webs of up to this many nodes are solved exactly (Fractions); larger ones in float64.
EXACT_LIMIT = 60
#: Float mode: a node defaults only if it falls short by more than this share of all obligations.
FLOAT_TOLERANCE = 1e-9

Amount = Fraction | float
_SOURCE = "<roundtrip.contagion>"


# --------------------------------------------------------------------------------------------
# JSON helpers shared with ledger.audit


def cents_text(cents: int | Fraction | float | None) -> str | None:
    """Cents (exact or float) as a two-decimal amount string, rounded half to even."""
    if cents is None:
        return None
    return str(from_cents(round(Fraction(cents))))


def ratio_text(value: int | Fraction | float | None) -> str | None:
    """A share or a multiple as a four-decimal string, rounded half to even."""
    if value is None:
        return None
    return str((Decimal(round(Fraction(value) * 10000)) / 10000).quantize(Decimal("0.0001")))


# --------------------------------------------------------------------------------------------
# Eisenberg–Noe clearing


@dataclass(frozen=True, slots=True)
class ClearingResult:
    """The greatest clearing vector of an obligations matrix, in cents.

    ``payments[i]`` is what node i pays in total, split among its creditors in proportion to
    what it owes them; ``received[i]`` what it receives; ``default_round[i]`` the round of the
    fictitious default algorithm in which it was found unable to pay in full (1-based), or
    ``None``. Amounts are :class:`~fractions.Fraction` when ``exact``, else floats accurate to
    ``tolerance`` cents.
    """

    names: tuple[str, ...]
    obligations: tuple[Cents, ...]
    caps: tuple[Amount, ...]
    external_assets: tuple[Cents, ...]
    payments: tuple[Amount, ...]
    received: tuple[Amount, ...]
    default_round: tuple[int | None, ...]
    rounds: int
    exact: bool
    tolerance: float

    def shortfall(self, node: int) -> Amount:
        """What node ``node`` leaves unpaid of its obligations."""
        return self.obligations[node] - self.payments[node]

    def defaults_by_round(self) -> tuple[tuple[int, tuple[str, ...]], ...]:
        """``(round, names)`` for every round that found new defaulters."""
        rounds: dict[int, list[str]] = {}
        for name, found in zip(self.names, self.default_round, strict=True):
            if found is not None:
                rounds.setdefault(found, []).append(name)
        return tuple((r, tuple(names)) for r, names in sorted(rounds.items()))

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings (dollars), rounds as integers."""
        return {
            "exact": self.exact,
            "tolerance_cents": self.tolerance,
            "rounds": self.rounds,
            "nodes": [
                {
                    "name": name,
                    "obligations": cents_text(self.obligations[i]),
                    "external_assets": cents_text(self.external_assets[i]),
                    "received": cents_text(self.received[i]),
                    "paid": cents_text(self.payments[i]),
                    "shortfall": cents_text(self.shortfall(i)),
                    "default_round": self.default_round[i],
                }
                for i, name in enumerate(self.names)
            ],
        }


class _Obligations(NamedTuple):
    """A validated sparse obligations matrix: ``rows[k]`` owes ``cols[k]`` ``cents[k]``."""

    n: int
    rows: np.ndarray
    cols: np.ndarray
    cents: np.ndarray
    totals: np.ndarray


def _obligations(liabilities: Any) -> _Obligations:
    """Validate any matrix form (nested sequences, numpy, scipy.sparse) into triplets."""
    if sp.issparse(liabilities):
        coo = sp.coo_matrix(liabilities)
        n_rows, n_cols = coo.shape
        rows, cols, values = coo.row, coo.col, coo.data
    else:
        dense = np.asarray(liabilities, dtype=object)
        if dense.size == 0:
            dense = dense.reshape(0, 0)
        if dense.ndim != 2:
            raise ValueError("liabilities must be a square matrix")
        n_rows, n_cols = dense.shape
        rows, cols = np.nonzero(dense != 0)
        values = dense[rows, cols]
    if n_rows != n_cols:
        raise ValueError(f"liabilities must be square, got {n_rows}x{n_cols}")
    if any(int(v) != v or v < 0 for v in values):
        raise ValueError("liabilities must be non-negative integer cents")
    cents = np.array([int(v) for v in values], dtype=np.int64)
    if cents[np.asarray(rows) == np.asarray(cols)].any():
        raise ValueError("a node cannot owe itself")
    keep = cents > 0
    rows = np.asarray(rows, dtype=np.int64)[keep]
    cols = np.asarray(cols, dtype=np.int64)[keep]
    cents = cents[keep]
    totals = np.zeros(n_rows, dtype=np.int64)
    np.add.at(totals, rows, cents)
    return _Obligations(n_rows, rows, cols, cents, totals)


def _as_fraction(value: int | Fraction | float | Decimal) -> Fraction:
    if isinstance(value, float):
        return Fraction(str(value))
    return Fraction(value)


def _bareiss(rows: list[list[int]]) -> list[Fraction]:
    """Solve an integer system ``[A | b]`` by fraction-free (Bareiss) elimination.

    Every intermediate entry is a minor of the matrix, so integers stay small and every
    division is exact; only the back substitution uses Fractions.
    """
    size = len(rows)
    m = [row[:] for row in rows]
    previous = 1
    for k in range(size):
        pivot = next(r for r in range(k, size) if m[r][k] != 0)
        m[k], m[pivot] = m[pivot], m[k]
        head, lead = m[k], m[k][k]
        for i in range(k + 1, size):
            row, factor = m[i], m[i][k]
            for j in range(k + 1, size + 1):
                row[j] = (row[j] * lead - factor * head[j]) // previous
            row[k] = 0
        previous = lead
    x = [Fraction(0)] * size
    for i in reversed(range(size)):
        known = sum((m[i][j] * x[j] for j in range(i + 1, size)), Fraction(0))
        x[i] = (m[i][size] - known) / m[i][i]
    return x


def _solve_exact(matrix: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction]:
    """Solve a small non-singular rational system exactly.

    Each row is scaled to integers by the least common multiple of its denominators, then
    solved by :func:`_bareiss` — far faster than Gaussian elimination in Fractions, whose
    denominators grow at every step.
    """
    rows = []
    for row, b in zip(matrix, rhs, strict=True):
        scale = math.lcm(b.denominator, *(x.denominator for x in row))
        rows.append([int(x * scale) for x in row] + [int(b * scale)])
    return _bareiss(rows)


def _triplets(ob: _Obligations) -> Iterator[tuple[int, int, int]]:
    """(debtor, creditor, cents) for every obligation."""
    return zip(ob.rows.tolist(), ob.cols.tolist(), ob.cents.tolist(), strict=True)


def _received_exact(ob: _Obligations, payments: list[Fraction]) -> list[Fraction]:
    received = [Fraction(0)] * ob.n
    for debtor, creditor, cents in _triplets(ob):
        received[creditor] += payments[debtor] * cents / int(ob.totals[debtor])
    return received


def _relative(ob: _Obligations) -> sp.csr_matrix:
    """Π as a sparse float matrix: ``Π[i, j]`` = the share of i's obligations owed to j."""
    totals = np.asarray(ob.totals, dtype=np.float64)
    data = ob.cents.astype(np.float64) / totals[ob.rows] if ob.rows.size else np.zeros(0)
    return sp.csr_matrix((data, (ob.rows, ob.cols)), shape=(ob.n, ob.n))


def _fictitious_default_exact(
    ob: _Obligations, assets: list[Fraction], caps: list[Fraction]
) -> tuple[list[Fraction], list[int | None], int]:
    """Eisenberg–Noe's algorithm in exact arithmetic."""
    n = ob.n
    payments = list(caps)
    found: list[int | None] = [None] * n
    rounds = 0
    while True:
        received = _received_exact(ob, payments)
        new = [i for i in range(n) if found[i] is None and assets[i] + received[i] < caps[i]]
        if not new:
            return payments, found, rounds
        rounds += 1
        for i in new:
            found[i] = rounds
        defaulting = [i for i in range(n) if found[i] is not None]
        where = {node: k for k, node in enumerate(defaulting)}
        # In the shares paid q_j = p_j / pbar_j the matrix is integer:
        # pbar_i q_i − Σ_(j∈D) L_ji q_j = e_i + Σ_(j∉D) L_ji cap_j / pbar_j   for i ∈ D.
        size = len(defaulting)
        matrix = [[Fraction(0)] * size for _ in range(size)]
        for node, k in where.items():
            matrix[k][k] = Fraction(int(ob.totals[node]))
        rhs = [assets[i] for i in defaulting]
        for debtor, creditor, cents in _triplets(ob):
            if creditor not in where:
                continue
            if debtor in where:
                matrix[where[creditor]][where[debtor]] -= cents
            else:
                rhs[where[creditor]] += Fraction(cents, int(ob.totals[debtor])) * caps[debtor]
        for node, share in zip(defaulting, _solve_exact(matrix, rhs), strict=True):
            value = share * int(ob.totals[node])
            payments[node] = min(max(value, Fraction(0)), caps[node])


def _fictitious_default_float(
    ob: _Obligations, assets: np.ndarray, caps: np.ndarray, tolerance: float
) -> tuple[np.ndarray, list[int | None], int]:
    """Eisenberg–Noe's algorithm in float64 with sparse solves."""
    pi_t = _relative(ob).T.tocsr()
    payments = caps.copy()
    found: list[int | None] = [None] * ob.n
    defaulting = np.zeros(ob.n, dtype=bool)
    rounds = 0
    while True:
        received = pi_t @ payments
        new = ~defaulting & (assets + received < caps - tolerance)
        if not new.any():
            return payments, found, rounds
        rounds += 1
        for i in np.flatnonzero(new).tolist():
            found[i] = rounds
        defaulting |= new
        index = np.flatnonzero(defaulting)
        others = np.flatnonzero(~defaulting)
        block = pi_t[index][:, index]
        system = (sp.identity(index.size, format="csc") - block).tocsc()
        rhs = assets[index] + pi_t[index][:, others] @ caps[others]
        solution = np.atleast_1d(spsolve(system, rhs))
        payments[index] = np.clip(solution, 0.0, caps[index])


def clearing_vector(
    liabilities: Any,
    external_assets: Sequence[int],
    *,
    caps: Sequence[int | Fraction] | None = None,
    names: Sequence[str] | None = None,
    exact: bool | None = None,
) -> ClearingResult:
    """The greatest Eisenberg–Noe clearing vector ``p = min(cap, e + Πᵀ p)``.

    ``liabilities[i][j]`` is what node i owes node j in integer cents (nested sequences, a numpy
    array or a scipy.sparse matrix); ``external_assets[i]`` what i has from outside. Each node
    pays its creditors pro rata: all it owes, or all it has. ``caps`` (default: each node's
    total obligations) lowers what a node will pay at most — a company cutting its payments —
    while its creditors keep their full claims; ``cap = 0`` is a node that pays nothing.

    The fictitious default algorithm starts from everybody paying in full, marks the nodes whose
    assets fall short, solves the linear system of what the defaulting set can pay, and repeats
    until no new node defaults: at most n rounds, and the result is the greatest fixed point.
    ``exact=None`` solves webs of up to :data:`EXACT_LIMIT` nodes in Fractions and larger ones
    in float64, where a node defaults only if it falls short by more than
    :data:`FLOAT_TOLERANCE` of all obligations (the ``tolerance`` of the result, in cents).

    Raises:
        ValueError: the matrix is not square, has negative, fractional or diagonal entries, or
            the vectors do not match it (programming errors, not user data).
    """
    ob = _obligations(liabilities)
    if len(external_assets) != ob.n or (caps is not None and len(caps) != ob.n):
        raise ValueError("external_assets and caps must have one entry per node")
    if any(int(a) != a or a < 0 for a in external_assets):
        raise ValueError("external assets must be non-negative integer cents")
    totals = [int(t) for t in ob.totals]
    fraction_caps = (
        [Fraction(t) for t in totals]
        if caps is None
        else [
            min(max(_as_fraction(c), Fraction(0)), Fraction(t))
            for c, t in zip(caps, totals, strict=True)
        ]
    )
    labels = tuple(names) if names is not None else tuple(str(i) for i in range(ob.n))
    if len(labels) != ob.n:
        raise ValueError("names must have one entry per node")
    exact = ob.n <= EXACT_LIMIT if exact is None else exact
    assets = [int(a) for a in external_assets]
    if exact:
        payments, found, rounds = _fictitious_default_exact(
            ob, [Fraction(a) for a in assets], fraction_caps
        )
        received: Sequence[Amount] = _received_exact(ob, payments)
        tolerance = 0.0
        paid: Sequence[Amount] = payments
    else:
        tolerance = FLOAT_TOLERANCE * max(1.0, float(sum(totals)))
        float_payments, found, rounds = _fictitious_default_float(
            ob,
            np.array(assets, dtype=np.float64),
            np.array([float(c) for c in fraction_caps], dtype=np.float64),
            tolerance,
        )
        received = (_relative(ob).T @ float_payments).tolist()
        paid = float_payments.tolist()
    return ClearingResult(
        names=labels,
        obligations=tuple(totals),
        caps=tuple(fraction_caps) if exact else tuple(float(c) for c in fraction_caps),
        external_assets=tuple(assets),
        payments=tuple(paid),
        received=tuple(received),
        default_round=tuple(found),
        rounds=rounds,
        exact=exact,
        tolerance=tolerance,
    )


def verify_clearing(result: ClearingResult, liabilities: Any) -> tuple[str, ...]:
    """Check a clearing result against its matrix; return the problems found (none: empty).

    Checks that every payment lies in [0, cap], that what each node receives is the pro-rata
    share of its debtors' payments, and that each node pays in full (its cap) or pays all it
    has (``p = e + received``): the fixed-point equation. Exact results are checked exactly,
    float results to their tolerance.
    """
    ob = _obligations(liabilities)
    problems: list[str] = []
    if result.exact:
        received: list[Amount] = list(_received_exact(ob, [Fraction(p) for p in result.payments]))
    else:
        received = (_relative(ob).T @ np.array(result.payments, dtype=np.float64)).tolist()
    tol = result.tolerance
    for i, name in enumerate(result.names):
        paid, cap = result.payments[i], result.caps[i]
        if paid < -tol or paid > cap + tol:
            problems.append(f"{name}: pays {paid}, outside [0, {cap}]")
        if abs(received[i] - result.received[i]) > tol:
            problems.append(f"{name}: receives {result.received[i]}, pro rata gives {received[i]}")
        has = result.external_assets[i] + received[i]
        if abs(paid - min(cap, has)) > tol:
            problems.append(f"{name}: pays {paid}, neither in full ({cap}) nor all it has ({has})")
    return tuple(problems)


# --------------------------------------------------------------------------------------------
# Price marks


class PriceMarks:
    """The latest price of each (commodity, currency), looked up before a date.

    A holding that carries ``units`` of a ``commodity`` (a warrant, shares) is worth units ×
    the last price dated before the end of the period (end exclusive; any date when the period
    is open), in the leg's own currency; without units or such a price it is worth its booked
    amount.
    """

    def __init__(self, prices: Sequence[Price]) -> None:
        self._series: dict[tuple[str, str], tuple[list[date], list[Price]]] = {}
        for price in sorted(prices, key=lambda p: (p.commodity, p.currency, p.date)):
            dates, marks = self._series.setdefault((price.commodity, price.currency), ([], []))
            dates.append(price.date)
            marks.append(price)

    def latest(self, commodity: str, currency: str, before: date | None) -> Price | None:
        """The last mark dated before ``before`` (any date when ``None``)."""
        dates, marks = self._series.get((commodity, currency), ([], []))
        k = len(dates) if before is None else bisect.bisect_left(dates, before)
        return marks[k - 1] if k else None

    def mark(self, leg: Leg, before: date | None) -> Price | None:
        """The price that marks a leg's units, if it has units and there is one."""
        if leg.commodity is None or leg.units is None:
            return None
        return self.latest(leg.commodity, leg.currency, before)

    def value(self, leg: Leg, before: date | None) -> Cents:
        """The leg's holding in cents: units × mark (half to even), else its booked amount."""
        mark = self.mark(leg, before)
        if mark is None or leg.units is None:
            return to_cents(leg.amount)
        return round(Fraction(leg.units * mark.amount * 100))


# --------------------------------------------------------------------------------------------
# The web seen by the contagion channels

_Pair = tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Network:
    """Everything the three channels need, built once per (legs, period, basis).

    Nodes are the web companies (sorted), then External, last.
    """

    nodes: tuple[Company, ...]
    sellers: dict[int, tuple[tuple[int, Cents], ...]]  # buyer -> realized purchases by seller
    inflow: tuple[Cents, ...]
    revenue: tuple[Cents, ...]
    web_revenue: tuple[Cents, ...]
    liabilities: sp.csr_matrix
    owed: tuple[Cents, ...]
    external_assets: tuple[Cents, ...]
    stakes: dict[_Pair, Cents]  # (investor, investee) -> cents
    held: tuple[Cents, ...]
    equity: tuple[Cents, ...]
    exact: bool
    estimated_deals: tuple[str, ...]

    @property
    def external(self) -> int:
        """The node index of External (always the last node)."""
        return len(self.nodes) - 1


def _before_end(leg: Leg, period: Period) -> bool:
    return period.end is None or leg.date < period.end


def _add(table: dict[_Pair, int], key: _Pair, cents: int) -> None:
    table[key] = table.get(key, 0) + cents


def _is_obligation(leg: Leg, period: Period, basis: Basis) -> bool:
    """An unrealized money leg under the basis in the period (repayments: see principal)."""
    return (
        leg.status is not Status.REALIZED
        and leg.kind not in (Kind.WARRANT, Kind.BACKSTOP, Kind.REPAYMENT)
        and included_in_basis(leg.status, basis)
        and period.contains(leg.date)
    )


def _obligation_table(
    legs: Sequence[Leg], index: dict[Company, int], period: Period, basis: Basis
) -> tuple[dict[_Pair, int], list[Leg]]:
    """(debtor, creditor) -> cents: unrealized legs plus outstanding loan principal."""
    owed: dict[_Pair, int] = {}
    principal: dict[_Pair, int] = {}
    used: list[Leg] = []
    for leg in legs:
        payer, payee = index[leg.payer], index[leg.payee]
        if _is_obligation(leg, period, basis):
            _add(owed, (payer, payee), to_cents(leg.amount))
        elif leg.status is Status.REALIZED and _before_end(leg, period):
            if leg.kind is Kind.LOAN:
                _add(principal, (payee, payer), to_cents(leg.amount))
            elif leg.kind is Kind.REPAYMENT:
                _add(principal, (payer, payee), -to_cents(leg.amount))
            else:
                continue
        else:
            continue
        used.append(leg)
    for key, cents in principal.items():
        if cents > 0:
            _add(owed, key, cents)
    return owed, used


def _check_currency(legs: Sequence[Leg], currency: str) -> None:
    others = sorted({leg.currency for leg in legs} - {currency})
    if others:
        raise MixedCurrencies(
            f"legs in {', '.join([currency, *others])} with no price to convert them; "
            "audit one currency at a time"
        )


class _Flows(NamedTuple):
    """The realized money flows of the period, per node of the network."""

    sellers: dict[int, tuple[tuple[int, Cents], ...]]
    inflow: list[Cents]
    revenue: list[Cents]
    web_revenue: list[Cents]
    from_external: list[Cents]
    currency: str


def _realized_flows(
    legs: Sequence[Leg], index: dict[Company, int], period: Period, ext: int
) -> _Flows:
    graph = build_flow_graph(legs, period, Basis.REALIZED)
    size = len(index)
    gmap = np.array([index[name] for name in graph.nodes], dtype=np.int64)
    inflow, revenue, web_revenue, from_ext = [0] * size, [0] * size, [0] * size, [0] * size
    purchases: dict[_Pair, int] = {}
    for s, d, cents, is_revenue in zip(
        gmap[graph.src].tolist(),
        gmap[graph.dst].tolist(),
        graph.cents.tolist(),
        graph.revenue.tolist(),
        strict=True,
    ):
        inflow[d] += cents
        if s == ext:
            from_ext[d] += cents
        if is_revenue:
            revenue[d] += cents
            if s != ext:
                web_revenue[d] += cents
                _add(purchases, (s, d), cents)
    sellers: dict[int, list[tuple[int, Cents]]] = {}
    for (buyer, seller), cents in sorted(purchases.items()):
        sellers.setdefault(buyer, []).append((seller, cents))
    return _Flows(
        {buyer: tuple(rows) for buyer, rows in sellers.items()},
        inflow,
        revenue,
        web_revenue,
        from_ext,
        graph.currency,
    )


def _equity_stakes(
    legs: Sequence[Leg], index: dict[Company, int], period: Period, marks: PriceMarks
) -> tuple[dict[_Pair, int], list[Cents], list[Leg]]:
    """Realized equity and warrants up to the end of the period.

    Returns the stakes held ``(holder, company) -> cents`` at their marked value (booked value
    when unmarked), the equity each company received (at cost: the proxy for its own equity),
    and the legs used.
    """
    stakes: dict[_Pair, int] = {}
    equity = [0] * len(index)
    used: list[Leg] = []
    for leg in legs:
        if leg.status is not Status.REALIZED or not _before_end(leg, period):
            continue
        if leg.kind is Kind.EQUITY:
            holder, company = index[leg.payer], index[leg.payee]
            equity[company] += to_cents(leg.amount)
        elif leg.kind is Kind.WARRANT:
            holder, company = index[leg.payee], index[leg.payer]
        else:
            continue
        if company != index[EXTERNAL]:
            _add(stakes, (holder, company), marks.value(leg, period.end))
        used.append(leg)
    return stakes, equity, used


def _build_network(
    legs: Sequence[Leg], prices: Sequence[Price], period: Period, basis: Basis, exact: bool | None
) -> _Network:
    companies = sorted(({leg.payer for leg in legs} | {leg.payee for leg in legs}) - {EXTERNAL})
    nodes = (*companies, EXTERNAL)
    index = {name: i for i, name in enumerate(nodes)}
    ext = len(nodes) - 1
    flows = _realized_flows(legs, index, period, ext)
    table, owed_legs = _obligation_table(legs, index, period, basis)
    stakes, equity, equity_legs = _equity_stakes(legs, index, period, PriceMarks(prices))
    _check_currency(
        [*owed_legs, *(leg for leg in equity_legs if leg.kind is Kind.EQUITY)], flows.currency
    )
    assets = list(flows.from_external)
    for (debtor, creditor), cents in list(table.items()):
        if debtor == ext:  # External always pays: what it owes is the creditor's asset.
            assets[creditor] += cents
            del table[(debtor, creditor)]
    matrix = sp.csr_matrix(
        (
            np.array(list(table.values()), dtype=np.int64),
            ([k[0] for k in table], [k[1] for k in table]),
        ),
        shape=(len(nodes), len(nodes)),
        dtype=np.int64,
    )
    owed, held = [0] * len(nodes), [0] * len(nodes)
    for (_, creditor), cents in table.items():
        owed[creditor] += cents
    for (investor, _), cents in stakes.items():
        held[investor] += cents
    exact = len(nodes) <= EXACT_LIMIT if exact is None else exact
    realized = [leg for leg in legs if leg.status is Status.REALIZED and period.contains(leg.date)]
    estimated = {leg.deal for leg in (*owed_legs, *equity_legs, *realized) if leg.estimate}
    return _Network(
        nodes=nodes,
        sellers=flows.sellers,
        inflow=tuple(flows.inflow),
        revenue=tuple(flows.revenue),
        web_revenue=tuple(flows.web_revenue),
        liabilities=matrix,
        owed=tuple(owed),
        external_assets=tuple(assets),
        stakes=stakes,
        held=tuple(held),
        equity=tuple(equity),
        exact=exact,
        estimated_deals=tuple(sorted(estimated)),
    )


# --------------------------------------------------------------------------------------------
# Channel 1: lost revenue


def _hops(net: _Network, start: int) -> tuple[dict[int, int], dict[int, int]]:
    """Breadth first along purchases from ``start``.

    Returns the hop count of every web company the cut reaches (``start`` at 0), and the round
    in which each node first loses revenue (1 = a direct vendor; the failed company only if
    the cut comes back to it round a cycle; External is reached but passes nothing on).
    """
    hops = {start: 0}
    first: dict[int, int] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for seller, _ in net.sellers.get(node, ()):
            first.setdefault(seller, hops[node] + 1)
            if seller not in hops and seller != net.external:
                hops[seller] = hops[node] + 1
                queue.append(seller)
    return hops, first


def _spending_cuts(net: _Network, failed: int, cut: Fraction, hops: dict[int, int]) -> list[Amount]:
    """Each reachable company's spending cut x, the least solution of x = b + Q x.

    Restricted to the companies reachable from the failed one, ``I − Q`` is non-singular when
    ``cut > 0``: every strongly connected block either holds the failed company (whose row is
    scaled by ``1 − cut``) or receives money from outside itself, so its rows do not all sum
    to one.
    """
    reach = sorted(hops, key=lambda n: (hops[n], n))
    where = {node: k for k, node in enumerate(reach)}
    weights: dict[_Pair, Fraction] = {}
    for buyer in reach:
        for seller, cents in net.sellers.get(buyer, ()):
            if seller in where:
                weight = Fraction(cents, net.inflow[seller])
                weights[(where[seller], where[buyer])] = (
                    weight * (1 - cut) if seller == failed else weight
                )
    rhs = [Fraction(0)] * len(reach)
    rhs[where[failed]] = cut
    if net.exact:
        matrix = [[Fraction(int(r == c)) for c in range(len(reach))] for r in range(len(reach))]
        for (r, c), weight in weights.items():
            matrix[r][c] -= weight
        solution: list[Amount] = list(_solve_exact(matrix, rhs))
    else:
        keys = list(weights)
        q = sp.csc_matrix(
            ([float(weights[k]) for k in keys], ([k[0] for k in keys], [k[1] for k in keys])),
            shape=(len(reach), len(reach)),
        )
        system = (sp.identity(len(reach), format="csc") - q).tocsc()
        values = np.atleast_1d(spsolve(system, np.array([float(v) for v in rhs])))
        solution = np.clip(values, 0.0, 1.0).tolist()
    x: list[Amount] = [0] * len(net.nodes)
    for node, value in zip(reach, solution, strict=True):
        x[node] = value
    return x


def _lost_revenue(net: _Network, failed: int, cut: Fraction) -> tuple[list[Amount], dict[int, int]]:
    """Revenue each node loses, and the round in which each first loses some."""
    lost: list[Amount] = [0] * len(net.nodes)
    if cut == 0:
        return lost, {}
    hops, first = _hops(net, failed)
    x = _spending_cuts(net, failed, cut, hops)
    for buyer, sales in net.sellers.items():
        if x[buyer]:
            for seller, cents in sales:
                lost[seller] += x[buyer] * cents
    return lost, first


# --------------------------------------------------------------------------------------------
# Channels 2 and 3: unpaid obligations, written-down equity


class _Clearings(NamedTuple):
    baseline: ClearingResult
    scenario: ClearingResult


def _clearings(net: _Network, failed: int, cut: Fraction) -> _Clearings:
    """Baseline and scenario clearings around one company's payments, which are given.

    The failed company pays all it owes in the baseline and ``(1 − cut)`` of it in the
    scenario, whatever its own assets (it is handed assets equal to what it owes, so the
    clearing never finds it short): the question is what its not paying does to the others.
    """
    owed = int(net.liabilities[failed].sum())
    assets = list(net.external_assets)
    assets[failed] = owed
    baseline = clearing_vector(net.liabilities, assets, names=net.nodes, exact=net.exact)
    if cut == 0:
        return _Clearings(baseline, baseline)
    caps: list[int | Fraction] = list(baseline.obligations)
    caps[failed] = (1 - cut) * owed
    scenario = clearing_vector(net.liabilities, assets, caps=caps, names=net.nodes, exact=net.exact)
    return _Clearings(baseline, scenario)


def _unpaid(net: _Network, clearings: _Clearings) -> list[Amount]:
    """The extra shortfall on what each node is owed, scenario against baseline."""
    base, scenario = clearings
    unpaid: list[Amount] = [0] * len(net.nodes)
    coo = net.liabilities.tocoo()
    for debtor, creditor, cents in zip(
        coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True
    ):
        drop = base.payments[debtor] - scenario.payments[debtor]
        if drop > 0:
            unpaid[creditor] += drop * cents / base.obligations[debtor]
    return unpaid


def _written_down(net: _Network, failed: int, cut: Fraction, clearings: _Clearings) -> list[Amount]:
    """Equity each investor writes off beyond what the baseline already wrote off."""

    def worthless(result: ClearingResult, node: int) -> Fraction:
        return Fraction(int(result.default_round[node] is not None))

    written: list[Amount] = [0] * len(net.nodes)
    for (investor, investee), cents in net.stakes.items():
        now = worthless(clearings.scenario, investee)
        if investee == failed:
            now = max(now, cut)
        extra = now - worthless(clearings.baseline, investee)
        if extra > 0:
            written[investor] += extra * cents
    return written


# --------------------------------------------------------------------------------------------
# Reports


@dataclass(frozen=True, slots=True)
class CompanyLoss:
    """One company's loss from the failure, in integer cents, by channel.

    ``exposure`` is the most it could lose (see the module docstring). ``revenue_round`` is the
    first round of the spending channel in which it loses revenue (1 = a direct vendor of the
    failed company); ``default_round`` the round of the clearing in which it defaults because
    of the failure (0 for the failed company itself), ``None`` if it does not;
    ``defaulted_at_baseline`` says it could not pay in full even with nobody failing. Shares
    (and ``loss_exceeds_equity``) are ``None`` where the denominator is zero.
    """

    company: Company
    lost_revenue: Cents
    unpaid: Cents
    written_down: Cents
    total: Cents
    exposure: Cents
    revenue: Cents
    equity: Cents
    share_of_revenue: Fraction | None
    share_of_equity: Fraction | None
    loss_exceeds_equity: bool | None
    revenue_round: int | None
    default_round: int | None
    defaulted_at_baseline: bool

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings, shares as four-decimal strings."""
        return {
            "company": self.company,
            "lost_revenue": cents_text(self.lost_revenue),
            "unpaid_obligations": cents_text(self.unpaid),
            "written_down_equity": cents_text(self.written_down),
            "total_loss": cents_text(self.total),
            "exposure": cents_text(self.exposure),
            "revenue": cents_text(self.revenue),
            "equity": cents_text(self.equity),
            "loss_share_of_revenue": ratio_text(self.share_of_revenue),
            "loss_share_of_equity": ratio_text(self.share_of_equity),
            "loss_exceeds_equity": self.loss_exceeds_equity,
            "revenue_round": self.revenue_round,
            "default_round": self.default_round,
            "defaulted_at_baseline": self.defaulted_at_baseline,
        }


@dataclass(frozen=True, slots=True)
class ClearingRow:
    """What one company owes and pays under the Eisenberg–Noe clearing vector, in cents.

    Shown so a reader can check the unpaid-obligations channel: ``obligations`` is p̄_i (all it
    owes in the clearing), ``paid`` is p_i (rounded half to even, so ``paid + shortfall`` is
    exactly ``obligations``), ``ratio`` is the exact p_i / p̄_i (1 = pays in full). The
    ``baseline_`` fields are the same figures when nobody fails. ``defaults`` says it pays less
    than all it owes: for the failed company that is its cut (its payments are given, not
    cleared), for the others a default found by the clearing.
    """

    company: Company
    obligations: Cents
    paid: Cents
    ratio: Fraction
    defaults: bool
    baseline_paid: Cents
    baseline_ratio: Fraction
    defaulted_at_baseline: bool

    @property
    def shortfall(self) -> Cents:
        """What it leaves unpaid in the scenario."""
        return self.obligations - self.paid

    @property
    def baseline_shortfall(self) -> Cents:
        """What it leaves unpaid when nobody fails."""
        return self.obligations - self.baseline_paid

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings, ratios as four-decimal strings."""
        return {
            "company": self.company,
            "obligations": cents_text(self.obligations),
            "paid": cents_text(self.paid),
            "shortfall": cents_text(self.shortfall),
            "ratio": ratio_text(self.ratio),
            "defaults": self.defaults,
            "baseline": {
                "paid": cents_text(self.baseline_paid),
                "shortfall": cents_text(self.baseline_shortfall),
                "ratio": ratio_text(self.baseline_ratio),
                "defaults": self.defaulted_at_baseline,
            },
        }


@dataclass(frozen=True, slots=True)
class ContagionReport:
    """What one company's failure (or spending cut) costs every other company.

    ``losses`` has one row per web company (the failed one too: its own lost revenue when the
    cut comes back to it), largest total loss first, ties by name. ``defaults`` lists
    ``(round, companies)``: round 0 is the failed company (only when ``cut`` is 1), later rounds
    come from the Eisenberg–Noe clearing and leave out companies already in default at
    baseline (``baseline_defaults``). ``external_loss`` is what outsiders lose (sales to,
    obligations owed to, and stakes held by External). ``loss_to_others`` sums the web
    companies' totals, the failed company's own row excluded. ``clearing`` has one
    :class:`ClearingRow` per web company that owes anything, in name order: the clearing
    vector behind the unpaid obligations, scenario and baseline.
    """

    company: Company
    cut: Fraction
    period: Period
    basis: Basis
    losses: tuple[CompanyLoss, ...]
    defaults: tuple[tuple[int, tuple[Company, ...]], ...]
    baseline_defaults: tuple[Company, ...]
    loss_to_others: Cents
    external_loss: Cents
    clearing_rounds: int
    exact: bool
    tolerance: float
    estimated_deals: tuple[str, ...]
    clearing: tuple[ClearingRow, ...]

    def loss_of(self, company: Company) -> CompanyLoss:
        """The row of one company.

        Raises:
            KeyError: no such company in the web.
        """
        for row in self.losses:
            if row.company == company:
                return row
        raise KeyError(company)

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings, shares as four-decimal strings."""
        return {
            "failed": self.company,
            "cut": ratio_text(self.cut),
            "period": self.period.as_dict(),
            "basis": self.basis.value,
            "loss_to_others": cents_text(self.loss_to_others),
            "external_loss": cents_text(self.external_loss),
            "defaults": [
                {"round": found, "companies": list(names)} for found, names in self.defaults
            ],
            "baseline_defaults": list(self.baseline_defaults),
            "clearing_rounds": self.clearing_rounds,
            "exact": self.exact,
            "tolerance_cents": self.tolerance,
            "estimated_deals": list(self.estimated_deals),
            "losses": [row.to_json_dict() for row in self.losses],
            "clearing": [row.to_json_dict() for row in self.clearing],
        }


def _round_cents(value: Amount) -> Cents:
    """Exact (or float) cents to whole cents, half to even; float noise below zero is zero."""
    return max(0, round(Fraction(value)))


def _share(part: Cents, whole: Cents) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def _validate(net: _Network, company: Company, cut: Fraction) -> int:
    errors: list[LedgerError] = []
    if company not in net.nodes[:-1]:
        known = ", ".join(net.nodes[:-1]) or "none"
        errors.append(LedgerError(_SOURCE, 0, f"unknown company {company!r}; companies: {known}"))
    if not 0 <= cut <= 1:
        errors.append(LedgerError(_SOURCE, 0, f"cut {cut} is not between 0 and 1"))
    if errors:
        raise BadInput(errors)
    return net.nodes.index(company)


def _default_round(clearings: _Clearings, node: int, failed: int, cut: Fraction) -> int | None:
    if node == failed and cut == 1:
        return 0
    if clearings.baseline.default_round[node] is not None:
        return None
    return clearings.scenario.default_round[node]


def _paid_cents(result: ClearingResult, node: int) -> Cents:
    """p_i in whole cents, never above p̄_i (so paid + shortfall is exactly p̄_i)."""
    return min(_round_cents(result.payments[node]), result.obligations[node])


def _paid_ratio(result: ClearingResult, node: int) -> Fraction:
    """p_i / p̄_i in [0, 1], from the unrounded payment (float noise clipped)."""
    ratio = Fraction(result.payments[node]) / result.obligations[node]
    return min(max(ratio, Fraction(0)), Fraction(1))


def _clearing_rows(
    net: _Network, clearings: _Clearings, failed: int, cut: Fraction
) -> tuple[ClearingRow, ...]:
    """One row per web company that owes anything (External owes nothing), in name order."""
    base, scenario = clearings
    return tuple(
        ClearingRow(
            company=name,
            obligations=scenario.obligations[i],
            paid=_paid_cents(scenario, i),
            ratio=_paid_ratio(scenario, i),
            defaults=(cut > 0) if i == failed else scenario.default_round[i] is not None,
            baseline_paid=_paid_cents(base, i),
            baseline_ratio=_paid_ratio(base, i),
            defaulted_at_baseline=base.default_round[i] is not None,
        )
        for i, name in enumerate(net.nodes[:-1])
        if scenario.obligations[i] > 0
    )


def _report(
    net: _Network, failed: int, cut: Fraction, period: Period, basis: Basis
) -> ContagionReport:
    lost, first = _lost_revenue(net, failed, cut)
    clearings = _clearings(net, failed, cut)
    base = clearings.baseline
    unpaid = _unpaid(net, clearings)
    written = _written_down(net, failed, cut, clearings)
    rows: list[CompanyLoss] = []
    for i, name in enumerate(net.nodes[:-1]):
        total = _round_cents(lost[i] + unpaid[i] + written[i])
        rows.append(
            CompanyLoss(
                company=name,
                lost_revenue=_round_cents(lost[i]),
                unpaid=_round_cents(unpaid[i]),
                written_down=_round_cents(written[i]),
                total=total,
                exposure=net.web_revenue[i] + net.owed[i] + net.held[i],
                revenue=net.revenue[i],
                equity=net.equity[i],
                share_of_revenue=_share(total, net.revenue[i]),
                share_of_equity=_share(total, net.equity[i]),
                loss_exceeds_equity=total > net.equity[i] if net.equity[i] else None,
                revenue_round=first.get(i),
                default_round=_default_round(clearings, i, failed, cut),
                defaulted_at_baseline=base.default_round[i] is not None,
            )
        )
    rows.sort(key=lambda row: (-row.total, row.company))
    rounds: dict[int, list[Company]] = {}
    for row in rows:
        if row.default_round is not None:
            rounds.setdefault(row.default_round, []).append(row.company)
    ext = net.external
    return ContagionReport(
        company=net.nodes[failed],
        cut=cut,
        period=period,
        basis=basis,
        losses=tuple(rows),
        defaults=tuple((r, tuple(sorted(names))) for r, names in sorted(rounds.items())),
        baseline_defaults=tuple(
            name
            for name, found in zip(net.nodes, base.default_round, strict=True)
            if found is not None
        ),
        loss_to_others=sum(row.total for row in rows if row.company != net.nodes[failed]),
        external_loss=_round_cents(lost[ext] + unpaid[ext] + written[ext]),
        clearing_rounds=clearings.scenario.rounds,
        exact=net.exact,
        tolerance=clearings.scenario.tolerance,
        estimated_deals=net.estimated_deals,
        clearing=_clearing_rows(net, clearings, failed, cut),
    )


def simulate_failure(
    legs: Sequence[Leg],
    prices: Sequence[Price],
    company: Company,
    cut: float | Fraction | Decimal = 1.0,
    period: Period | None = None,
    basis: Basis = Basis.CONTRACTED,
    *,
    exact: bool | None = None,
) -> ContagionReport:
    """What ``company`` failing (``cut=1``) or cutting its spending by ``cut`` costs the web.

    See the module docstring for the three channels, the baseline and the proxies. ``prices``
    mark the stakes that carry units (warrants, shares). A float ``cut`` is read as its
    decimal text (0.3 is exactly 3/10).
    ``exact=None`` is exact on webs of up to :data:`EXACT_LIMIT` nodes.

    Raises:
        BadInput: the company is not in the web, or the cut is outside [0, 1].
        MixedCurrencies: the legs used are in more than one currency.
    """
    period = period or Period()
    net = _build_network(tuple(legs), prices, period, basis, exact)
    fraction = _as_fraction(cut)
    failed = _validate(net, company, fraction)
    return _report(net, failed, fraction, period, basis)


class SystemicImpact(NamedTuple):
    """One company's systemic impact: what the others lose if it alone fails.

    ``defaults`` is how many other companies default because of it (baseline defaulters not
    counted); ``external_loss`` what outsiders lose.
    """

    company: Company
    loss_to_others: Cents
    defaults: int
    external_loss: Cents

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings."""
        return {
            "company": self.company,
            "loss_to_others": cents_text(self.loss_to_others),
            "defaults_caused": self.defaults,
            "external_loss": cents_text(self.external_loss),
        }


@dataclass(frozen=True, slots=True)
class SystemicRanking:
    """Companies ranked by the loss their failure alone causes to the other web companies.

    Iterates (and indexes) as its ``rows``: largest loss first, ties by name.
    """

    period: Period
    basis: Basis
    rows: tuple[SystemicImpact, ...]
    exact: bool

    def __iter__(self) -> Iterator[SystemicImpact]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, k: int) -> SystemicImpact:
        return self.rows[k]

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings."""
        return {
            "period": self.period.as_dict(),
            "basis": self.basis.value,
            "exact": self.exact,
            "ranking": [row.to_json_dict() for row in self.rows],
        }


def systemic_ranking(
    legs: Sequence[Leg],
    prices: Sequence[Price],
    period: Period | None = None,
    basis: Basis = Basis.CONTRACTED,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    exact: bool | None = None,
) -> SystemicRanking:
    """Fail every web company alone (``cut=1``) and rank them by the loss to the others.

    The web is built once; ``on_progress(done, total)`` is called after each company.

    Raises:
        MixedCurrencies: the legs used are in more than one currency.
    """
    period = period or Period()
    net = _build_network(tuple(legs), prices, period, basis, exact)
    companies = len(net.nodes) - 1
    rows: list[SystemicImpact] = []
    for failed in range(companies):
        report = _report(net, failed, Fraction(1), period, basis)
        caused = sum(len(names) for found, names in report.defaults if found > 0)
        rows.append(
            SystemicImpact(net.nodes[failed], report.loss_to_others, caused, report.external_loss)
        )
        if on_progress is not None:
            on_progress(failed + 1, companies)
    rows.sort(key=lambda row: (-row.loss_to_others, row.company))
    return SystemicRanking(period, basis, tuple(rows), net.exact)
