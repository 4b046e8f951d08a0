"""The CLI as a user meets it: exact output on hand-checkable fixtures, exit codes, help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = FIXTURES / "examples"

runner = CliRunner()
TRIANGLE = EXAMPLES / "triangle.csv"
COMMANDS = sorted(command.name or command.callback.__name__ for command in app.registered_commands)


def run(*args: str):
    # The width off a terminal, whatever COLUMNS the shell running the tests exports.
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "160"})


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_ends_with_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example: roundtrip " + command in result.output


def test_show_deals_as_markdown_is_exact():
    result = run("show", TRIANGLE, "deals", "--format", "md")
    assert result.exit_code == 0
    assert result.output == (
        "## Deals\n\n"
        "| deal | first | last | parties | legs | realized | contracted | announced | estimate |\n"
        "|---|---|---|---|---:|---:|---:|---:|---|\n"
        "| nv-oai-equity | 2025-09-22 | 2025-09-22 | Nvidia, OpenAI | 1 | 100.00 | 0.00 | 0.00 |  |\n"
        "| oai-orcl-cloud | 2025-09-23 | 2025-09-23 | OpenAI, Oracle | 1 | 300.00 | 0.00 | 0.00 |  |\n"
        "| oai-nv-chips | 2025-10-01 | 2025-10-01 | Nvidia, OpenAI | 1 | 60.00 | 0.00 | 0.00 |  |\n"
        "| orcl-nv-chips | 2025-10-02 | 2025-10-02 | Nvidia, Oracle | 1 | 40.00 | 0.00 | 0.00 |  |\n"
    )


def test_show_legs_as_csv_lists_every_leg():
    result = run("show", TRIANGLE, "legs", "--format", "csv")
    assert result.exit_code == 0
    assert result.output.splitlines()[1] == (
        "2025-09-22,nv-oai-equity,1,Nvidia,OpenAI,equity,100.00,USD,realized,FALSE,,,,,FALSE"
    )
    assert len(result.output.splitlines()) == 5


def test_book_writes_a_book_commitments_and_forward_view_per_company_that_pass_check(tmp_path):
    result = run("book", TRIANGLE, "--out", tmp_path)
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.glob("*.beancount")) == [
        f"{company}{suffix}"
        for company in ("nvidia", "openai", "oracle")
        for suffix in (
            ".beancount",
            ".commitments.beancount",
            ".forward.beancount",
            ".netted.beancount",
        )
    ]
    assert [line for line in result.output.splitlines() if "nvidia." in line] == [
        "  nvidia.beancount  nvidia.commitments.beancount  nvidia.forward.beancount"
        "  nvidia.netted.beancount"
    ]
    check = run("check", tmp_path)
    assert check.exit_code == 0
    assert check.output.startswith("ok: 4 legs, 3 companies")


def test_check_says_how_many_ordinary_transactions_it_left_alone(tmp_path):
    run("book", TRIANGLE, "--out", tmp_path)
    book = tmp_path / "oracle.beancount"
    book.write_text(
        book.read_text()
        + '\n2025-10-05 open Expenses:Coffee USD\n2025-10-05 * "Cafe" "Coffee"\n'
        + "  Expenses:Coffee  4.50 USD\n  Assets:Cash\n"
    )
    check = run("check", tmp_path)
    assert check.exit_code == 0, check.output
    assert " ".join(check.output.split()).endswith("1 ordinary transaction (not legs) left alone.")


def test_check_says_it_checked_the_eliminations_in_the_folder(tmp_path):
    books = tmp_path / "books"
    run("book", TRIANGLE, "--out", books)
    assert run("net", books, "--eliminations", tmp_path / "netted").exit_code == 0
    for path in (tmp_path / "netted").iterdir():
        # Written next to the books, each file's include of its book still resolves.
        (books / path.name).write_text(path.read_text().replace('include "../books/', 'include "'))
    check = run("check", books)
    assert check.exit_code == 0, check.output
    assert "with its eliminations (3 files)" in check.output
    nvidia = books / "nvidia.eliminations.beancount"
    nvidia.write_text(nvidia.read_text().replace("-60.00 USD", "-59.00 USD", 1))
    broken = run("check", books)
    assert broken.exit_code == 2
    assert f"{nvidia}:" in broken.output and "does not balance" in broken.output


def test_book_from_a_deals_file(tmp_path):
    result = run("book", FIXTURES / "deals" / "small.yaml", "--out", tmp_path)
    assert result.exit_code == 0
    assert run("check", tmp_path).exit_code == 0


def test_bad_csv_exits_2_naming_file_line_and_deal_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,deal,payer,payee,kind,amount,currency,status\n"
        "2025-09-22,a,Nvidia,OpenAI,equity,-100.00,USD,realized\n"
    )
    out = tmp_path / "books"
    result = run("book", bad, "--out", out)
    assert result.exit_code == 2
    assert f"{bad}:2: amount must be > 0" in result.output
    assert "[deal a]" in result.output
    assert not out.exists()


def test_one_sided_book_is_refused_by_check(tmp_path):
    run("book", TRIANGLE, "--out", tmp_path)
    (tmp_path / "oracle.beancount").unlink()
    result = run("check", tmp_path)
    assert result.exit_code == 2
    assert "nvidia.beancount" in result.output


def test_missing_path_is_bad_input():
    result = run("show", "no/such/file.csv")
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_load_into_sqlite_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'rt.db'}"
    first = run("load", TRIANGLE, "--db", url)
    assert first.exit_code == 0, first.output
    second = run("load", TRIANGLE, "--db", url)
    assert second.exit_code == 0
    assert "nothing changed" in second.output
    assert "nothing changed" not in first.output


def test_simulate_writes_a_legs_csv_the_reader_accepts(tmp_path):
    out = tmp_path / "web.csv"
    assert run("simulate", "--companies", 10, "--legs", 100, "--out", out).exit_code == 0
    assert run("check", out).exit_code == 0


def test_usage_error_exits_1_from_the_console_script():
    result = subprocess.run(
        [sys.executable, "-c", "from ledger.cli import main; main()", "net"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "give a PATH to net, or --db URL to net what was loaded there" in result.stderr


def test_cli_module_does_no_accounting():
    """The CLI is thin: it imports the library, it never computes figures itself."""
    text = (Path(__file__).parent.parent / "ledger" / "cli.py").read_text()
    assert "Decimal(" not in text


def test_version_prints_the_installed_version():
    from importlib.metadata import version

    result = run("--version")
    assert result.exit_code == 0
    assert result.output == f"roundtrip {version('roundtrip')}\n"


@pytest.mark.parametrize(
    ("command", "option", "choices"),
    [
        ("net", "--method", "<max|pro-rata>"),
        ("net", "--basis", "<realized|contracted|announced>"),
        ("net", "--format", "<table|csv|json|md|html>"),
        ("net", "--unit", "<auto|1|K|M|B>"),
        ("audit", "--unit", "<auto|1|K|M|B>"),
        ("show", "--unit", "<auto|1|K|M|B>"),
        ("report", "--unit", "<auto|1|K|M|B>"),
    ],
)
def test_enum_like_options_show_their_choices_in_help(command, option, choices):
    result = runner.invoke(app, [command, "--help"], terminal_width=200)
    line = next(
        line for line in result.output.splitlines() if option in line.strip().split(" ")[:2]
    )
    assert choices in line


def test_method_choices_are_the_netting_methods():
    from ledger.cli import MethodName
    from ledger.netting import Method

    assert [m.value for m in MethodName] == [m.value for m in Method]
