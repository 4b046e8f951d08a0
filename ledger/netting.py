"""Netting: which part of each company's revenue is its own money coming back (SPEC §3).

In: a :class:`~ledger.flows.FlowGraph` (one period, one basis). Out: a :class:`NettingResult`
with, per company, gross revenue, revenue from ``External`` and from the web, **circular**
revenue, **organic = gross - circular**, the circular share and paper gains; the circulation
itself per edge; and cycle witnesses a reader can check by hand. Two methods:

``max`` (default)
    The maximum revenue circulation: a circulation ``f`` (``0 <= f_e <= amount_e``, inflow =
    outflow at every company, ``External`` excluded) that maximises the flow on revenue edges,
    solved exactly in integer cents (:mod:`ledger.circulation`). Circular revenue of B = Σ f on
    B's incoming revenue edges. The total is unique; its split among companies is made
    canonical by taking, among all maximum circulations, the unique one minimising
    ``Σ f_e² / amount_e``: circulating money is spread in proportion to edge amounts, whatever
    the companies are called. ``bounds=True`` adds each company's [min, max] over all maximum
    circulations.
``pro-rata``
    Provenance tracing: money is fungible, each company funds its outflows in proportion to its
    inflows of the period (and from its own funds for any excess); each company's outflows are
    followed until they first return to it, and the part that returns on revenue edges is its
    circular revenue. A linear system (absorbing Markov chain), unique by construction.

Rounding (stated under every report: :data:`ledger.views.ROUNDING_NOTE`): the canonical split
can be fractional (e.g. 1 cent split two ways). The total is rounded once: for ``max`` it is
the exact integer optimum, for ``pro-rata`` the exact total rounded to the cent, half to even.
The per-company figures are then rounded so that they add up to it exactly, by largest
remainder (Hamilton's method): each company gets the cent below its exact figure, and the
cents left over go to the largest fractional parts; equal fractional parts go to the larger
exact figure, then the larger gross revenue, so the rule never looks at names unless two
companies are alike in all three. Exact rational arithmetic where the split is exact; float
results are first snapped to a grid far finer than a cent to remove float noise.

Example (``tests/fixtures/examples/vendor_financing.csv``)::

    Nvidia -equity 100-> OpenAI -sale 70-> Nvidia,  External -sale 13-> OpenAI

    >>> result = net(graph)                                   # doctest: +SKIP
    >>> [(c.company, str(c.circular)) for c in result.companies]  # doctest: +SKIP
    [('Nvidia', '70.00'), ('OpenAI', '0.00')]
    >>> str(net(graph, "pro-rata").companies[0].circular)     # doctest: +SKIP
    '61.95'

:func:`verify` is the checker beside the solver; :func:`to_json_dict` is the stable JSON
contract; :mod:`ledger.eliminations` writes the result back as beancount entries that move
circular revenue to ``Income:Circular:...``.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np

from ledger.circulation import (
    CanonicalFlow,
    bellman_ford,
    canonical_circulation,
    face_bounds,
    max_revenue_circulation,
    pro_rata,
    residual_arcs,
    scc_labels,
)
from ledger.flows import KINDS, FlowGraph
from ledger.model import (
    CENT,
    Cents,
    Company,
    from_cents,
)
from ledger.schemas import SCHEMA_VERSION
from ledger.witnesses import Witnesses, decompose, exact_values, ordered

__all__ = [
    "DEFAULT_CYCLES",
    "SOURCE",
    "CompanyFigures",
    "Cycle",
    "Method",
    "NettingResult",
    "net",
    "cycle_dicts",
    "to_json_dict",
    "verify",
]

#: The pseudo-source of what this module generates.
SOURCE = "<roundtrip.netting>"

_SHARE = Decimal("0.0001")
#: How many cycle witnesses the JSON and the tables give unless asked for more (``--cycles``).
DEFAULT_CYCLES = 20
_KIND_VALUES = tuple(kind.value for kind in KINDS)


class Method(StrEnum):
    """How circular revenue is attributed (SPEC §3)."""

    MAX = "max"
    PRO_RATA = "pro-rata"


@dataclass(frozen=True)
class CompanyFigures:
    """One company's revenue, netted. Amounts in the graph's currency.

    ``estimated``: a revenue edge into it, or an edge that circulates money in the same
    strongly connected part of the circulation as one of its circular revenue edges, rests on
    an estimate. ``paper_gains``: the unrealized gain on the warrants and marked stakes it holds
    (:func:`ledger.audit.paper_gains`; given to :func:`net`, else 0).
    ``circular_min``/``circular_max``: the range over all maximum circulations (``bounds=True``,
    ``max`` method only), else None.
    """

    company: Company
    gross: Decimal
    external: Decimal
    web: Decimal
    circular: Decimal
    organic: Decimal
    circular_share: Decimal
    estimated: bool
    paper_gains: Decimal
    circular_min: Decimal | None = None
    circular_max: Decimal | None = None


@dataclass(frozen=True)
class Cycle:
    """A cycle witness: money going round ``path`` (first == last) along edges of ``kinds``."""

    path: tuple[Company, ...]
    kinds: tuple[str, ...]
    cents: Cents

    @property
    def amount(self) -> Decimal:
        """The amount going round, as a two-decimal Decimal."""
        return from_cents(self.cents)

    def __str__(self) -> str:
        steps = "".join(
            f" -{kind}-> {node}" for kind, node in zip(self.kinds, self.path[1:], strict=True)
        )
        return f"{self.path[0]}{steps} : {self.amount}"


@dataclass(frozen=True, eq=False)
class NettingResult:
    """The netting of one flow graph by one method.

    ``edge_flow`` (float64 cents, one per graph edge): for ``max`` the canonical circulation
    (whole cents, exact, whenever the split is integral; fractional cents only where the
    canonical split is); for ``pro-rata`` the money on each edge that is on its way back to its
    origin as revenue, summed over origins (a sum of circulations, so it can exceed an edge's
    amount when several companies count the same dollars). ``edge_circular`` (float64 cents):
    the part of each revenue edge that is its payee's circular revenue (sums per payee to its
    circular figure, before rounding). ``witnesses``: the cycle witnesses, largest first
    (:mod:`ledger.witnesses`; ``cycles`` gives them as :class:`Cycle` records); ``max`` only
    (pro-rata money does not move in cycles of its own: see the module doc). ``timings``:
    seconds per stage, for benchmarks.
    """

    method: Method
    graph: FlowGraph
    companies: tuple[CompanyFigures, ...]
    total_circular: Decimal
    witnesses: Witnesses
    edge_flow: np.ndarray
    split_rule: str
    edge_circular: np.ndarray = field(default_factory=lambda: np.zeros(0))
    exact: bool = True
    timings: tuple[tuple[str, float], ...] = ()

    @cached_property
    def cycles(self) -> tuple[Cycle, ...]:
        """Every witness as a :class:`Cycle` (one object per cycle: prefer :meth:`top_cycles`)."""
        return tuple(self.top_cycles(None))

    def top_cycles(self, limit: int | None = DEFAULT_CYCLES) -> Iterator[Cycle]:
        """The largest ``limit`` witnesses (all when None), largest first."""
        nodes, kinds, src = self.graph.nodes, _KIND_VALUES, self.graph.src
        kind_codes = self.graph.kind
        for run, cents in self.witnesses.runs(limit):
            path = [nodes[i] for i in src[run].tolist()]
            path.append(path[0])
            yield Cycle(tuple(path), tuple(kinds[k] for k in kind_codes[run].tolist()), cents)

    def company(self, name: Company) -> CompanyFigures:
        """The figures of one company.

        Raises:
            KeyError: no such company in the result.
        """
        for figures in self.companies:
            if figures.company == name:
                return figures
        raise KeyError(name)


# --------------------------------------------------------------------------------------------
# net


def net(
    graph: FlowGraph,
    method: Method | str = Method.MAX,
    *,
    bounds: bool = False,
    paper_gains: Mapping[Company, Cents] | None = None,
    on_step: Callable[[str], None] | None = None,
    edge_flows: bool = True,
) -> NettingResult:
    """Net the graph: circular and organic revenue of every company.

    Args:
        graph: the flow graph (merged or not: parallel edges of one kind are fine).
        method: ``max`` (default) or ``pro-rata``.
        bounds: with ``max``, also compute each company's [min, max] circular revenue over all
            maximum circulations (one pair of LPs per company whose figure can move).
        paper_gains: each company's paper gains in cents, as
            :func:`ledger.audit.paper_gains` gives them for the graph's legs, prices, period
            and basis (the graph holds no prices); reported as they are, 0 when not given.
        on_step: told the name of each long step as it starts (for a progress display).
        edge_flows: with ``pro-rata``, also compute ``edge_flow`` (only drawings use it; it
            costs more than the figures; the figures' ``estimated`` flags need it when an edge
            rests on an estimate, so it is computed then too). Without it ``edge_flow`` is 0.

    Raises:
        ValueError: unknown method.
    """
    method = Method(method)
    step = on_step or (lambda what: None)
    if method is Method.MAX:
        result = _net_max(graph, bounds, step)
    else:
        result = _net_pro_rata(graph, step, edge_flows or bool(graph.estimated.any()))
    if not paper_gains:
        return result
    companies = tuple(
        replace(f, paper_gains=from_cents(paper_gains.get(f.company, 0))) for f in result.companies
    )
    return replace(result, companies=companies)


def _net_max(graph: FlowGraph, bounds: bool, step: Callable[[str], None]) -> NettingResult:
    n = len(graph.nodes)
    step(f"solving the maximum circulation ({n:,} companies, {graph.n_edges:,} edges)")
    clock = time.perf_counter()
    flow, total = max_revenue_circulation(
        n, graph.src, graph.dst, graph.cents, graph.revenue, graph.external
    )
    solved = time.perf_counter()
    step("splitting it canonically")
    canonical = canonical_circulation(
        n, graph.src, graph.dst, graph.cents, graph.revenue, flow, graph.external
    )
    split = time.perf_counter()
    circular = _max_circular_cents(graph, canonical, total)
    ranges: dict[int, tuple[int, int]] = {}
    if bounds:
        ranges = _bounds(graph, canonical, circular)
    bounded = time.perf_counter()
    values = canonical.as_float()
    step("finding cycle witnesses")
    witnesses = _max_witnesses(graph, canonical, values)
    witnessed = time.perf_counter()
    edge_circular = np.where(graph.revenue, values, 0.0)
    companies = _figures(graph, circular, values, ranges, bounds)
    return NettingResult(
        method=Method.MAX,
        graph=graph,
        companies=companies,
        total_circular=from_cents(total),
        witnesses=witnesses,
        edge_flow=values,
        split_rule=_MAX_RULES[canonical.how],
        edge_circular=edge_circular,
        exact=canonical.is_exact,
        timings=(
            ("solve", solved - clock),
            ("split", split - solved),
            ("bounds", bounded - split),
            ("witnesses", witnessed - bounded),
        ),
    )


_CANONICAL = (
    "Canonical split: among all maximum revenue circulations, the unique one minimising the "
    "sum of flow squared over amount per edge, which spreads circulating money in proportion to "
    "edge amounts and does not depend on company names or order"
)
_MAX_RULES = {
    "unique": _CANONICAL + "; here every maximum circulation splits revenue the same way.",
    "exact": _CANONICAL + "; computed exactly in rational arithmetic.",
    "float": _CANONICAL + "; computed by a dual Newton method in floating point, figures "
    "rounded half to even after removing float noise.",
    "fallback": "The canonical split (minimum sum of flow squared over amount among maximum "
    "circulations) could not be computed; the figures come from one integer maximum "
    "circulation found by OR-Tools, whose split may depend on company order.",
}
_PRO_RATA_RULE = (
    "Pro-rata provenance is unique, so no split rule is needed: each company funds its "
    "outflows in proportion to its inflows (its own funds cover any excess) and money is "
    "followed until it first returns to the company it left."
)


def _max_circular_cents(graph: FlowGraph, canonical: CanonicalFlow, total: int) -> np.ndarray:
    """Each node's circular revenue in whole cents, adding up to ``total`` (object array of ints).

    The exact figures (Fractions where the split is exact, snapped floats otherwise) are
    apportioned by :func:`_apportion`, so the per-company cents sum to the exact optimum.
    """
    n = len(graph.nodes)
    rev = graph.revenue
    gross = np.bincount(graph.dst[rev], weights=graph.cents[rev], minlength=n)
    if canonical.is_exact:
        # Integral everywhere but on the few variable edges of an exact split: no Fraction
        # per edge (a million-leg web has ~450,000 edges), only per moving revenue edge.
        fixed = rev & ~canonical.variable if canonical.exact is not None else rev
        base = np.zeros(n, dtype=np.int64)
        np.add.at(base, graph.dst[fixed], canonical.integral[fixed])
        exact: list = base.tolist()
        if canonical.exact is not None:
            moving = np.flatnonzero(canonical.variable)
            for edge, value in zip(moving.tolist(), canonical.exact, strict=True):
                if rev[edge]:
                    exact[int(graph.dst[edge])] += value
    else:
        values = canonical.as_float()
        floats = np.bincount(graph.dst[rev], weights=values[rev], minlength=n)
        exact = [_snap(float(floats[node]), float(gross[node])) for node in range(n)]
    return _apportion(exact, total, [round(float(g)) for g in gross])


def _bounds(
    graph: FlowGraph, canonical: CanonicalFlow, circular: np.ndarray
) -> dict[int, tuple[int, int]]:
    """[min, max] circular cents per node whose incoming revenue edges can move."""
    rev_var = graph.revenue & canonical.variable
    targets = {
        int(node): graph.revenue & (graph.dst == node) for node in np.unique(graph.dst[rev_var])
    }
    if not targets:
        return {}
    ranges = face_bounds(
        len(graph.nodes),
        graph.src,
        graph.dst,
        graph.cents,
        canonical.integral,
        canonical.variable,
        targets,
    )
    # The canonical figure lies in its range; rounding can only touch the ends by half a cent.
    return {
        node: (min(low, int(circular[node])), max(high, int(circular[node])))
        for node, (low, high) in ranges.items()
    }


def _net_pro_rata(graph: FlowGraph, step: Callable[[str], None], edge_flows: bool) -> NettingResult:
    n = len(graph.nodes)
    step(f"tracing pro-rata provenance ({n:,} companies, {graph.n_edges:,} edges)")
    clock = time.perf_counter()
    traced = pro_rata(
        n, graph.src, graph.dst, graph.cents, graph.revenue, graph.external, edge_flows
    )
    solved = time.perf_counter()
    rev = graph.revenue
    gross = np.bincount(graph.dst[rev], weights=graph.cents[rev], minlength=n)
    exact = [_snap(float(traced.circular[node]), float(gross[node])) for node in range(n)]
    total = _round_fraction(sum(exact, Fraction(0)))
    circular = _apportion(exact, total, [round(float(g)) for g in gross])
    companies = _figures(graph, circular, traced.edge_flow, {}, False)
    return NettingResult(
        method=Method.PRO_RATA,
        graph=graph,
        companies=companies,
        total_circular=from_cents(total),
        witnesses=Witnesses.empty(),
        edge_flow=traced.edge_flow,
        split_rule=_PRO_RATA_RULE,
        edge_circular=traced.edge_circular,
        exact=False,
        timings=(("solve", solved - clock),),
    )


# --------------------------------------------------------------------------------------------
# Figures


def _figures(
    graph: FlowGraph,
    circular: np.ndarray,
    values: np.ndarray,
    ranges: dict[int, tuple[int, int]],
    bounds: bool,
) -> tuple[CompanyFigures, ...]:
    n = len(graph.nodes)
    rev = graph.revenue
    gross = np.zeros(n, dtype=np.int64)
    np.add.at(gross, graph.dst[rev], graph.cents[rev])
    external = np.zeros(n, dtype=np.int64)
    ext = graph.external
    if ext is not None:
        from_ext = rev & (graph.src == ext)
        np.add.at(external, graph.dst[from_ext], graph.cents[from_ext])
    estimated = _estimated(graph, circular, values)
    result = []
    for name in sorted(graph.companies()):
        node = graph.index(name)
        g = int(gross[node])
        c = min(max(int(circular[node]), 0), g)
        low, high = ranges.get(node, (c, c))
        result.append(
            CompanyFigures(
                company=name,
                gross=from_cents(g),
                external=from_cents(int(external[node])),
                web=from_cents(g - int(external[node])),
                circular=from_cents(c),
                organic=from_cents(g - c),
                circular_share=_share(c, g),
                estimated=bool(estimated[node]),
                paper_gains=Decimal("0.00"),
                circular_min=from_cents(low) if bounds else None,
                circular_max=from_cents(high) if bounds else None,
            )
        )
    return tuple(result)


def _share(circular: int, gross: int) -> Decimal:
    if gross == 0:
        return Decimal("0.0000")
    return (Decimal(circular) / Decimal(gross)).quantize(_SHARE, rounding=ROUND_HALF_EVEN)


def _estimated(graph: FlowGraph, circular: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which nodes' figures rest on an estimate (see :class:`CompanyFigures`)."""
    n = len(graph.nodes)
    flagged = np.zeros(n, dtype=bool)
    flagged[graph.dst[graph.revenue & graph.estimated]] = True
    support = values > 0
    if not (support & graph.estimated).any():
        return flagged
    labels = scc_labels(n, graph.src[support], graph.dst[support])
    touched = np.zeros(n, dtype=bool)
    touched[graph.src[support]] = True
    risky = np.zeros(int(labels.max()) + 1, dtype=bool)
    risky[labels[graph.src[support & graph.estimated]]] = True
    has_circular = np.array([int(x) > 0 for x in circular], dtype=bool)
    return flagged | (has_circular & touched & risky[labels])


