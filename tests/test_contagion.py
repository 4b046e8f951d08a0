from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import contagion
from ledger.contagion import (
    EXACT_LIMIT,
    clearing_vector,
    verify_clearing,
)
from ledger.conventions import LEGACY, Conventions, Loss
from ledger.flows import MixedCurrencies
from ledger.model import EXTERNAL, BadInput, Basis, Kind, Leg, Period, Price, Status

R, C, A = Status.REALIZED, Status.CONTRACTED, Status.ANNOUNCED

# The hand-worked cases below state the engine's first conventions (every obligation due at
# once at face value, the failing company given what it owes, means = outside revenue); the
# conventions of issue 14 have their own hand-worked cases in tests/test_stress.py.
simulate_failure = partial(contagion.simulate_failure, conventions=LEGACY)
systemic_ranking = partial(contagion.systemic_ranking, conventions=LEGACY)


def leg(deal, payer, payee, kind, amount, status=R, *, day=date(2025, 6, 1), currency="USD"):
    return Leg(day, deal, 1, payer, payee, Kind(kind), Decimal(amount), currency, status)


# ---------------------------------------------------------------------------------------------
# Eisenberg–Noe clearing


def test_three_company_clearing_vector_matches_the_hand_computation():
    """A owes B 100 and C 80; B owes A 100; C owes B 20. Outside assets: A 20, B 10, C 0.

    Round 1, everybody pays in full: A has 20 + 100 (from B) = 120 < 180 owed -> A defaults.
      B has 10 + 100 + 20 = 130 >= 100; C has 80 >= 20.
    Solve for D = {A}: p_A = 20 + p_B = 120; A pays B 120·100/180 = 200/3, C 120·80/180 = 160/3.
    Round 2: B has 10 + 200/3 + 20 = 290/3 < 100 -> B defaults. C has 160/3 >= 20.
    Solve for D = {A, B}: p_A = 20 + p_B; p_B = 10 + 20 + (5/9)·p_A
      -> p_B·(4/9) = 30 + 100/9 = 370/9 -> p_B = 185/2, p_A = 225/2.
    Round 3: C has (4/9)·225/2 = 50 >= 20: nobody new. Clearing vector (112.5, 92.5, 20).
    """
    liabilities = [[0, 100, 80], [100, 0, 0], [0, 20, 0]]
    result = clearing_vector(liabilities, [20, 10, 0], names=["A", "B", "C"])
    assert result.payments == (Fraction(225, 2), Fraction(185, 2), Fraction(20))
    assert result.default_round == (1, 2, None)
    assert result.defaults_by_round() == ((1, ("A",)), (2, ("B",)))
    assert result.received == (Fraction(185, 2), Fraction(225, 2) * 5 / 9 + 20, Fraction(50))
    assert result.exact and result.tolerance == 0.0
    assert verify_clearing(result, liabilities) == ()


def test_clearing_to_json_gives_dollar_strings_rounded_half_to_even():
    """Cents 92.5 and 112.5 round to 92 and 112 (half to even)."""
    result = clearing_vector([[0, 100, 80], [100, 0, 0], [0, 20, 0]], [20, 10, 0])
    first = result.to_json_dict()["nodes"][0]
    assert first == {
        "name": "0",
        "obligations": "1.80",
        "external_assets": "0.20",
        "received": "0.92",
        "paid": "1.12",
        "shortfall": "0.68",
        "default_round": 1,
    }


def test_float_mode_agrees_with_exact_mode_within_its_tolerance():
    liabilities = [[0, 100, 80], [100, 0, 0], [0, 20, 0]]
    exact = clearing_vector(liabilities, [20, 10, 0])
    approx = clearing_vector(liabilities, [20, 10, 0], exact=False)
    assert not approx.exact and approx.tolerance > 0
    assert approx.default_round == exact.default_round
    assert np.allclose(approx.payments, [float(p) for p in exact.payments], atol=approx.tolerance)


