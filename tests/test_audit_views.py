"""Audit sheets, JSON and HTML carry the right figures, on a small web worked out by hand."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from functools import partial
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ledger import charts
from ledger.audit import exposure, simulate_failure
from ledger.audit_cells import times_cell
from ledger.audit_views import (
    _commitment_drawing,
    _contagion_drawing,
    _loss_chart,
    audit_edges,
    commitment_edges,
    contagion_sheets,
    exposure_sheets,
    ranking_sheet,
    run_audit,
)
from ledger.conventions import LEGACY
from ledger.inputs import Web
from ledger.model import EXTERNAL, BadInput, Basis, Kind, Leg, Period, Price, Status
from ledger.render import Unit, render_json

# The hand-worked figures of these layout tests use the engine's first conventions (all
# obligations at once, face value, the failing company given what it owes); the sheets of the
# issue-14 conventions are specified in tests/test_stress.py.
legacy_audit = partial(run_audit, conventions=LEGACY)

SVG = "{http://www.w3.org/2000/svg}"
R, C, A = Status.REALIZED, Status.CONTRACTED, Status.ANNOUNCED


def leg(deal, payer, payee, kind, amount, status=R, *, day=date(2025, 6, 1)):
    return Leg(day, deal, 1, payer, payee, Kind(kind), Decimal(amount), "USD", status)


# A small AI web (all dates; every figure below is worked out by hand):
#
#   External -> Nvidia  sale  100      Nvidia -> OpenAI  equity  50
#   OpenAI   -> Nvidia  sale   40      External -> OpenAI  sale  10
#   Oracle   -> Nvidia  sale   10      External -> Oracle  sale  20
#   OpenAI   -> Oracle  cloud  20
#   not yet realized: OpenAI -> Oracle cloud 300 (contracted, 2027), OpenAI -> Nvidia sale 90
#   (announced)
#
# Realized basis. Nvidia: revenue 150 = External 100 + OpenAI 40 + Oracle 10; web 50 (33.3%);
# HHI (2/3)² + (4/15)² + (1/15)² = 117/225 = 0.5200; web HHI (4/5)² + (1/5)² = 0.6800.
# OpenAI: revenue 10, committed to pay 300 + 90 = 390 = 39.0× its revenue.
# Nvidia invested 50 in OpenAI, which bought 40 from it.
#
# OpenAI fails (contracted basis): Oracle loses the 20 of cloud revenue (half its inflow of 40,
# so it buys half less from Nvidia: Nvidia loses 5 more, in round 2) and the 300 it is owed;
# Nvidia loses 40 + 5 = 45 of revenue and writes off its 50 stake: 95. Loss to others 415.
WEB_LEGS = (
    leg("x-nv", EXTERNAL, "Nvidia", "sale", "100"),
    leg("oai-nv", "OpenAI", "Nvidia", "sale", "40"),
    leg("orcl-nv", "Oracle", "Nvidia", "sale", "10"),
    leg("x-oai", EXTERNAL, "OpenAI", "sale", "10"),
    leg("x-orcl", EXTERNAL, "Oracle", "sale", "20"),
    leg("nv-oai", "Nvidia", "OpenAI", "equity", "50"),
    leg("oai-orcl", "OpenAI", "Oracle", "cloud", "20"),
    leg("oai-orcl-5y", "OpenAI", "Oracle", "cloud", "300", C, day=date(2027, 1, 1)),
    leg("oai-nv-more", "OpenAI", "Nvidia", "sale", "90", A),
)
WEB = Web(Path("small"), WEB_LEGS, (), ("Nvidia", "OpenAI", "Oracle"), (), "csv")
ALL = Period()


def sheet(sheets, title_start):
    return next(s for s in sheets if s.title.startswith(title_start))


def row(found, first):
    return dict(zip(found.columns, next(r for r in found.rows if r[0] == first), strict=True))


@pytest.fixture(scope="module")
def profile():
    return legacy_audit(WEB, ALL, Basis.REALIZED)


@pytest.fixture(scope="module")
def failure():
    return legacy_audit(WEB, ALL, Basis.CONTRACTED, "OpenAI")


# --------------------------------------------------------------------------------------------
# Exposure profile


def test_concentration_sheet_shows_revenue_shares_and_hhi(profile):
    sheets, _, _ = profile
    nvidia = row(sheet(sheets, "Revenue concentration"), "Nvidia")
    assert nvidia == {
        "company": "Nvidia",
        "revenue": "150.00",
        "from External": "100.00",
        "from the web": "50.00",
        "web %": "33.3%",
        "top web customer": "OpenAI (26.7%)",
        "HHI": "0.5200",
        "web HHI": "0.6800",
    }


def test_counterparty_sheet_lists_revenue_and_funding_by_counterparty(profile):
    sheets, _, _ = profile
    rows = sheet(sheets, "Revenue and funding by counterparty").rows
    assert ("Nvidia", "revenue from", "OpenAI", "40.00", "26.7%") in rows
    assert ("OpenAI", "funding from", "Nvidia", "50.00", "100.0%") in rows


def test_investments_in_own_customers_sheet(profile):
    sheets, _, _ = profile
    assert sheet(sheets, "Investments in own customers").rows == (
        ("Nvidia", "OpenAI", "50.00", "40.00"),
    )


def test_commitment_summary_gives_the_multiple_of_revenue_and_a_headline(profile):
    """OpenAI: 300 contracted + 90 announced = 390 against revenue 10: 39.0×."""
    sheets, _, _ = profile
    found = sheet(sheets, "Commitments outstanding")
    assert row(found, "OpenAI") == {
        "company": "OpenAI",
        "revenue": "10.00",
        "to pay: contracted": "300.00",
        "to pay: announced": "90.00",
        "to pay: total": "390.00",
        "× revenue": "39.0×",
        "to receive": "0.00",
    }
    assert row(found, "Nvidia")["× revenue"] == "0.00×"
    assert "Largest multiple: OpenAI has committed to pay 390.00, 39.0× its revenue of 10.00." in (
        found.notes
    )


def test_commitment_detail_lists_each_pair_once_with_both_multiples(profile):
    """OpenAI -> Oracle 300: 30× OpenAI's revenue of 10 and 7.5× Oracle's revenue of 40."""
    sheets, _, _ = profile
    found = sheet(sheets, "Commitments outstanding by counterparty")
    assert [r[:2] for r in found.rows] == [("OpenAI", "Oracle"), ("OpenAI", "Nvidia")]
    assert row(found, "OpenAI") == {
        "payer": "OpenAI",
        "payee": "Oracle",
        "contracted": "300.00",
        "announced": "0.00",
        "total": "300.00",
        "of which backstop": "",
        "× payer revenue": "30.0×",
        "× payee revenue": "7.50×",
    }


def test_velocity_sheet_reads_the_contract(profile):
    """Web revenue 40 + 10 + 20 = 70; new money 100 + 10 + 20 = 130; velocity 7/13."""
    sheets, _, _ = profile
    found = sheet(sheets, "Velocity of the web")
    assert found.rows[0][1] == "70.00"
    assert found.rows[1][1] == "130.00"
    assert found.rows[2][1] == "0.5385"


def test_vendor_financed_revenue_follows_nvidia_money_through_openai(profile):
    """Pro-rata: OpenAI's inflows are 50 from Nvidia + 10 from External, so 5/6 of its 40 of
    chips (33.33) and of its 20 to Oracle (16.67) is Nvidia's money; Oracle passes 16.67/40 of
    its 10 back to Nvidia (4.17): 37.50, a quarter of Nvidia's revenue. Max: 40 + 10 = 50."""
    sheets, _, _ = profile
    nvidia = row(sheet(sheets, "Funding, vendor financing"), "Nvidia")
    assert (nvidia["vendor-financed"], nvidia["% of revenue"]) == ("37.50", "25.0%")
    assert nvidia["vendor-financed max"] == "50.00"
    assert nvidia["in own customers"] == "50.00"
    by_buyer = sheet(sheets, "Vendor-financed sales by buyer").rows
    assert by_buyer[:2] == (
        ("Nvidia", "OpenAI", "33.33", "40.00", "83.3%"),
        ("Nvidia", "Oracle", "4.17", "10.00", "41.7%"),
    )


