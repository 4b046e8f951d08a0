"""``roundtrip net`` as a user meets it, on the hand-checkable triangle web.

Triangle (``tests/fixtures/examples/triangle.csv``): Nvidia invests 100 in OpenAI; OpenAI buys
300 of Oracle cloud and 60 of Nvidia chips; Oracle buys 40 of Nvidia chips. Max: Nvidia 100,
Oracle 40 (total 140). Pro-rata: Nvidia 27.78, Oracle 40.00.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from beancount import loader
from csvtables import table_rows
from typer.testing import CliRunner

from ledger.cli import app

EXAMPLES = Path(__file__).parent / "fixtures" / "examples"
TRIANGLE = EXAMPLES / "triangle.csv"

runner = CliRunner()

CSV_HEADER = (
    "company,gross,external,web,circular,organic,circular_share,estimated,paper_gains,"
    "circular_min,circular_max"
)


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def net_json(*args) -> dict:
    result = run("net", TRIANGLE, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def circular_of(payload: dict) -> dict[str, str]:
    return {c["company"]: c["circular"] for c in payload["companies"]}


def test_net_prints_the_figures_as_a_table():
    result = run("net", TRIANGLE, "--sensitivity", "0")  # the figures table alone
    assert result.exit_code == 0, result.output
    # Columns are set apart by at least two spaces; names hold none.
    cells = [re.split(r"\s{2,}", line.strip()) for line in result.stdout.splitlines()]
    rows = {r[0]: r[1:6] for r in cells if len(r) >= 7 and r[0] != "company"}  # the figures
    assert rows == {
        # company: gross, external, web, circular, organic
        "Nvidia": ["100.00", "0.00", "100.00", "100.00", "0.00"],
        "OpenAI": ["0.00", "0.00", "0.00", "0.00", "0.00"],
        "Oracle": ["300.00", "0.00", "300.00", "40.00", "260.00"],
        "total": ["400.00", "0.00", "400.00", "140.00", "260.00"],
    }


def test_net_table_shows_the_cycle_witnesses():
    result = run("net", TRIANGLE)
    assert "Nvidia -equity-> OpenAI -sale-> Nvidia" in result.stdout
    assert "Nvidia -equity-> OpenAI -cloud-> Oracle -sale-> Nvidia" in result.stdout


def test_net_as_csv_is_exact():
    result = run("net", TRIANGLE, "--format", "csv")
    assert result.exit_code == 0
    rows = table_rows(result.stdout, "net", "companies")
    assert [",".join(row.values()) for row in rows] == [
        "Nvidia,100.00,0.00,100.00,100.00,0.00,1.0000,false,0.00,,",
        "OpenAI,0.00,0.00,0.00,0.00,0.00,0.0000,false,0.00,,",
        "Oracle,300.00,0.00,300.00,40.00,260.00,0.1333,false,0.00,,",
    ]
    assert ",".join(rows[0]) == CSV_HEADER
    (run_row,) = table_rows(result.stdout, "net", "net")
    assert (run_row["total_circular"], run_row["cycle_count"]) == ("140.00", "2")


def test_net_as_markdown_has_the_table_and_the_witnesses():
    result = run("net", TRIANGLE, "--format", "md")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "## Organic vs circular revenue (max, realized)"
    assert "| Nvidia | 100.00 | 0.00 | 100.00 | 100.00 | 0.00 | 100.0% | 0.00 |" in lines
    assert "| Oracle | 300.00 | 0.00 | 300.00 | 40.00 | 260.00 | 13.3% | 0.00 |" in lines
    assert "| total | 400.00 | 0.00 | 400.00 | 140.00 | 260.00 | 35.0% |  |" in lines
    assert "| Nvidia -equity-> OpenAI -cloud-> Oracle -sale-> Nvidia | 40.00 |" in lines


def test_net_as_json_parses_and_has_the_contract_keys():
    payload = net_json()
    assert {
        "method",
        "basis",
        "period",
        "currency",
        "split_rule",
        "companies",
        "total_circular",
        "cycles",
    } <= set(payload)
    assert circular_of(payload) == {"Nvidia": "100.00", "OpenAI": "0.00", "Oracle": "40.00"}
    assert payload["total_circular"] == "140.00"
    assert payload["cycles"][0] == {
        "path": ["Nvidia", "OpenAI", "Nvidia"],
        "kinds": ["equity", "sale"],
        "amount": "60.00",
    }


def test_net_as_html_has_a_chart_and_a_drawing():
    result = run("net", TRIANGLE, "--format", "html")
    assert result.exit_code == 0
    assert result.stdout.lstrip().lower().startswith("<!doctype html")
    assert result.stdout.count("<svg") >= 2  # organic vs circular bars, the deal web
    assert "Oracle" in result.stdout


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "md", "html"])
def test_every_format_works(fmt):
    result = run("net", TRIANGLE, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "Oracle" in result.stdout


def test_out_writes_the_report_to_a_file(tmp_path):
    out = tmp_path / "net.json"
    result = run("net", TRIANGLE, "--format", "json", "--out", out)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert circular_of(json.loads(out.read_text())) == {
        "Nvidia": "100.00",
        "OpenAI": "0.00",
        "Oracle": "40.00",
    }


def test_method_pro_rata_gives_the_pro_rata_figures():
    payload = net_json("--method", "pro-rata")
    assert payload["method"] == "pro-rata"
    assert circular_of(payload) == {"Nvidia": "27.78", "OpenAI": "0.00", "Oracle": "40.00"}
    assert payload["cycles"] == []


def test_basis_announced_counts_what_realized_leaves_out(tmp_path):
    legs = tmp_path / "swap.csv"
    legs.write_text(
        "date,deal,payer,payee,kind,amount,currency,status\n"
        "2001-03-30,swap-a,CarrierA,CarrierB,sale,50.00,USD,realized\n"
        "2001-03-30,swap-b,CarrierB,CarrierA,sale,50.00,USD,announced\n"
    )
    realized = run("net", legs, "--format", "json")
    announced = run("net", legs, "--format", "json", "--basis", "announced")
    assert circular_of(json.loads(realized.stdout)) == {"CarrierA": "0.00", "CarrierB": "0.00"}
    assert json.loads(announced.stdout)["basis"] == "announced"
    assert circular_of(json.loads(announced.stdout)) == {"CarrierA": "50.00", "CarrierB": "50.00"}


def test_period_excludes_legs_outside_it():
    """2025Q4 leaves out September's equity and cloud legs: nothing comes back."""
    payload = net_json("--period", "2025Q4")
    assert payload["period"] == {"label": "2025Q4", "start": "2025-10-01", "end": "2026-01-01"}
    assert circular_of(payload) == {"Nvidia": "0.00", "OpenAI": "0.00", "Oracle": "0.00"}


