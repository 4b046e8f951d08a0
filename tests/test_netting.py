"""Netting specifications a reader can check with pencil and paper (SPEC §3).

The four webs of ``tests/fixtures/examples`` (copies of ``shared/examples``) are netted by both
methods and compared with the figures worked out by hand in their README; small webs embedded
below pin down the canonical split, the [min, max] bounds, ``External``, basis and period, the
checker and the JSON contract (the beancount eliminations: ``tests/test_eliminations.py``).
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.flows import build_flow_graph
from ledger.legs_csv import read_legs_csv
from ledger.model import EXTERNAL, Basis, Kind, Leg, Period, Status
from ledger.netting import Method, NettingResult, net, to_json_dict, verify

EXAMPLES = Path(__file__).parent / "fixtures" / "examples"
EXAMPLE_NAMES = ("vendor_financing", "triangle", "dotcom_ads", "capacity_swap")
REVENUE_KINDS = {"sale", "cloud", "lease", "backstop"}


def example(name: str) -> tuple[Leg, ...]:
    legs, errors = read_legs_csv(EXAMPLES / f"{name}.csv")
    assert errors == []
    return legs


def netted(legs, method: str = "max", **kwargs) -> NettingResult:
    return net(build_flow_graph(legs, kwargs.pop("period", None), **kwargs), method)


def circular(result: NettingResult) -> dict[str, str]:
    return {f.company: str(f.circular) for f in result.companies}


def organic(result: NettingResult) -> dict[str, str]:
    return {f.company: str(f.organic) for f in result.companies}


def leg(
    deal: str,
    payer: str,
    payee: str,
    kind: str,
    amount: str,
    *,
    day: date = date(2025, 6, 1),
    status: Status = Status.REALIZED,
) -> Leg:
    return Leg(day, deal, 1, payer, payee, Kind(kind), Decimal(amount), "USD", status)


def tie(a: str = "A", hub: str = "H", b: str = "B", c: str = "C", *, to_b="100", to_c="100"):
    """``a`` invests 100 in ``hub``; the hub buys from ``b`` and ``c``; both sell back to ``a``.

    The 100 can come back to ``a`` through ``b`` or through ``c``: every split of it is a
    maximum circulation (revenue flow 200: 100 into ``a`` plus 100 into ``b`` and ``c``).
    """
    return [
        leg("stake", a, hub, "equity", "100"),
        leg("hub-b", hub, b, "sale", to_b),
        leg("hub-c", hub, c, "sale", to_c),
        leg("b-back", b, a, "sale", to_b),
        leg("c-back", c, a, "sale", to_c),
    ]


# --------------------------------------------------------------------------------------------
# The four shared examples, max method


def test_vendor_financing_max_nvidia_70_openai_0():
    """Nvidia's 100 of equity pays for OpenAI's 70 of Nvidia systems: 70 come back."""
    result = netted(example("vendor_financing"))
    assert circular(result) == {"Nvidia": "70.00", "OpenAI": "0.00"}
    assert organic(result) == {"Nvidia": "0.00", "OpenAI": "13.00"}
    assert result.total_circular == Decimal("70.00")


def test_triangle_max_nvidia_100_oracle_40_total_140():
    """60 straight back to Nvidia, 40 through Oracle (two revenue edges): 60 + 40 + 40 = 140."""
    result = netted(example("triangle"))
    assert circular(result) == {"Nvidia": "100.00", "OpenAI": "0.00", "Oracle": "40.00"}
    assert organic(result) == {"Nvidia": "0.00", "OpenAI": "0.00", "Oracle": "260.00"}
    assert result.total_circular == Decimal("140.00")


def test_dotcom_ads_max_portal_5_organic_3():
    """The portal's 5 of equity can all come back in the start-up's 8 of ads; 3 are organic."""
    result = netted(example("dotcom_ads"))
    assert circular(result) == {"Portal": "5.00", "StartUp": "0.00"}
    assert organic(result) == {"Portal": "3.00", "StartUp": "0.00"}


@pytest.mark.parametrize("method", ["max", "pro-rata"])
def test_capacity_swap_is_50_50_under_both_methods(method):
    """Each carrier's 50 buys the other's capacity and comes straight back."""
    result = netted(example("capacity_swap"), method)
    assert circular(result) == {"CarrierA": "50.00", "CarrierB": "50.00"}
    assert organic(result) == {"CarrierA": "0.00", "CarrierB": "0.00"}
    assert result.total_circular == Decimal("100.00")


# --------------------------------------------------------------------------------------------
# The four shared examples, pro-rata method


def test_vendor_financing_pro_rata_nvidia_61_95():
    """OpenAI spends its 113 of inflows pro rata: 70 x 100/113 = 61.946... of Nvidia's money."""
    result = netted(example("vendor_financing"), "pro-rata")
    assert circular(result) == {"Nvidia": "61.95", "OpenAI": "0.00"}
    assert organic(result)["Nvidia"] == "8.05"