def test_paper_gains_sheet_marks_warrants_to_the_latest_price():
    """OpenAI holds 2 AMDW granted at 5 in all; AMDW is marked 9: value 18, gain 13."""
    warrant = Leg(
        date(2025, 1, 1),
        "amd-w",
        1,
        "AMD",
        "OpenAI",
        Kind.WARRANT,
        Decimal(5),
        units=Decimal(2),
        commodity="AMDW",
    )
    marks = (Price(date(2025, 2, 1), "AMDW", Decimal(9)),)
    web = Web(Path("w"), (*WEB_LEGS, warrant), marks, ("AMD", *WEB.companies), (), "csv")
    sheets, _, _ = legacy_audit(web, ALL, Basis.REALIZED)
    assert sheet(sheets, "Paper gains").rows == (
        (
            "OpenAI",
            "AMD",
            "amd-w/1",
            "warrant",
            "2 AMDW",
            "9 on 2025-02-01",
            "5.00",
            "18.00",
            "13.00",
        ),
        ("total", "", "", "", "", "", "5.00", "18.00", "13.00"),
    )


def test_module_docstring_example():
    """External pays A 10, A invests 5 in B, B buys 5 from A and has signed to buy 30 more."""
    legs = (
        leg("x", EXTERNAL, "A", "sale", "10"),
        leg("inv", "A", "B", "equity", "5"),
        leg("buy", "B", "A", "sale", "5"),
        leg("more", "B", "A", "sale", "30", C),
    )
    web = Web(Path("tiny"), legs, (), ("A", "B"), (), "csv")
    sheets, _, _ = legacy_audit(web, ALL, Basis.REALIZED)
    a = row(sheet(sheets, "Revenue concentration"), "A")
    assert (a["revenue"], a["from the web"], a["web %"]) == ("15.00", "5.00", "33.3%")
    pair = sheet(sheets, "Commitments outstanding by counterparty").rows[0]
    assert pair[:2] == ("B", "A") and pair[-2:] == ("n/a: no revenue booked", "2.00×")
    sheets, _, _ = legacy_audit(web, ALL, Basis.CONTRACTED, "B")
    a = row(sheets[0], "A")
    assert [a[k] for k in ("lost revenue", "unpaid obligations", "written-down equity")] == [
        "5.00",
        "30.00",
        "5.00",
    ]
    assert a["total loss"] == "40.00"


