"""Property tests of netting over random webs: the invariants of SPEC §3.

A web is 2-7 companies plus (usually) ``External``, with up to 16 legs of any kind - revenue
kinds (sale, cloud, lease, drawn backstop), financing kinds (equity, loan, repayment,
dividend), tax, and non-cash warrants - between random pairs, so parallel legs, legs both ways
and disconnected parts occur naturally. Amounts are whole cents from 0.01 to 100,000.00 (wider
spreads, a cent beside $1B, are pinned by the examples of ``tests/test_netting.py``).

Each test states its invariant in its docstring. The maximum total is checked against an LP
solved here, independently of the engine (scipy's HiGHS on the legs themselves, unmerged).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ledger.beancount_io import write_books
from ledger.flows import build_flow_graph
from ledger.legs_csv import read_legs_csv, read_legs_frame
from ledger.model import (
    EXTERNAL,
    BadInput,
    FlowClass,
    Kind,
    Leg,
    from_cents,
    to_cents,
)
from ledger.netting import Method, NettingResult, net, to_json_dict, verify
from ledger.render import Unit, display_sheet
from ledger.views import netting_sheets

DAY = date(2025, 6, 1)
NAMES = ("Acme", "Borg", "Cyberdyne", "Dunder", "Evil", "Fnord", "Globex")
#: Renamed webs use names whose alphabetical order differs from NAMES'.
OTHER_NAMES = ("Zinc", "Yew", "Xylo", "Wren", "Vole", "Umber", "Tarn")
#: Revenue kinds weigh more, so that most webs have something to net.
KINDS = (
    Kind.SALE,
    Kind.SALE,
    Kind.CLOUD,
    Kind.LEASE,
    Kind.BACKSTOP,
    Kind.EQUITY,
    Kind.LOAN,
    Kind.REPAYMENT,
    Kind.DIVIDEND,
    Kind.TAX,
    Kind.WARRANT,
)
CENTS = st.one_of(st.integers(1, 100), st.integers(1, 10_000_000))
HALF_CENT = Decimal("0.005")

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_leg(i: int, payer: str, payee: str, kind: Kind, cents: int) -> Leg:
    return Leg(DAY, f"d{i}", 1, payer, payee, kind, from_cents(cents))


@st.composite
def webs(draw, acyclic: bool = False) -> list[Leg]:
    """Random legs; ``acyclic``: company legs only go from an earlier to a later company."""
    n = draw(st.integers(2, 7))
    companies = list(draw(st.permutations(NAMES))[:n])
    nodes = companies + ([EXTERNAL] if draw(st.booleans()) or acyclic else [])
    legs = []
    for i in range(draw(st.integers(1, 16))):
        payer, payee = draw(st.lists(st.sampled_from(nodes), min_size=2, max_size=2, unique=True))
        if acyclic and EXTERNAL not in (payer, payee):
            payer, payee = sorted((payer, payee), key=companies.index)
        legs.append(make_leg(i, payer, payee, draw(st.sampled_from(KINDS)), draw(CENTS)))
    return legs


def netted(legs: list[Leg], method: Method | str = Method.MAX, **kwargs) -> NettingResult:
    return net(build_flow_graph(legs), method, **kwargs)


def figures(result: NettingResult) -> dict[str, Decimal]:
    return {f.company: f.circular for f in result.companies}


def lp_max_revenue_cents(legs: list[Leg]) -> float:
    """The maximum revenue circulation as an LP over the legs (unmerged), solved by HiGHS.

    Maximise Σ f over revenue legs subject to 0 <= f <= amount and inflow = outflow at every
    company, on the money legs that do not touch External.
    """
    money = [
        leg
        for leg in legs
        if leg.flow_class is not FlowClass.NONCASH and EXTERNAL not in (leg.payer, leg.payee)
    ]
    if not money:
        return 0.0
    companies = sorted({leg.payer for leg in money} | {leg.payee for leg in money})
    row = {company: i for i, company in enumerate(companies)}
    a_eq = np.zeros((len(companies), len(money)))
    for j, leg in enumerate(money):
        a_eq[row[leg.payee], j] += 1
        a_eq[row[leg.payer], j] -= 1
    objective = [-1.0 if leg.flow_class is FlowClass.REVENUE else 0.0 for leg in money]
    bounds = [(0, to_cents(leg.amount)) for leg in money]
    solved = linprog(
        objective, A_eq=a_eq, b_eq=np.zeros(len(companies)), bounds=bounds, method="highs"
    )
    assert solved.status == 0
    return -solved.fun


# --------------------------------------------------------------------------------------------
# Figures


@FAST
@given(webs(), st.sampled_from(Method))
def test_circular_lies_between_zero_and_gross_and_organic_is_the_rest(legs, method):
    """For every company: 0 <= circular <= gross, organic + circular = gross exactly, and
    organic >= revenue from External (External money is never circular)."""
    for f in netted(legs, method).companies:
        assert Decimal(0) <= f.circular <= f.gross
        assert f.organic + f.circular == f.gross
        assert f.organic >= f.external
        assert f.web == f.gross - f.external


@FAST
@given(webs(), st.sampled_from(Method))
def test_verify_accepts_every_result(legs, method):
    """The engine's own checker finds nothing wrong with any result, bounds included."""
    assert verify(netted(legs, method, bounds=True)) == []


