"""Flow solvers behind netting: plain integer arrays in, plain arrays out (SPEC §3).

This module knows nothing of companies, kinds or Decimals: a graph is ``n`` nodes and parallel
arrays ``src``, ``dst`` (node indices), ``cap`` (positive integer cents) and ``revenue`` (bool).
:mod:`ledger.netting` turns a :class:`~ledger.flows.FlowGraph` into these arrays and the results
back into figures.

**Maximum revenue circulation** (:func:`max_revenue_circulation`). Edges that leave their
strongly connected component cannot carry circulation, so the graph is cut into strongly
connected components first (scipy, O(V + E)); the components that hold a revenue edge go to
OR-Tools' network simplex / cost scaling (``SimpleMinCostFlow``) as one min-cost circulation with
cost -1 on revenue edges and 0 elsewhere, all supplies 0. The optimum is exact, integral and in
integer cents. Reference: Ahuja, Magnanti & Orlin, *Network Flows* (1993), ch. 9-10.

**Canonical split** (:func:`canonical_circulation`). The optimum total is unique, its split among
edges is not. Among all maximum circulations we pick the unique one that minimises
``sum f_e**2 / cap_e`` (strictly convex, so unique; it depends only on amounts and structure, so
it is label-invariant; scaling amounts by k scales it by k; splitting an edge into parallel edges
of one kind changes nothing). Steps:

1. dual potentials of the integer optimum by Bellman-Ford on its residual graph (vectorised,
   one numpy pass per round; costs are -1/0/1 so few rounds are needed on real webs; at most V);
2. reduced costs fix every edge with ``rc < 0`` at its amount and every edge with ``rc > 0`` at
   zero (complementary slackness holds for *every* optimum); the edges that can still move are the
   ``rc == 0`` edges on a residual cycle of such edges (an SCC test);
3. the quadratic programme on those edges is solved by a semismooth Newton method on its dual
   (node potentials ``p``; ``f_e = cap_e * clip((p_v - p_u) / 2, 0, 1)``), each step a weighted
   graph-Laplacian solve (dense for small webs, Jacobi-preconditioned CG for large ones). HiGHS'
   active-set QP is the fallback for small problems (it does not scale: 15k variables took
   minutes); if both fail the integer optimum is kept and the caller says so;
4. for small moving parts (at most :data:`EXACT_NODES` nodes) the Newton active set is *polished*
   into the exact rational optimum (the KKT system is a Laplacian solve, done in
   :class:`~fractions.Fraction`), so hand-checkable webs get exact figures.

**Cycle witnesses** (:func:`decompose_cycles`): the circulation split into simple cycles by the
classic walk (follow positive edges until a node repeats, peel the cycle off, continue from the
repeated node): O(E * L) for cycle length L, at most E cycles.

**Pro-rata provenance** (:func:`pro_rata`): an absorbing Markov chain per strongly connected
component, solved with one dense inverse and rank-2 Woodbury updates for every origin
(O(n**3) per component of n companies). See the function's docstring for the derivation.

Example::

    >>> import numpy as np
    >>> src, dst = np.array([0, 1]), np.array([1, 0])
    >>> cap, rev = np.array([100, 70]), np.array([False, True])
    >>> flow, total = max_revenue_circulation(2, src, dst, cap, rev)
    >>> flow.tolist(), total
    ([70, 70], 70)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy import sparse
from scipy.sparse.csgraph import connected_components, depth_first_order
from scipy.sparse.linalg import cg

__all__ = [
    "EXACT_NODES",
    "CanonicalFlow",
    "ProRata",
    "bellman_ford",
    "canonical_circulation",
    "decompose_cycles",
    "face_bounds",
    "moving_edges",
    "max_revenue_circulation",
    "pro_rata",
    "residual_arcs",
    "scc_labels",
]

#: Moving parts of at most this many nodes get the exact rational canonical split.
EXACT_NODES = 64
#: Moving parts of at most this many edges may fall back to HiGHS' active-set QP.
HIGHS_EDGES = 3000
#: Below this many nodes the Newton steps use a dense solve instead of conjugate gradients.
DENSE_NODES = 1500

_NEWTON_ITERATIONS = 200
_NEWTON_TOLERANCE = 1e-13  # residual, in units of the largest moving edge's amount
_CG_RTOL = 1e-12  # the tightest conjugate-gradient tolerance of a Newton direction


# --------------------------------------------------------------------------------------------
# Graph helpers


def scc_labels(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The strongly connected component of every node (scipy, O(V + E))."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    matrix = sparse.csr_matrix(
        (np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n), dtype=np.int8
    )
    _, labels = connected_components(matrix, directed=True, connection="strong")
    return labels.astype(np.int64)


def _weak_labels(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    matrix = sparse.csr_matrix(
        (np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n), dtype=np.int8
    )
    _, labels = connected_components(matrix, directed=False)
    return labels.astype(np.int64)


def residual_arcs(
    src: np.ndarray,
    dst: np.ndarray,
    cap: np.ndarray,
    cost: np.ndarray,
    flow: np.ndarray,
    tolerance: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The residual graph of ``flow``: (tail, head, cost) of every arc with room left.

    A forward arc ``u -> v`` (cost ``c``) where ``flow < cap``, a backward arc ``v -> u`` (cost
    ``-c``) where ``flow > 0``; ``tolerance`` treats flows that close to a bound as on it.
    """
    forward = flow < cap - tolerance
    backward = flow > tolerance
    tail = np.concatenate([src[forward], dst[backward]])
    head = np.concatenate([dst[forward], src[backward]])
    weight = np.concatenate([cost[forward], -cost[backward]])
    return tail, head, weight


def bellman_ford(
    n: int, tail: np.ndarray, head: np.ndarray, weight: np.ndarray
) -> np.ndarray | None:
    """Potentials ``d`` with ``d[head] <= d[tail] + weight`` on every arc, or None.

    Shortest distances from a virtual source joined to every node at cost 0, by synchronous
    Bellman-Ford rounds (each round one vectorised pass over all arcs). Returns None when a
    negative cycle exists (still improving after ``n + 1`` rounds).
    """
    dist = np.zeros(n, dtype=weight.dtype if len(weight) else np.int64)
    if len(tail) == 0:
        return dist
    order = np.argsort(head, kind="stable")
    tail, head, weight = tail[order], head[order], weight[order]
    heads, starts = np.unique(head, return_index=True)
    for _ in range(n + 1):
        best = np.minimum.reduceat(dist[tail] + weight, starts)
        improved = best < dist[heads]
        if not improved.any():
            return dist
        dist[heads[improved]] = best[improved]
    return None


# --------------------------------------------------------------------------------------------
# Maximum revenue circulation


