"""Cycle witnesses: a circulation split into simple cycles a reader can follow by hand.

In: a circulation on a graph (``n`` nodes, edge arrays ``src``/``dst``, one value per edge:
exact integers, or float64 cents). Out: :class:`Witnesses` — every cycle as a run of edge
indices (starting at its lowest node index, which is the alphabetically first company since
flow-graph nodes are sorted by name), its amount in whole cents, largest first. Together the
cycles carry the whole circulation, so each company's cycles through its revenue edges add up
to its circular revenue.

Algorithm: the classic walk (follow edges with flow left, largest first, until a node
repeats; peel that cycle off by its smallest remaining value; go on from the repeated node),
Ahuja, Magnanti & Orlin, *Network Flows* (1993), §3.5. Its work is the witnesses' total length
(every cycle is written out), O(E * L) for cycle length L; it runs compiled (numba) on large
circulations — a million-leg web has some 400,000 cycles of about 19 edges — and in Python on
small ones, where loading the compiler would cost more. Everything around it (rounding,
ordering, the JSON) is vectorised or runs only for the cycles shown.

Float circulations carry noise: an edge counts as empty below ``1e-9`` of its value plus
``1e-6`` cents, and where noise breaks conservation (a node with a little inflow and no
outflow left) that noise is dropped, never more.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import numpy as np

__all__ = [
    "Witnesses",
    "decompose",
    "exact_values",
    "ordered",
    "round_float_cents",
    "round_half_even",
    "load_compiled_walk",
]


class Witnesses:
    """Cycles as runs of edge indices: cycle ``i`` is ``edges[offsets[i]:offsets[i + 1]]``.

    ``cents`` (int64) is each cycle's amount in whole cents; cycles come largest first (ties:
    by node path, then by kinds), each starting at its lowest node index.

    Made by :func:`ordered` from the walk's cycles, they are put in that order only as far as
    they are read: a netting of a million legs finds some 400,000 cycles and shows the largest
    20, so :meth:`runs` with a limit sorts only the cycles that can be among the first
    ``limit``, while ``edges``, ``offsets``, ``cents`` and :meth:`cycle` sort them all (once).
    """

    __slots__ = ("_count", "_raw", "_sorted")

    def __init__(self, edges: np.ndarray, offsets: np.ndarray, cents: np.ndarray) -> None:
        self._sorted: tuple[np.ndarray, np.ndarray, np.ndarray] | None = (edges, offsets, cents)
        self._raw: _Unsorted | None = None
        self._count = int(cents.shape[0])

    @classmethod
    def _of_unsorted(cls, raw: _Unsorted) -> Witnesses:
        witnesses = cls.__new__(cls)
        witnesses._sorted = None
        witnesses._raw = raw
        witnesses._count = len(raw.kept)
        return witnesses

    def _all(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._sorted is None:
            assert self._raw is not None
            self._sorted = self._raw.take(self._raw.order(None))
            self._raw = None
        return self._sorted

    @property
    def edges(self) -> np.ndarray:
        """Every cycle's edge indices, one after another, in witness order."""
        return self._all()[0]

    @property
    def offsets(self) -> np.ndarray:
        """Where each cycle starts in ``edges`` (one more entry than cycles)."""
        return self._all()[1]

    @property
    def cents(self) -> np.ndarray:
        """Each cycle's amount in whole cents, largest first."""
        return self._all()[2]

    def __len__(self) -> int:
        return self._count

    def cycle(self, i: int) -> np.ndarray:
        """The edge indices of cycle ``i``, in order."""
        return self.edges[self.offsets[i] : self.offsets[i + 1]]

    def runs(self, limit: int | None = None) -> Iterator[tuple[np.ndarray, int]]:
        """``(edges, cents)`` of the first ``limit`` cycles (all when ``limit`` is None)."""
        count = len(self) if limit is None else min(limit, len(self))
        if self._sorted is None and self._raw is not None and count < len(self) // 2:
            edges, offsets, cents = self._raw.take(self._raw.order(count))
        else:
            edges, offsets, cents = self._all()
        for i in range(count):
            yield edges[offsets[i] : offsets[i + 1]], int(cents[i])

    @classmethod
    def empty(cls) -> Witnesses:
        """No cycles."""
        return cls(np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int64))


