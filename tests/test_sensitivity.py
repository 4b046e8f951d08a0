"""What each headline rests on: removals of estimates and deals, and each edge's marginal value."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.contagion import simulate_failure
from ledger.conventions import Conventions, Loss
from ledger.flows import build_flow_graph
from ledger.inputs import read_web
from ledger.model import EXTERNAL, Basis, Kind, Leg, Period, Status
from ledger.netting import Method, net
from ledger.sensitivity import contagion_sensitivity, netting_sensitivity

ROOT = Path(__file__).resolve().parent.parent
R, C, A = Status.REALIZED, Status.CONTRACTED, Status.ANNOUNCED


def leg(deal, payer, payee, kind, amount, status=R, *, estimate=False, number=1):
    return Leg(
        date(2025, 6, 1),
        deal,
        number,
        payer,
        payee,
        Kind(kind),
        Decimal(amount),
        "USD",
        status,
        estimate,
    )


def sensitivity_of(legs, basis=Basis.REALIZED):
    result = net(build_flow_graph(legs, Period(), basis), Method.MAX)
    return netting_sensitivity(legs, Period(), basis, result)


def test_the_bottleneck_edge_explains_one_more_dollar_and_the_other_does_not():
    """Nvidia -equity 100-> OpenAI -sale 70-> Nvidia: 70 circulates. One more dollar of sale
    would circulate too (+$1), one less would not (-$1 takes $1); the equity has room to spare
    (+$1 explains nothing, -$1 takes nothing)."""
    legs = [
        leg("eq", "Nvidia", "OpenAI", "equity", "100"),
        leg("buy", "OpenAI", "Nvidia", "sale", "70"),
    ]
    edges = {(e.payer, e.kind): (e.gain, e.loss) for e in sensitivity_of(legs).edges}
    assert edges == {("Nvidia", "equity"): (0, 0), ("OpenAI", "sale"): (1, 1)}


def test_a_dollar_that_is_revenue_twice_round_a_cycle_is_worth_two():
    """A sells 50 to B, B sells 80 to A: 50 goes round, revenue of both (100). One more dollar
    on the smaller sale is revenue twice."""
    legs = [leg("ab", "A", "B", "sale", "50"), leg("ba", "B", "A", "sale", "80")]
    edges = {(e.payer, e.payee): e.gain for e in sensitivity_of(legs).edges}
    assert edges == {("A", "B"): 2, ("B", "A"): 0}


def test_removing_the_deal_that_funds_the_cycle_removes_the_circular_revenue():
    legs = [
        leg("eq", "Nvidia", "OpenAI", "equity", "100", estimate=True),
        leg("buy", "OpenAI", "Nvidia", "sale", "70"),
        leg("out", EXTERNAL, "OpenAI", "sale", "13", estimate=True),
    ]
    sensitivity = sensitivity_of(legs)
    rows = {(r.what, r.label): r.total for r in sensitivity.removals}
    assert rows == {("estimate", "eq#1"): 0, ("deal", "eq"): 0, ("deal", "buy"): 0}
    assert [r.label for r in sensitivity.rests_on()] == ["buy", "eq", "eq#1"]


def test_the_announced_headline_rests_on_openais_nvidia_systems():
    """The issue's figures: 169.48B circular on the announced basis, Nvidia 102.4B; without
    oai-nv-systems the total is 122.19B and Nvidia 55.0B."""
    web = read_web(ROOT / "books")
    sensitivity = sensitivity_of(web.legs, Basis.ANNOUNCED)
    assert sensitivity.total == 16_948_000_000_000
    row = next(r for r in sensitivity.removals if r.label == "oai-nv-systems")
    assert row.total == 12_219_000_000_000
    assert dict(row.companies)["Nvidia"] == 5_500_000_000_000
    assert "oai-nv-systems" in [r.label for r in sensitivity.rests_on()]


def test_a_failures_loss_without_the_deal_it_rests_on():
    """F owes V 100 (an estimate) and W 20, and has 40 from outside; failing, it costs V
    100/120 of the 40 and W 20/120 of it (face value, all due at once). Without the estimated
    obligation to V, F pays W in full at baseline and W loses all 20; outside revenue is not
    tried."""
    legs = [
        leg("out", EXTERNAL, "F", "sale", "40", estimate=True),
        leg("fv", "F", "V", "sale", "100", C, estimate=True),
        leg("fw", "F", "W", "sale", "20", C),
    ]
    conventions = Conventions(horizon_months=None, loss=Loss.FACE)
    report = simulate_failure(legs, (), "F", conventions=conventions)
    sensitivity = contagion_sensitivity(legs, (), report)
    assert sensitivity.total == 4000
    assert {r.label: r.total for r in sensitivity.removals} == {
        "fv#1": 2000,
        "fv": 2000,
        "fw": 4000,
    }
    assert [r.label for r in sensitivity.rests_on()] == ["fv", "fv#1"]


runner = CliRunner()


@pytest.fixture
def triangle(tmp_path):
    path = tmp_path / "web.csv"
    path.write_text(
        "date,deal,payer,payee,kind,amount,currency,status,estimate\n"
        "2025-06-01,eq,Nvidia,OpenAI,equity,100.00,USD,realized,true\n"
        "2025-06-01,buy,OpenAI,Nvidia,sale,70.00,USD,realized,false\n",
        encoding="utf-8",
    )
    return path


def test_net_json_carries_the_sensitivity_unless_asked_not_to(triangle):
    data = json.loads(runner.invoke(app, ["net", str(triangle), "--format", "json"]).output)
    assert data["sensitivity"]["rests_on"][0] == {"label": "buy", "change": "-70.00"}
    off = runner.invoke(app, ["net", str(triangle), "--format", "json", "--sensitivity", "0"])
    assert "sensitivity" not in json.loads(off.output)


def test_net_markdown_shows_what_the_headline_rests_on(triangle):
    result = runner.invoke(app, ["net", str(triangle), "--format", "md"])
    assert "## What the headline rests on: total circular revenue" in result.output
    assert "## Marginal value of each edge" in result.output


def test_a_bad_sensitivity_count_is_refused(triangle):
    result = runner.invoke(app, ["net", str(triangle), "--sensitivity", "many"])
    assert result.exit_code == 2
    assert "--sensitivity takes a number >= 0 or auto" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "The headline rests on buy (-70.00)"),
        (["--unit", "K"], "The headline rests on buy (-0.07 K)"),
    ],
)
def test_the_notes_give_amounts_in_a_unit_they_name(triangle, args, expected):
    """A web of dollars is not 'moved by -0.00B': the notes' amounts read as the table's do."""
    result = runner.invoke(app, ["net", str(triangle), "--format", "md", *args])
    assert expected in result.output
    assert "B)" not in result.output
