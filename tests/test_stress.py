"""The stress test's conventions (issue 14): a reference clearing and hand-worked cases.

Each convention has one small web worked by hand in its docstring: the horizon (obligations due
by leg date), the margin loss, the baseline as booked, and means from the books.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.accounts import booked_cash
from ledger.clearing import clearing_vector, verify_clearing
from ledger.contagion import simulate_failure, systemic_ranking
from ledger.conventions import (
    LEGACY,
    Baseline,
    Conventions,
    Loss,
    Means,
    add_months,
    from_options,
    parse_horizon,
    parse_margins,
)
from ledger.model import EXTERNAL, Kind, Leg, Period, Status

R, C = Status.REALIZED, Status.CONTRACTED
DAY = date(2025, 6, 1)
FACE = Conventions(loss=Loss.FACE)
FACE_ALL = Conventions(horizon_months=None, loss=Loss.FACE)


def leg(deal, payer, payee, kind, amount, status=R, *, day=DAY, capex=False):
    return Leg(day, deal, 1, payer, payee, Kind(kind), Decimal(amount), "USD", status, capex=capex)


# --------------------------------------------------------------------------------------------
# A published example


def test_clearing_reproduces_the_systemicrisk_package_example():
    """The example of ``default_clearing`` in Gandy & Veraart's R package systemicrisk (CRAN,
    0.4.2): three banks each owing each other 1/2, outside assets ea = (1/2, 5/8, 3/4) and
    outside liabilities el = (3/2, 1/2, 1/2). In cents of 1/800 (so every input is an integer):
    ea = (400, 500, 600), each interbank claim 400, el = (1200, 400, 400) owed to an outside
    creditor node.

    Round 1: everybody pays in full; bank 1 has 400 + 800 = 1200 < 2000 and defaults.
    Round 2: bank 1 pays all it has, p1 = 400 + 400 + 400·p2/1200, of which 400/2000 to bank 2,
    which then has 500 + 400·p1/2000 + 400 = 500 + 240 + 400 < 1200: it defaults.
    Solving p1 = 800 + p2/3 and p2 = 900 + p1/5 gives p1 = 8250/7, p2 = 7950/7; bank 3 then has
    600 + p1/5 + p2/3 = 8500/7 ≥ 1200 and pays in full. Eisenberg & Noe's greatest clearing
    vector is (8250/7, 7950/7, 1200), defaults in rounds (1, 2, none).
    """
    liabilities = [
        [0, 400, 400, 1200],
        [400, 0, 400, 400],
        [400, 400, 0, 400],
        [0, 0, 0, 0],
    ]
    result = clearing_vector(liabilities, [400, 500, 600, 0])
    assert result.payments[:3] == (Fraction(8250, 7), Fraction(7950, 7), Fraction(1200))
    assert result.default_round == (1, 2, None, None)
    assert verify_clearing(result, liabilities) == ()


def test_a_creditor_that_keeps_a_margin_counts_only_that_towards_its_debts():
    """A owes B 100 for cloud; B keeps 14% of it (the rest pays its cost of delivering) and
    owes C 50. A pays in full; B has 14 of it to pay C and defaults, paying 14."""
    liabilities = [[0, 100, 0], [0, 0, 50], [0, 0, 0]]
    kept = {(0, 1): Fraction(14, 100)}
    result = clearing_vector(liabilities, [100, 0, 0], kept=kept)
    assert result.payments == (Fraction(100), Fraction(14), Fraction(0))
    assert result.default_round == (None, 1, None)
    assert verify_clearing(result, liabilities, kept) == ()


# --------------------------------------------------------------------------------------------
# Horizon: obligations fall due by leg date

# B has 150 from outside and has signed for cloud from A: 100 due 2025-12-01, 100 due
# 2026-12-01. The books are dated 2025-06-01 (the last realized leg), so a 12-month horizon
# ends 2026-06-01 and holds only the first instalment.
TERM = [
    leg("out", EXTERNAL, "B", "sale", "150"),
    leg("term", "B", "A", "cloud", "100", C, day=date(2025, 12, 1)),
    leg("term", "B", "A", "cloud", "100", C, day=date(2026, 12, 1)),
]


def test_a_twelve_month_horizon_clears_only_the_instalments_due_in_it():
    """B owes 100 within the horizon, pays it at baseline, and nothing if it fails: A loses
    100 at face value."""
    report = simulate_failure(TERM, (), "B", conventions=FACE)
    row = next(r for r in report.clearing if r.company == "B")
    assert (row.obligations, row.baseline_paid) == (10000, 10000)
    assert report.loss_of("A").unpaid == 10000
    assert report.conventions.as_of == DAY
    assert report.conventions.due_by(DAY) == date(2026, 6, 1)


def test_horizon_all_clears_every_instalment_and_the_baseline_keeps_what_b_cannot_pay():
    """All 200 fall due; B can pay 150 of them (a baseline default); failing, it pays
    nothing: A loses 150, not 200."""
    report = simulate_failure(TERM, (), "B", conventions=FACE_ALL)
    assert report.loss_of("A").unpaid == 15000
    assert "B" in report.baseline_defaults


def test_the_old_conventions_hand_the_failing_company_all_it_owes():
    """Before issue 14 B was given 200 in the baseline, so A lost all 200."""
    assert simulate_failure(TERM, (), "B", conventions=LEGACY).loss_of("A").unpaid == 20000


def test_overdue_obligations_are_due():
    """A contracted leg dated before the books' date was not paid yet: it falls due now."""
    legs = [*TERM, leg("late", "B", "A", "cloud", "20", C, day=date(2025, 1, 1))]
    report = simulate_failure(legs, (), "B", conventions=FACE)
    assert next(r for r in report.clearing if r.company == "B").obligations == 12000