def test_empty_detail_sheets_are_left_out(profile):
    sheets, _, _ = profile
    assert not any(s.title.startswith("Paper gains") for s in sheets)


def test_exposure_json_is_the_report_contract_and_the_other_parts_are_null(profile):
    _, data, _ = profile
    assert data["exposure"] == exposure(WEB_LEGS, (), ALL, Basis.REALIZED).to_json_dict()
    assert data["contagion"] is None and data["ranking"] is None


def test_sheets_rebuild_from_saved_json(profile, failure):
    """The sheets read only the JSON contract: a saved JSON file rebuilds the same report."""
    sheets, data, _ = profile
    assert exposure_sheets(json.loads(render_json(data["exposure"]))) == sheets
    fail_sheets, fail_data, _ = failure
    assert contagion_sheets(json.loads(render_json(fail_data["contagion"]))) == fail_sheets


# --------------------------------------------------------------------------------------------
# Contagion


def test_failure_sheet_gives_each_loss_by_channel_and_the_total(failure):
    sheets, _, _ = failure
    found = sheet(sheets, "What if OpenAI fails?")
    assert row(found, "Oracle") == {
        "company": "Oracle",
        "lost revenue": "20.00",
        "unpaid obligations": "300.00",
        "written-down equity": "0.00",
        "total loss": "320.00",
        "of revenue": "800.0%",
        "of equity": "",
        "hit round": "1",
        "defaults": "",
    }
    nvidia = row(found, "Nvidia")
    assert (nvidia["lost revenue"], nvidia["written-down equity"], nvidia["total loss"]) == (
        "45.00",
        "50.00",
        "95.00",
    )
    assert nvidia["hit round"] == "1"
    assert row(found, "OpenAI")["defaults"] == "fails"
    assert row(found, "total (others)")["total loss"] == "415.00"
    assert any("Eisenberg-Noe" in note for note in found.notes)


