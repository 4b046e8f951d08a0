"""The stress test as a reader meets it: conventions stated, baseline defaults named, errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ledger.cli import app

ROOT = Path(__file__).resolve().parent.parent
BOOKS = ROOT / "books"
runner = CliRunner()

# B has 150 from outside and owes A 100 of cloud in 2025-12 and 100 in 2026-12; the books are
# dated 2025-06-01.
TERM = """\
date,deal,payer,payee,kind,amount,currency,status
2025-06-01,out,External,B,sale,150.00,USD,realized
2025-12-01,term,B,A,cloud,100.00,USD,contracted
2026-12-01,term,B,A,cloud,100.00,USD,contracted
"""


def audit(*args):
    return runner.invoke(app, ["audit", *(str(a) for a in args)])


def test_a_failure_report_opens_with_its_conventions(tmp_path):
    web = tmp_path / "term.csv"
    web.write_text(TERM, encoding="utf-8")
    result = audit(web, "--fail", "B", "--format", "md")
    assert result.exit_code == 0, result.output
    assert (
        "- Conventions from 2025-06-01: horizon 12 months; loss: margin (sale 75%, cloud 14%, "
        "lease 100%); baseline: as booked; means: the books."
    ) in result.output


def test_the_conventions_asked_for_are_the_ones_stated_and_used(tmp_path):
    web = tmp_path / "term.csv"
    web.write_text(TERM, encoding="utf-8")
    args = ["--fail", "B", "--format", "json", "--horizon", "all", "--margin", "cloud=0.5"]
    contagion = json.loads(audit(web, *args).output)["contagion"]
    assert contagion["conventions"]["horizon_months"] is None
    assert contagion["conventions"]["margins"]["cloud"] == "0.5000"
    a = next(r for r in contagion["losses"] if r["company"] == "A")
    assert a["unpaid_obligations"] == "75.00"  # B pays its 150 at baseline; half is margin


def test_the_openai_failure_clears_only_twelve_months_and_names_the_baseline_defaults():
    contagion = json.loads(audit(BOOKS, "--fail", "OpenAI", "--format", "json").output)["contagion"]
    assert contagion["conventions"]["due_by"] == "2026-09-30"
    assert contagion["baseline_defaults"] == ["CoreWeave", "OpenAI"]
    oracle = next(r for r in contagion["losses"] if r["company"] == "Oracle")
    assert oracle["total_loss"] == "0.00"  # its cloud contract starts in 2027
    labels = [r["label"] for r in contagion["sensitivity"]["rests_on"]]
    assert "oai-msft-azure" in labels


def test_a_bad_horizon_is_one_clear_line_and_exit_2():
    result = audit(BOOKS, "--fail", "OpenAI", "--horizon", "soon")
    assert result.exit_code == 2
    assert "a horizon is a number of months (12m), years (2y) or all, not 'soon'" in result.output


def test_a_bad_margin_is_one_clear_line_and_exit_2():
    result = audit(BOOKS, "--fail", "OpenAI", "--margin", "loan=0.1")
    assert result.exit_code == 2
    assert "--margin is for goods and services (sale, cloud, lease), not loan" in result.output


def test_a_bad_scenario_date_is_refused():
    result = audit(BOOKS, "--fail", "OpenAI", "--as-of", "autumn")
    assert result.exit_code == 2
    assert "--as-of takes an ISO date" in result.output


def test_a_company_max_figure_is_called_one_maximal_explanation():
    result = runner.invoke(app, ["net", str(BOOKS), "--format", "md", "--sensitivity", "0"])
    assert "a company's figure is one maximal explanation, not a bound on that company" in (
        result.output
    )
    assert "upper bound" not in result.output.replace("The total is an upper bound", "")