def test_triangle_pro_rata_nvidia_27_78_oracle_40():
    """Nvidia: 100 x 60/360 = 16.67 straight back + 100 x 300/360 x 40/300 = 11.11 via Oracle.

    Oracle: its 40 to Nvidia go on to OpenAI (Nvidia passes on everything it receives, 100 of
    100), and OpenAI passes 300/360 of that back to Oracle... until all 40 have come back.
    """
    result = netted(example("triangle"), "pro-rata")
    assert circular(result) == {"Nvidia": "27.78", "OpenAI": "0.00", "Oracle": "40.00"}


def test_dotcom_ads_pro_rata_portal_2_67():
    """The start-up spends 8 of its 15 of inflows on ads: 5 x 8/15 = 2.666... is the portal's."""
    result = netted(example("dotcom_ads"), "pro-rata")
    assert circular(result) == {"Portal": "2.67", "StartUp": "0.00"}


def test_pro_rata_total_is_the_sum_of_the_company_figures():
    result = netted(example("triangle"), "pro-rata")
    assert result.total_circular == Decimal("67.78")


# --------------------------------------------------------------------------------------------
# Figures beside the circular one


def test_revenue_from_external_is_organic():
    openai = netted(example("vendor_financing")).company("OpenAI")
    assert (openai.gross, openai.external, openai.web) == (
        Decimal("13.00"),
        Decimal("13.00"),
        Decimal("0.00"),
    )
    assert openai.organic == openai.external


def test_circular_share_is_circular_over_gross():
    result = netted(example("triangle"))
    assert result.company("Oracle").circular_share == Decimal("0.1333")  # 40 / 300
    assert result.company("Nvidia").circular_share == Decimal("1.0000")
    assert result.company("OpenAI").circular_share == Decimal("0.0000")  # no revenue at all


def test_warrants_are_paper_not_flows():
    """A warrant moves no money: no cycle through it, and its grant value is no paper gain."""
    legs = [
        leg("grant", "AMD", "OpenAI", "warrant", "97"),
        leg("chips", "OpenAI", "AMD", "sale", "5"),
    ]
    result = netted(legs)
    assert circular(result) == {"AMD": "0.00", "OpenAI": "0.00"}
    assert result.company("OpenAI").paper_gains == Decimal("0.00")
    assert result.cycles == ()


def test_paper_gains_are_reported_as_given_and_do_not_touch_the_netting():
    """net() takes each holder's paper gains (audit.paper_gains) and changes nothing else."""
    legs = [
        leg("grant", "AMD", "OpenAI", "warrant", "97"),
        leg("chips", "OpenAI", "AMD", "sale", "5"),
    ]
    graph = build_flow_graph(legs)
    plain, marked = net(graph), net(graph, paper_gains={"OpenAI": 12_345})
    assert marked.company("OpenAI").paper_gains == Decimal("123.45")
    assert marked.company("AMD").paper_gains == Decimal("0.00")
    assert circular(marked) == circular(plain) and organic(marked) == organic(plain)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError):
        net(build_flow_graph(example("triangle")), "fifo")


def test_company_lookup_of_an_unknown_name_raises_key_error():
    with pytest.raises(KeyError):
        netted(example("triangle")).company("Intel")


# --------------------------------------------------------------------------------------------
# Cycle witnesses


def test_triangle_witnesses_are_the_two_routes_largest_first():
    result = netted(example("triangle"))
    assert [str(cycle) for cycle in result.cycles] == [
        "Nvidia -equity-> OpenAI -sale-> Nvidia : 60.00",
        "Nvidia -equity-> OpenAI -cloud-> Oracle -sale-> Nvidia : 40.00",
    ]


