"""`roundtrip audit` as a user meets it: the shipped books, every format, exact small outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from csvtables import table_rows
from typer.testing import CliRunner

from ledger.cli import app

REPO = Path(__file__).parent.parent
BOOKS = REPO / "books"

runner = CliRunner()

# External pays A 10, A invests 5 in B, B buys 5 from A and has signed to buy 30 more.
# If B fails (contracted basis): A loses 5 of revenue, the 30 it is owed and its stake of 5.
TINY = """\
date,deal,payer,payee,kind,amount,currency,status
2025-06-01,x,External,A,sale,10.00,USD,realized
2025-06-01,inv,A,B,equity,5.00,USD,realized
2025-06-01,buy,B,A,sale,5.00,USD,realized
2025-06-01,more,B,A,sale,30.00,USD,contracted
"""


def run(*args, **kwargs):
    return runner.invoke(app, ["audit", *(str(a) for a in args)], **kwargs)


#: The conventions before issue 14, under which the hand-worked figures below were computed.
LEGACY = ("--horizon", "all", "--loss", "face", "--baseline", "given", "--means", "outside")


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text(TINY, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# The shipped books


def test_audit_of_the_books_prints_the_exposure_profile():
    result = run(BOOKS)
    assert result.exit_code == 0, result.output
    for title in (
        "Revenue concentration (contracted)",
        "Revenue and funding by counterparty",
        "Funding, vendor financing and investments in own customers",
        "Commitments outstanding by counterparty",
        "Paper gains (warrants and marked stakes)",
        "Velocity of the web",
    ):
        assert title in result.output
    assert "Largest multiple: OpenAI has committed to pay" in result.output
    assert "275.6×" in result.output


def test_audit_fail_openai_prints_losses_and_rounds_of_defaults():
    result = run(BOOKS, "--fail", "OpenAI")
    assert result.exit_code == 0, result.output
    assert "What if OpenAI fails? Loss per company" in result.output
    assert "Rounds of defaults" in result.output
    assert "Eisenberg-Noe" in result.output
    assert "Revenue concentration" not in result.output


def test_audit_cut_is_a_percentage():
    result = run(BOOKS, "--fail", "OpenAI", "--cut", 50)
    assert result.exit_code == 0, result.output
    assert "What if OpenAI cuts its spending by 50%? Loss per company" in result.output


def test_audit_all_ranks_companies_by_systemic_impact():
    result = run(BOOKS, "--all", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"schema_version", "exposure", "contagion", "ranking"}
    assert data["contagion"] is None
    ranking = data["ranking"]["ranking"]
    losses = [float(r["loss_to_others"]) for r in ranking]
    assert losses == sorted(losses, reverse=True)


def test_audit_all_no_longer_ranks_openai_first_by_construction():
    """Before issue 14 OpenAI topped the ranking because its own baseline default (it cannot
    pay its commitments) was counted in its failure; against the web as booked it is not."""
    old = json.loads(run(BOOKS, "--all", "--format", "json", *LEGACY).output)
    new = json.loads(run(BOOKS, "--all", "--format", "json").output)
    assert old["ranking"]["ranking"][0]["company"] == "OpenAI"
    assert new["ranking"]["ranking"][0]["company"] != "OpenAI"
    assert "OpenAI" in new["ranking"]["baseline_defaults"]


def test_audit_all_states_how_many_companies_default_in_the_baseline():
    result = run(BOOKS, "--all")
    assert result.exit_code == 0, result.output
    assert "2 companies already default there (CoreWeave, OpenAI)" in result.output


def test_audit_fail_json_holds_the_contagion_report():
    result = run(BOOKS, "--fail", "OpenAI", "--format", "json")
    assert result.exit_code == 0, result.output
    contagion = json.loads(result.output)["contagion"]
    assert contagion["failed"] == "OpenAI" and contagion["cut"] == "1.0000"
    assert contagion["defaults"][0] == {"round": 0, "companies": ["OpenAI"]}


@pytest.mark.parametrize(
    ("fmt", "start"),
    [
        ("md", "## Revenue concentration"),
        ("csv", "table,schema_version,"),
        ("html", "<!DOCTYPE html>"),
    ],
)
def test_audit_every_format(fmt, start):
    result = run(BOOKS, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(start)


def test_audit_html_report_has_its_charts(tmp_path):
    out = tmp_path / "audit.html"
    result = run(BOOKS, "--all", "--format", "html", "--out", out, *LEGACY)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") == 4
    assert "Revenue concentration: HHI × 100" in page
    assert "Commitments outstanding vs revenue" in page
    assert "What if OpenAI fails: who defaults" in page


# --------------------------------------------------------------------------------------------
# Exact output on a tiny web


def test_audit_all_as_csv_is_exact(tiny):
    result = run(tiny, "--all", "--format", "csv", *LEGACY)
    assert result.exit_code == 0, result.output
    assert table_rows(result.output, "audit", "ranking.ranking") == [
        {
            "company": "B",
            "loss_to_others": "40.00",
            "defaults_caused": "0",
            "external_loss": "0.00",
        },
        {"company": "A", "loss_to_others": "0.00", "defaults_caused": "0", "external_loss": "0.00"},
    ]


def test_audit_fail_as_csv_is_exact(tiny):
    result = run(tiny, "--fail", "B", "--format", "csv", *LEGACY)
    assert result.exit_code == 0, result.output
    losses = table_rows(result.output, "audit", "contagion.losses")
    assert [
        {k: r[k] for k in ("company", "lost_revenue", "unpaid_obligations", "written_down_equity")}
        | {k: r[k] for k in ("total_loss", "loss_share_of_revenue", "loss_share_of_equity")}
        | {k: r[k] for k in ("revenue_round", "default_round")}
        for r in losses
    ] == [
        {
            "company": "A",
            "lost_revenue": "5.00",
            "unpaid_obligations": "30.00",
            "written_down_equity": "5.00",
            "total_loss": "40.00",
            "loss_share_of_revenue": "2.6667",
            "loss_share_of_equity": "",
            "revenue_round": "1",
            "default_round": "",
        },
        {
            "company": "B",
            "lost_revenue": "0.00",
            "unpaid_obligations": "0.00",
            "written_down_equity": "0.00",
            "total_loss": "0.00",
            "loss_share_of_revenue": "",
            "loss_share_of_equity": "0.0000",
            "revenue_round": "",
            "default_round": "0",
        },
    ]
    assert table_rows(result.output, "audit", "contagion")[0]["loss_to_others"] == "40.00"


def test_audit_realized_basis_leaves_contracts_unpaid_out(tiny):
    """On the realized basis B's signed purchase is no obligation: A loses 5 + 5 only."""
    result = run(tiny, "--fail", "B", "--basis", "realized", "--format", "json", *LEGACY)
    a = next(r for r in json.loads(result.output)["contagion"]["losses"] if r["company"] == "A")
    assert (a["unpaid_obligations"], a["total_loss"]) == ("0.00", "10.00")