# --------------------------------------------------------------------------------------------
# Max method: optimality and the circulation


@FAST
@given(webs())
def test_max_total_equals_an_independent_lp(legs):
    """The max total is the optimum of the LP: maximise revenue flow over circulations on the
    legs between companies (0 <= f <= amount, inflow = outflow), to the cent."""
    result = netted(legs)
    assert abs(to_cents(result.total_circular) - lp_max_revenue_cents(legs)) < 0.5


@FAST
@given(webs(), st.sampled_from(Method))
def test_printed_company_figures_add_up_to_the_printed_total_exactly(legs, method):
    """Σ company circular == total_circular to the cent, under both methods (largest
    remainder: the parts are rounded so that they add up to the total)."""
    result = netted(legs, method)
    assert sum(figures(result).values(), Decimal(0)) == result.total_circular


@FAST
@given(webs(), st.sampled_from(Method))
def test_each_figure_is_its_exact_share_rounded_down_or_up(legs, method):
    """Every company's circular figure is within one cent of its exact (unrounded) share,
    and the total is the exact total rounded to the cent (max: the integer optimum)."""
    result = netted(legs, method)
    graph = result.graph
    flows = result.edge_flow if method is Method.MAX else result.edge_circular
    rev = graph.revenue
    exact = np.bincount(graph.dst[rev], weights=flows[rev], minlength=len(graph.nodes))
    for f in result.companies:
        assert abs(to_cents(f.circular) - exact[graph.index(f.company)]) < 1 + 1e-6
    assert abs(to_cents(result.total_circular) - exact.sum()) <= 0.5 + 1e-6


@FAST
@given(webs())
def test_edge_flow_is_a_circulation_within_the_edge_amounts(legs):
    """The max method's flow conserves money at every node (to a millionth of a cent, however
    large the amounts), stays within [0, amount] and is zero on every edge touching External."""
    result = netted(legs)
    graph, flow = result.graph, result.edge_flow
    n = len(graph.nodes)
    balance = np.bincount(graph.dst, weights=flow, minlength=n) - np.bincount(
        graph.src, weights=flow, minlength=n
    )
    assert np.abs(balance).max(initial=0) < 1e-6
    assert (flow >= 0).all() and (flow <= graph.cents).all()
    if graph.external is not None:
        touching = (graph.src == graph.external) | (graph.dst == graph.external)
        assert not flow[touching].any()


@FAST
@given(webs())
def test_no_revenue_cycle_remains_after_stripping_the_circulation(legs):
    """Take the circulation off every edge: no cycle through a revenue edge is left."""
    result = netted(legs)
    graph = result.graph
    left = graph.cents - result.edge_flow > 1e-9
    if graph.external is not None:
        left &= (graph.src != graph.external) & (graph.dst != graph.external)
    n = len(graph.nodes)
    matrix = csr_matrix((np.ones(int(left.sum())), (graph.src[left], graph.dst[left])), (n, n))
    _, labels = connected_components(matrix, directed=True, connection="strong")
    cyclic = left & graph.revenue & (labels[graph.src] == labels[graph.dst])
    assert not cyclic.any()


@FAST
@given(webs())
def test_netting_the_netted_web_finds_no_more_circular_revenue(legs):
    """Netting is idempotent: the legs left after removing the circulation net to zero."""
    result = netted(legs)
    graph, flow = result.graph, result.edge_flow
    assume(np.all(flow == np.round(flow)))  # whole cents, so the rest can be written as legs
    rest = [
        make_leg(e, graph.nodes[graph.src[e]], graph.nodes[graph.dst[e]], graph.edge_kind(e), left)
        for e in range(graph.n_edges)
        if (left := int(graph.cents[e]) - int(flow[e])) > 0
    ]
    if rest:
        assert netted(rest).total_circular == 0