def test_large_webs_switch_to_float_mode_and_accept_sparse_matrices():
    n = EXACT_LIMIT + 1
    # A ring: node i owes node i+1 100 cents; node 0 has nothing, everybody else 50.
    ring = sp.csr_matrix(([100] * n, (range(n), [(i + 1) % n for i in range(n)])), shape=(n, n))
    result = clearing_vector(ring, [0] + [50] * (n - 1))
    assert not result.exact
    assert verify_clearing(result, ring) == ()
    assert all(p == pytest.approx(100) for p in result.payments)


def test_a_cap_makes_a_node_pay_less_while_its_creditors_keep_their_claims():
    """A owes B 100 and has 100; capped at 40 it pays 40, B receives 40 and is short 60."""
    result = clearing_vector([[0, 100], [0, 0]], [100, 0], caps=[40, 0])
    assert result.payments == (Fraction(40), Fraction(0))
    assert result.received[1] == 40
    assert result.shortfall(0) == 60
    assert result.default_round == (None, None)


@pytest.mark.parametrize(
    ("liabilities", "assets"),
    [([[0, 1], [1]], [0, 0]), ([[0, -1], [0, 0]], [0, 0]), ([[5]], [0]), ([[0]], [-1])],
)
def test_malformed_matrices_are_programming_errors(liabilities, assets):
    with pytest.raises(ValueError):
        clearing_vector(liabilities, assets)


def matrices(max_nodes=6):
    @st.composite
    def build(draw):
        n = draw(st.integers(1, max_nodes))
        cell = st.one_of(st.just(0), st.integers(1, 500))
        rows = [[0 if i == j else draw(cell) for j in range(n)] for i in range(n)]
        assets = [draw(st.integers(0, 300)) for _ in range(n)]
        return rows, assets

    return build()


@settings(max_examples=200, deadline=None)
@given(matrices())
def test_clearing_payments_lie_between_zero_and_obligations(case):
    """Invariant: 0 <= p_i <= pbar_i for every node."""
    liabilities, assets = case
    result = clearing_vector(liabilities, assets)
    for paid, owed in zip(result.payments, result.obligations, strict=True):
        assert 0 <= paid <= owed


@settings(max_examples=200, deadline=None)
@given(matrices())
def test_every_node_pays_in_full_or_pays_all_it_has(case):
    """Invariant: p_i = pbar_i, or p_i = e_i + what i receives (pro rata from its debtors)."""
    liabilities, assets = case
    result = clearing_vector(liabilities, assets)
    for i, paid in enumerate(result.payments):
        has = assets[i] + result.received[i]
        assert paid == result.obligations[i] or paid == has
        assert paid <= has
    assert verify_clearing(result, liabilities) == ()