def test_from_and_to_give_a_custom_period():
    """Up to 2025-10-02 (exclusive): Oracle's purchase is out, 60 come straight back."""
    payload = net_json("--to", "2025-10-02")
    assert circular_of(payload) == {"Nvidia": "60.00", "OpenAI": "0.00", "Oracle": "0.00"}


def test_bad_period_is_a_usage_error():
    result = run("net", TRIANGLE, "--period", "last-year")
    assert result.exit_code != 0
    assert "not a period" in result.output


def test_bounds_add_min_and_max_columns():
    payload = net_json("--bounds")
    nvidia = next(c for c in payload["companies"] if c["company"] == "Nvidia")
    assert (nvidia["circular_min"], nvidia["circular_max"]) == ("100.00", "100.00")
    table = run("net", TRIANGLE, "--bounds")
    assert "circular min" in table.stdout and "circular max" in table.stdout


def test_bounds_are_wide_where_the_split_is_not_unique(tmp_path):
    """A's 100 returns through B or C: the canonical split is 50/50, each may take 0 to 100."""
    legs = tmp_path / "tie.csv"
    legs.write_text(
        "date,deal,payer,payee,kind,amount,currency,status\n"
        "2025-01-01,stake,A,H,equity,100.00,USD,realized\n"
        "2025-01-01,hub-b,H,B,sale,100.00,USD,realized\n"
        "2025-01-01,hub-c,H,C,sale,100.00,USD,realized\n"
        "2025-01-01,b-back,B,A,sale,100.00,USD,realized\n"
        "2025-01-01,c-back,C,A,sale,100.00,USD,realized\n"
    )
    result = run("net", legs, "--bounds", "--format", "csv")
    assert result.exit_code == 0
    rows = table_rows(result.stdout, "net", "companies")
    assert ",".join(rows[1].values()) == (
        "B,100.00,0.00,100.00,50.00,50.00,0.5000,false,0.00,0.00,100.00"
    )


