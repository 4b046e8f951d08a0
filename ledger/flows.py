"""Legs -> the flow graph that netting and the audit work on (SPEC §3).

In: legs (records or a frame of them), a :class:`~ledger.model.Period` and a
:class:`~ledger.model.Basis`. Out: a :class:`FlowGraph` with one node per company plus
``External`` and one edge per (payer, payee, kind): parallel legs of one kind between two
companies are merged, their amounts added in integer cents. Non-cash legs (warrants, backstops
not drawn) move no money: they are kept apart as ``paper`` legs, never as edges.

The graph is arrays (numpy) because the same code serves three hand-checkable companies and a
synthetic web of a million legs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ledger.model import (
    EXTERNAL,
    Basis,
    Cents,
    Company,
    FlowClass,
    Kind,
    Leg,
    Period,
    RoundtripError,
    Status,
    flow_class,
    included_in_basis,
)

__all__ = [
    "FlowGraph",
    "GraphError",
    "MixedCurrencies",
    "SelfPayment",
    "build_flow_graph",
    "legs_frame",
]

#: Columns of a legs frame, the tabular twin of a list of :class:`Leg`.
FRAME_COLUMNS = (
    "date",
    "deal",
    "leg",
    "payer",
    "payee",
    "kind",
    "cents",
    "currency",
    "status",
    "estimate",
)

KINDS: tuple[Kind, ...] = tuple(Kind)
_KIND_CODE = {kind.value: code for code, kind in enumerate(KINDS)}


class GraphError(RoundtripError):
    """Legs that cannot make a flow graph (the readers catch most of these with file and line)."""


class MixedCurrencies(GraphError):
    """The legs of one graph are in more than one currency and no price converts them."""


class SelfPayment(GraphError):
    """A leg whose payer is its payee: it would count as 100% circular revenue, so it is refused.

    The readers refuse such legs with file and line; this guards legs built in code.
    """


@dataclass(frozen=True, slots=True)
class FlowGraph:
    """Money edges between companies for one period and basis.

    ``src``/``dst`` index ``nodes``; ``cents`` are positive integers; ``kind`` holds codes into
    :data:`KINDS`; ``revenue`` marks revenue edges (the payee's revenue); ``estimated`` marks
    edges that rest on at least one estimated leg. ``paper`` are the non-cash legs, reported as
    paper value only.
    """

    nodes: tuple[Company, ...]
    src: np.ndarray
    dst: np.ndarray
    cents: np.ndarray
    kind: np.ndarray
    revenue: np.ndarray
    estimated: np.ndarray
    period: Period
    basis: Basis
    currency: str
    paper: tuple[Leg, ...] = ()
    _positions: dict[Company, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_positions", {name: i for i, name in enumerate(self.nodes)})

    @property
    def n_edges(self) -> int:
        """How many (merged) edges the graph has."""
        return int(self.src.shape[0])

    def index(self, company: Company) -> int:
        """The node index of a company (O(1)).

        Raises:
            ValueError: no such node (as ``tuple.index`` would).
        """
        try:
            return self._positions[company]
        except KeyError:
            raise ValueError(f"{company!r} is not a node of the graph") from None

    @property
    def external(self) -> int | None:
        """The node index of ``External``, if any leg touches it."""
        return self._positions.get(EXTERNAL)

    def edge_kind(self, edge: int) -> Kind:
        """The kind of one edge."""
        return KINDS[int(self.kind[edge])]

    def companies(self) -> tuple[Company, ...]:
        """All nodes but ``External``."""
        return tuple(node for node in self.nodes if node != EXTERNAL)


def legs_frame(legs: Iterable[Leg]) -> pd.DataFrame:
    """The legs as a frame (see :func:`ledger.legs_frame.frame_of_legs`, which it calls)."""
    from ledger.legs_frame import frame_of_legs

    return frame_of_legs(legs)


def _codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and the distinct values of a column (categorical or not)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), np.asarray(series.cat.categories, dtype=object)
    codes, uniques = pd.factorize(series, sort=False)
    return codes, np.asarray(uniques, dtype=object)


def _select(frame: pd.DataFrame, period: Period, basis: Basis) -> np.ndarray:
    """Which rows fall in the period and have a status that counts under the basis."""
    codes, statuses = _codes(frame["status"])
    counted = np.array([str(s) in _BASIS_VALUES[basis] for s in statuses] + [False], dtype=bool)
    keep = counted[codes]
    if period.start is not None or period.end is not None:
        dates = frame["date"]
        if not pd.api.types.is_datetime64_any_dtype(dates):
            dates = pd.to_datetime(dates)
        days = dates.to_numpy()
        if period.start is not None:
            keep &= days >= np.datetime64(period.start)
        if period.end is not None:
            keep &= days < np.datetime64(period.end)
    return keep


_BASIS_VALUES = {
    basis: frozenset(s.value for s in Status if included_in_basis(s, basis)) for basis in Basis
}
_REVENUE_CODES = frozenset(
    _KIND_CODE[k.value] for k in KINDS if flow_class(k, Status.REALIZED) is FlowClass.REVENUE
)


def _kind_codes(frame: pd.DataFrame) -> np.ndarray:
    """The :data:`KINDS` code of every row."""
    codes, kinds = _codes(frame["kind"])
    table = np.array([_KIND_CODE[str(k)] for k in kinds] + [-1], dtype=np.int64)
    return table[codes]


def _noncash(frame: pd.DataFrame, chosen: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Which chosen rows move no money (vectorised :func:`~ledger.model.flow_class`)."""
    codes, statuses = _codes(frame["status"])
    codes = codes[chosen]
    status = [Status(str(s)) for s in statuses]
    table = np.zeros((len(KINDS), len(status) + 1), dtype=bool)
    for k, one in enumerate(KINDS):
        for j, st in enumerate(status):
            table[k, j] = flow_class(one, st) is FlowClass.NONCASH
    return table[kind, codes]


def _paper_legs(frame: pd.DataFrame, rows: np.ndarray) -> tuple[Leg, ...]:
    """The non-cash rows as Leg records (few: warrants, undrawn backstops)."""
    if not len(rows):
        return ()
    from ledger.legs_frame import legs_of_frame

    return legs_of_frame(frame.iloc[rows])


def build_flow_graph(
    legs: Iterable[Leg] | pd.DataFrame,
    period: Period | None = None,
    basis: Basis = Basis.REALIZED,
) -> FlowGraph:
    """Build the flow graph of the legs that fall in ``period`` and count under ``basis``.

    ``legs`` is Leg records or a legs frame (:mod:`ledger.legs_frame`, or just
    :data:`FRAME_COLUMNS`); a frame is read column-wise, never row by row.

    Raises:
        MixedCurrencies: the selected money legs are in more than one currency.
        SelfPayment: a leg pays its own payer.
    """
    period = period or Period()
    if not isinstance(legs, pd.DataFrame):
        from ledger.legs_frame import frame_of_legs

        legs = frame_of_legs(legs)
    frame = legs
    chosen = np.flatnonzero(_select(frame, period, basis))
    payer_codes, payer_names = _codes(frame["payer"])
    payee_codes, payee_names = _codes(frame["payee"])
    names = sorted(
        set(payer_names[np.unique(payer_codes[chosen])])
        | set(payee_names[np.unique(payee_codes[chosen])])
    )
    position = {name: i for i, name in enumerate(names)}
    payer_node = np.array([position.get(x, -1) for x in payer_names] + [-1], dtype=np.int64)
    payee_node = np.array([position.get(x, -1) for x in payee_names] + [-1], dtype=np.int64)
    s = payer_node[payer_codes[chosen]]
    d = payee_node[payee_codes[chosen]]
    own = np.flatnonzero(s == d)
    if len(own):
        row = frame.iloc[int(chosen[own[0]])]
        raise SelfPayment(
            f"deal {row['deal']}: {row['payer']} pays itself; a leg needs two parties"
        )
    kind = _kind_codes(frame)[chosen]
    noncash = _noncash(frame, chosen, kind)
    money = ~noncash
    currency_codes, currencies = _codes(frame["currency"])
    used = sorted({str(c) for c in currencies[np.unique(currency_codes[chosen[money]])]})
    if len(used) > 1:
        raise MixedCurrencies(
            f"legs in {', '.join(used)} with no price to convert them; net one currency at a time"
        )
    src, dst, cents, kinds, estimated = _merge(
        s[money],
        d[money],
        kind[money],
        frame["cents"].to_numpy()[chosen[money]].astype(np.int64),
        frame["estimate"].to_numpy()[chosen[money]].astype(bool),
        len(names),
    )
    arrays = {
        "src": src,
        "dst": dst,
        "cents": cents,
        "kind": kinds,
        "revenue": np.isin(kinds, list(_REVENUE_CODES)),
        "estimated": estimated,
    }
    for array in arrays.values():
        array.setflags(write=False)
    return FlowGraph(
        nodes=tuple(names),
        period=period,
        basis=basis,
        currency=used[0] if used else "USD",
        paper=_paper_legs(frame, chosen[noncash]),
        **arrays,
    )


def _merge(
    s: np.ndarray, d: np.ndarray, k: np.ndarray, cents: np.ndarray, estimate: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One edge per (payer, payee, kind), sorted; cents summed exactly in int64."""
    key = (s * n + d) * len(KINDS) + k
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.diff(key, prepend=-1)) if len(key) else np.zeros(0, np.int64)
    first = key[starts]
    summed = np.add.reduceat(cents[order], starts) if len(key) else np.zeros(0, np.int64)
    any_estimate = (
        np.logical_or.reduceat(estimate[order], starts) if len(key) else np.zeros(0, bool)
    )
    kinds = first % len(KINDS)
    pair = first // len(KINDS)
    return (
        (pair // n).astype(np.int64),
        (pair % n).astype(np.int64),
        summed.astype(np.int64),
        kinds.astype(np.int64),
        any_estimate.astype(bool),
    )


def cents_of(graph: FlowGraph, edges: np.ndarray) -> Cents:
    """The exact integer total of some edges' amounts."""
    return int(graph.cents[edges].sum())
