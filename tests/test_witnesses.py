"""Cycle witnesses: the compiled walk and the Python walk split a circulation alike."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import witnesses
from ledger.witnesses import decompose


@st.composite
def circulations(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A sum of random simple cycles on up to 12 nodes, merged per (src, dst)."""
    n = draw(st.integers(2, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    flow: dict[tuple[int, int], int] = {}
    for _ in range(draw(st.integers(1, 15))):
        size = int(rng.integers(2, n + 1))
        nodes = rng.permutation(n)[:size]
        amount = int(rng.integers(1, 10**6))
        for a, b in zip(nodes, np.roll(nodes, -1), strict=True):
            flow[(int(a), int(b))] = flow.get((int(a), int(b)), 0) + amount
    pairs = sorted(flow)
    src = np.array([a for a, _ in pairs])
    dst = np.array([b for _, b in pairs])
    values = np.array([flow[p] * 100 for p in pairs], dtype=np.int64)
    return n, src, dst, np.zeros(len(pairs), dtype=np.int64), values


def _both(n, src, dst, kind, values):
    rank = np.argsort(np.argsort(-values, kind="stable"), kind="stable")
    python = decompose(n, src, dst, kind, values, rank)
    saved = witnesses._COMPILED_EDGES
    witnesses._COMPILED_EDGES = 0
    try:
        compiled = decompose(n, src, dst, kind, values, rank)
    finally:
        witnesses._COMPILED_EDGES = saved
    return python, compiled


@settings(max_examples=40, deadline=None)
@given(web=circulations())
def test_the_compiled_walk_gives_the_python_walks_cycles(web) -> None:
    """Invariant: compiled and Python walks give the same cycles, amounts and order."""
    python, compiled = _both(*web)
    assert compiled.cents.tolist() == python.cents.tolist()
    assert compiled.offsets.tolist() == python.offsets.tolist()
    assert compiled.edges.tolist() == python.edges.tolist()


@settings(max_examples=40, deadline=None)
@given(web=circulations())
def test_the_witnesses_carry_the_whole_circulation(web) -> None:
    """Invariant: per edge, the cycles through it add up to its flow (exact integers)."""
    n, src, dst, kind, values = web
    _, compiled = _both(n, src, dst, kind, values)
    carried = np.zeros(len(values), dtype=np.int64)
    owner = np.repeat(np.arange(len(compiled)), np.diff(compiled.offsets))
    np.add.at(carried, compiled.edges, compiled.cents[owner])
    assert (carried == values).all()


@settings(max_examples=60, deadline=None)
@given(web=circulations(), limit=st.integers(0, 8), ties=st.booleans())
def test_the_first_cycles_read_alone_are_the_first_of_the_full_order(web, limit, ties) -> None:
    """Invariant: reading the largest ``limit`` witnesses (sorting only those that can be
    among them) gives the first ``limit`` of the full order, ties included."""
    n, src, dst, kind, values = web
    if ties:  # amounts of few distinct values: many cycles tie
        values = (values // 10**7 + 1) * 10**7
    rank = np.argsort(np.argsort(-values, kind="stable"), kind="stable")
    full = decompose(n, src, dst, kind, values, rank)
    expected = [(run.tolist(), cents) for run, cents in full.runs()][:limit]
    alone = decompose(n, src, dst, kind, values, rank)
    assert [(run.tolist(), cents) for run, cents in alone.runs(limit)] == expected
    assert len(alone) == len(full)