def test_clearing_sheet_shows_what_each_debtor_owes_and_pays(failure):
    """Contracted basis: only OpenAI owes anything (300 to Oracle; the announced 90 does not
    count). Baseline: it pays all 300 (ratio 1); failing, it pays nothing (ratio 0)."""
    sheets, data, _ = failure
    titles = [s.title for s in sheets]
    clearing = sheet(sheets, "Eisenberg–Noe clearing (what each debtor pays)")
    assert titles.index(clearing.title) == 1
    assert row(clearing, "OpenAI") == {
        "company": "OpenAI",
        "owes (p̄)": "300.00",
        "pays at baseline": "300.00",
        "baseline ratio": "1.0000",
        "pays (p)": "0.00",
        "shortfall": "300.00",
        "ratio p/p̄": "0.0000",
        "defaults": "fails",
    }
    assert row(clearing, "total")["shortfall"] == "300.00"
    assert [r["company"] for r in data["contagion"]["clearing"]] == ["OpenAI"]
    assert any("pro rata" in note for note in clearing.notes)


def test_clearing_sheet_shows_the_default_the_failure_causes_in_the_display_unit():
    """Oracle owes Nvidia 60 and has 57 from outside: once OpenAI does not pay its 300, Oracle
    pays 57 of 60 (ratio 0.95). In thousands, 57 is 0.06."""
    legs = (
        leg("x-orcl", EXTERNAL, "Oracle", "sale", "57"),
        leg("o-orcl", "OpenAI", "Oracle", "cloud", "300", C),
        leg("orcl-nv", "Oracle", "Nvidia", "sale", "60", C),
    )
    web = Web(Path("w"), legs, (), ("Nvidia", "OpenAI", "Oracle"), (), "csv")
    sheets, _, _ = legacy_audit(web, ALL, Basis.CONTRACTED, "OpenAI")
    oracle = row(sheet(sheets, "Eisenberg–Noe clearing"), "Oracle")
    assert [oracle[k] for k in ("owes (p̄)", "pays at baseline", "pays (p)", "shortfall")] == [
        "60.00",
        "60.00",
        "57.00",
        "3.00",
    ]
    assert (oracle["ratio p/p̄"], oracle["defaults"]) == ("0.9500", "yes")
    sheets, _, _ = legacy_audit(web, ALL, Basis.CONTRACTED, "OpenAI", unit=Unit.THOUSANDS)
    assert row(sheet(sheets, "Eisenberg–Noe clearing"), "Oracle")["pays (p)"] == "0.06"


def test_rounds_sheet_says_who_fails_in_which_round(failure):
    sheets, _, _ = failure
    assert sheet(sheets, "Rounds of defaults").rows == (
        ("0", "OpenAI", "fails: stops paying and buying"),
        ("", "nobody", "no other company defaults because of OpenAI"),
    )


def test_a_default_caused_by_the_failure_is_listed_in_its_round():
    """Oracle owes Nvidia 60 and has 57 from outside: once OpenAI does not pay its 300, Oracle
    pays 57 and defaults in round 1."""
    legs = (
        leg("x-orcl", EXTERNAL, "Oracle", "sale", "57"),
        leg("o-orcl", "OpenAI", "Oracle", "cloud", "300", C),
        leg("orcl-nv", "Oracle", "Nvidia", "sale", "60", C),
    )
    web = Web(Path("w"), legs, (), ("Nvidia", "OpenAI", "Oracle"), (), "csv")
    sheets, data, _ = legacy_audit(web, ALL, Basis.CONTRACTED, "OpenAI")
    assert sheet(sheets, "Rounds of defaults").rows[1] == (
        "1",
        "Oracle",
        "cannot pay all it owes once OpenAI stops paying",
    )
    assert row(sheet(sheets, "What if OpenAI fails?"), "Oracle")["defaults"] == "round 1"
    assert row(sheet(sheets, "What if OpenAI fails?"), "Nvidia")["unpaid obligations"] == "3.00"
    assert data["contagion"]["defaults"] == [
        {"round": 0, "companies": ["OpenAI"]},
        {"round": 1, "companies": ["Oracle"]},
    ]