def test_loan_principal_scheduled_after_the_horizon_is_not_due():
    """L lent B 100 (realized); B's schedule repays 30 in 2025-12 and 70 in 2027: only 30 of
    the principal falls due within 12 months."""
    legs = [
        leg("out", EXTERNAL, "B", "sale", "500"),
        leg("loan", "L", "B", "loan", "100"),
        leg("loan", "B", "L", "repayment", "30", C, day=date(2025, 12, 1)),
        leg("loan", "B", "L", "repayment", "70", C, day=date(2027, 1, 1)),
    ]
    report = simulate_failure(legs, (), "B", conventions=FACE)
    assert next(r for r in report.clearing if r.company == "B").obligations == 3000
    everything = simulate_failure(legs, (), "B", conventions=FACE_ALL)
    assert next(r for r in everything.clearing if r.company == "B").obligations == 10000


def test_add_months_clips_to_the_end_of_the_month():
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2025, 11, 30), 14) == date(2027, 1, 30)


# --------------------------------------------------------------------------------------------
# Loss per kind


def test_a_cancelled_cloud_contract_costs_the_supplier_its_margin():
    """Same web as the horizon case: B fails on 100 of cloud due; at the 14% default margin
    A loses 14, not 100."""
    report = simulate_failure(TERM, (), "B")
    assert report.loss_of("A").unpaid == 1400


def test_a_margin_given_on_the_command_line_replaces_the_default():
    conventions = from_options(margins=["cloud=0.25"])
    assert simulate_failure(TERM, (), "B", conventions=conventions).loss_of("A").unpaid == 2500


def test_money_lent_loses_its_face_value_under_the_margin_convention():
    """B owes L 30 of principal within the horizon (as above) and fails: L loses all 30."""
    legs = [
        leg("out", EXTERNAL, "B", "sale", "500"),
        leg("loan", "L", "B", "loan", "100"),
        leg("loan", "B", "L", "repayment", "30", C, day=date(2025, 12, 1)),
        leg("loan", "B", "L", "repayment", "70", C, day=date(2027, 1, 1)),
    ]
    assert simulate_failure(legs, (), "B").loss_of("L").unpaid == 3000