def witnessed(result: NettingResult) -> dict[str, Decimal]:
    """Per company, the cycles' amounts summed over the revenue edges that pay it."""
    through: dict[str, Decimal] = defaultdict(Decimal)
    for cycle in result.cycles:
        for kind, payee in zip(cycle.kinds, cycle.path[1:], strict=True):
            if kind in REVENUE_KINDS:
                through[payee] += cycle.amount
    return through


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_witnesses_add_up_to_each_company_circular_revenue(name):
    result = netted(example(name))
    through = witnessed(result)
    assert {f.company: through[f.company] for f in result.companies} == {
        f.company: f.circular for f in result.companies
    }


def test_witnesses_of_a_split_add_up_to_each_company_circular_revenue():
    result = netted(tie(to_b="100", to_c="300"))
    through = witnessed(result)
    assert {f.company: through[f.company] for f in result.companies} == {
        f.company: f.circular for f in result.companies
    }


def test_witnesses_are_sorted_largest_first():
    result = netted(tie(to_b="100", to_c="300"))
    amounts = [cycle.amount for cycle in result.cycles]
    assert amounts == [Decimal("75.00"), Decimal("25.00")]
    assert amounts == sorted(amounts, reverse=True)


def test_witnesses_are_closed_paths_of_the_graph():
    result = netted(example("triangle"))
    edges = {(leg.payer, leg.payee, leg.kind.value) for leg in example("triangle")}
    for cycle in result.cycles:
        assert cycle.path[0] == cycle.path[-1]
        assert all(
            (a, b, kind) in edges
            for a, b, kind in zip(cycle.path, cycle.path[1:], cycle.kinds, strict=False)
        )


def test_pro_rata_has_no_cycle_witnesses():
    assert netted(example("triangle"), "pro-rata").cycles == ()


# --------------------------------------------------------------------------------------------
# Canonical split and bounds


def test_symmetric_tie_is_split_evenly():
    """The 100 can return through B or through C; the canonical split sends 50 each way."""
    result = netted(tie())
    assert circular(result) == {"A": "100.00", "B": "50.00", "C": "50.00", "H": "0.00"}
    assert result.total_circular == Decimal("200.00")


def test_tie_is_split_in_proportion_to_edge_amounts():
    """Minimising 2t²/100 + 2(100 - t)²/300 gives t = 25 through B and 75 through C."""
    result = netted(tie(to_b="100", to_c="300"))
    assert circular(result) == {"A": "100.00", "B": "25.00", "C": "75.00", "H": "0.00"}


@pytest.mark.parametrize("method", ["max", "pro-rata"])
@pytest.mark.parametrize("to_c", ["100", "300"])
def test_renaming_companies_changes_no_figure(method, to_c):
    """Renamed so that the alphabetical order of the companies is reversed.

    One exception the rounding rule cannot avoid: two companies alike in every figure (B and C
    when both edges are 100: 33.333... each under pro-rata) share a leftover cent that only a
    name can break, so their figures may swap; as a set (with their gross) nothing changes.
    """
    names = {"A": "Zeta", "H": "Yak", "B": "Xenon", "C": "Wolf"}
    plain = netted(tie(to_c=to_c), method)
    renamed = netted(tie(*names.values(), to_c=to_c), method)
    moved = {names[c]: x for c, x in circular(plain).items()}
    twins = {"Xenon", "Wolf"} if (to_c, method) == ("100", "pro-rata") else set()
    assert {c: x for c, x in moved.items() if c not in twins} == {
        c: x for c, x in circular(renamed).items() if c not in twins
    }
    assert sorted(moved[c] for c in twins) == sorted(circular(renamed)[c] for c in twins)


def test_reordering_legs_changes_no_figure():
    legs = tie(to_c="300")
    assert circular(netted(legs)) == circular(netted(legs[::-1]))


def test_split_rule_says_when_every_maximum_circulation_agrees():
    assert "every maximum circulation splits revenue the same way" in (
        netted(example("triangle")).split_rule
    )
    assert "computed exactly in rational arithmetic" in netted(tie()).split_rule


def test_a_cent_through_100_billion_edges_is_not_lost():
    """1 cent of equity comes back to A through $100B edges: A's circular revenue is 0.01.

    (B and C get half a cent each: the total of 0.02 is kept, so one of the twins gets the
    leftover cent.) A float solver that measures its error against the largest amount stops at
    once here and loses the cent.
    """
    big = "100000000000.00"
    legs = [leg("stake", "A", "H", "equity", "0.01"), *tie(to_b=big, to_c=big)[1:]]
    result = net(build_flow_graph(legs), bounds=True)
    figures = circular(result)
    assert (figures["A"], figures["H"]) == ("0.01", "0.00")
    assert sorted([figures["B"], figures["C"]]) == ["0.00", "0.01"]
    assert result.total_circular == Decimal("0.02")
    a = result.company("A")
    assert (a.circular_min, a.circular_max) == (Decimal("0.01"), Decimal("0.01"))
    assert verify(result) == []