@settings(max_examples=100, deadline=None)
@given(matrices(max_nodes=5))
def test_clearing_vector_is_the_greatest_fixed_point(case):
    """Invariant: iterating p <- min(pbar, e + Πᵀp) from p = pbar (which decreases to the
    greatest fixed point) ends at the exact clearing vector; float mode agrees too."""
    liabilities, assets = case
    result = clearing_vector(liabilities, assets)
    owed = np.array(liabilities, dtype=float)
    totals = owed.sum(axis=1)
    share = np.divide(owed, totals[:, None], out=np.zeros_like(owed), where=totals[:, None] > 0)
    p = totals.copy()
    for _ in range(3000):
        p = np.minimum(totals, np.array(assets) + share.T @ p)
    assert np.allclose(p, [float(x) for x in result.payments], atol=1e-6)
    approx = clearing_vector(liabilities, assets, exact=False)
    assert np.allclose(approx.payments, p, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Failure propagation: hand-checkable webs


def test_lost_revenue_cascades_to_vendors_in_proportion_to_lost_inflow():
    """F buys 30 from V. V's inflows: 30 from F + 30 from External = 60; V buys 20 from W.

    F fails: V loses 30 (round 1), half its inflow, so it cuts its purchases by half: W loses 10
    (round 2).
    """
    legs = [
        leg("f-v", "F", "V", "sale", "30"),
        leg("x-v", EXTERNAL, "V", "sale", "30"),
        leg("v-w", "V", "W", "sale", "20"),
    ]
    report = simulate_failure(legs, (), "F")
    v, w = report.loss_of("V"), report.loss_of("W")
    assert (v.lost_revenue, v.revenue_round) == (3000, 1)
    assert (w.lost_revenue, w.revenue_round) == (1000, 2)
    assert report.loss_to_others == 4000
    assert v.share_of_revenue == Fraction(1, 2)
    assert w.share_of_revenue == Fraction(1, 2)


def test_a_spending_cut_that_comes_back_round_a_cycle_is_solved_exactly():
    """F (inflows: 20 from V + 80 from External) buys 30 from V; V (30 from F + 30 External)
    buys 20 from F. F cuts spending by 1/2 and then, like everybody, by its lost inflow share:

        x_F = 1/2 + (1/2)·lost_F/100,  x_V = 30·x_F/60,  lost_F = 20·x_V = 10·x_F
        -> x_F = 1/2 + x_F/20 -> x_F = 10/19
    V loses 30·10/19 = 15.789… -> 15.79; F itself loses 100/19 = 5.263… -> 5.26 (round 2).
    """
    legs = [
        leg("f-v", "F", "V", "sale", "30"),
        leg("v-f", "V", "F", "sale", "20"),
        leg("x-f", EXTERNAL, "F", "sale", "80"),
        leg("x-v", EXTERNAL, "V", "sale", "30"),
    ]
    report = simulate_failure(legs, (), "F", cut=0.5)
    assert report.loss_of("V").lost_revenue == 1579
    assert report.loss_of("F").lost_revenue == 526
    assert report.loss_of("F").revenue_round == 2
    assert report.loss_to_others == 1579


def test_unpaid_obligations_are_cleared_and_defaults_are_listed_by_round():
    """Contracted basis. OpenAI owes Oracle 300 (contracted cloud); Oracle owes Nvidia 60
    (contracted chips) and has 57 from External; Meta owes Nvidia 100 and has nothing.

    Baseline (OpenAI pays all it owes): Oracle has 57 + 300 >= 60 and pays in full; Meta has
    0 < 100 and defaults anyway (a baseline default, not blamed on OpenAI).
    OpenAI fails: it pays nothing; Oracle has 57 < 60 and defaults in round 1, paying 57.
    Losses against the baseline: Oracle 300 unpaid, Nvidia 3 unpaid.
    """
    legs = [
        leg("x-orcl", EXTERNAL, "Oracle", "sale", "57"),
        leg("o-orcl", "OpenAI", "Oracle", "cloud", "300", C),
        leg("orcl-nv", "Oracle", "Nvidia", "sale", "60", C),
        leg("meta-nv", "Meta", "Nvidia", "sale", "100", A),
    ]
    report = simulate_failure(legs, (), "OpenAI", basis=Basis.ANNOUNCED)
    assert report.loss_of("Oracle").unpaid == 30000
    assert report.loss_of("Nvidia").unpaid == 300
    assert report.defaults == ((0, ("OpenAI",)), (1, ("Oracle",)))
    assert report.baseline_defaults == ("Meta",)
    assert report.loss_of("Meta").defaulted_at_baseline
    assert report.loss_of("Meta").default_round is None
    assert report.loss_of("Oracle").default_round == 1
    assert report.loss_to_others == 30300


def test_clearing_rows_of_the_three_company_example_are_the_hand_computed_vector():
    """The web of test_three_company_clearing_vector_matches_the_hand_computation, in legs:
    A owes B 100 and C 80, B owes A 100, C owes B 20 (contracted); External pays A 20, B 10.
    D, which owes nothing, fails: baseline and scenario both clear to the hand-computed vector
    (112.5, 92.5, 20), ratios 5/8, 37/40, 1; A and B default even at baseline; D owes
    nothing and has no row.
    """
    legs = [
        leg("a-b", "A", "B", "sale", "100", C),
        leg("a-c", "A", "C", "sale", "80", C),
        leg("b-a", "B", "A", "sale", "100", C),
        leg("c-b", "C", "B", "sale", "20", C),
        leg("x-a", EXTERNAL, "A", "sale", "20"),
        leg("x-b", EXTERNAL, "B", "sale", "10"),
        leg("x-d", EXTERNAL, "D", "sale", "1"),
    ]
    report = simulate_failure(legs, (), "D")
    rows = [
        (r.company, r.obligations, r.paid, r.shortfall, r.ratio, r.defaults)
        for r in report.clearing
    ]
    assert rows == [
        ("A", 18000, 11250, 6750, Fraction(5, 8), True),
        ("B", 10000, 9250, 750, Fraction(37, 40), True),
        ("C", 2000, 2000, 0, Fraction(1), False),
    ]
    assert [(r.baseline_paid, r.defaulted_at_baseline) for r in report.clearing] == [
        (11250, True),
        (9250, True),
        (2000, False),
    ]
    assert report.to_json_dict()["clearing"][0] == {
        "company": "A",
        "obligations": "180.00",
        "paid": "112.50",
        "shortfall": "67.50",
        "ratio": "0.6250",
        "defaults": True,
        "baseline": {"paid": "112.50", "shortfall": "67.50", "ratio": "0.6250", "defaults": True},
    }


def test_clearing_rows_show_the_failed_company_paying_nothing_and_its_debtor_defaulting():
    """As above: OpenAI fails and pays none of its 300; Oracle pays 57 of its 60 (0.95)."""
    legs = [
        leg("x-orcl", EXTERNAL, "Oracle", "sale", "57"),
        leg("o-orcl", "OpenAI", "Oracle", "cloud", "300", C),
        leg("orcl-nv", "Oracle", "Nvidia", "sale", "60", C),
    ]
    clearing = simulate_failure(legs, (), "OpenAI").clearing
    assert [(r.company, r.baseline_paid, r.paid, r.ratio, r.defaults) for r in clearing] == [
        ("OpenAI", 30000, 0, 0, True),
        ("Oracle", 6000, 5700, Fraction(19, 20), True),
    ]
    assert not any(r.defaulted_at_baseline for r in clearing)


def test_announced_obligations_count_only_on_the_announced_basis():
    legs = [
        leg("o-orcl", "OpenAI", "Oracle", "cloud", "300", C),
        leg("o-amd", "OpenAI", "AMD", "sale", "90", A),
    ]
    contracted = simulate_failure(legs, (), "OpenAI")
    announced = simulate_failure(legs, (), "OpenAI", basis=Basis.ANNOUNCED)
    assert contracted.loss_of("AMD").unpaid == 0
    assert announced.loss_of("AMD").unpaid == 9000
    assert contracted.loss_of("Oracle").unpaid == announced.loss_of("Oracle").unpaid == 30000


def test_realized_basis_clears_loans_only():
    """On the realized basis contracted legs are no obligations: nobody loses."""
    legs = [
        leg("x-o", EXTERNAL, "OpenAI", "sale", "10"),
        leg("o-orcl", "OpenAI", "Oracle", "cloud", "300", C),
    ]
    report = simulate_failure(legs, (), "OpenAI", basis=Basis.REALIZED)
    assert report.loss_to_others == 0
    assert report.defaults == ((0, ("OpenAI",)),)


def test_outstanding_loan_principal_is_an_obligation():
    """Lender lent 100 to Borrower and got 30 back: Borrower owes 70. It fails: Lender loses 70."""
    legs = [
        leg("loan", "Lender", "Borrower", "loan", "100", day=date(2025, 1, 1)),
        leg("rep", "Borrower", "Lender", "repayment", "30", day=date(2025, 6, 1)),
        leg("rep2", "Borrower", "Lender", "repayment", "70", C, day=date(2026, 1, 1)),
    ]
    report = simulate_failure(legs, (), "Borrower")
    assert report.loss_of("Lender").unpaid == 7000
    assert report.loss_of("Lender").exposure == 7000


def test_a_loan_repaid_before_the_period_ends_is_no_obligation():
    legs = [
        leg("loan", "Lender", "Borrower", "loan", "100", day=date(2025, 1, 1)),
        leg("rep", "Borrower", "Lender", "repayment", "100", day=date(2025, 6, 1)),
    ]
    assert simulate_failure(legs, (), "Borrower").loss_to_others == 0
    early = simulate_failure(legs, (), "Borrower", period=Period.parse("2025-01"))
    assert early.loss_of("Lender").unpaid == 10000


def test_investors_write_down_their_stake_in_proportion_to_the_cut():
    """Nvidia holds 50 of equity in OpenAI: a 40% cut writes down 20, failure all 50."""
    legs = [leg("eq", "Nvidia", "OpenAI", "equity", "50")]
    assert simulate_failure(legs, (), "OpenAI", cut=0.4).loss_of("Nvidia").written_down == 2000
    failed = simulate_failure(legs, (), "OpenAI").loss_of("Nvidia")
    assert failed.written_down == 5000
    assert failed.share_of_equity is None  # Nvidia received no equity: no proxy


def test_investors_in_a_company_that_defaults_write_off_their_stake():
    """Oracle defaults in round 1 when OpenAI fails (as above); its investor Fund loses 25."""
    legs = [
        leg("x-orcl", EXTERNAL, "Oracle", "sale", "57"),
        leg("o-orcl", "OpenAI", "Oracle", "cloud", "300", C),
        leg("orcl-nv", "Oracle", "Nvidia", "sale", "60", C),
        leg("fund", "Fund", "Oracle", "equity", "25", day=date(2024, 1, 1)),
    ]
    report = simulate_failure(legs, (), "OpenAI", period=Period.parse("2025"))
    fund = report.loss_of("Fund")
    assert fund.written_down == 2500
    assert report.loss_of("Oracle").equity == 2500
    assert report.loss_of("Oracle").loss_exceeds_equity


def test_outsiders_losses_are_reported_apart():
    legs = [leg("buy", "F", EXTERNAL, "sale", "40"), leg("x", EXTERNAL, "F", "loan", "100")]
    report = simulate_failure(legs, (), "F")
    assert report.external_loss == 4000 + 10000
    assert report.loss_to_others == 0


def test_report_json_has_dollar_strings_and_rounds():
    legs = [leg("f-v", "F", "V", "sale", "30"), leg("x-v", EXTERNAL, "V", "sale", "30")]
    data = simulate_failure(legs, (), "F", cut=0.5).to_json_dict()
    assert data["failed"] == "F" and data["cut"] == "0.5000" and data["basis"] == "contracted"
    v = next(row for row in data["losses"] if row["company"] == "V")
    assert v["lost_revenue"] == "15.00"
    assert v["loss_share_of_revenue"] == "0.2500"
    assert v["revenue_round"] == 1
    assert data["defaults"] == []


def test_estimated_deals_are_flagged():
    legs = [
        Leg(date(2025, 6, 1), "guess", 1, "F", "V", Kind.SALE, Decimal(30), estimate=True),
        leg("x-v", EXTERNAL, "V", "sale", "30"),
    ]
    assert simulate_failure(legs, (), "F").estimated_deals == ("guess",)


def test_unknown_company_and_bad_cut_are_bad_input():
    legs = [leg("f-v", "F", "V", "sale", "30")]
    with pytest.raises(BadInput, match="unknown company 'Nobody'"):
        simulate_failure(legs, (), "Nobody")
    with pytest.raises(BadInput, match="not between 0 and 1"):
        simulate_failure(legs, (), "F", cut=1.5)
    with pytest.raises(BadInput):
        simulate_failure(legs, (), EXTERNAL)


def test_mixed_currencies_are_refused():
    legs = [leg("a", "F", "V", "sale", "30"), leg("b", "F", "V", "loan", "5", C, currency="EUR")]
    with pytest.raises(MixedCurrencies):
        simulate_failure(legs, (), "F")


def test_a_failure_and_the_ranking_say_the_currency_of_their_amounts():
    eur = partial(leg, currency="EUR")
    legs = [eur("a", "F", "V", "sale", "30"), eur("b", "V", "F", "loan", "5", C)]
    assert simulate_failure(legs, (), "F").to_json_dict()["currency"] == "EUR"
    assert systemic_ranking(legs, ()).to_json_dict()["currency"] == "EUR"


def test_exact_and_float_failure_reports_agree_to_the_cent():
    legs = [
        leg("f-v", "F", "V", "sale", "30"),
        leg("v-f", "V", "F", "sale", "20"),
        leg("x-f", EXTERNAL, "F", "sale", "80"),
        leg("x-v", EXTERNAL, "V", "sale", "30"),
        leg("v-w", "V", "W", "loan", "33.33", C),
    ]
    exact = simulate_failure(legs, (), "F", cut=0.3)
    approx = simulate_failure(legs, (), "F", cut=0.3, exact=False)
    assert not approx.exact
    for row in exact.losses:
        assert abs(row.total - approx.loss_of(row.company).total) <= 1


# ---------------------------------------------------------------------------------------------
# Systemic ranking


def test_systemic_ranking_sorts_by_loss_to_others_then_name():
    legs = [
        leg("f-v", "F", "V", "sale", "30"),
        leg("x-v", EXTERNAL, "V", "sale", "30"),
        leg("v-w", "V", "W", "sale", "20"),
        leg("a-b", "A", "B", "sale", "10"),
    ]
    calls = []
    ranking = systemic_ranking(
        legs, (), on_progress=lambda done, total: calls.append((done, total))
    )
    assert [(row.company, row.loss_to_others) for row in ranking] == [
        ("F", 4000),
        ("V", 2000),
        ("A", 1000),
        ("B", 0),
        ("W", 0),
    ]
    assert calls == [(k, 5) for k in range(1, 6)]
    assert ranking[0].loss_to_others == simulate_failure(legs, (), "F").loss_to_others
    assert ranking.to_json_dict()["ranking"][0] == {
        "company": "F",
        "loss_to_others": "40.00",
        "defaults_caused": 0,
        "external_loss": "0.00",
    }


def test_systemic_ranking_counts_defaults_caused():
    legs = [
        leg("x-orcl", EXTERNAL, "Oracle", "sale", "57"),
        leg("x-o", EXTERNAL, "OpenAI", "sale", "10"),
        leg("o-orcl", "OpenAI", "Oracle", "cloud", "300", C),
        leg("orcl-nv", "Oracle", "Nvidia", "sale", "60", C),
    ]
    ranking = systemic_ranking(legs, ())
    assert {row.company: row.defaults for row in ranking} == {
        "OpenAI": 1,
        "Oracle": 0,
        "Nvidia": 0,
    }


# ---------------------------------------------------------------------------------------------
# Properties of the failure propagation

COMPANIES = ("A", "B", "C", "D")
KINDS = tuple(Kind)


@st.composite
def webs(draw, max_legs=14):
    """Random small webs: any kind, status and date in 2025, External among the parties."""
    parties = (*COMPANIES, EXTERNAL)
    legs = []
    for k in range(draw(st.integers(1, max_legs))):
        payer = draw(st.sampled_from(parties))
        payee = draw(st.sampled_from([p for p in parties if p != payer]))
        legs.append(
            Leg(
                date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 364))),
                f"d{k}",
                1,
                payer,
                payee,
                draw(st.sampled_from(KINDS)),
                Decimal(draw(st.integers(1, 1000))),
                status=draw(st.sampled_from(Status)),
            )
        )
    return tuple(legs)


