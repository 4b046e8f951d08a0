"""The Python API: a small public surface, cheap to import, whose frames are the JSON's figures
in numeric columns; the README's snippet runs and prints what the README says."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import ledger
from ledger.model import BadInput

REPO = Path(__file__).parent.parent
BOOKS = REPO / "books"
TRIANGLE = REPO / "tests" / "fixtures" / "examples" / "triangle.csv"


def _readme_snippet() -> tuple[str, str]:
    """The ```python block of the README's Python API section and the ```text block after it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```\n.*?```text\n(.*?)```\n", section, re.S)
    assert found, "the Python API section has a python block and its output"
    return found[1], found[2]


def test_the_readme_snippet_prints_what_the_readme_shows(monkeypatch):
    code, expected = _readme_snippet()
    monkeypatch.chdir(REPO)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == expected


def test_import_ledger_imports_nothing_heavy():
    code = (
        "import sys, ledger; heavy = ('pandas', 'numpy', 'beancount', 'pydantic', 'ledger.api');"
        "print([m for m in heavy if m in sys.modules])"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == "[]", done.stderr


def test_the_public_surface_is_small_and_documented():
    assert ledger.__all__ == ["Audit", "Netting", "exposure_audit", "net", "read"]
    for name in ledger.__all__:
        assert getattr(ledger, name).__doc__


def test_net_frame_holds_the_json_figures_in_int64_cents():
    netting = ledger.net(TRIANGLE)
    frame = netting.to_frame()
    assert str(frame["circular"].dtype) == "int64"
    assert frame.attrs["unit"] == "cents"
    assert list(frame["circular"]) == [
        int(Decimal(c["circular"]) * 100) for c in netting.data["companies"]
    ]
    assert frame["circular"].sum() == int(netting.total_circular * 100) == 14000


def test_net_frame_in_a_unit_is_float_of_that_unit():
    frame = ledger.net(TRIANGLE).to_frame(unit="K")
    assert str(frame["gross"].dtype) == "float64"
    assert list(frame["gross"]) == [0.1, 0.0, 0.3]


def test_shares_are_float_fractions_and_flags_booleans():
    frame = ledger.net(TRIANGLE).to_frame()
    assert list(frame["circular_share"]) == [1.0, 0.0, 0.1333]
    assert str(frame["estimated"].dtype) == "bool"


def test_nullable_money_columns_are_nullable_int64():
    frame = ledger.net(TRIANGLE).to_frame()
    assert str(frame["circular_min"].dtype) == "Int64" and frame["circular_min"].isna().all()
    bounded = ledger.net(TRIANGLE, bounds=True).to_frame()
    assert list(bounded["circular_min"]) == [10000, 0, 4000]


def test_net_data_is_the_cli_json(tmp_path):
    from typer.testing import CliRunner

    from ledger.cli import app

    cli = CliRunner().invoke(
        app, ["net", str(TRIANGLE), "--period", "2025", "--sensitivity", "0", "--format", "json"]
    )
    assert ledger.net(TRIANGLE, period="2025").data == json.loads(cli.stdout)


def test_net_with_sensitivity_is_the_cli_json_with_it():
    from typer.testing import CliRunner

    from ledger.cli import app

    cli = CliRunner().invoke(app, ["net", str(BOOKS), "--sensitivity", "3", "--format", "json"])
    netting = ledger.net(BOOKS, sensitivity=3)
    assert netting.data == json.loads(cli.stdout)
    assert netting.data["sensitivity"]["headline"]


def test_sensitivity_goes_with_max_only():
    with pytest.raises(ValueError, match="sensitivity"):
        ledger.net(TRIANGLE, method="pro-rata", sensitivity=2)


def test_every_table_of_a_result_can_be_a_frame():
    netting = ledger.net(TRIANGLE)
    assert netting.tables == ("net", "companies", "cycles", "cycles.path", "cycles.kinds")
    path = netting.to_frame("cycles.path")
    assert list(path.columns) == ["cycles_index", "path_index", "value"]
    assert list(path[path.cycles_index == 0]["value"]) == netting.data["cycles"][0]["path"]


def test_exposure_audit_main_table_follows_the_parts_that_ran():
    web = ledger.read(BOOKS)
    assert ledger.exposure_audit(web).default_table == "exposure.companies"
    assert ledger.exposure_audit(web, rank=True).to_frame("ranking.ranking").shape[0] == 11
    losses = ledger.exposure_audit(web, fail="OpenAI").to_frame()
    assert str(losses["total_loss"].dtype) == "int64"
    coreweave = losses[losses.company == "CoreWeave"]
    assert coreweave["defaulted_at_baseline"].item() and coreweave["default_round"].isna().all()


def test_reading_bad_input_raises_with_every_problem(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,deal,payer,payee,kind,amount,currency,status\nx,d,A,B,sale,1,USD,realized\n"
    )
    with pytest.raises(BadInput) as raised:
        ledger.read(bad)
    assert raised.value.errors and raised.value.errors[0].lineno == 2


def test_an_unknown_table_or_unit_is_a_key_error():
    netting = ledger.net(TRIANGLE)
    with pytest.raises(KeyError, match="tables: net, companies"):
        netting.to_frame("company")
    with pytest.raises(KeyError, match="unit"):
        netting.to_frame(unit="dollars")


def test_bounds_without_max_is_refused():
    with pytest.raises(ValueError, match="bounds"):
        ledger.net(TRIANGLE, method="pro-rata", bounds=True)
