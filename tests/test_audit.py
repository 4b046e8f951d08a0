from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit import HHI_SCALE, exposure, hhi
from ledger.flows import MixedCurrencies
from ledger.legs_csv import read_legs_csv
from ledger.model import EXTERNAL, Basis, Kind, Leg, Period, Price, Status

R, C, A = Status.REALIZED, Status.CONTRACTED, Status.ANNOUNCED


def leg(deal, payer, payee, kind, amount, status=R, *, day=date(2025, 6, 1), **extra):
    return Leg(day, deal, 1, payer, payee, Kind(kind), Decimal(amount), "USD", status, **extra)


def example(examples, name):
    legs, errors = read_legs_csv(examples / name)
    assert errors == []
    return legs


# A tiny web, every figure worked out by hand in the tests below (realized basis, 2025):
#
#   External -> Nvidia   sale     100        Nvidia -> OpenAI    equity   50
#   OpenAI   -> Nvidia   sale      40        Nvidia -> CoreWeave equity    7
#   Oracle   -> Nvidia   sale      10        External -> OpenAI  equity   30
#   External -> OpenAI   sale      10        OpenAI -> Oracle    cloud    20
#   External -> Oracle   sale      20
#   AMD -> OpenAI warrant, 2 units of AMDW granted at 5; AMDW marked 4 (2025-07-01), 9 (2026-02-01)
#   not yet realized: OpenAI -> Oracle cloud 300 (contracted, 2027), OpenAI -> AMD sale 90
#   (announced), Nvidia -> CoreWeave backstop 6 (contracted)
TINY = (
    leg("x-nv", EXTERNAL, "Nvidia", "sale", "100"),
    leg("oai-nv", "OpenAI", "Nvidia", "sale", "40"),
    leg("orcl-nv", "Oracle", "Nvidia", "sale", "10"),
    leg("x-oai", EXTERNAL, "OpenAI", "sale", "10"),
    leg("x-orcl", EXTERNAL, "Oracle", "sale", "20"),
    leg("nv-oai", "Nvidia", "OpenAI", "equity", "50"),
    leg("nv-cw", "Nvidia", "CoreWeave", "equity", "7"),
    leg("x-oai-eq", EXTERNAL, "OpenAI", "equity", "30"),
    leg("oai-orcl", "OpenAI", "Oracle", "cloud", "20"),
    leg("amd-w", "AMD", "OpenAI", "warrant", "5", units=Decimal(2), commodity="AMDW"),
    leg("oai-orcl-5y", "OpenAI", "Oracle", "cloud", "300", C, day=date(2027, 1, 1)),
    leg("oai-amd", "OpenAI", "AMD", "sale", "90", A),
    leg("nv-cw-bs", "Nvidia", "CoreWeave", "backstop", "6", C),
)
MARKS = (
    Price(date(2025, 7, 1), "AMDW", Decimal(4)),
    Price(date(2026, 2, 1), "AMDW", Decimal(9)),
)
YEAR = Period.parse("2025")


@pytest.fixture(scope="module")
def tiny():
    return exposure(TINY, MARKS, YEAR)


def test_hhi_is_on_the_zero_to_one_scale():
    assert HHI_SCALE == "0-1"
    assert hhi([7]) == 1
    assert hhi([1, 1, 1, 1]) == Fraction(1, 4)
    assert hhi([]) is None


def test_revenue_shares_and_hhi_by_counterparty(tiny):
    """Nvidia: 100 External + 40 OpenAI + 10 Oracle = 150; shares 2/3, 4/15, 1/15;
    HHI = 4/9 + 16/225 + 1/225 = 117/225 = 0.52."""
    revenue = tiny.company("Nvidia").revenue
    assert revenue.total == 15000
    assert [(r.counterparty, r.cents, r.share) for r in revenue.by_counterparty] == [
        (EXTERNAL, 10000, Fraction(2, 3)),
        ("OpenAI", 4000, Fraction(4, 15)),
        ("Oracle", 1000, Fraction(1, 15)),
    ]
    assert revenue.hhi == Fraction(117, 225)


def test_web_revenue_share_and_web_hhi(tiny):
    """Nvidia's web revenue 50 of 150 (1/3); web HHI over 40/50 and 10/50 = 0.64 + 0.04."""
    nvidia = tiny.company("Nvidia")
    assert (nvidia.revenue_external, nvidia.revenue_web) == (10000, 5000)
    assert nvidia.web_share == Fraction(1, 3)
    assert nvidia.web_hhi == Fraction(68, 100)
    openai = tiny.company("OpenAI")
    assert openai.web_share == 0 and openai.web_hhi is None


