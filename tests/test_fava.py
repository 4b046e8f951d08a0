"""The shipped books in Fava: started here on 127.0.0.1, read over HTTP, stopped after.

What a user sees when they open a book or a view: no error for any of them; Nvidia's 2025
income statement is its realized revenue of ``roundtrip net --period 2025``; its balance sheet
has cash; OpenAI's forward view holds the AMD warrant at its marked value with the paper gain
``roundtrip audit`` reports; the undrawn backstop is in no income or expense account.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.cli import app

REPO = Path(__file__).parent.parent
BOOKS = REPO / "books"
#: Every file Fava can open on its own: each book and each forward view.
LEDGERS = sorted(
    p for p in BOOKS.glob("*.beancount") if not p.name.endswith(".commitments.beancount")
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - local server
        return response.status, response.read()


@pytest.fixture(scope="module")
def fava(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A Fava server over every book and forward view; yields its base URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("fava") / "fava.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-c", "from fava.cli import main; main()", "--host", "127.0.0.1",
             "--port", str(port), *map(str, LEDGERS)],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _get(f"{base}/nvidia/api/errors")
                break
            except OSError as error:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text(errors="replace")) from error
                time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def api(base: str, ledger: str, endpoint: str, **params: str) -> Any:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    status, body = _get(f"{base}/{ledger}/api/{endpoint}?{query}")
    assert status == 200
    return json.loads(body)["data"]


def _slug(path: Path) -> str:
    """Fava's name for a ledger: its title, slugified."""
    stem = path.name.removesuffix(".beancount")
    return stem.replace(".forward", "-forward-view")


def _tree(node: dict[str, Any], account: str) -> dict[str, Any]:
    if node["account"] == account:
        return node
    for child in node["children"]:
        if account == child["account"] or account.startswith(child["account"] + ":"):
            return _tree(child, account)
    raise KeyError(account)


def _accounts(node: dict[str, Any]) -> list[str]:
    return [node["account"], *(a for child in node["children"] for a in _accounts(child))]


def _usd(balance: dict[str, float]) -> Decimal:
    return Decimal(str(balance.get("USD", 0))).quantize(Decimal("0.01"))


def _net(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, [*args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("path", LEDGERS, ids=lambda p: p.name)
def test_fava_shows_no_error_for_any_book_or_view(fava, path):
    assert api(fava, _slug(path), "errors") == []
    status, page = _get(f"{fava}/{_slug(path)}/income_statement/")
    assert status == 200 and b"<title>" in page


def test_nvidias_2025_income_statement_is_its_realized_revenue_of_2025(fava):
    report = _net("net", str(BOOKS), "--basis", "realized", "--period", "2025")
    [nvidia] = [c for c in report["companies"] if c["company"] == "Nvidia"]
    income = api(fava, "nvidia", "income_statement", time="2025")["trees"][0]
    assert income["account"] == "Income"
    assert -_usd(income["balance_children"]) == Decimal(nvidia["gross"]) == Decimal("129.5E9")


def test_nvidias_balance_sheet_has_cash_and_its_coreweave_stake(fava):
    assets = api(fava, "nvidia", "balance_sheet", time="2025")["trees"][0]
    assert _usd(_tree(assets, "Assets:Cash")["balance_children"]) > 0
    assert _usd(_tree(assets, "Assets:Investments:CoreWeave")["balance_children"]) == Decimal(
        "350000000.00"
    )


def test_openais_forward_view_marks_the_amd_warrant_with_the_gain_the_audit_reports(fava):
    audit = _net("audit", str(BOOKS))
    [openai] = [c for c in audit["exposure"]["companies"] if c["company"] == "OpenAI"]
    at_value, at_cost = (
        _tree(api(fava, "openai-forward-view", "balance_sheet", conversion=c)["trees"][0],
              "Assets:Warrants")["balance_children"]
        for c in ("at_value", "at_cost")
    )  # fmt: skip
    amd_value = _tree(
        api(fava, "openai-forward-view", "balance_sheet", conversion="at_value")["trees"][0],
        "Assets:Warrants:AMD",
    )["balance_children"]
    assert _usd(amd_value) == Decimal("160000000") * Decimal("256.12")
    assert _usd(at_value) - _usd(at_cost) == Decimal(openai["paper_gain"])
    assert _usd(at_value) == Decimal(openai["paper_value"])


@pytest.mark.parametrize("ledger", ["nvidia", "nvidia-forward-view", "coreweave",
                                    "coreweave-forward-view"])  # fmt: skip
def test_the_undrawn_backstop_is_in_no_income_or_expense_account(fava, ledger):
    trees = api(fava, ledger, "income_statement")["trees"]
    assert not [a for tree in trees for a in _accounts(tree) if "Backstop" in a]
    assert "Backstop" not in json.dumps(trees)