def max_revenue_circulation(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    cap: np.ndarray,
    revenue: np.ndarray,
    exclude: int | None = None,
) -> tuple[np.ndarray, int]:
    """An integer circulation maximising the flow on revenue edges, and that maximum.

    Edges touching node ``exclude`` (``External``) carry nothing.

    Raises:
        RuntimeError: OR-Tools did not report an optimum (a bug: a zero-supply circulation
            problem with finite capacities always has one).
    """
    flow = np.zeros(len(src), dtype=np.int64)
    active = _cyclic_edges(n, src, dst, revenue, exclude)
    if not active.any():
        return flow, 0
    nodes, local = np.unique(np.concatenate([src[active], dst[active]]), return_inverse=True)
    m = int(active.sum())
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        local[:m].astype(np.int32),
        local[m:].astype(np.int32),
        cap[active].astype(np.int64),
        np.where(revenue[active], -1, 0).astype(np.int64),
    )
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"OR-Tools min-cost circulation ended with status {status}")
    flow[active] = solver.flows(arcs)
    return flow, -int(solver.optimal_cost())


def _cyclic_edges(
    n: int, src: np.ndarray, dst: np.ndarray, revenue: np.ndarray, exclude: int | None
) -> np.ndarray:
    """Edges inside a strongly connected component that holds a revenue edge."""
    keep = np.ones(len(src), dtype=bool)
    if exclude is not None:
        keep &= (src != exclude) & (dst != exclude)
    labels = scc_labels(n, src[keep], dst[keep])
    inside = keep & (labels[src] == labels[dst])
    with_revenue = np.zeros(n, dtype=bool)
    with_revenue[labels[src[inside & revenue]]] = True
    return inside & with_revenue[labels[src]]


# --------------------------------------------------------------------------------------------
# Canonical split


@dataclass(frozen=True)
class CanonicalFlow:
    """The canonical maximum circulation.

    ``integral`` is an integer optimum (OR-Tools') on every edge; on ``variable`` edges (those
    whose flow differs between optima) the canonical values are ``exact`` (Fractions, in the
    order of ``np.flatnonzero(variable)``) or ``approx`` (float64), or neither when the split
    fell back to ``integral``. ``how`` is one of ``unique``, ``exact``, ``float``, ``fallback``.
    """

    integral: np.ndarray
    variable: np.ndarray
    exact: tuple[Fraction, ...] | None
    approx: np.ndarray | None
    how: str

    def as_float(self) -> np.ndarray:
        """The canonical flow per edge, float64 cents."""
        values = self.integral.astype(np.float64)
        if self.exact is not None:
            values[self.variable] = [float(x) for x in self.exact]
        elif self.approx is not None:
            values[self.variable] = self.approx
        return values

    @property
    def is_exact(self) -> bool:
        """Whether :meth:`fractions` gives the exact canonical values."""
        return self.how != "float"

    def fractions(self) -> list[Fraction] | None:
        """The exact canonical flow per edge, or None when it is only known in floats."""
        if not self.is_exact:
            return None
        values = [Fraction(int(x)) for x in self.integral]
        if self.exact is not None:
            for edge, value in zip(np.flatnonzero(self.variable), self.exact, strict=True):
                values[int(edge)] = value
        return values


def canonical_circulation(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    cap: np.ndarray,
    revenue: np.ndarray,
    flow: np.ndarray,
    exclude: int | None = None,
) -> CanonicalFlow:
    """Among all circulations with the revenue total of ``flow``, the one minimising Σf²/cap.

    ``flow`` must be an optimal integer circulation (:func:`max_revenue_circulation`) with the
    same ``exclude``; edges touching that node stay at zero.

    Raises:
        RuntimeError: ``flow`` is not optimal (its residual graph has a negative cycle).
    """
    variable = moving_edges(n, src, dst, cap, revenue, flow, exclude)
    if not variable.any():
        return CanonicalFlow(flow, variable, None, None, "unique")
    u, v = src[variable], dst[variable]
    nodes, local = np.unique(np.concatenate([u, v]), return_inverse=True)
    m = len(u)
    lu, lv = local[:m], local[m:]
    c = cap[variable].astype(np.int64)
    b = _net_inflow(lu, lv, flow[variable].astype(np.int64), len(nodes))
    with _one_blas_thread(len(nodes)):
        y = _newton_qp(lu, lv, c, b, len(nodes))
    if y is None and m <= HIGHS_EDGES:
        y = _highs_qp(lu, lv, c, b, len(nodes))
    if y is None:
        return CanonicalFlow(flow, variable, None, None, "fallback")
    if len(nodes) <= EXACT_NODES:
        exact = _exact_polish(lu, lv, c, b, y, len(nodes))
        if exact is not None:
            return CanonicalFlow(flow, variable, tuple(exact), None, "exact")
    # A float answer that loses money (a cent-sized edge beside $1M ones, solved to float
    # precision) is worse than an order-dependent but exact one: keep the integer optimum.
    drift = np.abs(_net(lu, lv, c * y, len(nodes)) - b).max()
    if drift > 1e-6 + 1e-11 * float(c.max()):
        return CanonicalFlow(flow, variable, None, None, "fallback")
    return CanonicalFlow(flow, variable, None, c * y, "float")


def moving_edges(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    cap: np.ndarray,
    revenue: np.ndarray,
    flow: np.ndarray,
    exclude: int | None = None,
) -> np.ndarray:
    """The edges whose flow is not the same in every maximum circulation.

    Edges touching ``exclude`` (``External``) are not part of the problem: they never move.

    Raises:
        RuntimeError: ``flow`` is not optimal.
    """
    keep = np.ones(len(src), dtype=bool)
    if exclude is not None:
        keep = (src != exclude) & (dst != exclude)
    cost = np.where(revenue, -1, 0).astype(np.int64)
    tail, head, weight = residual_arcs(src[keep], dst[keep], cap[keep], cost[keep], flow[keep])
    dist = bellman_ford(n, tail, head, weight)
    if dist is None:
        raise RuntimeError("the integer circulation is not optimal: negative residual cycle")
    reduced = cost + dist[src] - dist[dst]
    if np.any(keep & (reduced < 0) & (flow != cap)) or np.any(keep & (reduced > 0) & (flow != 0)):
        raise RuntimeError("complementary slackness fails: potentials are wrong")
    free = keep & (reduced == 0)
    if not free.any():
        return np.zeros(len(src), dtype=bool)
    ftail, fhead, _ = residual_arcs(src[free], dst[free], cap[free], cost[free], flow[free])
    labels = scc_labels(n, ftail, fhead)
    variable = np.zeros(len(src), dtype=bool)
    variable[free] = labels[src[free]] == labels[dst[free]]
    # An edge strictly between its bounds has both residual arcs, a 2-cycle that moves nothing;
    # it moves only if another residual path joins its ends, i.e. it is not a bridge of the
    # undirected graph of the edges inside components.
    inside = np.flatnonzero(variable)
    interior = (flow[inside] > 0) & (flow[inside] < cap[inside])
    if interior.any():
        bridge = _bridges(n, src[inside], dst[inside])
        variable[inside[interior & bridge]] = False
    return variable