def test_funding_by_counterparty(tiny):
    """OpenAI raised 50 from Nvidia and 30 from External: HHI = (5/8)² + (3/8)² = 17/32."""
    funding = tiny.company("OpenAI").funding
    assert funding.total == 8000
    assert [(r.counterparty, r.cents) for r in funding.by_counterparty] == [
        ("Nvidia", 5000),
        (EXTERNAL, 3000),
    ]
    assert funding.hhi == Fraction(17, 32)


def test_investments_in_own_customers(tiny):
    """Nvidia put 50 into OpenAI, which bought 40 from it; CoreWeave (7) bought nothing."""
    nvidia = tiny.company("Nvidia")
    assert [tuple(row) for row in nvidia.customer_investments] == [("OpenAI", 5000, 4000)]
    assert nvidia.invested_in_customers == 5000


def test_commitments_by_counterparty_and_as_a_multiple_of_revenue(tiny):
    """OpenAI committed 300 (contracted, 2027 — outside the period, still outstanding) to
    Oracle and 90 (announced) to AMD: 390 against revenue 10 = 39 times."""
    openai = tiny.company("OpenAI")
    assert [tuple(row) for row in openai.commitments_to_pay] == [
        ("Oracle", 30000, 0, 30000, 0, Fraction(30)),
        ("AMD", 0, 9000, 9000, 0, Fraction(9)),
    ]
    assert openai.committed_to_pay == 39000
    assert openai.commitment_multiple == 39
    oracle = tiny.company("Oracle")
    assert [(r.counterparty, r.total) for r in oracle.commitments_to_receive] == [("OpenAI", 30000)]
    assert oracle.committed_to_receive == 30000 and oracle.commitment_multiple == 0


def test_undrawn_backstops_are_contingent_commitments(tiny):
    """Nvidia's 6 backstop for CoreWeave: contingent; 6/150 = 0.04 of its revenue."""
    nvidia = tiny.company("Nvidia")
    assert [tuple(row) for row in nvidia.commitments_to_pay] == [
        ("CoreWeave", 600, 0, 600, 600, Fraction(4, 100))
    ]


def test_warrant_paper_gain_uses_the_latest_price_before_the_period_ends(tiny):
    """2 AMDW granted at 5: in 2025 the latest mark is 4 -> value 8, gain 3."""
    (gain,) = tiny.company("OpenAI").paper
    assert (gain.counterparty, gain.units, gain.cost) == ("AMD", Decimal(2), 500)
    assert (gain.price, gain.price_date, gain.value, gain.gain) == (
        Decimal(4),
        date(2025, 7, 1),
        800,
        300,
    )
    assert gain.marked
    assert tiny.company("OpenAI").paper_gain == 300


def test_paper_gain_over_all_time_uses_the_last_mark():
    """Whole file: the 2026 mark of 9 -> value 18, gain 13."""
    openai = exposure(TINY, MARKS).company("OpenAI")
    assert (openai.paper_value, openai.paper_gain) == (1800, 1300)


def test_unmarked_warrant_is_carried_at_its_grant_value():
    report = exposure(TINY, (), YEAR)
    (gain,) = report.company("OpenAI").paper
    assert (gain.value, gain.gain, gain.marked) == (500, 0, False)


def test_equity_with_units_is_marked_too():
    """Nvidia bought 10 CRWV shares for 400; marked at 55 they are worth 550: gain 150."""
    legs = [leg("ipo", "Nvidia", "CoreWeave", "equity", "400", units=Decimal(10), commodity="CRWV")]
    report = exposure(legs, [Price(date(2025, 3, 28), "CRWV", Decimal(55))])
    (gain,) = report.company("Nvidia").paper
    assert (gain.kind, gain.counterparty, gain.value, gain.gain) == (
        Kind.EQUITY,
        "CoreWeave",
        55000,
        15000,
    )


def test_companies_are_listed_by_name_even_without_flows(tiny):
    assert [row.company for row in tiny.companies] == [
        "AMD",
        "CoreWeave",
        "Nvidia",
        "OpenAI",
        "Oracle",
    ]
    assert tiny.company("AMD").revenue.total == 0
    assert tiny.company("AMD").revenue.hhi is None


def test_contracted_basis_counts_contracted_revenue():
    report = exposure(TINY, MARKS, YEAR, Basis.CONTRACTED)
    # the 300 cloud contract is dated 2027: outside 2025 on every basis
    assert report.company("Oracle").revenue.total == 4000
    assert report.company("CoreWeave").revenue.total == 0  # undrawn backstop moves no money