def test_audit_progress_bar_on_a_terminal_keeps_the_report(tiny):
    """On a terminal (forced here) --all draws a progress bar, then the tables as usual."""
    result = run(tiny, "--all", env={"FORCE_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "ranking companies by systemic impact" in result.output
    assert "Systemic impact" in result.output


def test_audit_without_a_terminal_draws_no_progress_bar(tiny):
    result = run(tiny, "--all")
    assert "ranking companies" not in result.output


# --------------------------------------------------------------------------------------------
# Errors


def test_unknown_company_is_a_clear_error(tiny):
    result = run(tiny, "--fail", "Nobody")
    assert result.exit_code != 0
    assert "unknown company 'Nobody'; companies: A, B" in result.output


def test_cut_outside_0_to_100_is_refused(tiny):
    result = run(tiny, "--fail", "B", "--cut", 150)
    assert result.exit_code != 0
    assert "--cut is a percentage between 0 and 100" in result.output


def test_missing_books_are_bad_input():
    result = run("no/such/books")
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_audit_unit_shows_billions_and_says_so():
    result = run(BOOKS, "--fail", "OpenAI", "--unit", "B", "--format", "md", *LEGACY)
    assert result.exit_code == 0
    oracle = next(line for line in result.output.splitlines() if line.startswith("| Oracle |"))
    assert "| 300.00 |" in oracle
    assert "Amounts in billions" in result.output