def failing(draw_legs):
    companies = sorted({p for leg in draw_legs for p in (leg.payer, leg.payee)} - {EXTERNAL})
    return companies


cuts = st.fractions(min_value=0, max_value=1, max_denominator=20)
bases = st.sampled_from(Basis)
#: The invariants hold under every convention: the first ones, issue 14's defaults, and face
#: value over every date against the web as booked. (Dates of the random webs span 2025, so a
#: 12-month horizon from the books' date leaves some obligations out.)
conventions = st.sampled_from(
    [LEGACY, Conventions(), Conventions(horizon_months=None, loss=Loss.FACE)]
)


@settings(max_examples=120, deadline=None)
@given(webs(), st.data(), cuts, bases, conventions)
def test_losses_never_exceed_exposure(legs, data, cut, basis, conv):
    """Invariant: each company's loss <= its exposure (web revenue + owed + stakes), so the
    total loss never exceeds the total exposure."""
    company = data.draw(st.sampled_from(failing(legs)))
    report = simulate_failure(legs, (), company, cut=cut, basis=basis, conventions=conv)
    for row in report.losses:
        assert 0 <= row.total <= row.exposure
        assert row.lost_revenue + row.unpaid + row.written_down - row.total in (-1, 0, 1)
    assert sum(row.total for row in report.losses) <= sum(row.exposure for row in report.losses)