# --------------------------------------------------------------------------------------------
# Pro-rata against max


@FAST
@given(webs())
def test_pro_rata_total_never_exceeds_max_total(legs):
    """The max method is the upper bound: pro-rata total <= max total, with no slack: the
    pro-rata total is its exact total rounded once, and the max total a whole number of cents."""
    most = netted(legs)
    pro_rata = netted(legs, Method.PRO_RATA)
    assert pro_rata.total_circular <= most.total_circular


# --------------------------------------------------------------------------------------------
# Symmetries


@FAST
@given(webs(), st.integers(2, 9), st.sampled_from(Method))
def test_scaling_every_amount_by_k_scales_every_figure_by_k(legs, k, method):
    """Amounts x k => figures x k, up to rounding: each figure is its exact share rounded down
    or up (largest remainder), so |r(k x) - k r(x)| < 1 + k cents. The max total, an integer
    optimum, scales exactly."""
    plain = netted(legs, method)
    scaled = netted([replace(leg, amount=leg.amount * k) for leg in legs], method)
    for company, value in figures(plain).items():
        assert abs(figures(scaled)[company] - k * value) < 2 * HALF_CENT * (k + 1)
    if method is Method.MAX:
        assert scaled.total_circular == k * plain.total_circular


@FAST
@given(
    webs(), st.permutations(OTHER_NAMES), st.randoms(use_true_random=False), st.sampled_from(Method)
)
def test_renaming_and_reordering_companies_changes_no_figure(legs, names, rng, method):
    """Relabelling companies (so their alphabetical order changes) and shuffling the legs
    permutes the results and changes no company's figure: the split and its rounding are
    label-invariant (but for twins alike in every figure, which may swap a leftover cent)."""
    rename = dict(zip(NAMES, names, strict=True))
    moved = [
        replace(leg, payer=rename.get(leg.payer, leg.payer), payee=rename.get(leg.payee, leg.payee))
        for leg in legs
    ]
    rng.shuffle(moved)
    plain = netted(legs, method)
    before = {rename[c]: x for c, x in figures(plain).items()}
    after = figures(netted(moved, method))
    # The one exception: twins (same gross, same exact figure) may swap a leftover cent that
    # only a name can give to one of them.
    gross = {rename[f.company]: f.gross for f in plain.companies}
    for company in (c for c in before if before[c] != after[c]):
        assert any(
            gross[other] == gross[company]
            and before[other] == after[company]
            and after[other] == before[company]
            for other in before
            if other != company
        ), company


@FAST
@given(webs(), st.data())
def test_splitting_a_leg_into_two_parallel_legs_changes_nothing(legs, data):
    """Two legs of one kind between the same companies count as their sum."""
    i = data.draw(st.integers(0, len(legs) - 1))
    cents = to_cents(legs[i].amount)
    assume(cents >= 2)
    part = data.draw(st.integers(1, cents - 1))
    split = [
        *legs[:i],
        replace(legs[i], amount=from_cents(part)),
        replace(legs[i], deal="split", amount=from_cents(cents - part)),
        *legs[i + 1 :],
    ]
    for method in Method:
        assert figures(netted(split, method)) == figures(netted(legs, method))


# --------------------------------------------------------------------------------------------
# Structure


@FAST
@given(webs(acyclic=True), st.sampled_from(Method))
def test_a_web_without_cycles_has_no_circular_revenue(legs, method):
    """Money that cannot come back is never circular (External closes no cycle)."""
    result = netted(legs, method)
    assert set(figures(result).values()) <= {Decimal("0.00")}
    assert result.total_circular == 0
    assert result.cycles == ()


@FAST
@given(webs(), st.sampled_from(NAMES), st.booleans(), st.sampled_from(KINDS), CENTS)
def test_adding_a_leg_at_external_changes_no_max_figure(legs, company, inward, kind, cents):
    """A leg from or to External (new customers, investors, suppliers) changes no circular
    figure under max. (Under pro-rata it may: new money dilutes the money that comes back.)"""
    payer, payee = (EXTERNAL, company) if inward else (company, EXTERNAL)
    before = figures(netted(legs))
    after = figures(netted([*legs, make_leg(99, payer, payee, kind, cents)]))
    assert {c: after[c] for c in before} == before
    assert all(after[c] == 0 for c in set(after) - set(before))


@FAST
@given(CENTS, CENTS, st.sampled_from(Method))
def test_two_companies_selling_to_each_other_are_circular_by_the_smaller_sale(x, y, method):
    """A sells x to B, B sells y to A, nothing else: circular = min(x, y) for both."""
    legs = [make_leg(1, "A", "B", Kind.SALE, x), make_leg(2, "B", "A", Kind.SALE, y)]
    assert figures(netted(legs, method)) == {"A": from_cents(min(x, y)), "B": from_cents(min(x, y))}