def test_a_cent_on_a_path_through_huge_edges_reaches_its_payee():
    """A -lease 0.01-> B -equity-> C -equity-> A: the cent is revenue of A and of B."""
    legs = [
        leg("lease", "A", "B", "lease", "0.01"),
        leg("stake-1", "B", "C", "equity", "25694555245.39"),
        leg("stake-2", "C", "A", "equity", "111990524361.68"),
        leg("lease-2", "B", "C", "lease", "37480322622.19"),
    ]
    result = netted(legs)
    # Max: the cent goes B -> C by the lease (revenue), not by the equity.
    assert circular(result) == {"A": "0.00", "B": "0.01", "C": "0.01"}
    assert verify(result) == []


def test_bounds_are_wide_where_the_split_is_not_unique():
    result = net(build_flow_graph(tie()), bounds=True)
    ranges = {f.company: (str(f.circular_min), str(f.circular_max)) for f in result.companies}
    assert ranges == {
        "A": ("100.00", "100.00"),
        "B": ("0.00", "100.00"),
        "C": ("0.00", "100.00"),
        "H": ("0.00", "0.00"),
    }


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_bounds_are_a_point_where_the_split_is_unique(name):
    result = net(build_flow_graph(example(name)), bounds=True)
    for figures in result.companies:
        assert figures.circular_min == figures.circular == figures.circular_max


def test_bounds_contain_the_canonical_figure():
    result = net(build_flow_graph(tie(to_c="300")), bounds=True)
    for figures in result.companies:
        assert figures.circular_min <= figures.circular <= figures.circular_max


def test_without_bounds_there_is_no_range():
    result = netted(tie())
    assert all(f.circular_min is None and f.circular_max is None for f in result.companies)


# --------------------------------------------------------------------------------------------
# External


def test_external_money_is_never_circular():
    """Money that goes round through External (markets, customers) is not round-tripped."""
    legs = [
        leg("ipo", EXTERNAL, "A", "equity", "100"),
        leg("buy", "A", "B", "sale", "100"),
        leg("resell", "B", EXTERNAL, "sale", "100"),
        leg("subs", EXTERNAL, "A", "sale", "100"),
    ]
    for method in Method:
        result = netted(legs, method)
        assert circular(result) == {"A": "0.00", "B": "0.00"}
        assert result.total_circular == 0
        assert not result.edge_flow.any()
        assert EXTERNAL not in circular(result)


def test_external_is_not_listed_as_a_company():
    result = netted(example("dotcom_ads"))
    assert [f.company for f in result.companies] == ["Portal", "StartUp"]


# --------------------------------------------------------------------------------------------
# Basis and period


def swap(status_b: Status) -> list[Leg]:
    return [
        leg("swap-a", "CarrierA", "CarrierB", "sale", "50"),
        leg("swap-b", "CarrierB", "CarrierA", "sale", "50", status=status_b),
    ]


@pytest.mark.parametrize(
    ("basis", "expected"),
    [(Basis.REALIZED, "0.00"), (Basis.CONTRACTED, "50.00"), (Basis.ANNOUNCED, "50.00")],
)
def test_contracted_legs_count_under_contracted_basis_only(basis, expected):
    result = netted(swap(Status.CONTRACTED), basis=basis)
    assert circular(result) == {"CarrierA": expected, "CarrierB": expected}


@pytest.mark.parametrize(
    ("basis", "expected"),
    [(Basis.REALIZED, "0.00"), (Basis.CONTRACTED, "0.00"), (Basis.ANNOUNCED, "50.00")],
)
def test_announced_legs_count_under_announced_basis_only(basis, expected):
    result = netted(swap(Status.ANNOUNCED), basis=basis)
    assert circular(result) == {"CarrierA": expected, "CarrierB": expected}


def test_a_period_excludes_legs_outside_it():
    """2025Q4 drops the September equity and cloud legs: nothing can come back."""
    result = netted(example("triangle"), period=Period.parse("2025Q4"))
    assert circular(result) == {"Nvidia": "0.00", "OpenAI": "0.00", "Oracle": "0.00"}
    assert result.company("Nvidia").gross == Decimal("100.00")  # both chip sales are October
    assert result.company("Oracle").gross == Decimal("0.00")  # the cloud deal is September