@settings(max_examples=80, deadline=None)
@given(webs(), st.data(), cuts, bases, conventions)
def test_clearing_rows_pay_between_nothing_and_all_owed(legs, data, cut, basis, conv):
    """Invariant: for every clearing row, 0 <= paid <= obligations and paid + shortfall ==
    obligations (scenario and baseline), the ratio lies in [0, 1], and a row that pays less
    than all it owes at baseline pays no more in the scenario."""
    company = data.draw(st.sampled_from(failing(legs)))
    report = simulate_failure(legs, (), company, cut=cut, basis=basis, conventions=conv)
    for row in report.clearing:
        assert row.obligations > 0
        assert 0 <= row.paid <= row.obligations
        assert row.paid + row.shortfall == row.obligations
        assert 0 <= row.baseline_paid <= row.obligations
        assert row.baseline_paid + row.baseline_shortfall == row.obligations
        assert 0 <= row.ratio <= 1 and 0 <= row.baseline_ratio <= 1
        assert row.paid <= row.baseline_paid
        assert not row.defaulted_at_baseline or row.defaults


@settings(max_examples=80, deadline=None)
@given(webs(), bases, st.integers(1, 500), st.integers(1, 500), conventions)
def test_failing_an_isolated_company_harms_nobody(legs, basis, sales, debt, conv):
    """Invariant: a company that deals only with External costs no web company anything."""
    island = (
        leg("i-sale", EXTERNAL, "Island", "sale", sales),
        leg("i-buy", "Island", EXTERNAL, "sale", sales),
        leg("i-loan", EXTERNAL, "Island", "loan", debt),
        leg("i-commit", "Island", EXTERNAL, "cloud", debt, C),
    )
    report = simulate_failure((*legs, *island), (), "Island", basis=basis, conventions=conv)
    assert report.loss_to_others == 0
    assert all(row.total == 0 for row in report.losses)
    assert [names for found, names in report.defaults if found > 0] == []