def _round_fraction(value: Fraction) -> int:
    """Exact cents, half to even."""
    q, r = divmod(value.numerator, value.denominator)
    twice = 2 * r
    if twice > value.denominator or (twice == value.denominator and q % 2):
        q += 1
    return q


def _round_float(value: float, magnitude: float) -> int:
    """Float cents to whole cents, half to even, after snapping off float noise.

    The value is first rounded to a grid of ``10**-k`` cents, ``k`` between 1 and 6 chosen so
    that the grid is far coarser than the float error of sums of this ``magnitude`` (about
    ``1e-13`` relative) yet still holds the half cent exactly, so that a true half cent stays
    a half cent and rounds to even.
    """
    digits = 12 - math.ceil(math.log10(abs(magnitude) + 1.0))
    grid = min(6, max(1, digits))
    whole = math.floor(value)
    if abs(value - whole - 0.5) > 2 * 10.0**-grid:  # far from a half cent: plain rounding
        return round(value)
    snapped = Decimal(value).quantize(Decimal(1).scaleb(-grid), rounding=ROUND_HALF_EVEN)
    return int(snapped.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _snap(value: float, magnitude: float) -> Fraction:
    """Float cents as an exact fraction on the grid of :func:`_round_float` (float noise off)."""
    digits = 12 - math.ceil(math.log10(abs(magnitude) + 1.0))
    grid = min(6, max(1, digits))
    return Fraction(Decimal(value).quantize(Decimal(1).scaleb(-grid), rounding=ROUND_HALF_EVEN))


def _apportion(exact: list[Fraction], total: int, gross: list[int]) -> np.ndarray:
    """Whole cents per node, each the cent below or above its exact figure, adding up to ``total``.

    Largest remainder (Hamilton's apportionment): every node gets the floor of its exact figure;
    the ``total - sum(floors)`` cents left over go to the largest fractional parts, equal parts
    to the larger exact figure, then the larger gross (label-invariant), then the lower node
    index (only for nodes alike in all three). A node never goes above its gross or below 0;
    should float noise leave more (or fewer) cents than fractional parts, the next nodes in
    the same order take (or give back) one.
    """
    n = len(exact)
    # On a common denominator every figure is an integer numerator: integer keys sort in the
    # order of the Fractions' (10,000 companies: a lexsort instead of Fraction comparisons).
    denominator = math.lcm(*(x.denominator for x in exact)) if n else 1
    scaled = [x.numerator * (denominator // x.denominator) for x in exact]
    floors = [x // denominator for x in scaled]
    parts = [x - f * denominator for x, f in zip(scaled, floors, strict=True)]
    short = total - sum(floors)
    if n and max(max(map(abs, scaled)), max(map(abs, gross))) < 2**62:
        order = np.lexsort(
            (
                np.arange(n),
                -np.array(gross, np.int64),
                -np.array(scaled, np.int64),
                -np.array(parts, np.int64),
            )
        ).tolist()
    else:
        order = sorted(range(n), key=lambda i: (-parts[i], -scaled[i], -gross[i], i))
    while short > 0 and any(floors[i] < gross[i] for i in order):
        for i in order:
            if short > 0 and floors[i] < gross[i]:
                floors[i] += 1
                short -= 1
    for i in reversed(order):
        if short < 0 and floors[i] > 0:
            floors[i] -= 1
            short += 1
    result = np.zeros(n, dtype=object)
    result[:] = floors
    return result


# --------------------------------------------------------------------------------------------
# Cycle witnesses


def _max_witnesses(graph: FlowGraph, canonical: CanonicalFlow, values: np.ndarray) -> Witnesses:
    """The canonical circulation as cycles, amounts rounded to cents, largest first."""
    n = len(graph.nodes)
    if not (values > 0).any():
        return Witnesses.empty()
    preference = np.lexsort((graph.kind, graph.dst, -values))
    rank = np.empty(len(values), dtype=np.int64)
    rank[preference] = np.arange(len(values))
    if canonical.is_exact:
        scaled, denominator = exact_values(canonical.integral, canonical.variable, canonical.exact)
        witnesses = decompose(n, graph.src, graph.dst, graph.kind, scaled, rank, denominator)
    else:
        witnesses = decompose(n, graph.src, graph.dst, graph.kind, values, rank)
    return _merge_parallel(graph, witnesses)


def _merge_parallel(graph: FlowGraph, witnesses: Witnesses) -> Witnesses:
    """Merge cycles that differ only by parallel edges of one kind (an unmerged graph)."""
    keys = (graph.src.astype(np.int64) * len(graph.nodes) + graph.dst) * len(KINDS) + graph.kind
    first, representative = np.unique(keys, return_index=True, return_inverse=True)[1:]
    if len(first) == graph.n_edges or not len(witnesses):
        return witnesses
    merged: dict[tuple[int, ...], int] = defaultdict(int)
    for run, cents in witnesses.runs():
        merged[tuple(first[representative[run]].tolist())] += cents
    runs = list(merged)
    edges = np.array([e for run in runs for e in run], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(run) for run in runs])]).astype(np.int64)
    cents = np.array(list(merged.values()), dtype=np.int64)
    return ordered(edges, offsets, cents, graph.src, graph.kind)


# --------------------------------------------------------------------------------------------
# verify


def verify(result: NettingResult) -> list[str]:
    """Check a result against the invariants of SPEC §3; the list of problems, [] if none.

    Checks: edge flows are finite, non-negative and (max) within edge amounts; flow is
    conserved at every node; ``External`` carries no circulation; per company, gross /
    external / web match the graph, ``organic + circular == gross``, ``0 <= circular <=
    gross``, ``organic >= external``, the circular figure matches the flows on its revenue
    edges and its share is right; companies are sorted. For ``max``: the revenue flow equals
    ``total_circular``; an optimality certificate (the residual graph has no negative cycle
    for cost -1 on revenue edges, i.e. no cycle through a revenue edge can carry more); the
    figures lie within their bounds; the cycle witnesses are real cycles of the graph and add
    up to each company's circular revenue.
    """
    problems: list[str] = []
    graph = result.graph
    flow = np.asarray(result.edge_flow, dtype=np.float64)
    if flow.shape != (graph.n_edges,):
        return [f"edge_flow has shape {flow.shape}, expected ({graph.n_edges},)"]
    if not np.all(np.isfinite(flow)):
        return ["edge_flow holds non-finite values"]
    largest = float(graph.cents.max()) if graph.n_edges else 0.0
    tolerance = 1e-6 + 1e-11 * largest
    problems += _check_flow(result, flow, tolerance)
    problems += _check_companies(result, tolerance)
    if result.method is Method.MAX:
        problems += _check_optimal(result, flow, tolerance)
        problems += _check_cycles(result, flow)
    return problems


def _check_flow(result: NettingResult, flow: np.ndarray, tolerance: float) -> list[str]:
    graph = result.graph
    problems = []
    n = len(graph.nodes)
    if np.any(flow < -tolerance):
        problems.append(f"negative flow on {int(np.sum(flow < -tolerance))} edge(s)")
    over = flow > graph.cents + tolerance
    if result.method is Method.MAX and over.any():
        problems.append(f"flow above the edge amount on {int(over.sum())} edge(s)")
    circ = np.asarray(result.edge_circular, dtype=np.float64)
    if circ.shape == flow.shape and (
        np.any(circ < -tolerance) or np.any(circ > graph.cents + tolerance)
    ):
        problems.append("edge_circular outside [0, amount]")
    balance = np.bincount(graph.dst, weights=flow, minlength=n) - np.bincount(
        graph.src, weights=flow, minlength=n
    )
    scale = np.bincount(graph.dst, weights=flow, minlength=n) + 1.0
    broken = np.abs(balance) > tolerance + 1e-9 * scale
    for node in np.flatnonzero(broken):
        problems.append(f"flow not conserved at {graph.nodes[node]}: {balance[node]:+.6f} cents")
    ext = graph.external
    if ext is not None:
        touching = (graph.src == ext) | (graph.dst == ext)
        if np.any(np.abs(flow[touching]) > tolerance):
            problems.append("External carries circulation")
    return problems


def _check_companies(result: NettingResult, tolerance: float) -> list[str]:
    graph = result.graph
    problems = []
    names = [figures.company for figures in result.companies]
    if names != sorted(graph.companies()):
        problems.append("companies are not the graph's companies sorted by name")
    n = len(graph.nodes)
    rev = graph.revenue
    gross = np.bincount(graph.dst[rev], weights=graph.cents[rev], minlength=n)
    ext = graph.external
    from_ext = rev & (graph.src == ext) if ext is not None else np.zeros_like(rev)
    external = np.bincount(graph.dst[from_ext], weights=graph.cents[from_ext], minlength=n)
    flows = (
        np.asarray(result.edge_flow, dtype=np.float64)
        if result.method is Method.MAX
        else np.asarray(result.edge_circular, dtype=np.float64)
    )
    circular = np.bincount(graph.dst[rev], weights=flows[rev], minlength=n)
    total = Decimal(0)
    for figures in result.companies:
        if figures.company not in graph.nodes:
            continue
        node = graph.index(figures.company)
        name = figures.company
        total += figures.circular
        if figures.gross != from_cents(round(gross[node])):
            problems.append(f"{name}: gross {figures.gross} is not the graph's")
        if figures.external != from_cents(round(external[node])):
            problems.append(f"{name}: external {figures.external} is not the graph's")
        if figures.web != figures.gross - figures.external:
            problems.append(f"{name}: web != gross - external")
        if figures.organic + figures.circular != figures.gross:
            problems.append(f"{name}: organic + circular != gross")
        if not Decimal(0) <= figures.circular <= figures.gross:
            problems.append(f"{name}: circular {figures.circular} outside [0, gross]")
        if figures.organic < figures.external:
            problems.append(f"{name}: organic below revenue from External")
        # Largest remainder: the cent below or above the exact figure, never further.
        if abs(float(figures.circular) * 100 - circular[node]) >= 1.0 + tolerance:
            problems.append(
                f"{name}: circular {figures.circular} does not match the flows on its revenue "
                f"edges ({circular[node] / 100:.4f})"
            )
        gross_cents = round(gross[node])
        if figures.circular_share != _share(round(figures.circular * 100), gross_cents):
            problems.append(f"{name}: circular share {figures.circular_share} is wrong")
        low, high = figures.circular_min, figures.circular_max
        if low is not None and high is not None and not low <= figures.circular <= high:
            problems.append(f"{name}: circular outside its [min, max]")
    if total != result.total_circular:
        problems.append("total_circular is not the sum of the companies' figures")
    exact_total = float(circular.sum())
    if abs(float(result.total_circular) * 100 - exact_total) > 0.5 + tolerance + 1e-9 * exact_total:
        problems.append(f"total_circular {result.total_circular} is not the exact total rounded")
    return problems


def _check_optimal(result: NettingResult, flow: np.ndarray, tolerance: float) -> list[str]:
    graph = result.graph
    problems = []
    rev = graph.revenue
    carried = float(flow[rev].sum())
    expected = float(result.total_circular) * 100
    if abs(carried - expected) > tolerance + 1e-9 * abs(expected):
        problems.append(
            f"revenue flow {carried / 100:.4f} differs from total_circular {result.total_circular}"
        )
    keep = np.ones(graph.n_edges, dtype=bool)
    ext = graph.external
    if ext is not None:
        keep &= (graph.src != ext) & (graph.dst != ext)
    cost = np.where(rev, -1, 0).astype(np.int64)
    tail, head, weight = residual_arcs(
        graph.src[keep],
        graph.dst[keep],
        graph.cents[keep].astype(np.float64),
        cost[keep],
        flow[keep],
        tolerance,
    )
    if bellman_ford(len(graph.nodes), tail, head, weight) is None:
        problems.append(
            "not a maximum circulation: a residual cycle through a revenue edge can carry more"
        )
    return problems


def _check_cycles(result: NettingResult, flow: np.ndarray) -> list[str]:
    """Witnesses are closed simple cycles on edges that carry flow and add up per company.

    Linear in the witnesses' total length: every test is one vectorised pass over their edges.
    """
    graph = result.graph
    witnesses = result.witnesses
    problems: list[str] = []
    n = len(graph.nodes)
    edges = witnesses.edges
    lengths = np.diff(witnesses.offsets)
    owner = np.repeat(np.arange(len(witnesses)), lengths)
    if len(edges) and (edges.min() < 0 or edges.max() >= graph.n_edges):
        return ["a cycle witness names an edge the graph does not have"]
    following = np.arange(1, len(edges) + 1)
    following[witnesses.offsets[1:] - 1] = witnesses.offsets[:-1]
    broken = np.unique(owner[graph.dst[edges] != graph.src[edges[following]]])
    problems += [f"cycle {_cycle_text(result, i)} is not closed" for i in broken[:5]]
    visits = owner.astype(np.int64) * n + graph.src[edges]
    repeated = np.unique(owner[_repeated_values(visits)])
    problems += [f"cycle {_cycle_text(result, i)} is not simple" for i in repeated[:5]]
    # Flow per (payer, payee, kind): parallel edges of one kind count together.
    keys = (graph.src.astype(np.int64) * n + graph.dst) * len(KINDS) + graph.kind
    _, group = np.unique(keys, return_inverse=True)
    carried = np.bincount(group, weights=flow)[group]
    idle = np.unique(owner[carried[edges] <= 0])
    problems += [
        f"cycle {_cycle_text(result, i)} uses an edge that carries nothing" for i in idle[:5]
    ]
    on_revenue = graph.revenue[edges]
    payees = graph.dst[edges[on_revenue]]
    amounts = witnesses.cents[owner[on_revenue]]
    through = np.zeros(n, dtype=np.int64)
    np.add.at(through, payees, amounts)
    count = np.bincount(payees, minlength=n)
    integral = bool(np.all(flow == np.round(flow)))
    for figures in result.companies:
        node = graph.index(figures.company)
        cents = round(figures.circular * 100)
        slack = 0 if integral else int(count[node]) + 1
        if abs(int(through[node]) - cents) > slack:
            problems.append(
                f"{figures.company}: cycles add up to {from_cents(int(through[node]))}, "
                f"not its circular {figures.circular}"
            )
    return problems


def _repeated_values(values: np.ndarray) -> np.ndarray:
    """Which entries repeat an earlier entry's value."""
    order = np.argsort(values, kind="stable")
    repeated = np.zeros(len(values), dtype=bool)
    repeated[order[1:]] = values[order[1:]] == values[order[:-1]]
    return repeated


def _cycle_text(result: NettingResult, i: int) -> str:
    run = result.witnesses.cycle(int(i))
    names = [result.graph.nodes[int(node)] for node in result.graph.src[run]]
    kinds = [_KIND_VALUES[int(k)] for k in result.graph.kind[run]]
    steps = "".join(
        f" -{kind}-> {name}" for kind, name in zip(kinds, [*names[1:], names[0]], strict=True)
    )
    return f"{names[0]}{steps}"


# --------------------------------------------------------------------------------------------
# JSON


def to_json_dict(
    result: NettingResult, cycles: int | None = DEFAULT_CYCLES, *, lazy: bool = False
) -> dict[str, Any]:
    """The stable JSON form of a result (amounts as 2-decimal strings, shares 4-decimal).

    Its schema is ``ledger/schemas/net.schema.json`` (docs/outputs.md).

    ``cycles`` is how many witnesses to give, largest first (None: every one); ``cycle_count``
    always says how many there are. ``lazy`` makes the ``cycles`` value an iterator, for a
    writer that streams it (:mod:`ledger.jsonout`) instead of holding every cycle at once.
    """
    graph = result.graph
    witnesses = cycle_dicts(result, cycles)
    return {
        "schema_version": SCHEMA_VERSION,
        "method": result.method.value,
        "basis": graph.basis.value,
        "period": graph.period.as_dict(),
        "currency": graph.currency,
        "split_rule": result.split_rule,
        "companies": [
            {
                "company": f.company,
                "gross": _money(f.gross),
                "external": _money(f.external),
                "web": _money(f.web),
                "circular": _money(f.circular),
                "organic": _money(f.organic),
                "circular_share": str(f.circular_share.quantize(_SHARE)),
                "estimated": f.estimated,
                "paper_gains": _money(f.paper_gains),
                "circular_min": None if f.circular_min is None else _money(f.circular_min),
                "circular_max": None if f.circular_max is None else _money(f.circular_max),
            }
            for f in result.companies
        ],
        "total_circular": _money(result.total_circular),
        "cycle_count": len(result.witnesses),
        "cycles": witnesses if lazy else list(witnesses),
    }


def cycle_dicts(result: NettingResult, limit: int | None = DEFAULT_CYCLES) -> Iterator[dict]:
    """The JSON form of the largest ``limit`` witnesses (all when None), one at a time."""
    for cycle in result.top_cycles(limit):
        yield {"path": list(cycle.path), "kinds": list(cycle.kinds), "amount": _money(cycle.amount)}


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))
