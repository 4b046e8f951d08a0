"""Eisenberg–Noe clearing of an obligations matrix, exact in cents (SPEC §4).

:func:`clearing_vector` is the greatest clearing vector of Eisenberg & Noe, "Systemic Risk in
Financial Systems", Management Science 47(2), 2001, found by their fictitious default
algorithm: at most n rounds, each solving one linear system for the defaulting set, O(n⁴) in
the worst case, exact in :class:`~fractions.Fraction` arithmetic on webs of up to
:data:`EXACT_LIMIT` nodes and in float64 (with a stated tolerance) above.

One extension, used by the stress test's margin convention (:mod:`ledger.conventions`):
``kept[(i, j)]`` in [0, 1] is the share of what i pays j that j keeps to pay its own debts
(the rest pays the cost of delivering what j sold). With every ``kept`` 1 (the default) this is
Eisenberg–Noe exactly; otherwise it is their model with the relative-liabilities matrix scaled
column-wise, which keeps the map monotone and the fictitious default algorithm valid.

Example (A owes B 100 and has 60 from outside; B owes C 50 and has nothing else)::

    >>> result = clearing_vector([[0, 100, 0], [0, 0, 50], [0, 0, 0]], [60, 0, 0])
    >>> [str(p) for p in result.payments], result.default_round
    (['60', '50', '0'], (1, None, None))
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from ledger.model import Cents, from_cents

__all__ = [
    "EXACT_LIMIT",
    "FLOAT_TOLERANCE",
    "Amount",
    "ClearingResult",
    "FloatClearing",
    "as_fraction",
    "cents_text",
    "clearing_vector",
    "ratio_text",
    "solve_exact",
    "verify_clearing",
]

#: Webs of up to this many nodes are solved exactly (Fractions); larger ones in float64.
EXACT_LIMIT = 60
#: Float mode: a node defaults only if it falls short by more than this share of all obligations.
FLOAT_TOLERANCE = 1e-9

Amount = Fraction | float


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
    kept: tuple[Fraction, ...] | None  # per obligation: the share its creditor keeps (None: 1)


def _obligations(
    liabilities: Any, kept: Mapping[tuple[int, int], Fraction] | None = None
) -> _Obligations:
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
    shares = (
        None
        if kept is None
        else tuple(
            as_fraction(kept.get((r, c), 1))
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
        )
    )
    if shares is not None and any(not 0 <= s <= 1 for s in shares):
        raise ValueError("kept shares must lie in [0, 1]")
    return _Obligations(n_rows, rows, cols, cents, totals, shares)


def as_fraction(value: int | Fraction | float | Decimal) -> Fraction:
    """A number as an exact fraction; a float is read as its shortest decimal text."""
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


def solve_exact(matrix: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction]:
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


def _triplets(ob: _Obligations) -> Iterator[tuple[int, int, Fraction]]:
    """(debtor, creditor, cents the creditor keeps of full payment) for every obligation."""
    triplets = zip(ob.rows.tolist(), ob.cols.tolist(), ob.cents.tolist(), strict=True)
    if ob.kept is None:
        return ((debtor, creditor, Fraction(cents)) for debtor, creditor, cents in triplets)
    return (
        (debtor, creditor, cents * share)
        for (debtor, creditor, cents), share in zip(triplets, ob.kept, strict=True)
    )


def _received_exact(ob: _Obligations, payments: list[Fraction]) -> list[Fraction]:
    received = [Fraction(0)] * ob.n
    for debtor, creditor, cents in _triplets(ob):
        received[creditor] += payments[debtor] * cents / int(ob.totals[debtor])
    return received


def _relative(ob: _Obligations) -> sp.csr_matrix:
    """Π as a sparse float matrix: ``Π[i, j]`` = the share of i's obligations j keeps."""
    totals = np.asarray(ob.totals, dtype=np.float64)
    data = ob.cents.astype(np.float64) / totals[ob.rows] if ob.rows.size else np.zeros(0)
    if ob.kept is not None:
        data = data * np.array([float(s) for s in ob.kept], dtype=np.float64)
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
        # In the shares paid q_j = p_j / pbar_j (k_ji = what i keeps of j's payments, 1 in
        # Eisenberg–Noe, where the matrix is integer):
        # pbar_i q_i − Σ_(j∈D) k_ji L_ji q_j = e_i + Σ_(j∉D) k_ji L_ji cap_j / pbar_j  for i ∈ D.
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
                rhs[where[creditor]] += cents / int(ob.totals[debtor]) * caps[debtor]
        for node, share in zip(defaulting, solve_exact(matrix, rhs), strict=True):
            value = share * int(ob.totals[node])
            payments[node] = min(max(value, Fraction(0)), caps[node])


