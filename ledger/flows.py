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
from dataclasses import dataclass

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
    to_cents,
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

    @property
    def n_edges(self) -> int:
        """How many (merged) edges the graph has."""
        return int(self.src.shape[0])

    def index(self, company: Company) -> int:
        """The node index of a company."""
        return self.nodes.index(company)

    @property
    def external(self) -> int | None:
        """The node index of ``External``, if any leg touches it."""
        return self.nodes.index(EXTERNAL) if EXTERNAL in self.nodes else None

    def edge_kind(self, edge: int) -> Kind:
        """The kind of one edge."""
        return KINDS[int(self.kind[edge])]

    def companies(self) -> tuple[Company, ...]:
        """All nodes but ``External``."""
        return tuple(node for node in self.nodes if node != EXTERNAL)


def legs_frame(legs: Iterable[Leg]) -> pd.DataFrame:
    """The legs as a frame with :data:`FRAME_COLUMNS` (amounts in integer cents)."""
    rows = [
        (
            leg.date,
            leg.deal,
            leg.leg,
            leg.payer,
            leg.payee,
            leg.kind.value,
            to_cents(leg.amount),
            leg.currency,
            leg.status.value,
            leg.estimate,
        )
        for leg in legs
    ]
    frame = pd.DataFrame.from_records(rows, columns=list(FRAME_COLUMNS))
    frame["cents"] = frame["cents"].astype("int64")
    return frame


def _select(frame: pd.DataFrame, period: Period, basis: Basis) -> pd.DataFrame:
    """The rows of the period whose status counts under the basis."""
    keep = frame["status"].isin([s.value for s in Status if included_in_basis(s, basis)])
    if period.start is not None or period.end is not None:
        dates = pd.to_datetime(frame["date"])
        if period.start is not None:
            keep &= dates >= pd.Timestamp(period.start)
        if period.end is not None:
            keep &= dates < pd.Timestamp(period.end)
    return frame[keep]


def _classes(frame: pd.DataFrame) -> pd.Series:
    """The flow class of every row (vectorised :func:`~ledger.model.flow_class`)."""
    pairs = frame[["kind", "status"]].drop_duplicates()
    table = {
        (k, s): flow_class(Kind(k), Status(s)).value
        for k, s in pairs.itertuples(index=False, name=None)
    }
    return pd.Series(
        [table[(k, s)] for k, s in zip(frame["kind"], frame["status"], strict=True)],
        index=frame.index,
        dtype="object",
    )


def build_flow_graph(
    legs: Iterable[Leg] | pd.DataFrame,
    period: Period | None = None,
    basis: Basis = Basis.REALIZED,
) -> FlowGraph:
    """Build the flow graph of the legs that fall in ``period`` and count under ``basis``.

    Raises:
        MixedCurrencies: the selected money legs are in more than one currency.
        SelfPayment: a leg pays its own payer.
    """
    period = period or Period()
    paper: tuple[Leg, ...] = ()
    if isinstance(legs, pd.DataFrame):
        frame = legs
    else:
        legs = tuple(legs)
        frame = legs_frame(legs)
    frame = _select(frame, period, basis)
    own = frame["payer"] == frame["payee"]
    if own.any():
        row = frame[own].iloc[0]
        raise SelfPayment(
            f"deal {row['deal']}: {row['payer']} pays itself; a leg needs two parties"
        )
    classes = _classes(frame) if len(frame) else pd.Series([], dtype="object")
    money = frame[(classes != FlowClass.NONCASH.value).to_numpy()]
    if not isinstance(legs, pd.DataFrame):
        chosen = set(
            frame[(classes == FlowClass.NONCASH.value).to_numpy()][["deal", "leg"]].itertuples(
                index=False, name=None
            )
        )
        paper = tuple(leg for leg in legs if leg.key in chosen)

    currencies = sorted(set(money["currency"]))
    if len(currencies) > 1:
        raise MixedCurrencies(
            f"legs in {', '.join(currencies)} with no price to convert them; "
            "net one currency at a time"
        )
    currency = currencies[0] if currencies else "USD"

    names = sorted(set(frame["payer"]) | set(frame["payee"]))
    code = {name: i for i, name in enumerate(names)}
    merged = (
        money.assign(
            s=money["payer"].map(code),
            d=money["payee"].map(code),
            k=money["kind"].map(_KIND_CODE),
        )
        .groupby(["s", "d", "k"], sort=True)
        .agg(cents=("cents", "sum"), estimated=("estimate", "any"))
        .reset_index()
    )
    revenue_codes = [
        _KIND_CODE[k.value] for k in KINDS if flow_class(k, Status.REALIZED) is FlowClass.REVENUE
    ]
    arrays = {
        "src": merged["s"].to_numpy(np.int64),
        "dst": merged["d"].to_numpy(np.int64),
        "cents": merged["cents"].to_numpy(np.int64),
        "kind": merged["k"].to_numpy(np.int64),
        "revenue": merged["k"].isin(revenue_codes).to_numpy(bool),
        "estimated": merged["estimated"].to_numpy(bool),
    }
    for array in arrays.values():
        array.setflags(write=False)
    return FlowGraph(
        nodes=tuple(names),
        period=period,
        basis=basis,
        currency=currency,
        paper=paper,
        **arrays,
    )


def cents_of(graph: FlowGraph, edges: np.ndarray) -> Cents:
    """The exact integer total of some edges' amounts."""
    return int(graph.cents[edges].sum())