def test_a_spending_cut_is_read_exactly_and_titled_as_a_cut():
    """A float cut of 0.333 is 333/1000, not the binary float nearest to it."""
    sheets, data, _ = legacy_audit(WEB, ALL, Basis.CONTRACTED, "OpenAI", 0.333)
    assert data["contagion"]["cut"] == "0.3330"
    assert sheets[0].title == "What if OpenAI cuts its spending by 33.3%? Loss per company"
    assert data["contagion"] == (
        simulate_failure(
            WEB_LEGS, (), "OpenAI", "0.333", ALL, Basis.CONTRACTED, conventions=LEGACY
        ).to_json_dict()
    )


def test_unknown_company_is_bad_input():
    with pytest.raises(BadInput, match="unknown company 'Nobody'"):
        legacy_audit(WEB, ALL, Basis.CONTRACTED, "Nobody")


# --------------------------------------------------------------------------------------------
# Ranking and progress


def test_ranking_comes_first_and_reports_progress_per_company():
    calls = []
    sheets, data, _ = legacy_audit(
        WEB, ALL, Basis.CONTRACTED, rank=True, progress=lambda done, total: calls.append(done)
    )
    assert calls == [1, 2, 3]
    assert sheets[0] == ranking_sheet(data["ranking"])
    assert [r[1] for r in sheets[0].rows] == ["OpenAI", "Oracle", "Nvidia"]
    assert sheets[0].rows[0][2] == "415.00"
    assert data["exposure"] is not None


def test_fail_and_rank_together_give_the_failure_then_the_ranking():
    sheets, data, _ = legacy_audit(WEB, ALL, Basis.CONTRACTED, "OpenAI", 1, True)
    assert [s.title.split("?")[0].split(":")[0] for s in sheets] == [
        "What if OpenAI fails",
        "Eisenberg–Noe clearing (what each debtor pays)",
        "Rounds of defaults",
        "Systemic impact",
    ]
    assert data["exposure"] is None


# --------------------------------------------------------------------------------------------
# HTML


class _Balance(HTMLParser):
    """Tracks open elements; a well-formed page closes every one it opens."""

    VOID = frozenset({"meta", "br", "img", "hr", "input", "link"})

    def __init__(self):
        super().__init__()
        self.stack, self.problems = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append((tag, self.getpos()))
        else:
            self.stack.pop()


def well_formed(page: str) -> list[ET.Element]:
    """Assert the page's tags balance; return its inline SVGs parsed as XML."""
    parser = _Balance()
    parser.feed(page)
    assert parser.problems == [] and parser.stack == []
    return [ET.fromstring(svg) for svg in re.findall(r"<svg.*?</svg>", page, re.S)]


def test_html_profile_has_concentration_commitment_and_web_charts(profile):
    _, _, html = profile
    page = html()
    assert len(well_formed(page)) == 3
    assert "<title>roundtrip — exposure audit</title>" in page
    assert "Revenue concentration: HHI × 100" in page
    assert "Commitments outstanding vs revenue (USD)" in page
    assert (
        "Largest multiple: OpenAI has committed to pay 390.00, 39.0× its revenue of 10.00." in page
    )
    assert page.count("<table>") == 8


def test_html_failure_marks_the_failed_company_and_shows_the_losses(failure):
    _, _, html = failure
    page = html()
    assert len(well_formed(page)) == 2
    assert "<title>roundtrip — What if OpenAI fails?</title>" in page
    assert (
        "OpenAI (filled) fails; dashed outlines: the companies that default because of it" in page
    )
    assert "loss to others 415.00" in page