def _bridges(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Which edges of the undirected multigraph with edges ``a[i] - b[i]`` are bridges.

    One depth-first search (scipy) from a virtual root joined to one node of every connected
    part; a tree edge is a bridge unless a back edge leaves the subtree below it (Tarjan's
    criterion, counted by subtree sums), and parallel edges are never bridges. O(V + E).
    """
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    pairs, where, count = np.unique(lo * n + hi, return_inverse=True, return_counts=True)
    x, y = pairs // n, pairs % n
    _, part = connected_components(
        sparse.csr_matrix((np.ones(len(x)), (x, y)), shape=(n, n)), directed=False
    )
    _, first = np.unique(part, return_index=True)
    root = n
    x = np.concatenate([x, np.full(len(first), root)])
    y = np.concatenate([y, first])
    graph = sparse.csr_matrix((np.ones(len(x)), (x, y)), shape=(n + 1, n + 1))
    order, parent = depth_first_order(graph + graph.T, root, return_predecessors=True)
    rank = np.empty(n + 1, dtype=np.int64)
    rank[order] = np.arange(n + 1)
    pairs_x, pairs_y = x[: len(pairs)], y[: len(pairs)]
    tree = (parent[pairs_y] == pairs_x) | (parent[pairs_x] == pairs_y)
    back = ~tree
    below = np.where(rank[pairs_x] > rank[pairs_y], pairs_x, pairs_y)  # the descendant end
    above = np.where(rank[pairs_x] > rank[pairs_y], pairs_y, pairs_x)
    leaving = np.zeros(n + 1, dtype=np.int64)
    np.add.at(leaving, below[back], 1)
    np.subtract.at(leaving, above[back], 1)
    parents = parent.tolist()
    for node in order[:0:-1].tolist():  # children before parents: subtree sums
        leaving[parents[node]] += leaving[node]
    child = np.where(parent[pairs_y] == pairs_x, pairs_y, pairs_x)
    is_bridge = tree & (leaving[child] == 0) & (count == 1)
    return is_bridge[where]


def _net_inflow(u: np.ndarray, v: np.ndarray, x: np.ndarray, n: int) -> np.ndarray:
    """Exact integer inflow minus outflow at every node."""
    net = np.zeros(n, dtype=np.int64)
    np.add.at(net, v, x)
    np.subtract.at(net, u, x)
    return net


def _newton_qp(
    u: np.ndarray, v: np.ndarray, c: np.ndarray, b: np.ndarray, n: int
) -> np.ndarray | None:
    """Minimise Σ c_e y_e² over 0 <= y <= 1 with inflow(c*y) - outflow(c*y) = b, or None.

    Semismooth Newton on the concave dual ``g(p) = Σ c_e (y_e² - 2 y_e t_e) + p·b`` with
    ``t_e = (p_v - p_u) / 2`` and ``y_e = clip(t_e, 0, 1)``; its gradient is the conservation
    residual and its generalised Hessian half the Laplacian of the edges with ``0 < t < 1``.
    Amounts are scaled by the largest one so that the arithmetic is well conditioned. The
    tolerance shrinks with the demand when the demand is far below the largest amount (a cent
    moving through $100B edges): a fixed one would accept ``y = 0`` there and lose the cent.
    """
    scale = float(c.max())
    w = c / scale
    rhs = b / scale
    tolerance = _NEWTON_TOLERANCE * min(1.0, float(np.abs(rhs).max()))
    degree = np.bincount(u, weights=w, minlength=n) + np.bincount(v, weights=w, minlength=n)
    p = np.zeros(n)
    g, y, t = _dual(p, u, v, w, rhs)
    residual = rhs - _net(u, v, w * y, n)
    first_error = float(np.abs(residual).max())
    pattern: _Pattern | None = None
    for iteration in range(_NEWTON_ITERATIONS):
        error = float(np.abs(residual).max())
        if error <= tolerance:
            return y
        active = (t >= 0) & (t <= 1) if iteration == 0 else (t > 0) & (t < 1)
        near = np.bincount(u[active], weights=w[active], minlength=n)
        near += np.bincount(v[active], weights=w[active], minlength=n)
        # Damp by the active weight at a node (its full degree only where none is active):
        # damping a cent-sized edge by a $100B neighbour's weight would stall the step.
        damping = np.where(near > 0, near, degree)
        # Inexact Newton (Eisenstat & Walker 1996): solve for the direction only as tightly as
        # the residual is small, tight near the end. Only the path changes: the stopping test
        # on the residual is the same, so is the fixed point.
        forcing = max(_CG_RTOL, min(0.1, error / first_error) ** 2)
        if n > DENSE_NODES:
            pattern = pattern or _Pattern.of(u, v, n)
            step = pattern.solve(active, w / 2, damping, residual, forcing)
        else:
            step = _newton_direction(u[active], v[active], w[active] / 2, damping, residual, n)
        alpha, slope = 1.0, float(residual @ step)
        while True:
            g_new, y_new, t_new = _dual(p + alpha * step, u, v, w, rhs)
            ascent = g_new >= g + 1e-4 * alpha * slope
            flat = abs(g_new - g) <= 1e-13 * (abs(g) + 1.0)
            if ascent or flat:  # the residual only when the step may be taken
                r_new = rhs - _net(u, v, w * y_new, n)
                if ascent or np.abs(r_new).max() < error:
                    break
            alpha /= 2
            if alpha < 1e-14:
                return None
        p = p + alpha * step
        g, y, t, residual = g_new, y_new, t_new, r_new
    return y if float(np.abs(residual).max()) <= 1e3 * tolerance else None


def _dual(
    p: np.ndarray, u: np.ndarray, v: np.ndarray, w: np.ndarray, rhs: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    t = (p[v] - p[u]) / 2
    y = np.clip(t, 0.0, 1.0)
    return float(np.sum(w * (y * y - 2 * y * t)) + p @ rhs), y, t


def _net(u: np.ndarray, v: np.ndarray, x: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(v, weights=x, minlength=n) - np.bincount(u, weights=x, minlength=n)


@dataclass(frozen=True)
class _Pattern:
    """The sparsity pattern of the Laplacian of all edges, built once per split.

    Each Newton direction's Laplacian (of the active edges) fits in it: its values come from
    two bincounts and one gather instead of a COO-to-CSR conversion (a sort) per direction.
    Self-loops are left out: their Laplacian is zero. ``order`` takes the values laid out as
    off-diagonals ``(lo, hi)``, ``(hi, lo)`` per node pair, then the diagonal, to CSR order.
    """

    u: np.ndarray
    v: np.ndarray
    edges: np.ndarray
    pair: np.ndarray
    pairs: int
    order: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray

    @classmethod
    def of(cls, u: np.ndarray, v: np.ndarray, n: int) -> _Pattern:
        edges = np.flatnonzero(u != v)
        a, b = u[edges].astype(np.int64), v[edges].astype(np.int64)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        keys, pair = np.unique(lo * n + hi, return_inverse=True)
        plo, phi, diagonal = keys // n, keys % n, np.arange(n, dtype=np.int64)
        rows = np.concatenate([plo, phi, diagonal])
        cols = np.concatenate([phi, plo, diagonal])
        order = np.lexsort((cols, rows))
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        return cls(a, b, edges, pair.ravel(), len(keys), order, cols[order], indptr)

    def solve(
        self, active: np.ndarray, h: np.ndarray, degree: np.ndarray, r: np.ndarray, rtol: float
    ) -> np.ndarray:
        """:func:`_newton_direction` of the ``active`` edges with weights ``h``, by CG."""
        n = len(degree)
        on = active[self.edges]
        weight = h[self.edges][on]
        off = np.bincount(self.pair[on], weights=weight, minlength=self.pairs)
        diagonal = np.bincount(self.u[on], weights=weight, minlength=n)
        diagonal += np.bincount(self.v[on], weights=weight, minlength=n)
        diagonal += 1e-6 * degree + 1e-300
        data = np.concatenate([-off, -off, diagonal])[self.order]
        laplacian = sparse.csr_matrix((data, self.indices, self.indptr), shape=(n, n))
        step, _ = cg(laplacian, r, rtol=rtol, maxiter=10 * n, M=sparse.diags(1.0 / diagonal))
        return step


def _newton_direction(
    u: np.ndarray, v: np.ndarray, h: np.ndarray, degree: np.ndarray, r: np.ndarray, n: int
) -> np.ndarray:
    """Solve ``(L_h + 1e-6 diag(degree)) d = r`` for the weighted Laplacian ``L_h``, densely.

    The small Levenberg term keeps nodes without active edges from taking huge steps; it
    changes the path, never the fixed point. Only for at most :data:`DENSE_NODES` nodes:
    larger systems go to :meth:`_Pattern.solve` (conjugate gradients, to a tolerance tied to
    the residual).
    """
    diagonal = 1e-6 * degree + 1e-300
    laplacian = sparse.coo_matrix(
        (
            np.concatenate([h, h, -h, -h]),
            (np.concatenate([u, v, u, v]), np.concatenate([u, v, v, u])),
        ),
        shape=(n, n),
    ).tocsr() + sparse.diags(diagonal)
    return np.linalg.solve(laplacian.toarray(), r)


@contextmanager
def _one_blas_thread(n: int) -> Iterator[None]:
    """Dense Newton steps on one BLAS thread.

    Why: OpenBLAS's threads spin while they wait for work, and on a 2-core machine whose other
    core is busy the dense solves of a ~1,000-node moving part crawled (the 100k-leg web's
    split: 3.6 s with two threads, 0.7 s with one). One thread costs a third more on an idle
    machine (26 ms against 34 ms per 1,000-node solve), far less than it saves on a busy one.
    Sparse steps (conjugate gradients) use no BLAS threads; pro-rata's large dense inverse,
    which gains from them, keeps them.
    """
    if n > DENSE_NODES:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


@contextmanager
def _silenced_stdout() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null: the library never prints, not even from C++."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _highs_qp(
    u: np.ndarray, v: np.ndarray, c: np.ndarray, b: np.ndarray, n: int
) -> np.ndarray | None:
    """The same QP by HiGHS' active-set solver (small problems only), or None."""
    import highspy

    m = len(u)
    scale = float(c.max())
    w = c / scale
    rows = np.concatenate([v, u])
    cols = np.concatenate([np.arange(m), np.arange(m)])
    matrix = sparse.csc_matrix((np.concatenate([w, -w]), (rows, cols)), shape=(n, m))
    rhs = b / scale
    with _silenced_stdout():  # HiGHS prints its banner from C++ when constructed
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", 60.0)
    status = highs.passModel(
        m,
        n,
        matrix.nnz,
        m,
        1,  # column-wise matrix
        1,  # triangular Hessian
        1,  # minimise
        0.0,
        np.zeros(m),
        np.zeros(m),
        np.ones(m),
        rhs,
        rhs,
        matrix.indptr.astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data,
        np.arange(m + 1, dtype=np.int32),
        np.arange(m, dtype=np.int32),
        2 * w,
        np.zeros(m, dtype=np.int32),
    )
    if status != highspy.HighsStatus.kOk:
        return None
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    y = np.clip(np.asarray(highs.getSolution().col_value), 0.0, 1.0)
    y[y < 1e-9] = 0.0
    y[y > 1 - 1e-9] = 1.0
    return y


def _exact_polish(
    u: np.ndarray, v: np.ndarray, c: np.ndarray, b: np.ndarray, y: np.ndarray, n: int
) -> list[Fraction] | None:
    """The exact optimum for the active set of ``y``, or None if that set is not consistent.

    With the edges at 0 and at their amount fixed, the KKT conditions say the interior edges
    carry ``f_e = c_e (p_v - p_u) / 2`` and conserve flow: ``L p = 2 q`` for the integer
    Laplacian ``L`` of the interior edges (weights ``c``) and the integer demand ``q``.
    """
    interior = (y > 0) & (y < 1)
    at_cap = y >= 1
    q = b - _net_inflow(u[at_cap], v[at_cap], c[at_cap], n)
    labels = _weak_labels(n, u[interior], v[interior])
    touched = np.zeros(n, dtype=bool)
    touched[u[interior]] = touched[v[interior]] = True
    if np.any(q[~touched] != 0):
        return None
    potential: dict[int, Fraction] = {}
    for label in np.unique(labels[touched]):
        members = [int(x) for x in np.flatnonzero(touched & (labels == label))]
        solved = _solve_laplacian(members, u[interior], v[interior], c[interior], q)
        if solved is None:
            return None
        potential.update(solved)
    result: list[Fraction] = []
    for e, amount in enumerate(c.tolist()):
        if interior[e]:
            x = Fraction(amount, 2) * (potential[int(v[e])] - potential[int(u[e])])
            if x < 0 or x > amount or abs(float(x) / amount - y[e]) > 1e-6:
                return None
        else:
            x = Fraction(amount) if at_cap[e] else Fraction(0)
        result.append(x)
    return result


def _solve_laplacian(
    members: list[int], u: np.ndarray, v: np.ndarray, c: np.ndarray, q: np.ndarray
) -> dict[int, Fraction] | None:
    """Exact potentials of one connected component: ``L p = 2 q``, first member pinned at 0."""
    index = {node: i for i, node in enumerate(members)}
    k = len(members)
    matrix = [[Fraction(0)] * k for _ in range(k)]
    for a, z, weight in zip(u.tolist(), v.tolist(), c.tolist(), strict=True):
        if a in index:
            i, j = index[a], index[z]
            matrix[i][i] += weight
            matrix[j][j] += weight
            matrix[i][j] -= weight
            matrix[j][i] -= weight
    rhs = [Fraction(2 * int(q[node])) for node in members]
    if sum(rhs) != 0:
        return None
    # Pin the first node: drop its row and column (the Laplacian of a connected graph minus
    # one row and column is positive definite).
    solution = _gauss([row[1:] for row in matrix[1:]], rhs[1:])
    if solution is None:
        return None
    values = [Fraction(0), *solution]
    return dict(zip(members, values, strict=True))


def _gauss(matrix: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    """Exact Gaussian elimination (the matrix is positive definite: no pivoting needed)."""
    k = len(rhs)
    a = [row[:] + [rhs[i]] for i, row in enumerate(matrix)]
    for col in range(k):
        pivot = next((r for r in range(col, k) if a[r][col] != 0), None)
        if pivot is None:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        head = a[col]
        for r in range(col + 1, k):
            factor = a[r][col] / head[col]
            if factor:
                row = a[r]
                for j in range(col, k + 1):
                    row[j] -= factor * head[j]
    x = [Fraction(0)] * k
    for r in range(k - 1, -1, -1):
        total = a[r][k] - sum(a[r][j] * x[j] for j in range(r + 1, k))
        x[r] = total / a[r][r]
    return x


# --------------------------------------------------------------------------------------------
# Bounds over the optimal face


def face_bounds(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    cap: np.ndarray,
    flow: np.ndarray,
    variable: np.ndarray,
    targets: dict[int, np.ndarray],
) -> dict[int, tuple[int, int]]:
    """Min and max of Σ flow over each target's edges, over all maximum circulations.

    ``targets`` maps a key (a company) to a boolean mask of edges (its incoming revenue edges).
    Non-variable edges keep ``flow``; variable edges range over the optimal face (conservation,
    ``0 <= f <= cap``). The face is an integral polytope (network matrix, integer data), so the
    LP optima are whole cents.
    """
    from scipy.optimize import linprog

    result: dict[int, tuple[int, int]] = {}
    u, v = src[variable], dst[variable]
    edges = np.flatnonzero(variable)
    labels = _weak_labels(n, u, v)
    for key, mask in targets.items():
        fixed = int(flow[mask & ~variable].sum())
        mine = mask[variable]
        if not mine.any():
            result[key] = (fixed, fixed)
            continue
        label = labels[u[mine][0]]
        part = labels[u] == label
        nodes, local = np.unique(np.concatenate([u[part], v[part]]), return_inverse=True)
        m = int(part.sum())
        a_eq = sparse.coo_matrix(
            (
                np.concatenate([np.ones(m), -np.ones(m)]),
                (np.concatenate([local[m:], local[:m]]), np.concatenate([np.arange(m)] * 2)),
            ),
            shape=(len(nodes), m),
        ).tocsr()
        b_eq = _net_inflow(local[:m], local[m:], flow[edges[part]].astype(np.int64), len(nodes))
        objective = mine[part].astype(float)
        bounds = np.column_stack([np.zeros(m), cap[edges[part]].astype(float)])
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if low.status != 0 or high.status != 0:
            raise RuntimeError("bounds LP failed on a feasible face")
        result[key] = (fixed + round(low.fun), fixed + round(-high.fun))
    return result


# --------------------------------------------------------------------------------------------
# Cycle decomposition


def decompose_cycles(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    values: list[int] | np.ndarray,
    preference: np.ndarray,
) -> list[tuple[list[int], int | float]]:
    """Split a circulation into simple cycles: ``[(edge indices in order, amount), ...]``.

    ``values`` are exact integers (a Python list: the decomposition is exact) or floats (an
    edge counts as used up below ``1e-9`` of its value plus ``1e-6``, and where float noise
    breaks conservation the noise is dropped, never more). Walks start from nodes in index
    order and leave each node by its out-edges in ``preference`` order (a rank per edge, lowest
    first), so the result is deterministic.
    """
    exact = isinstance(values, list)
    if exact:
        remaining: list = list(values)
        floor: list = [0] * len(remaining)
    else:
        remaining = np.asarray(values, dtype=np.float64).tolist()
        floor = (1e-9 * np.abs(np.asarray(values, dtype=np.float64)) + 1e-6).tolist()
    positive = [e for e, x in enumerate(remaining) if x > floor[e]]
    positive.sort(key=preference.__getitem__)
    out: list[list[int]] = [[] for _ in range(n)]
    tails = src.tolist()
    heads = dst.tolist()
    for e in positive:
        out[tails[e]].append(e)
    pointer = [0] * n
    position = [-1] * n  # index of a node in the current walk, -1 if not on it
    cycles: list[tuple[list[int], int | float]] = []
    for start in range(n):
        stack, path = [start], []
        position[start] = 0
        node = start
        while True:
            edges, i = out[node], pointer[node]
            while i < len(edges) and remaining[edges[i]] <= floor[edges[i]]:
                i += 1
            pointer[node] = i
            if i == len(edges):
                if not path:  # the start node has nothing left to send
                    break
                # Float noise only (exact flows conserve): drop the noise and step back.
                remaining[path.pop()] = 0
                position[stack.pop()] = -1
                node = stack[-1]
                continue
            edge = edges[i]
            path.append(edge)
            node = heads[edge]
            at = position[node]
            if at < 0:
                position[node] = len(stack)
                stack.append(node)
                continue
            cycle = path[at:]
            amount = min(remaining[e] for e in cycle)
            for e in cycle:
                remaining[e] -= amount
                if not exact and remaining[e] <= floor[e]:
                    remaining[e] = 0.0
            cycles.append((cycle, amount))
            for dropped in stack[at + 1 :]:
                position[dropped] = -1
            del stack[at + 1 :]
            del path[at:]
        position[start] = -1
    return cycles


# --------------------------------------------------------------------------------------------
# Pro-rata provenance


@dataclass(frozen=True)
class ProRata:
    """Pro-rata results, float64 cents.

    ``circular[i]``: money that leaves company ``i`` and first comes back to it on a revenue
    edge. ``edge_circular[e]``: the part of revenue edge ``e`` that is its payee's own money
    coming back (sums to ``circular`` per payee). ``edge_flow[e]``: money on ``e`` that is on
    its way back to its origin as revenue, summed over origins (a sum of circulations).
    """

    circular: np.ndarray
    edge_circular: np.ndarray
    edge_flow: np.ndarray


def pro_rata(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    cents: np.ndarray,
    revenue: np.ndarray,
    exclude: int | None = None,
    edge_flows: bool = True,
) -> ProRata:
    """Provenance tracing: each company's outflows followed until they first return to it.

    Model (SPEC §3): company ``j`` passes each unit it receives along out-edge ``e`` with
    probability ``a_e / c_j``, ``c_j = max(I_j, O_j)`` (all inflows incl. ``External``, all
    outflows incl. to ``External``); it keeps the rest (``I_j > O_j``), and money reaching
    ``External`` leaves. ``P`` is that pass-through matrix between companies.

    For origin ``i`` the chain is killed on arrival at ``i``: ``Q_i = P`` with column ``i``
    zeroed. Starting with ``c_i`` at ``i`` (exactly ``i``'s outflows, ``c_i P_i.``), the
    expected visits are ``c_i x`` with ``x = e_i (I - Q_i)^-1``, and the part that comes back
    on revenue edges is ``c_i x · Prev[:, i]``. Money cannot return from outside ``i``'s strongly
    connected component, so each component is solved on its own. Inverting ``I - Q_i`` for
    every ``i`` would cost O(n**4); instead one reference matrix ``A = I - Q_r`` (``r`` the
    component's largest company; ``A`` is non-singular since every node reaches ``r``, even for
    closed components such as a capacity swap where ``I - P`` itself is singular) is inverted
    once, and ``I - Q_i = A + u_i e_i^T - u_r e_r^T`` (``u_k = P e_k``) is a rank-2 update:
    Woodbury gives every origin's row ``x`` and column ``y = (I - Q_i)^-1 Prev e_i`` (the
    chance, from each node, of first reaching ``i`` by a revenue edge) in O(n**2) each.
    ``edge_flow`` on ``e = (j, k)`` is then ``a_e / c_j * Σ_i c_i x^i_j y^i_k`` (with the
    ``k = i`` term replaced by the revenue arrival), a product needed on the edges only and
    computed there (O(n * edges), not O(n**3)). Cost: one dense LU and inverse, O(n**3) time
    and two n x n arrays of memory (10k companies: 1.6 GB, about 25 s on one core).
    """
    m = len(src)
    inflow = np.bincount(dst, weights=cents, minlength=n)
    outflow = np.bincount(src, weights=cents, minlength=n)
    funds = np.maximum(inflow, outflow)
    circular = np.zeros(n)
    edge_circular = np.zeros(m)
    edge_flow = np.zeros(m)
    keep = np.ones(m, dtype=bool)
    if exclude is not None:
        keep &= (src != exclude) & (dst != exclude)
    labels = scc_labels(n, src[keep], dst[keep])
    inside = keep & (labels[src] == labels[dst])
    result = ProRata(circular, edge_circular, edge_flow)
    order = np.argsort(labels[src[inside]], kind="stable")
    grouped = np.flatnonzero(inside)[order]
    starts = np.flatnonzero(np.diff(labels[src[grouped]], prepend=-1))
    for edges in np.split(grouped, starts[1:]):
        if len(edges):
            if edge_flows or len(edges) < SPARSE_PRO_RATA_EDGES:
                _pro_rata_component(edges, src, dst, cents, revenue, funds, result, edge_flows)
            else:
                _pro_rata_component_core(edges, src, dst, cents, revenue, funds, result)
    return result


def _pro_rata_component(
    edges: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    cents: np.ndarray,
    revenue: np.ndarray,
    funds: np.ndarray,
    out: ProRata,
    edge_flows: bool,
) -> None:
    """Fill the outputs for one strongly connected component (in place).

    At most two dense ``k x k`` arrays live at once (the LU factors and ``K`` while solving,
    then ``x`` in place of ``K`` and ``yt``): at 10k companies that is 1.6 GB, not 3.5. ``K``
    is solved in Fortran order so that the columns of ``x`` are contiguous for the product
    sampled on the edges.
    """
    nodes, local = np.unique(np.concatenate([src[edges], dst[edges]]), return_inverse=True)
    k, m = len(nodes), len(edges)
    j, z = local[:m], local[m:]
    c = funds[nodes].astype(np.float64)
    share = cents[edges] / c[j]  # pass-through probability of every edge
    rev = revenue[edges]
    p = sparse.csr_matrix((share, (j, z)), shape=(k, k))
    prev = sparse.csr_matrix((share[rev], (j[rev], z[rev])), shape=(k, k))
    r = int(np.argmax(c))
    a = np.zeros((k, k), order="F")  # A = I - P with column r replaced by e_r
    entries = p.tocoo()  # duplicates summed
    a[entries.row, entries.col] = -entries.data
    a[np.arange(k), np.arange(k)] += 1.0
    a[:, r] = 0.0
    a[r, r] = 1.0
    kinv = _inverse(a)
    del a
    w_ii = _diag_product(kinv, p)  # W = K P, R = K Prev
    w_ir = np.asarray(p[:, [r]].T @ kinv.T).ravel()
    w_ri = np.asarray(p.T @ kinv[r]).ravel()
    r_ii = _diag_product(kinv, prev)
    r_ri = np.asarray(prev.T @ kinv[r]).ravel()
    # D_i = [[1 + W_ii, -W_ir], [W_ri, 1 - W_rr]], inverted in closed form for every origin i.
    d11, d12, d21, d22 = 1.0 + w_ii, -w_ir, w_ri, 1.0 - w_ri[r]
    det = d11 * d22 - d12 * d21
    alpha = (w_ii * d22 + w_ir * d21) / det  # [alpha, beta] = [W_ii, -W_ir] D^-1
    beta = (-w_ii * d12 - w_ir * d11) / det
    gamma = (d22 * r_ii - d12 * r_ri) / det  # [gamma, delta] = D^-1 [R_ii, R_ri]
    delta = (-d21 * r_ii + d11 * r_ri) / det
    returned = (1.0 - alpha) * r_ii - beta * r_ri
    out.circular[nodes] = c * np.clip(returned, 0.0, None)
    visits_from_r = kinv[r].copy()
    if edge_flows:
        # yt[k, i]: the chance, from k, of first reaching i by a revenue edge; yt = K mix +
        # (K u_r) delta^T with mix = Prev - P diag(gamma). As K (I - P + u_r e_r^T) = I,
        # K P = K - I + (K u_r) e_r^T, so K mix = (K P)(I - diag(gamma)) - K Pfin and only
        # the financing edges Pfin need a sparse product. Fortran order like K, finished by
        # blocks of columns without a k x k temporary.
        fin_t = sparse.csr_matrix((share[~rev], (z[~rev], j[~rev])), shape=(k, k))
        yt = np.asarray(fin_t @ kinv.T).T  # K Pfin
        for start in range(0, k, _BLOCK):
            cols = slice(start, min(k, start + _BLOCK))
            block = kinv[:, cols] * (1.0 - gamma[cols])[None, :]
            block -= yt[:, cols]
            block += w_ir[:, None] * delta[None, cols]
            yt[:, cols] = block
        yt[np.arange(k), np.arange(k)] -= 1.0 - gamma
        yt[:, r] += w_ir * (1.0 - gamma[r])
    # x[i, :]: expected visits (per unit) during origin i's excursion; built in place of K.
    x = kinv
    x *= (1.0 - alpha)[:, None]
    for start in range(0, k, _BLOCK):
        cols = slice(start, min(k, start + _BLOCK))
        x[:, cols] -= beta[:, None] * visits_from_r[None, cols]
    out.edge_circular[edges[rev]] = share[rev] * c[z[rev]] * x[z[rev], j[rev]]
    if not edge_flows:
        return
    # s[k, j] = sum_i c_i y_ik x_ij is needed on the component's edges (j -> k) only: a product
    # sampled on the edges, by blocks of targets against the distinct sources of their edges
    # (O(k * m) work instead of the O(k**3) of the full product).
    xt = x.T  # rows are the columns of x, contiguous
    flows = np.empty(m)
    order = np.argsort(z, kind="stable")
    bounds = np.searchsorted(z[order], np.arange(0, k + _TARGETS, _TARGETS))
    starts = range(0, k, _TARGETS)
    # One buffer for the gathered rows: a fresh array per block would be mapped and zeroed by
    # the kernel every time (tens of MB each, hundreds of blocks), which costs more than the sums.
    gathered = np.empty((min(_GATHER, k), k))
    for lo, hi, start in zip(bounds[:-1], bounds[1:], starts, strict=True):
        if lo == hi:
            continue
        chosen = order[lo:hi]
        jj, zz = j[chosen], z[chosen]
        weighted = yt[start : start + _TARGETS] * c[None, :]
        sources, where = np.unique(jj, return_inverse=True)
        s = np.empty(len(chosen))
        for first in range(0, len(sources), _GATHER):
            part = sources[first : first + _GATHER]
            rows = np.take(xt, part, axis=0, out=gathered[: len(part)], mode="clip")
            product = weighted @ rows.T  # product[t, q] = s[start + t, part[q]]
            mask = (where >= first) & (where < first + len(part))
            s[mask] = product[zz[mask] - start, where[mask] - first]
        own = c[zz] * x[zz, jj] * yt[zz, zz]  # the i = k term is a return, not transit
        flows[chosen] = share[chosen] * (s - own) + np.where(
            rev[chosen], share[chosen] * c[zz] * x[zz, jj], 0.0
        )
    out.edge_flow[edges] = np.clip(flows, 0.0, None)


_BLOCK = 512
_TARGETS = 16
_GATHER = 1024

#: Components with at least this many edges (and no edge flows asked for) eliminate their
#: periphery before the dense inverse (:func:`_pro_rata_component_core`).
SPARSE_PRO_RATA_EDGES = 20_000
#: The most edges a company may have to be eliminated with the periphery.
_PERIPHERY_DEGREE = 64


def _periphery(k: int, j: np.ndarray, z: np.ndarray, keep: int) -> np.ndarray:
    """A greedy independent set of low-degree nodes (no edge between two), ``keep`` excluded."""
    pattern = sparse.csr_matrix((np.ones(len(j)), (j, z)), shape=(k, k))
    pattern = ((pattern + pattern.T) > 0).tocsr()
    degree = np.diff(pattern.indptr)
    chosen = np.zeros(k, dtype=bool)
    blocked = np.zeros(k, dtype=bool)
    blocked[keep] = True
    blocked[degree > _PERIPHERY_DEGREE] = True
    indptr, indices = pattern.indptr, pattern.indices
    for node in np.argsort(degree, kind="stable").tolist():
        if blocked[node]:
            continue
        chosen[node] = True
        blocked[indices[indptr[node] : indptr[node + 1]]] = True
    return chosen


def _pro_rata_component_core(
    edges: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    cents: np.ndarray,
    revenue: np.ndarray,
    funds: np.ndarray,
    out: ProRata,
) -> None:
    """:func:`_pro_rata_component` without edge flows, inverting only a dense core.

    The figures need ``K = A^-1`` (``A = I - P`` with column ``r`` replaced by ``e_r``) only
    at ``K[z, j]`` for every edge ``j -> z``, plus ``K``'s row ``r`` and ``K P[:, r]``. With
    ``R`` an independent set of low-degree companies (no edge inside ``R``, ``r`` outside),
    ``A_RR = I``; the Schur complement ``S = A_CC - A_CR A_RC`` is inverted dense (the core
    ``C``), ``K_CC = S^-1``, ``K_CR = -S^-1 A_CR`` and ``K_RC = -A_RC S^-1`` are needed only
    at edge positions, each a short sum over an ``R`` company's few edges; no edge joins two
    ``R`` companies, so ``K_RR`` is never needed. On the 1M-leg web the core is 5,371 of
    9,998 companies: the inverse costs 6.4 times fewer flops (see ``docs/scale.md``).
    """
    nodes, local = np.unique(np.concatenate([src[edges], dst[edges]]), return_inverse=True)
    k, m = len(nodes), len(edges)
    j, z = local[:m], local[m:]
    c = funds[nodes].astype(np.float64)
    share = cents[edges] / c[j]
    rev = revenue[edges]
    r = int(np.argmax(c))
    outer = _periphery(k, j, z, r)
    core = np.flatnonzero(~outer)
    ring = np.flatnonzero(outer)
    where = np.empty(k, dtype=np.int64)  # position of a node within the core or the ring
    where[core] = np.arange(len(core))
    where[ring] = np.arange(len(ring))
    h, q = len(core), len(ring)
    # A = I - P, column r replaced by e_r: off-diagonal entries -share, none in column r.
    minus = np.where(z == r, 0.0, -share)
    in_core_j, in_core_z = ~outer[j], ~outer[z]
    cc = in_core_j & in_core_z
    a_cr = sparse.csr_matrix(
        (
            minus[in_core_j & ~in_core_z],
            (where[j[in_core_j & ~in_core_z]], where[z[in_core_j & ~in_core_z]]),
        ),
        shape=(h, q),
    )
    a_rc = sparse.csr_matrix(
        (
            minus[~in_core_j & in_core_z],
            (where[j[~in_core_j & in_core_z]], where[z[~in_core_j & in_core_z]]),
        ),
        shape=(q, h),
    )
    schur = np.zeros((h, h), order="F")
    np.add.at(schur, (where[j[cc]], where[z[cc]]), minus[cc])
    schur[np.arange(h), np.arange(h)] += 1.0
    schur -= (a_cr @ a_rc).toarray()
    sinv = _inverse(schur)
    del schur
    a_cr_csc = a_cr.tocsc()

    def entries(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """K[rows, cols] for node pairs on edge positions (never both in the ring)."""
        values = np.zeros(len(rows))
        both = ~outer[rows] & ~outer[cols]
        values[both] = sinv[where[rows[both]], where[cols[both]]]
        to_ring = np.flatnonzero(~outer[rows] & outer[cols])  # K_CR = -S^-1 A_CR
        if len(to_ring):
            col = where[cols[to_ring]]
            starts, ends = a_cr_csc.indptr[col], a_cr_csc.indptr[col + 1]
            counts = ends - starts
            owner = np.repeat(np.arange(len(to_ring)), counts)
            offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            position = np.repeat(starts, counts) + offset
            terms = sinv[where[rows[to_ring]][owner], a_cr_csc.indices[position]]
            terms = terms * a_cr_csc.data[position]
            values[to_ring] = -np.bincount(owner, weights=terms, minlength=len(to_ring))
        from_ring = np.flatnonzero(outer[rows] & ~outer[cols])  # K_RC = -A_RC S^-1
        if len(from_ring):
            row = where[rows[from_ring]]
            starts, ends = a_rc.indptr[row], a_rc.indptr[row + 1]
            counts = ends - starts
            owner = np.repeat(np.arange(len(from_ring)), counts)
            offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            position = np.repeat(starts, counts) + offset
            terms = sinv[a_rc.indices[position], where[cols[from_ring]][owner]]
            terms = terms * a_rc.data[position]
            values[from_ring] = -np.bincount(owner, weights=terms, minlength=len(from_ring))
        return values

    def solve(v: np.ndarray) -> np.ndarray:
        """A x = v."""
        x = np.empty(k)
        x_core = sinv @ (v[core] - a_cr @ v[ring])
        x[core] = x_core
        x[ring] = v[ring] - a_rc @ x_core
        return x

    def solve_transposed(v: np.ndarray) -> np.ndarray:
        """A^T y = v."""
        y = np.empty(k)
        y_core = sinv.T @ (v[core] - a_rc.T @ v[ring])
        y[core] = y_core
        y[ring] = v[ring] - a_cr.T @ y_core
        return y

    k_zj = entries(z, j)  # K[z, j] on every edge j -> z
    w_ii = np.bincount(z, weights=k_zj * share, minlength=k)
    r_ii = np.bincount(z[rev], weights=k_zj[rev] * share[rev], minlength=k)
    into_r = np.bincount(j[z == r], weights=share[z == r], minlength=k)  # P[:, r]
    w_ir = solve(into_r)
    unit = np.zeros(k)
    unit[r] = 1.0
    row_r = solve_transposed(unit)  # K[r, :]
    w_ri = np.bincount(z, weights=share * row_r[j], minlength=k)  # P^T K[r]
    r_ri = np.bincount(z[rev], weights=share[rev] * row_r[j[rev]], minlength=k)
    d11, d12, d21, d22 = 1.0 + w_ii, -w_ir, w_ri, 1.0 - w_ri[r]
    det = d11 * d22 - d12 * d21
    alpha = (w_ii * d22 + w_ir * d21) / det
    beta = (-w_ii * d12 - w_ir * d11) / det
    returned = (1.0 - alpha) * r_ii - beta * r_ri
    out.circular[nodes] = c * np.clip(returned, 0.0, None)
    zr, jr = z[rev], j[rev]
    x_zj = (1.0 - alpha[zr]) * k_zj[rev] - beta[zr] * row_r[jr]
    out.edge_circular[edges[rev]] = share[rev] * c[zr] * x_zj


def _diag_product(dense: np.ndarray, matrix: sparse.csr_matrix) -> np.ndarray:
    """``diag(dense @ matrix)`` in O(nnz): sum over stored (a, b) of dense[b, a] * value."""
    coo = matrix.tocoo()
    return np.bincount(
        coo.col, weights=dense[coo.col, coo.row] * coo.data, minlength=dense.shape[0]
    )


def _inverse(a: np.ndarray) -> np.ndarray:
    """The inverse of ``a`` (Fortran order, overwritten by its LU factors), in Fortran order.

    With ``a = P L U`` (LAPACK ``getrf``), ``a^-1 = U^-1 (L^-1 P^T)``. Solving ``a x = I``
    (``getrs``) spends n**3 flops of its forward pass on zeros of the identity; inverting the
    unit lower triangle in place by halves costs n**3/3, then its columns are permuted and one
    triangular solve (``trsm``) applies ``U^-1``: 2n**3 flops with the LU instead of 8n**3/3,
    in two n x n arrays.
    """
    from scipy.linalg import blas, lu_factor

    n = a.shape[0]
    lu, pivots = lu_factor(a, overwrite_a=True, check_finite=False)
    _invert_unit_lower(lu, 0, n)
    perm = np.arange(n)  # P^T b = b[perm]: LAPACK swaps row i with pivots[i], in order
    for i, pivot in enumerate(pivots.tolist()):
        perm[i], perm[pivot] = perm[pivot], perm[i]
    # Column perm[i] of L^-1 P^T is column i of L^-1 (unit diagonal, zero above it).
    result = np.zeros((n, n), order="F")
    for i, column in enumerate(perm.tolist()):
        result[i, column] = 1.0
        result[i + 1 :, column] = lu[i + 1 :, i]
    return blas.dtrsm(1.0, lu, result, side=0, lower=0, diag=0, overwrite_b=1)


def _invert_unit_lower(t: np.ndarray, lo: int, hi: int) -> None:
    """Replace the strict lower triangle of ``t[lo:hi, lo:hi]`` (unit lower ``L``) by L^-1's.

    ``[[A, 0], [B, C]]^-1 = [[A^-1, 0], [-C^-1 B A^-1, C^-1]]``, halves by recursion, LAPACK's
    ``trtri`` below :data:`_BLOCK`. The upper triangle (``U`` of the LU) is left as it is.
    """
    from scipy.linalg import blas, lapack

    if hi - lo <= _BLOCK:
        inverse, _ = lapack.dtrtri(t[lo:hi, lo:hi], lower=1, unitdiag=1)
        below = np.tril_indices(hi - lo, -1)
        t[lo:hi, lo:hi][below] = inverse[below]
        return
    mid = (lo + hi) // 2
    _invert_unit_lower(t, lo, mid)
    _invert_unit_lower(t, mid, hi)
    block = np.asfortranarray(t[mid:hi, lo:mid])
    block = blas.dtrmm(
        1.0, np.asfortranarray(t[lo:mid, lo:mid]), block, side=1, lower=1, diag=1, overwrite_b=1
    )
    block = blas.dtrmm(
        -1.0, np.asfortranarray(t[mid:hi, mid:hi]), block, side=0, lower=1, diag=1, overwrite_b=1
    )
    t[mid:hi, lo:mid] = block
