"""What each headline rests on: how much it moves without each estimate, deal and dollar (SPEC §4).

A headline figure — the web's circular revenue, a failure's loss to the others — can rest on a
single estimated leg. For the largest figures this module measures, exactly and in cents:

- **Removals**: the figure without each of the ``top`` largest estimated legs, and without each
  of the ``top`` largest deals (all their legs that count), solved again from scratch. Only the
  largest are tried, so the cost is ``2·top`` runs whatever the size of the web.
- **Marginal value of an edge** (netting only): how much circular revenue one more cent on that
  edge explains, and how much one cent less takes away. The maximum revenue circulation is a
  totally unimodular LP with integer capacities, so its optimum is piecewise linear with
  breakpoints at whole cents: the finite difference of one cent (OR-Tools, solved again with the
  capacity moved by one) is the exact right (and left) derivative, the LP dual of that
  capacity. A value of 2 means every extra dollar on the edge is revenue twice round a cycle.

Example: in ``Nvidia -equity 100-> OpenAI -sale 70-> Nvidia`` the sale is the bottleneck: one
more cent of it explains one more cent of circular revenue (gain 1), and removing the equity
leg takes all 70 away.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ledger.clearing import cents_text
from ledger.model import EXTERNAL, Basis, Cents, Company, Kind, Period, Status, included_in_basis

__all__ = [
    "AUTO_LEG_LIMIT",
    "DEFAULT_TOP",
    "EdgeValue",
    "Removal",
    "Sensitivity",
    "candidates",
    "contagion_sensitivity",
    "counted_rows",
    "netting_sensitivity",
    "removals",
]

#: How many estimated legs, deals and edges are tried by default.
DEFAULT_TOP = 5
#: ``--sensitivity auto`` computes the table for webs of up to this many legs.
AUTO_LEG_LIMIT = 5_000


@dataclass(frozen=True, slots=True)
class Removal:
    """The figures without one estimated leg (``what="estimate"``) or one deal (``"deal"``).

    ``label`` is the deal, with ``#leg`` for a single leg; ``amount`` what was removed;
    ``total`` the headline figure without it; ``companies`` the headline companies' figures.
    """

    what: str
    label: str
    amount: Cents
    estimated: bool
    total: Cents
    companies: tuple[tuple[Company, Cents], ...]


@dataclass(frozen=True, slots=True)
class EdgeValue:
    """The marginal value of one edge: circular cents per cent added (``gain``) or removed."""

    payer: Company
    payee: Company
    kind: str
    amount: Cents
    flow: Cents
    gain: int
    loss: int


@dataclass(frozen=True, slots=True)
class Sensitivity:
    """What a headline figure rests on (see the module docstring)."""

    figure: str
    total: Cents
    headline: tuple[tuple[Company, Cents], ...]
    removals: tuple[Removal, ...]
    edges: tuple[EdgeValue, ...]
    top: int

    def rests_on(self) -> tuple[Removal, ...]:
        """The removals that move the total by a tenth of it or more, the largest move first.

        A headline "rests on" such an item: without it, it is a tenth (or more) different.
        """
        material = [r for r in self.removals if 10 * abs(self.total - r.total) >= self.total > 0]
        return tuple(sorted(material, key=lambda r: (-abs(self.total - r.total), r.label)))

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings, changes = without − with."""
        base = dict(self.headline)
        return {
            "figure": self.figure,
            "total": cents_text(self.total),
            "top": self.top,
            "headline": [{"company": c, "value": cents_text(v)} for c, v in self.headline],
            "rests_on": [
                {"label": r.label, "change": cents_text(r.total - self.total)}
                for r in self.rests_on()
            ],
            "removals": [
                {
                    "removed": r.what,
                    "label": r.label,
                    "amount": cents_text(r.amount),
                    "estimated": r.estimated,
                    "total": cents_text(r.total),
                    "change": cents_text(r.total - self.total),
                    "companies": [
                        {
                            "company": c,
                            "value": cents_text(v),
                            "change": cents_text(v - base[c]),
                        }
                        for c, v in r.companies
                    ],
                }
                for r in self.removals
            ],
            "edges": [
                {
                    "payer": e.payer,
                    "payee": e.payee,
                    "kind": e.kind,
                    "amount": cents_text(e.amount),
                    "flow": cents_text(e.flow),
                    "gain_per_dollar": e.gain,
                    "loss_per_dollar": e.loss,
                }
                for e in self.edges
            ],
        }