@settings(max_examples=80, deadline=None)
@given(webs(), st.data(), bases, conventions)
def test_a_cut_of_zero_changes_nothing(legs, data, basis, conv):
    """Invariant: cutting spending by 0% loses nobody anything and defaults nobody."""
    company = data.draw(st.sampled_from(failing(legs)))
    report = simulate_failure(legs, (), company, cut=0, basis=basis, conventions=conv)
    assert all(row.total == 0 for row in report.losses)
    assert report.external_loss == 0
    assert report.defaults == ()


@settings(max_examples=60, deadline=None)
@given(webs(), st.data(), bases, conventions)
def test_a_cut_of_everything_equals_failure(legs, data, basis, conv):
    """Invariant: cut = 100% is failure: the same report, the company in round 0, nothing paid
    by it, every stake in it written off."""
    company = data.draw(st.sampled_from(failing(legs)))
    failed = simulate_failure(legs, (), company, basis=basis, conventions=conv)
    assert (
        simulate_failure(legs, (), company, cut=Fraction(1), basis=basis, conventions=conv)
        == failed
    )
    assert (
        simulate_failure(legs, (), company, cut=Decimal("1.00"), basis=basis, conventions=conv)
        == failed
    )
    assert failed.defaults[0] == (0, (company,))


@settings(max_examples=60, deadline=None)
@given(webs(), st.data(), cuts, cuts, bases, conventions)
def test_losses_grow_with_the_cut(legs, data, cut1, cut2, basis, conv):
    """Invariant: a deeper cut never makes anybody lose less (every channel is monotone)."""
    company = data.draw(st.sampled_from(failing(legs)))
    low, high = sorted((cut1, cut2))
    small = simulate_failure(legs, (), company, cut=low, basis=basis, conventions=conv)
    large = simulate_failure(legs, (), company, cut=high, basis=basis, conventions=conv)
    for row in small.losses:
        assert row.total <= large.loss_of(row.company).total