def test_eliminations_writes_one_file_per_company_that_loads_with_its_book(tmp_path):
    books, out = tmp_path / "books", tmp_path / "eliminations"
    assert run("book", TRIANGLE, "--out", books).exit_code == 0
    result = run("net", TRIANGLE, "--eliminations", out, "--format", "csv")
    assert result.exit_code == 0
    assert f"wrote 3 elimination files to {out}/" in result.stderr
    assert result.stdout.startswith("table,schema_version,")  # the report still goes to stdout
    assert sorted(p.name for p in out.iterdir()) == [
        ".roundtrip-manifest.json",  # the eliminations are one output set (ledger.output_set)
        "nvidia.eliminations.beancount",
        "openai.eliminations.beancount",
        "oracle.eliminations.beancount",
    ]
    wrapper = tmp_path / "nvidia-netted.beancount"
    wrapper.write_text(
        f'include "{books / "nvidia.beancount"}"\n'
        f'include "{out / "nvidia.eliminations.beancount"}"\n'
    )
    entries, errors, _ = loader.load_file(str(wrapper))
    assert errors == []
    moved = sum(
        posting.units.number
        for entry in entries
        if hasattr(entry, "postings")
        for posting in entry.postings
        if posting.account.startswith("Income:Circular:")
    )
    assert moved == -100  # income is negative in beancount: Nvidia's 100.00 of circular revenue


def test_unknown_method_exits_non_zero_with_a_clear_message():
    result = run("net", TRIANGLE, "--method", "fifo")
    assert result.exit_code != 0
    assert "'fifo' is not one of 'max', 'pro-rata'" in result.output


def test_unknown_method_exits_1_from_the_console_script():
    """The console script maps usage errors to exit code 1 (SPEC §5)."""
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ledger.cli import main; main()",
            "net",
            str(TRIANGLE),
            "--method",
            "fifo",
        ],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 1
    assert "'fifo' is not one of 'max', 'pro-rata'" in completed.stderr


def test_missing_file_is_bad_input():
    result = run("net", EXAMPLES / "no-such-web.csv")
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_bounds_with_pro_rata_is_refused_with_a_reason():
    result = run("net", TRIANGLE, "--method", "pro-rata", "--bounds")
    assert result.exit_code != 0
    assert "--bounds goes with --method max" in result.output


def test_unit_shows_amounts_in_billions_and_says_so():
    result = run("net", TRIANGLE, "--unit", "K", "--format", "md")
    assert result.exit_code == 0
    assert "| Nvidia | 0.10 | 0.00 | 0.10 | 0.10 | 0.00 | 100.0% | 0.00 |" in result.output
    assert "Amounts in thousands of USD" in result.output


def test_unit_leaves_json_exact():
    assert circular_of(net_json("--unit", "B"))["Oracle"] == "40.00"


def test_eliminations_to_a_single_beancount_file_is_refused_with_the_reason(tmp_path):
    result = run("net", TRIANGLE, "--eliminations", tmp_path / "out.beancount")
    assert result.exit_code != 0
    assert "--eliminations takes a folder" in result.output
    assert not (tmp_path / "out.beancount").exists()


def test_unit_is_honoured_by_html_with_exact_cents_in_each_title():
    result = run("net", TRIANGLE, "--unit", "K", "--format", "html")
    assert result.exit_code == 0
    assert '<td class="num" title="300.00">0.30</td>' in result.stdout
    assert "Amounts in thousands of USD (K)" in result.stdout