# --------------------------------------------------------------------------------------------
# Which legs and deals to try


def counted_rows(
    frame: pd.DataFrame, period: Period, basis: Basis, *, web_only: bool = False
) -> np.ndarray:
    """Rows that move money under the basis in the period (warrants, undrawn backstops: no).

    ``web_only`` leaves out legs with ``External``, which no circulation can use.
    """
    status = frame["status"].astype(str).to_numpy()
    kind = frame["kind"].astype(str).to_numpy()
    counted = np.array([included_in_basis(Status(s), basis) for s in status], dtype=bool)
    if web_only:
        counted &= (frame["payer"].astype(str).to_numpy() != EXTERNAL) & (
            frame["payee"].astype(str).to_numpy() != EXTERNAL
        )
    counted &= kind != Kind.WARRANT.value
    counted &= ~((kind == Kind.BACKSTOP.value) & (status != Status.REALIZED.value))
    if period.start is not None or period.end is not None:
        days = pd.to_datetime(frame["date"]).to_numpy()
        if period.start is not None:
            counted &= days >= np.datetime64(period.start)
        if period.end is not None:
            counted &= days < np.datetime64(period.end)
    return counted


def candidates(
    frame: pd.DataFrame, counted: np.ndarray, top: int
) -> list[tuple[str, str, Cents, bool, np.ndarray]]:
    """``(what, label, cents, estimated, rows to drop)``: the largest estimated legs, then deals.

    Largest amount first; ties by deal and leg, so the choice never depends on row order.
    """
    rows = np.flatnonzero(counted)
    deal = frame["deal"].astype(str).to_numpy()
    leg = frame["leg"].to_numpy()
    cents = frame["cents"].to_numpy().astype(np.int64)
    estimate = frame["estimate"].to_numpy().astype(bool)
    chosen: list[tuple[str, str, Cents, bool, np.ndarray]] = []
    estimated = sorted(
        (r for r in rows.tolist() if estimate[r]),
        key=lambda r: (-int(cents[r]), deal[r], int(leg[r])),
    )
    for r in estimated[:top]:
        chosen.append(("estimate", f"{deal[r]}#{int(leg[r])}", int(cents[r]), True, np.array([r])))
    by_deal: dict[str, list[int]] = {}
    for r in rows.tolist():
        by_deal.setdefault(deal[r], []).append(r)
    deals = sorted(by_deal.items(), key=lambda item: (-int(cents[item[1]].sum()), item[0]))
    for name, members in deals[:top]:
        picked = np.array(members)
        chosen.append(
            ("deal", name, int(cents[picked].sum()), bool(estimate[picked].any()), picked)
        )
    return chosen


def removals(
    frame: pd.DataFrame,
    counted: np.ndarray,
    top: int,
    figures: Callable[[pd.DataFrame], tuple[Cents, dict[Company, Cents]]],
    headline: Sequence[Company],
) -> tuple[Removal, ...]:
    """Each candidate removed in turn, ``figures`` solved again on what is left."""
    out = []
    for what, label, cents, estimated, rows in candidates(frame, counted, top):
        keep = np.ones(len(frame), dtype=bool)
        keep[rows] = False
        total, per_company = figures(frame.iloc[np.flatnonzero(keep)])
        companies = tuple((c, per_company.get(c, 0)) for c in headline)
        out.append(Removal(what, label, cents, estimated, total, companies))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Netting


def _net_figures(period: Period, basis: Basis) -> Callable[[pd.DataFrame], tuple[Cents, dict]]:
    from ledger.flows import build_flow_graph
    from ledger.netting import Method, net

    def figures(frame: pd.DataFrame) -> tuple[Cents, dict[Company, Cents]]:
        result = net(build_flow_graph(frame, period, basis), Method.MAX)
        per_company = {c.company: int(c.circular * 100) for c in result.companies}
        return int(result.total_circular * 100), per_company

    return figures