def round_half_even(numerators: np.ndarray, denominator: int) -> np.ndarray:
    """Exact ``numerators / denominator`` rounded to whole units, half to even (int arrays)."""
    q = numerators // denominator
    r = numerators - q * denominator
    twice = 2 * r
    up = (twice > denominator) | ((twice == denominator) & (q % 2 == 1))
    return q + up


def round_float_cents(values: np.ndarray) -> np.ndarray:
    """Float cents to whole cents, half to even, after snapping off float noise.

    The same rule as :func:`ledger.netting._round_float` with each value as its own magnitude:
    values far from a half cent round plainly (vectorised); the few near a half cent are
    snapped to a decimal grid far coarser than float noise first, one by one.
    """
    values = np.asarray(values, dtype=np.float64)
    result = np.rint(values).astype(np.int64)
    magnitude = np.abs(values) + 1.0
    digits = 12 - np.ceil(np.log10(magnitude))
    grid = np.clip(digits, 1, 6)
    near = np.abs(values - np.floor(values) - 0.5) <= 2 * 10.0**-grid
    for i in np.flatnonzero(near):
        quantum = Decimal(1).scaleb(-int(grid[i]))
        snapped = Decimal(float(values[i])).quantize(quantum, rounding=ROUND_HALF_EVEN)
        result[i] = int(snapped.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    return result


def decompose(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    kind: np.ndarray,
    values: np.ndarray,
    preference: np.ndarray,
    denominator: int = 1,
) -> Witnesses:
    """Split a circulation into simple cycles (see the module doc).

    Args:
        n: number of nodes.
        src: tail node of every edge.
        dst: head node of every edge.
        kind: a code per edge (breaks ties between equal cycles' order).
        values: the circulation per edge: an integer array (int64 or object, exact, in units
            of ``1/denominator`` cent) or float64 cents.
        preference: a rank per edge; each node leaves first by its lowest-ranked edge.
        denominator: for exact values, how many units make a cent.

    Returns:
        The cycles with a positive amount once rounded to whole cents, largest first.
    """
    values = np.asarray(values)
    exact = values.dtype.kind in "iuO"
    edges, offsets, raw = _peel(n, src, dst, values, preference, exact)
    if not len(raw):
        return Witnesses.empty()
    if exact:
        cents = round_half_even(raw, denominator).astype(np.int64)
    else:
        cents = round_float_cents(raw.astype(np.float64))
    return ordered(edges, offsets, cents, src, kind)


def _peel(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    values: np.ndarray,
    preference: np.ndarray,
    exact: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The classic walk, compiled when the circulation is large and numba is installed."""
    small = int(np.count_nonzero(values > 0)) < _COMPILED_EDGES
    if values.dtype == object or small or not _has_numba():
        return _walk_python(n, src, dst, values, preference, exact)
    remaining = values.astype(np.float64 if not exact else np.int64).copy()
    floor = np.zeros(len(values), np.int64) if exact else 1e-9 * np.abs(remaining) + 1e-6
    positive = np.flatnonzero(remaining > floor)
    order = positive[np.lexsort((preference[positive], src[positive]))]
    tails = src[order]
    begin = np.searchsorted(tails, np.arange(n), side="left").astype(np.int64)
    end = np.searchsorted(tails, np.arange(n), side="right").astype(np.int64)
    return _compiled_walk()(
        n,
        src.astype(np.int64),
        dst.astype(np.int64),
        order.astype(np.int64),
        begin,
        end,
        remaining,
        floor,
    )


#: Below this many positive edges the pure-Python walk is quicker than loading the compiler.
_COMPILED_EDGES = 20_000


def _has_numba() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - numba is a dependency; the walk still works
        return False
    return True


_WALK: list = []
_WALK_LOCK = threading.Lock()


def load_compiled_walk() -> None:
    """Load the compiled walk now (numba's import and its cached machine code, about 0.4 s).

    A caller about to read a large input runs this on another thread, so that on a second
    core the loading overlaps with the reading instead of following the solve. It only loads
    code: a failure here leaves the walk to be loaded on first use, as without it.
    """
    if not _has_numba():
        return
    try:  # one tiny call with the float signature of large webs loads it from the cache
        one = np.zeros(1, np.int64)
        _compiled_walk()(1, one, one, one, one, one + 1, np.ones(1), np.zeros(1))
    except Exception:  # noqa: BLE001 - a warm-up; the real call reports any problem
        return


def _compiled_walk():  # noqa: ANN202 - a numba dispatcher
    """The walk of :func:`ledger.circulation.decompose_cycles`, compiled once and cached."""
    with _WALK_LOCK:
        if not _WALK:
            _WALK.append(_define_walk())
    return _WALK[0]


def _define_walk():  # noqa: ANN202 - a numba dispatcher
    import numba

    @numba.njit(cache=True)
    def walk(n, tails, heads, order, begin, end, remaining, floor):  # noqa: ANN001, ANN202
        pointer = begin.copy()
        position = np.full(n, -1, np.int64)
        stack = np.empty(n + 1, np.int64)
        path = np.empty(n + 1, np.int64)
        capacity = max(16, 4 * len(order))
        out = np.empty(capacity, np.int64)
        offsets = [0]
        amounts = [remaining[0] * 0]
        used = 0
        for start in range(n):
            depth = 1
            stack[0] = start
            length = 0
            position[start] = 0
            node = start
            while True:
                i = pointer[node]
                while i < end[node] and remaining[order[i]] <= floor[order[i]]:
                    i += 1
                pointer[node] = i
                if i == end[node]:
                    if length == 0:
                        break
                    length -= 1
                    remaining[path[length]] = 0  # float noise only: drop it, step back
                    depth -= 1
                    position[stack[depth]] = -1
                    node = stack[depth - 1]
                    continue
                edge = order[i]
                path[length] = edge
                length += 1
                node = heads[edge]
                at = position[node]
                if at < 0:
                    position[node] = depth
                    stack[depth] = node
                    depth += 1
                    continue
                amount = remaining[path[at]]
                for k in range(at, length):
                    if remaining[path[k]] < amount:
                        amount = remaining[path[k]]
                if used + (length - at) > capacity:
                    capacity = 2 * capacity + (length - at)
                    grown = np.empty(capacity, np.int64)
                    grown[:used] = out[:used]
                    out = grown
                lowest = at  # write the cycle from its lowest node on
                for k in range(at, length):
                    if tails[path[k]] < tails[path[lowest]]:
                        lowest = k
                for k in range(at, length):
                    e = path[k]
                    remaining[e] -= amount
                    if remaining[e] <= floor[e]:
                        remaining[e] = 0
                    out[used] = path[
                        lowest + k - at if lowest + k - at < length else lowest + k - length
                    ]
                    used += 1
                offsets.append(used)
                amounts.append(amount)
                for k in range(at + 1, depth):
                    position[stack[k]] = -1
                depth = at + 1
                length = at
            position[start] = -1
        result = np.empty(len(amounts) - 1, remaining.dtype)
        for k in range(1, len(amounts)):
            result[k - 1] = amounts[k]
        return out[:used].copy(), np.array(offsets, np.int64), result

    return walk


def _walk_python(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    values: np.ndarray,
    preference: np.ndarray,
    exact: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The classic walk in Python, each cycle rotated to its lowest node."""
    from ledger.circulation import decompose_cycles

    walk_values: list[int] | np.ndarray = (
        [int(x) for x in values] if exact else np.asarray(values, dtype=np.float64)
    )
    pieces = decompose_cycles(n, src, dst, walk_values, preference)
    runs = []
    for edges, _ in pieces:
        run = np.asarray(edges, dtype=np.int64)
        first = int(np.argmin(src[run]))
        runs.append(np.concatenate([run[first:], run[:first]]) if first else run)
    dtype = object if exact else np.float64
    amounts = np.array([amount for _, amount in pieces], dtype=dtype)
    lengths = [len(run) for run in runs]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    edges = np.concatenate(runs) if runs else np.zeros(0, np.int64)
    return edges, offsets, amounts


def ordered(
    edges: np.ndarray, offsets: np.ndarray, cents: np.ndarray, src: np.ndarray, kind: np.ndarray
) -> Witnesses:
    """Keep the cycles worth a cent or more, largest first; ties by node path, then kinds.

    The order is found when the witnesses are read (see :class:`Witnesses`).
    """
    return Witnesses._of_unsorted(_Unsorted(edges, offsets, cents, src, kind))


@dataclass(frozen=True, eq=False)
class _Unsorted:
    """The walk's cycles before ordering, and what their order depends on."""

    edges: np.ndarray
    offsets: np.ndarray
    cents: np.ndarray
    src: np.ndarray
    kind: np.ndarray

    @property
    def kept(self) -> np.ndarray:
        """The cycles worth a cent or more, in the walk's order."""
        return np.flatnonzero(self.cents > 0)

    def order(self, limit: int | None) -> np.ndarray:
        """The first ``limit`` kept cycles (all when None) in witness order.

        With a limit only the cycles at least as large as the limit-th largest take part:
        every tie of an amount that can be shown is among them, so the first ``limit`` are the
        same as in the full order.
        """
        candidates = self.kept
        if limit is not None and limit < len(candidates):
            amounts = self.cents[candidates]
            threshold = -np.partition(-amounts, limit - 1)[limit - 1] if limit else None
            candidates = candidates[amounts >= threshold] if limit else candidates[:0]
        order = candidates[np.argsort(-self.cents[candidates], kind="stable")]
        sorted_cents = self.cents[order]
        if len(order) > 1 and (np.diff(sorted_cents) == 0).any():
            order = _break_ties(order, sorted_cents, self.edges, self.offsets, self.src, self.kind)
        return order if limit is None else order[:limit]

    def take(self, order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The cycles ``order`` names, in that order, as (edges, offsets, cents)."""
        lengths = np.diff(self.offsets)[order]
        new_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        if len(order):
            starts = self.offsets[order]
            index = np.repeat(starts - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
            new_edges = self.edges[index]
        else:
            new_edges = np.zeros(0, np.int64)
        return new_edges, new_offsets, self.cents[order].astype(np.int64)


def _break_ties(
    order: np.ndarray,
    sorted_cents: np.ndarray,
    edges: np.ndarray,
    offsets: np.ndarray,
    src: np.ndarray,
    kind: np.ndarray,
) -> np.ndarray:
    """Within runs of equal amounts, order cycles by node path, then kinds (tuple order).

    Only tied cycles take part. Each becomes one row of big-endian unsigned integers — its
    group, its nodes, its kinds, each shifted so that the padding (0) sorts below every real
    value, as a shorter path that is a prefix of a longer one comes first with tuples — and
    the rows, viewed as bytes, are sorted in one stable pass: byte order is then tuple order,
    and one sort of wide keys is quicker than a ``lexsort`` of one key per column.
    """
    order = order.copy()
    starts = np.flatnonzero(np.diff(sorted_cents, prepend=sorted_cents[0] - 1))
    sizes = np.diff(np.append(starts, len(sorted_cents)))
    tied = np.repeat(sizes > 1, sizes)
    positions = np.flatnonzero(tied)
    if not len(positions):
        return order
    group = np.repeat(np.arange(len(starts)), sizes)[positions]
    cycles = order[positions]
    lengths = offsets[cycles + 1] - offsets[cycles]
    width = int(lengths.max())
    row = np.repeat(np.arange(len(cycles)), lengths)
    column = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    run = edges[np.repeat(offsets[cycles], lengths) + column]
    nodes, kinds = src[run].astype(np.int64), kind[run].astype(np.int64)
    keys = np.zeros((len(cycles), 2 * width + 1), dtype=">u8")
    keys[:, 0] = group
    keys[row, 1 + column] = nodes - nodes.min() + 1
    keys[row, 1 + width + column] = kinds - kinds.min() + 1
    rows = keys.view(np.dtype((np.void, keys.shape[1] * 8))).ravel()
    order[positions] = cycles[np.argsort(rows, kind="stable")]
    return order


def exact_values(
    integral: np.ndarray, variable: np.ndarray, fractions: tuple[Fraction, ...] | None
) -> tuple[np.ndarray, int]:
    """An exact circulation as integers in units of ``1/denominator`` cent, and the denominator.

    int64 when it fits (always when nothing is fractional), else Python integers.
    """
    if not fractions:
        return np.asarray(integral, dtype=np.int64), 1
    denominator = math.lcm(*(f.denominator for f in fractions))
    largest = int(np.abs(integral).max()) if len(integral) else 0
    largest = max([largest, *(abs(math.ceil(f)) for f in fractions)])
    dtype: type | str = np.int64 if largest * denominator < 2**62 else object
    scaled = np.asarray(integral, dtype=np.int64).astype(dtype) * denominator
    where = np.flatnonzero(variable)
    for edge, value in zip(where.tolist(), fractions, strict=True):
        scaled[edge] = int(value * denominator)
    return scaled, denominator
