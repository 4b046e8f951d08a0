from datetime import date
from decimal import Decimal

import pytest

from ledger.flows import MixedCurrencies, SelfPayment, build_flow_graph
from ledger.model import Basis, Kind, Leg, Period, Status


def leg(
    deal,
    payer,
    payee,
    kind,
    amount,
    *,
    day=date(2025, 6, 1),
    status=Status.REALIZED,
    n=1,
    currency="USD",
    estimate=False,
):
    return Leg(day, deal, n, payer, payee, Kind(kind), Decimal(amount), currency, status, estimate)


def edges(graph):
    return sorted(
        (graph.nodes[s], graph.nodes[d], graph.edge_kind(i).value, int(c), bool(r))
        for i, (s, d, c, r) in enumerate(
            zip(graph.src, graph.dst, graph.cents, graph.revenue, strict=True)
        )
    )


def test_parallel_legs_of_one_kind_merge_into_one_edge():
    graph = build_flow_graph(
        [leg("a", "A", "B", "sale", "10.00"), leg("b", "A", "B", "sale", "2.50")]
    )
    assert edges(graph) == [("A", "B", "sale", 1250, True)]


def test_legs_of_different_kinds_stay_separate_edges():
    graph = build_flow_graph([leg("a", "A", "B", "sale", "10"), leg("b", "A", "B", "equity", "5")])
    assert edges(graph) == [("A", "B", "equity", 500, False), ("A", "B", "sale", 1000, True)]


def test_warrants_are_paper_not_edges():
    warrant = leg("w", "AMD", "OpenAI", "warrant", "97")
    graph = build_flow_graph([warrant, leg("s", "OpenAI", "AMD", "sale", "5")])
    assert edges(graph) == [("OpenAI", "AMD", "sale", 500, True)]
    assert graph.paper == (warrant,)


def test_undrawn_backstop_is_paper_and_drawn_backstop_is_revenue():
    undrawn = leg("b", "Nvidia", "CoreWeave", "backstop", "6", status=Status.CONTRACTED)
    drawn = leg("b", "Nvidia", "CoreWeave", "backstop", "1", n=2)
    graph = build_flow_graph([undrawn, drawn], basis=Basis.CONTRACTED)
    assert edges(graph) == [("Nvidia", "CoreWeave", "backstop", 100, True)]
    assert graph.paper == (undrawn,)


def test_basis_filters_statuses():
    legs = [
        leg("r", "A", "B", "sale", "1"),
        leg("c", "A", "B", "sale", "2", status=Status.CONTRACTED),
        leg("n", "A", "B", "sale", "4", status=Status.ANNOUNCED),
    ]
    totals = {b: int(build_flow_graph(legs, basis=b).cents.sum()) for b in Basis}
    assert totals == {Basis.REALIZED: 100, Basis.CONTRACTED: 300, Basis.ANNOUNCED: 700}


def test_period_filters_dates_end_exclusive():
    legs = [
        leg("a", "A", "B", "sale", "1", day=date(2025, 9, 30)),
        leg("b", "A", "B", "sale", "2", day=date(2025, 10, 1)),
    ]
    graph = build_flow_graph(legs, Period.parse("2025Q3"))
    assert int(graph.cents.sum()) == 100


def test_estimated_leg_marks_its_merged_edge():
    graph = build_flow_graph(
        [leg("a", "A", "B", "sale", "1"), leg("b", "A", "B", "sale", "1", estimate=True)]
    )
    assert graph.estimated.tolist() == [True]


def test_mixed_currencies_are_refused():
    with pytest.raises(MixedCurrencies):
        build_flow_graph(
            [leg("a", "A", "B", "sale", "1"), leg("b", "B", "A", "sale", "1", currency="EUR")]
        )


def test_graph_arrays_are_read_only():
    graph = build_flow_graph([leg("a", "A", "B", "sale", "1")])
    with pytest.raises(ValueError):
        graph.cents[0] = 5


def test_a_leg_paying_its_own_payer_is_refused():
    with pytest.raises(SelfPayment, match="deal d1: A pays itself"):
        build_flow_graph([leg("d1", "A", "A", "sale", "5")])
