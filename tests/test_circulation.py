"""Solvers on integer arrays: the pro-rata core elimination agrees with the dense inverse."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import circulation
from ledger.circulation import pro_rata


@st.composite
def webs(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random webs: a hub-heavy part (so that a periphery exists) and External at node 0."""
    n = draw(st.integers(3, 30))
    m = draw(st.integers(n, 6 * n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n + 1)
    weights /= weights.sum()
    src = rng.choice(n, size=m, p=weights)
    dst = rng.choice(n, size=m, p=weights[::-1] if draw(st.booleans()) else weights)
    clash = src == dst
    dst[clash] = (dst[clash] + 1) % n
    cents = rng.integers(1, 10**6, size=m)
    revenue = rng.random(m) < 0.7
    return n, src, dst, cents, revenue


@settings(max_examples=60, deadline=None)
@given(web=webs())
def test_the_core_elimination_gives_the_dense_figures(web) -> None:
    """Invariant: eliminating an independent periphery before the dense inverse changes neither
    a company's circular figure nor any revenue edge's share of it (to float precision)."""
    n, src, dst, cents, revenue = web
    dense = pro_rata(n, src, dst, cents, revenue, 0, edge_flows=True)
    saved = circulation.SPARSE_PRO_RATA_EDGES
    circulation.SPARSE_PRO_RATA_EDGES = 0
    try:
        core = pro_rata(n, src, dst, cents, revenue, 0, edge_flows=False)
    finally:
        circulation.SPARSE_PRO_RATA_EDGES = saved
    scale = float(cents.sum())
    assert np.allclose(core.circular, dense.circular, rtol=1e-9, atol=1e-9 * scale)
    assert np.allclose(core.edge_circular, dense.edge_circular, rtol=1e-9, atol=1e-9 * scale)


def test_the_periphery_has_no_edge_inside_it() -> None:
    j = np.array([0, 1, 2, 3, 0, 4])
    z = np.array([1, 2, 3, 0, 4, 0])
    outer = circulation._periphery(5, j, z, keep=0)
    assert not outer[0]
    assert not (outer[j] & outer[z]).any()
    assert outer.any()


@pytest.mark.parametrize("keep", [0, 2])
def test_the_reference_company_stays_in_the_core(keep: int) -> None:
    j, z = np.array([0, 1, 2]), np.array([1, 2, 0])
    assert not circulation._periphery(3, j, z, keep)[keep]


def test_the_dense_newton_steps_run_on_one_blas_thread(monkeypatch) -> None:
    """Two equal-amount triangles sharing an edge pair: the split moves, and is solved densely;
    its steps see one BLAS thread (OpenBLAS's spinning threads crawl beside a busy core)."""
    from threadpoolctl import threadpool_info

    # 0 -> 1 -> 2 -> 0 and 0 -> 1 -> 3 -> 0: 1's outflow can go either way round.
    src = np.array([0, 1, 2, 1, 3])
    dst = np.array([1, 2, 0, 3, 0])
    cap = np.array([100, 100, 100, 100, 100])
    revenue = np.ones(5, dtype=bool)
    flow, total = circulation.max_revenue_circulation(4, src, dst, cap, revenue)
    seen: list[int] = []
    solve = circulation._newton_qp

    def counted(*args):  # noqa: ANN002, ANN202
        seen.extend(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")
        return solve(*args)

    monkeypatch.setattr(circulation, "_newton_qp", counted)
    canonical = circulation.canonical_circulation(4, src, dst, cap, revenue, flow)
    assert total == 300 and seen and set(seen) == {1}
    assert canonical.how == "exact" and canonical.exact == (50, 50, 50, 50)