def _fictitious_default_float(
    pi_t: sp.csr_matrix,
    assets: np.ndarray,
    caps: np.ndarray,
    tolerance: float,
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, list[int | None], int]:
    """Eisenberg–Noe's algorithm in float64 with sparse solves (``pi_t``: Πᵀ, kept shares in).

    ``known`` (optional) is a set of nodes known to default at the greatest clearing vector;
    starting from it (round 0) skips the rounds that would find them again and ends on the
    same defaulting set, hence the same final linear system.
    """
    n = pi_t.shape[0]
    payments = caps.copy()
    found: list[int | None] = [None] * n
    defaulting = np.zeros(n, dtype=bool)
    rounds = 0
    if known is not None and known.any():
        defaulting |= known
        for i in np.flatnonzero(known).tolist():
            found[i] = 0
        payments[known] = _solve_defaulting(pi_t, assets, caps, defaulting)
    while True:
        received = pi_t @ payments
        new = ~defaulting & (assets + received < caps - tolerance)
        if not new.any():
            return payments, found, rounds
        rounds += 1
        for i in np.flatnonzero(new).tolist():
            found[i] = rounds
        defaulting |= new
        payments[defaulting] = _solve_defaulting(pi_t, assets, caps, defaulting)


def _solve_defaulting(
    pi_t: sp.csr_matrix, assets: np.ndarray, caps: np.ndarray, defaulting: np.ndarray
) -> np.ndarray:
    """What the defaulting nodes pay when the others pay in full: one sparse linear solve."""
    index = np.flatnonzero(defaulting)
    others = np.flatnonzero(~defaulting)
    rows = pi_t[index]
    block = rows[:, index]
    system = (sp.identity(index.size, format="csc") - block).tocsc()
    rhs = assets[index] + rows[:, others] @ caps[others]
    solution = np.atleast_1d(spsolve(system, rhs))
    return np.clip(solution, 0.0, caps[index])


def clearing_vector(
    liabilities: Any,
    external_assets: Sequence[int],
    *,
    caps: Sequence[int | Fraction] | None = None,
    names: Sequence[str] | None = None,
    exact: bool | None = None,
    kept: Mapping[tuple[int, int], Fraction] | None = None,
) -> ClearingResult:
    """The greatest Eisenberg–Noe clearing vector ``p = min(cap, e + Πᵀ p)``.

    ``liabilities[i][j]`` is what node i owes node j in integer cents (nested sequences, a numpy
    array or a scipy.sparse matrix); ``external_assets[i]`` what i has from outside. Each node
    pays its creditors pro rata: all it owes, or all it has. ``caps`` (default: each node's
    total obligations) lowers what a node will pay at most — a company cutting its payments —
    while its creditors keep their full claims; ``cap = 0`` is a node that pays nothing.
    ``kept[(i, j)]`` (default 1) is the share of i's payments to j that j keeps to pay its own
    debts (see the module docstring); ``received`` counts only what is kept.

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
    ob = _obligations(liabilities, kept)
    if len(external_assets) != ob.n or (caps is not None and len(caps) != ob.n):
        raise ValueError("external_assets and caps must have one entry per node")
    if any(int(a) != a or a < 0 for a in external_assets):
        raise ValueError("external assets must be non-negative integer cents")
    totals = [int(t) for t in ob.totals]
    fraction_caps = (
        [Fraction(t) for t in totals]
        if caps is None
        else [
            min(max(as_fraction(c), Fraction(0)), Fraction(t))
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
            _relative(ob).T.tocsr(),
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


class FloatClearing:
    """One obligations matrix, validated once, cleared in float64 for many asset and cap vectors.

    The same algorithm and tolerance as :func:`clearing_vector` with ``exact=False``, for a
    systemic ranking that clears the same web once per failing company.
    """

    def __init__(
        self, liabilities: Any, kept: Mapping[tuple[int, int], Fraction] | None = None
    ) -> None:
        ob = _obligations(liabilities, kept)
        self.rows, self.cols = ob.rows, ob.cols
        self.totals = ob.totals.astype(np.float64)
        share = np.ones(len(ob.rows)) if ob.kept is None else np.array([float(s) for s in ob.kept])
        self.kept_cents = ob.cents.astype(np.float64) * share
        self.pi_t = _relative(ob).T.tocsr()
        self.tolerance = FLOAT_TOLERANCE * max(1.0, float(sum(int(x) for x in ob.totals)))

    def solve(
        self, assets: np.ndarray, caps: np.ndarray, known: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Payments and a "defaults" mask for these means and caps (caps within [0, totals]).

        ``known``: nodes known to default (e.g. the baseline's defaulters, when only caps were
        lowered), to start from.
        """
        payments, found, _ = _fictitious_default_float(
            self.pi_t, assets.astype(np.float64), caps.astype(np.float64), self.tolerance, known
        )
        return payments, np.array([f is not None for f in found], dtype=bool)


def verify_clearing(
    result: ClearingResult,
    liabilities: Any,
    kept: Mapping[tuple[int, int], Fraction] | None = None,
) -> tuple[str, ...]:
    """Check a clearing result against its matrix; return the problems found (none: empty).

    Checks that every payment lies in [0, cap], that what each node receives is the pro-rata
    share of its debtors' payments, and that each node pays in full (its cap) or pays all it
    has (``p = e + received``): the fixed-point equation. Exact results are checked exactly,
    float results to their tolerance.
    """
    ob = _obligations(liabilities, kept)
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