def test_warrant_holders_write_down_the_marked_value_of_their_warrants():
    """OpenAI holds 2 AMDW (granted at 5, marked 9): if AMD fails it loses 18."""
    legs = [
        Leg(
            date(2025, 1, 1),
            "w",
            1,
            "AMD",
            "OpenAI",
            Kind.WARRANT,
            Decimal(5),
            units=Decimal(2),
            commodity="AMDW",
        ),
        leg("s", "OpenAI", "AMD", "sale", "1"),
    ]
    marks = [Price(date(2025, 2, 1), "AMDW", Decimal(9))]
    assert simulate_failure(legs, marks, "AMD").loss_of("OpenAI").written_down == 1800
    assert simulate_failure(legs, (), "AMD").loss_of("OpenAI").written_down == 500


@st.composite
def flagged_webs(draw):
    """Random webs whose legs may carry an estimate, and whose sales may be capital spending."""
    from dataclasses import replace

    return tuple(
        replace(
            leg,
            estimate=draw(st.booleans()),
            capex=leg.kind is Kind.SALE and draw(st.booleans()),
        )
        for leg in draw(webs())
    )


@settings(max_examples=80, deadline=None)
@given(flagged_webs(), st.data(), cuts, bases, conventions)
def test_a_failure_on_the_legs_frame_is_the_failure_on_the_legs(legs, data, cut, basis, conv):
    """Invariant: the stress test reads a legs frame by its columns (records only for the
    obligations, stakes and estimates) and finds exactly what it finds on Leg records."""
    from ledger.legs_frame import frame_of_legs

    company = data.draw(st.sampled_from(failing(legs)))
    on_legs = simulate_failure(legs, (), company, cut=cut, basis=basis, conventions=conv)
    on_frame = simulate_failure(
        frame_of_legs(legs), (), company, cut=cut, basis=basis, conventions=conv
    )
    assert on_frame.to_json_dict() == on_legs.to_json_dict()


@settings(max_examples=40, deadline=None)
@given(flagged_webs(), bases, conventions)
def test_the_ranking_on_the_legs_frame_is_the_ranking_on_the_legs(legs, basis, conv):
    """Invariant: as above, for the systemic ranking of every company."""
    from ledger.legs_frame import frame_of_legs

    on_legs = systemic_ranking(legs, (), basis=basis, conventions=conv)
    on_frame = systemic_ranking(frame_of_legs(legs), (), basis=basis, conventions=conv)
    assert on_frame.to_json_dict() == on_legs.to_json_dict()