def test_lost_sales_cost_the_vendor_its_margin():
    """F bought 30 of chips from V (realized); F fails and V loses the sales: at the 75% sale
    margin that is 22.50."""
    legs = [leg("buy", "F", "V", "sale", "30"), leg("out", EXTERNAL, "V", "sale", "30")]
    assert simulate_failure(legs, (), "F").loss_of("V").lost_revenue == 2250
    face = simulate_failure(legs, (), "F", conventions=FACE)
    assert face.loss_of("V").lost_revenue == 3000


# --------------------------------------------------------------------------------------------
# The baseline as booked

# F owes V 100 and has 40 from outside; V owes W 50 and has nothing of its own (all signed
# sales, due at once, face value).
CHAIN = [
    leg("out", EXTERNAL, "F", "sale", "40"),
    leg("fv", "F", "V", "sale", "100", C),
    leg("vw", "V", "W", "sale", "50", C),
]


def test_the_booked_baseline_counts_only_what_the_failing_company_could_pay():
    """As booked, F pays its 40 (a baseline default), V passes it on to W (V too defaults at
    baseline). F failing costs V the 40 and W the 40: 80, and nobody defaults because of F."""
    report = simulate_failure(CHAIN, (), "F", conventions=FACE_ALL)
    assert (report.loss_of("V").total, report.loss_of("W").total) == (4000, 4000)
    assert report.loss_to_others == 8000
    assert report.baseline_defaults == ("F", "V")
    assert report.defaults == ((0, ("F",)),)


def test_the_given_baseline_blamed_the_failure_for_what_could_never_be_paid():
    """With F handed 100, V is owed 100 and pays W 50 in the baseline: failing F costs 150
    and V defaults in round 1."""
    report = simulate_failure(
        CHAIN,
        (),
        "F",
        conventions=Conventions(horizon_months=None, loss=Loss.FACE, baseline=Baseline.GIVEN),
    )
    assert report.loss_to_others == 15000
    assert report.defaults == ((0, ("F",)), (1, ("V",)))


def test_the_ranking_measures_every_failure_against_one_baseline_and_names_its_defaults():
    ranking = systemic_ranking(CHAIN, (), Period(), conventions=FACE_ALL)
    assert ranking.baseline_defaults == ("F", "V")
    assert {row.company: row.loss_to_others for row in ranking} == {"F": 8000, "V": 4000, "W": 0}
    assert ranking.to_json_dict()["baseline_defaults"] == ["F", "V"]


# --------------------------------------------------------------------------------------------
# Means from the books

# C sold 30 to outsiders, bought 20 of chips it installs (capex) and 5 of cloud; it has signed
# for 40 more cloud from D.
BOOKED = [
    leg("out", EXTERNAL, "C", "sale", "30"),
    leg("chips", "C", "N", "sale", "20", capex=True),
    leg("cloud", "C", "D", "cloud", "5"),
    leg("more", "C", "D", "cloud", "40", C, day=date(2025, 9, 1)),
]


def test_means_are_the_books_cash_and_equipment():
    """C's book holds cash 30 − 20 − 5 = 5 and equipment 20: means 25, so it pays D 25 of
    the 40 at baseline (outside revenue alone would give 30)."""
    report = simulate_failure(BOOKED, (), "N", conventions=FACE)
    c = report.loss_of("C")
    assert (c.booked_cash, c.means) == (500, 2500)
    assert c.booked_cash == int(booked_cash(BOOKED, "C", DAY) * 100)
    assert next(r for r in report.clearing if r.company == "C").baseline_paid == 2500
    outside = simulate_failure(
        BOOKED, (), "N", conventions=Conventions(loss=Loss.FACE, means=Means.OUTSIDE)
    )
    assert next(r for r in outside.clearing if r.company == "C").baseline_paid == 3000