def _edge_values(result: Any, top: int) -> tuple[EdgeValue, ...]:
    """The one-cent finite differences of the ``top`` edges carrying the most circulation."""
    from ledger.circulation import max_revenue_circulation

    graph = result.graph
    flow = np.asarray(result.edge_flow, dtype=np.int64)
    exclude = graph.index(EXTERNAL) if EXTERNAL in graph.nodes else None
    base = int(result.total_circular * 100)
    order = sorted(
        np.flatnonzero(flow > 0).tolist(), key=lambda e: (-int(flow[e]), -int(graph.cents[e]), e)
    )
    n = len(graph.nodes)
    values = []
    for e in order[:top]:
        moved = []
        for step in (1, -1):
            cap = graph.cents.astype(np.int64).copy()
            cap[e] += step
            _, total = max_revenue_circulation(n, graph.src, graph.dst, cap, graph.revenue, exclude)
            moved.append(total)
        values.append(
            EdgeValue(
                payer=graph.nodes[int(graph.src[e])],
                payee=graph.nodes[int(graph.dst[e])],
                kind=graph.edge_kind(e).value,
                amount=int(graph.cents[e]),
                flow=int(flow[e]),
                gain=moved[0] - base,
                loss=base - moved[1],
            )
        )
    return tuple(values)


def netting_sensitivity(
    legs: Any, period: Period, basis: Basis, result: Any, top: int = DEFAULT_TOP
) -> Sensitivity:
    """What a max-method netting result rests on (``legs``: Leg records or a legs frame).

    The headline figures are the total circular revenue and the ``top`` companies with the
    most circular revenue.
    """
    from ledger.legs_frame import frame_of_legs

    frame = legs if isinstance(legs, pd.DataFrame) else frame_of_legs(legs)
    ranked = sorted(result.companies, key=lambda c: (-c.circular, c.company))
    headline = tuple((c.company, int(c.circular * 100)) for c in ranked[:top] if c.circular > 0)
    counted = counted_rows(frame, period, basis, web_only=True)
    return Sensitivity(
        figure="total circular revenue",
        total=int(result.total_circular * 100),
        headline=headline,
        removals=removals(
            frame, counted, top, _net_figures(period, basis), [c for c, _ in headline]
        ),
        edges=_edge_values(result, top),
        top=top,
    )


# --------------------------------------------------------------------------------------------
# A failure


def contagion_sensitivity(
    legs: Sequence[Any], prices: Sequence[Any], report: Any, top: int = DEFAULT_TOP
) -> Sensitivity:
    """What a failure's loss to the others rests on (``report``: a ContagionReport).

    Every run keeps the report's conventions and scenario date, so removing a leg changes
    nothing but that leg. Only web legs that can matter are tried: realized ones, and the
    others that fall due within the horizon (outside revenue, which only sets means, is not).
    """
    from ledger.contagion import simulate_failure
    from ledger.legs_frame import frame_of_legs
    from ledger.model import BadInput

    legs = tuple(legs)
    frame = frame_of_legs(legs)
    conventions = report.conventions
    due_by = None if conventions.as_of is None else conventions.due_by(conventions.as_of)
    counted = counted_rows(frame, report.period, report.basis, web_only=True)
    if due_by is not None:
        realized = frame["status"].astype(str).to_numpy() == Status.REALIZED.value
        counted &= realized | (pd.to_datetime(frame["date"]).to_numpy() <= np.datetime64(due_by))
    others = [r for r in report.losses if r.company != report.company and r.total > 0]
    headline = tuple((r.company, r.total) for r in others[:top])

    def figures(kept: pd.DataFrame) -> tuple[Cents, dict[Company, Cents]]:
        remaining = [legs[i] for i in kept.index.tolist()]
        try:
            again = simulate_failure(
                remaining,
                prices,
                report.company,
                report.cut,
                report.period,
                report.basis,
                conventions=conventions,
            )
        except BadInput:  # the failing company had no other leg: nothing left to fail
            return 0, {}
        return again.loss_to_others, {r.company: r.total for r in again.losses}

    return Sensitivity(
        figure="loss to others",
        total=report.loss_to_others,
        headline=headline,
        removals=removals(
            frame.reset_index(drop=True), counted, top, figures, [c for c, _ in headline]
        ),
        edges=(),
        top=top,
    )