def test_json_has_dollar_strings_and_four_decimal_ratios(tiny):
    data = tiny.to_json_dict()
    assert data["hhi_scale"] == "0-1" and data["basis"] == "realized"
    assert data["period"] == {"label": "2025", "start": "2025-01-01", "end": "2026-01-01"}
    nvidia = next(row for row in data["companies"] if row["company"] == "Nvidia")
    assert nvidia["revenue"]["total"] == "150.00"
    assert nvidia["revenue"]["hhi"] == "0.5200"
    assert nvidia["revenue"]["by_counterparty"][1] == {
        "counterparty": "OpenAI",
        "amount": "40.00",
        "share": "0.2667",
    }
    openai = next(row for row in data["companies"] if row["company"] == "OpenAI")
    assert openai["commitment_multiple"] == "39.0000"
    assert openai["paper"][0]["price"] == "4" and openai["paper"][0]["gain"] == "3.00"
    assert set(data["velocity"]) >= {"velocity", "rounds", "new_money", "web_revenue"}


def test_estimated_legs_are_flagged():
    legs = [
        leg("guess", "OpenAI", "Nvidia", "sale", "40", estimate=True),
        leg("x", EXTERNAL, "Oracle", "sale", "1"),
    ]
    report = exposure(legs)
    assert report.estimated_deals == ("guess",)
    assert report.company("Nvidia").estimated and not report.company("Oracle").estimated


def test_mixed_currency_commitments_are_refused():
    legs = [
        leg("a", "OpenAI", "Nvidia", "sale", "40"),
        Leg(date(2025, 1, 1), "b", 1, "OpenAI", "SAP", Kind.SALE, Decimal(1), "EUR", C),
    ]
    with pytest.raises(MixedCurrencies):
        exposure(legs)


# ---------------------------------------------------------------------------------------------
# Vendor financing and velocity (figures from the netting engine; shared/examples/README.md)


def test_vendor_financed_revenue_is_pro_rata_circular_with_max_as_bound(examples):
    """vendor_financing.csv: Nvidia invests 100 in OpenAI, OpenAI buys 70 from Nvidia and earns
    13 from subscribers. Pro-rata 70·100/113 = 61.95; max 70."""
    nvidia = exposure(example(examples, "vendor_financing.csv")).company("Nvidia")
    assert nvidia.vendor_financed == 6195
    assert nvidia.vendor_financed_max == 7000
    assert nvidia.vendor_financed_share == Fraction(6195, 7000)
    assert [tuple(row) for row in nvidia.vendor_financed_by_buyer] == [
        ("OpenAI", 6195, 7000, Fraction(6195, 7000))
    ]
    assert [tuple(row) for row in nvidia.customer_investments] == [("OpenAI", 10000, 7000)]


def test_portal_financed_part_of_its_ad_revenue(examples):
    """dotcom_ads.csv: Portal invests 5 in StartUp (which also raised 10), StartUp buys 8 of
    ads. Pro-rata 5·8/15 = 2.67, max 5; the StartUp is a customer it invested in."""
    portal = exposure(example(examples, "dotcom_ads.csv")).company("Portal")
    assert (portal.vendor_financed, portal.vendor_financed_max) == (267, 500)
    assert [tuple(row) for row in portal.customer_investments] == [("StartUp", 500, 800)]
    assert portal.funding.total == 0
    assert exposure(example(examples, "dotcom_ads.csv")).company("StartUp").funding.hhi == (
        Fraction(5, 15) ** 2 + Fraction(10, 15) ** 2
    )


def test_velocity_and_rounds_on_a_two_company_loop():
    """External pays A 10; A buys 10 from B; B buys 10 from A.

    Web revenue 20, new money 10: velocity 2. Pro-rata: A's 10 goes to B, which passes on all
    it gets -> all 10 back to A; B's 10 goes to A, which passes on half of its 20 of inflows
    -> 5 back to B: circular 15, rounds 1.5. Max: the 10 goes round once, circular 20, rounds 2.
    """
    legs = [
        leg("x-a", EXTERNAL, "A", "sale", "10"),
        leg("a-b", "A", "B", "sale", "10"),
        leg("b-a", "B", "A", "sale", "10"),
    ]
    velocity = exposure(legs).velocity
    assert (velocity.web_revenue, velocity.new_money) == (2000, 1000)
    assert (velocity.new_money_revenue, velocity.new_money_financing) == (1000, 0)
    assert velocity.velocity == 2
    assert (velocity.circular_revenue, velocity.circular_revenue_max) == (1500, 2000)
    assert velocity.rounds == pytest.approx(Fraction(3, 2))
    assert velocity.rounds_max == 2
    assert velocity.to_json_dict()["rounds"] == "1.5000"