def test_equity_that_funds_little_of_the_book_is_flagged_as_mostly_unbooked():
    """C's book holds 25 of cash and equipment and no booked equity: mostly unbooked. G
    raised 30 of equity and holds 30 of cash: not."""
    legs = [*BOOKED, leg("eq", EXTERNAL, "G", "equity", "30")]
    report = simulate_failure(legs, (), "N")
    assert report.loss_of("C").equity_mostly_unbooked
    assert not report.loss_of("G").equity_mostly_unbooked


# --------------------------------------------------------------------------------------------
# Reading the conventions


@pytest.mark.parametrize(("text", "months"), [("12m", 12), ("2y", 24), ("18", 18), ("all", None)])
def test_horizons_read_in_months_years_or_all(text, months):
    assert parse_horizon(text) == months


@pytest.mark.parametrize("text", ["", "0m", "soon", "-3m"])
def test_bad_horizons_are_refused(text):
    with pytest.raises(ValueError, match="horizon"):
        parse_horizon(text)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("cloud", "kind=rate"),
        ("cloud=x", "kind=rate"),
        ("loan=0.1", "goods and services"),
        ("cloud=1.5", "between 0 and 1"),
    ],
)
def test_bad_margins_are_refused(item, message):
    with pytest.raises(ValueError, match=message):
        parse_margins([item])


def test_reports_carry_their_conventions():
    data = simulate_failure(TERM, (), "B").to_json_dict()["conventions"]
    assert data["horizon_months"] == 12 and data["loss"] == "margin"
    assert data["margins"]["cloud"] == "0.1400"
    assert data["as_of"] == "2025-06-01" and data["due_by"] == "2026-06-01"
    assert data["text"].startswith("horizon 12 months; loss: margin (sale 75%, cloud 14%")


# --------------------------------------------------------------------------------------------
# The clearing with kept shares, on random matrices


@st.composite
def kept_matrices(draw, max_nodes=5):
    """Small obligations matrices, outside assets, and a kept share for some obligations."""
    n = draw(st.integers(1, max_nodes))
    cell = st.one_of(st.just(0), st.integers(1, 500))
    rows = [[0 if i == j else draw(cell) for j in range(n)] for i in range(n)]
    assets = [draw(st.integers(0, 300)) for _ in range(n)]
    share = st.fractions(min_value=0, max_value=1, max_denominator=20)
    kept = {
        (i, j): draw(share)
        for i in range(n)
        for j in range(n)
        if rows[i][j] and draw(st.booleans())
    }
    return rows, assets, kept


@settings(max_examples=150, deadline=None)
@given(kept_matrices())
def test_the_clearing_with_kept_shares_is_the_greatest_fixed_point(case):
    """Invariant: p = min(pbar, e + (K∘Π)ᵀ p) holds exactly, iterating it down from pbar ends
    at the same vector, and float mode agrees within its tolerance."""
    liabilities, assets, kept = case
    result = clearing_vector(liabilities, assets, kept=kept)
    assert verify_clearing(result, liabilities, kept) == ()
    owed = np.array(liabilities, dtype=float)
    totals = owed.sum(axis=1)
    keep = np.ones_like(owed)
    for (i, j), k in kept.items():
        keep[i, j] = float(k)
    share = np.divide(
        owed * keep, totals[:, None], out=np.zeros_like(owed), where=totals[:, None] > 0
    )
    p = totals.copy()
    for _ in range(3000):
        p = np.minimum(totals, np.array(assets) + share.T @ p)
    assert np.allclose(p, [float(x) for x in result.payments], atol=1e-6)
    floats = clearing_vector(liabilities, assets, kept=kept, exact=False)
    assert np.allclose(floats.payments, [float(x) for x in result.payments], atol=1e-6)