def test_a_period_holding_every_leg_gives_the_full_figures():
    result = netted(example("triangle"), period=Period.parse("2025"))
    assert circular(result) == {"Nvidia": "100.00", "OpenAI": "0.00", "Oracle": "40.00"}


def test_the_period_end_is_exclusive():
    """Up to 2025-10-02 (exclusive): Oracle's chip purchase of that day is out, 60 remain."""
    period = Period(None, date(2025, 10, 2))
    result = netted(example("triangle"), period=period)
    assert circular(result) == {"Nvidia": "60.00", "OpenAI": "0.00", "Oracle": "0.00"}


# --------------------------------------------------------------------------------------------
# verify


@pytest.mark.parametrize("method", ["max", "pro-rata"])
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_verify_accepts_the_example_results(name, method):
    assert verify(net(build_flow_graph(example(name)), method, bounds=True)) == []


def test_verify_accepts_a_split_result():
    assert verify(net(build_flow_graph(tie(to_c="300")), bounds=True)) == []


def test_verify_reports_a_figure_that_does_not_match_the_flows():
    result = netted(example("triangle"))
    oracle = result.company("Oracle")
    wrong = dataclasses.replace(
        oracle, circular=Decimal("50.00"), organic=oracle.gross - Decimal("50.00")
    )
    tampered = dataclasses.replace(
        result,
        companies=tuple(wrong if f.company == "Oracle" else f for f in result.companies),
    )
    problems = verify(tampered)
    assert any("Oracle" in problem and "does not match" in problem for problem in problems)


def test_verify_reports_a_circulation_that_is_not_maximal():
    result = netted(example("triangle"))
    halved = dataclasses.replace(
        result, edge_flow=result.edge_flow / 2, total_circular=result.total_circular / 2
    )
    assert any("not a maximum circulation" in problem for problem in verify(halved))


# --------------------------------------------------------------------------------------------
# JSON contract


def test_json_has_the_contract_keys():
    payload = to_json_dict(netted(example("triangle")))
    assert set(payload) == {
        "schema_version",
        "method",
        "basis",
        "period",
        "currency",
        "split_rule",
        "companies",
        "total_circular",
        "cycle_count",
        "cycles",
    }
    assert set(payload["companies"][0]) == {
        "company",
        "gross",
        "external",
        "web",
        "circular",
        "organic",
        "circular_share",
        "estimated",
        "paper_gains",
        "circular_min",
        "circular_max",
    }
    assert (payload["method"], payload["basis"], payload["currency"]) == ("max", "realized", "USD")
    assert payload["period"] == {"label": "all", "start": None, "end": None}


def test_json_amounts_are_two_decimal_strings():
    payload = to_json_dict(netted(example("triangle")))
    oracle = next(c for c in payload["companies"] if c["company"] == "Oracle")
    assert oracle["gross"] == "300.00"
    assert oracle["circular"] == "40.00"
    assert oracle["organic"] == "260.00"
    assert oracle["circular_share"] == "0.1333"
    assert payload["total_circular"] == "140.00"


def test_json_lists_companies_sorted_by_name():
    legs = tie("Zeta", "Yak", "Xenon", "Wolf")
    payload = to_json_dict(netted(legs))
    assert [c["company"] for c in payload["companies"]] == ["Wolf", "Xenon", "Yak", "Zeta"]


def test_json_cycles_have_path_kinds_and_amount():
    payload = to_json_dict(netted(example("triangle")))
    assert payload["cycles"][0] == {
        "path": ["Nvidia", "OpenAI", "Nvidia"],
        "kinds": ["equity", "sale"],
        "amount": "60.00",
    }


def test_json_period_has_iso_dates():
    payload = to_json_dict(netted(example("triangle"), period=Period.parse("2025Q4")))
    assert payload["period"] == {"label": "2025Q4", "start": "2025-10-01", "end": "2026-01-01"}


def test_json_bounds_are_strings_when_asked_for():
    payload = to_json_dict(net(build_flow_graph(tie()), bounds=True))
    b = next(c for c in payload["companies"] if c["company"] == "B")
    assert (b["circular_min"], b["circular_max"]) == ("0.00", "100.00")


@pytest.mark.parametrize("method", ["max", "pro-rata"])
def test_json_dumps_and_loads_back_unchanged(method):
    payload = to_json_dict(net(build_flow_graph(example("triangle")), method, bounds=True))
    assert json.loads(json.dumps(payload)) == payload