def test_new_money_counts_financing_from_external(examples):
    """dotcom_ads.csv: External's 10 of equity is the only new money; web revenue 8."""
    velocity = exposure(example(examples, "dotcom_ads.csv")).velocity
    assert (velocity.new_money, velocity.new_money_financing, velocity.web_revenue) == (
        1000,
        1000,
        800,
    )
    assert velocity.velocity == Fraction(8, 10)


def test_velocity_is_undefined_without_new_money(examples):
    """triangle.csv: no money from External, 400 of web revenue: infinitely fast."""
    velocity = exposure(example(examples, "triangle.csv")).velocity
    assert (velocity.new_money, velocity.web_revenue) == (0, 40000)
    assert velocity.velocity is None and velocity.rounds is None
    assert velocity.circular_revenue_max == 14000


def test_money_round_tripped_through_external_is_not_circular():
    """External pays A 1 and A pays External 1: External is outside every cycle."""
    legs = [leg("in", EXTERNAL, "A", "sale", "1"), leg("out", "A", EXTERNAL, "sale", "1")]
    report = exposure(legs)
    a = report.company("A")
    assert (a.vendor_financed, a.vendor_financed_max) == (0, 0)
    assert report.velocity.web_revenue == 0 and report.velocity.velocity == 0


# ---------------------------------------------------------------------------------------------
# Properties

PARTIES = ("A", "B", "C", EXTERNAL)


@st.composite
def webs(draw, kinds=(Kind.SALE, Kind.CLOUD, Kind.EQUITY, Kind.LOAN)):
    legs = []
    for k in range(draw(st.integers(1, 12))):
        payer = draw(st.sampled_from(PARTIES))
        payee = draw(st.sampled_from([p for p in PARTIES if p != payer]))
        legs.append(
            Leg(
                date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 364))),
                f"d{k}",
                1,
                payer,
                payee,
                draw(st.sampled_from(kinds)),
                Decimal(draw(st.integers(1, 500))),
                status=draw(st.sampled_from(Status)),
            )
        )
    return tuple(legs)


@settings(max_examples=60, deadline=None)
@given(webs(), st.sampled_from(Basis))
def test_profile_figures_are_consistent(legs, basis):
    """Invariant: shares sum to 1 and HHI lies in [1/n, 1]; web + External = gross;
    0 <= vendor-financed (pro-rata) <= max bound <= web revenue; velocity's web revenue is
    the sum of the companies' web revenue."""
    report = exposure(legs, basis=basis)
    for row in report.companies:
        for concentration in (row.revenue, row.funding):
            shares = [r.share for r in concentration.by_counterparty]
            if shares:
                assert sum(shares) == 1
                assert Fraction(1, len(shares)) <= concentration.hhi <= 1
        assert row.revenue_web + row.revenue_external == row.revenue.total
        assert 0 <= row.vendor_financed <= row.vendor_financed_max + 1
        assert row.vendor_financed_max <= row.revenue_web
    assert report.velocity.web_revenue == sum(row.revenue_web for row in report.companies)
    assert report.velocity.circular_revenue <= report.velocity.circular_revenue_max + 1


@st.composite
def held_webs(draw):
    """Random webs with every kind and status, estimates, and stakes that carry units."""
    from dataclasses import replace

    legs = []
    for leg in draw(webs(kinds=tuple(Kind))):
        leg = replace(leg, estimate=draw(st.booleans()))
        if leg.kind in (Kind.EQUITY, Kind.WARRANT) and draw(st.booleans()):
            leg = replace(leg, units=Decimal(draw(st.integers(1, 50))), commodity="STAKE")
        legs.append(leg)
    return tuple(legs)


@settings(max_examples=80, deadline=None)
@given(held_webs(), st.sampled_from(Basis), st.integers(1, 30))
def test_the_profile_of_the_legs_frame_is_the_profile_of_the_legs(legs, basis, mark):
    """Invariant: the exposure profile reads a legs frame by its columns (records only for
    commitments, holdings and estimates) and gives exactly the profile of the Leg records."""
    from ledger.legs_frame import frame_of_legs

    prices = (Price(date(2025, 6, 30), "STAKE", Decimal(mark)),)
    on_legs = exposure(legs, prices, basis=basis)
    on_frame = exposure(frame_of_legs(legs), prices, basis=basis)
    assert on_frame.to_json_dict() == on_legs.to_json_dict()