def test_html_ranking_draws_the_most_systemic_failure():
    _, _, html = legacy_audit(WEB, ALL, Basis.CONTRACTED, rank=True)
    page = html()
    assert len(well_formed(page)) == 4
    assert "The most systemic company&#x27;s failure" in page
    assert "What if OpenAI fails: who defaults" in page


def test_html_is_deterministic(failure):
    _, _, html = failure
    assert html() == html()


def test_audit_edges_add_up_each_pair_and_kind_and_leave_out_external():
    edges = audit_edges(WEB_LEGS, ALL, Basis.CONTRACTED)
    assert ("OpenAI", "Oracle", Decimal(320), "cloud", True) in edges
    assert ("Nvidia", "OpenAI", Decimal(50), "equity", False) in edges
    assert all(EXTERNAL not in e[:2] for e in edges)
    assert ("OpenAI", "Nvidia", Decimal(40), "sale", False) in edges  # announced 90 left out


def test_commitment_edges_flag_commitments_of_at_least_the_payers_revenue():
    data = exposure(WEB_LEGS, (), ALL, Basis.REALIZED).to_json_dict()
    assert commitment_edges(data) == [
        ("OpenAI", "Oracle", Decimal("300.00"), "30.0×", True),
        ("OpenAI", "Nvidia", Decimal("90.00"), "9.00×", True),
    ]


# --------------------------------------------------------------------------------------------
# The failure page shows the failed company apart


def test_loss_sheet_puts_the_failed_company_below_the_total_of_those_it_harms(failure):
    sheets, _, _ = failure
    firsts = [r[0] for r in sheet(sheets, "What if OpenAI fails? Loss").rows]
    assert firsts.index("total (others)") < firsts.index("OpenAI")
    assert firsts[-1] == "OpenAI"


def test_loss_chart_leaves_the_failed_company_out(failure):
    _, data, _ = failure
    svg, caption, _ = _loss_chart(data["contagion"])
    assert "OpenAI itself is not drawn" in caption
    assert ">Nvidia<" in svg and ">Oracle<" in svg and ">OpenAI<" not in svg


def test_loss_chart_colours_are_those_of_their_meaning_everywhere(failure):
    _, data, _ = failure
    svg, _, _ = _loss_chart(data["contagion"])
    assert charts.LOST in svg and charts.ORGANIC not in svg


def test_a_warrant_of_the_failed_company_is_not_drawn_as_a_stopped_payment():
    legs = (*WEB_LEGS, leg("oai-w", "OpenAI", "Oracle", "warrant", "5"))
    web = Web(Path("small"), legs, (), ("Nvidia", "OpenAI", "Oracle"), (), "csv")
    _, data, _ = legacy_audit(web, ALL, Basis.CONTRACTED, "OpenAI")
    svg, _, _ = _contagion_drawing(
        audit_edges(legs, ALL, Basis.CONTRACTED), data["contagion"], most_systemic=False
    )
    edges = {
        group.findtext(f"{SVG}text"): next(iter(group.iter(f"{SVG}path")))
        for group in ET.fromstring(svg).iter(f"{SVG}g")
        if group.get("class") == "edge"
    }
    warrant = edges["warrant $5"]
    assert warrant.get("stroke") == charts.NEUTRAL and warrant.get("stroke-dasharray")
    assert edges["cloud $320"].get("stroke") == charts.FAILED  # a payment that stops


def test_a_tiny_multiple_is_not_shown_as_zero_and_a_missing_one_says_why():
    assert times_cell("0.0026") == "0.0026×"
    assert times_cell("0") == "0.00×"
    assert times_cell(None) == "n/a: no revenue booked"


def test_commitment_drawing_labels_each_arrow_with_amount_and_multiple(profile):
    _, data, _ = profile
    svg, _, _ = _commitment_drawing(data["exposure"])
    labels = {t.text for t in ET.fromstring(svg).iter(f"{SVG}text")}
    assert {"$300 (30.0× payer revenue)", "$90 (9.00× payer revenue)"} <= labels
    assert not any("{amount}" in (label or "") for label in labels)