@FAST
@given(CENTS, CENTS, st.sampled_from(Method))
def test_vendor_financed_revenue_is_the_smaller_of_investment_and_purchase(x, y, method):
    """A invests x in B and B buys y from A: A's circular revenue is min(x, y), B's is 0."""
    legs = [make_leg(1, "A", "B", Kind.EQUITY, x), make_leg(2, "B", "A", Kind.SALE, y)]
    assert figures(netted(legs, method)) == {"A": from_cents(min(x, y)), "B": Decimal("0.00")}


# --------------------------------------------------------------------------------------------
# Legs that cannot be netted are refused before they reach the flow graph


HEADER = "date,deal,payer,payee,kind,amount,currency,status\n"


def test_legs_csv_refuses_a_self_loop(tmp_path):
    path = tmp_path / "legs.csv"
    path.write_text(HEADER + "2025-06-01,loop,Acme,Acme,sale,10.00,USD,realized\n")
    legs, errors = read_legs_csv(path)
    assert legs == ()
    assert [(e.lineno, e.deal) for e in errors] == [(2, "loop")]
    assert "payer and payee are both 'Acme'" in errors[0].message


@pytest.mark.parametrize("amount", ["0", "0.00", "-5.00"])
def test_legs_csv_refuses_an_amount_that_is_not_positive(tmp_path, amount):
    path = tmp_path / "legs.csv"
    path.write_text(HEADER + f"2025-06-01,nothing,Acme,Borg,sale,{amount},USD,realized\n")
    legs, errors = read_legs_csv(path)
    assert legs == ()
    assert [(e.lineno, e.deal) for e in errors] == [(2, "nothing")]
    assert "amount must be > 0" in errors[0].message


def test_fast_legs_reader_refuses_a_self_loop_and_a_zero_amount(tmp_path):
    path = tmp_path / "legs.csv"
    path.write_text(
        HEADER
        + "2025-06-01,loop,Acme,Acme,sale,10.00,USD,realized\n"
        + "2025-06-01,nothing,Acme,Borg,sale,0.00,USD,realized\n"
    )
    with pytest.raises(BadInput) as refused:
        read_legs_frame(path)
    messages = [(e.lineno, e.message) for e in refused.value.errors]
    assert messages == [
        (2, "payer and payee are both 'Acme': a leg must go between two companies"),
        (3, "amount must be > 0, got 0.00"),
    ]


@pytest.mark.parametrize(
    ("payee", "amount", "problem"),
    [("Acme", "10.00", "payer and payee are both Acme"), ("Borg", "0.00", "amount must be")],
)
def test_books_refuse_a_self_loop_or_zero_leg_built_in_code(tmp_path, payee, amount, problem):
    bad = Leg(DAY, "bad", 1, "Acme", payee, Kind.SALE, Decimal(amount))
    with pytest.raises(BadInput) as refused:
        write_books([bad], tmp_path / "books")
    assert any(problem in e.message for e in refused.value.errors)
    assert not (tmp_path / "books").exists() or not any((tmp_path / "books").iterdir())


@FAST
@given(webs(), st.sampled_from(Method), st.sampled_from([Unit.THOUSANDS, Unit.MILLIONS]))
def test_printed_figures_in_a_display_unit_add_up_by_row_and_to_the_total(legs, method, unit):
    """Shown in K or M, the netting table still adds up as printed: for every company gross =
    external + web = circular + organic, and every column's company figures sum to its total
    row (controlled rounding in the display unit, each figure moved by less than its last
    printed digit)."""
    data = to_json_dict(netted(legs, method))
    exact = netting_sheets(data)[0]
    shown = display_sheet(exact, unit)
    keys = ("gross", "external", "web", "circular", "organic")
    where = [shown.columns.index(k) for k in keys]
    rows = [[Decimal(row[i].replace(",", "")) for i in where] for row in shown.rows]
    for gross, external, web, circular, organic in rows:
        assert gross == external + web == circular + organic
    *companies, total = rows
    for k in range(len(keys)):
        assert sum(r[k] for r in companies) == total[k]
    quantum = unit.scale / 100
    for exact_row, shown_row in zip(exact.rows, shown.rows, strict=True):
        for i in where:
            printed = Decimal(shown_row[i].replace(",", "")) * unit.scale
            assert abs(printed - exact_row[i].exact) < quantum
