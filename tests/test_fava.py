"""The shipped books in Fava: started here on 127.0.0.1, read over HTTP, stopped after.

What a user sees when they open a book or a view: no error for any of them; Nvidia's 2025
income statement is its realized revenue of ``roundtrip net --period 2025``; its balance sheet
has cash; OpenAI's forward view holds the AMD warrant at its marked value with the paper gain
``roundtrip audit`` reports; the undrawn backstop is in no income or expense account. Each
netted view's income statement is organic revenue plus ``Income:Circular``, and its "Circular
revenue" page (:mod:`ledger.fava_ext`) shows the figures of ``roundtrip net``, with a chart
that a headless Chromium screenshot shows.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import browser
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
    return stem.replace(".forward", "-forward-view").replace(".netted", "-netted")


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


NETTED = sorted(BOOKS.glob("*.netted.beancount"))
PAGE = "extension/CircularRevenue/"


def _figures_on(page: str) -> dict[str, Decimal]:
    return {
        name: Decimal(value)
        for name, value in re.findall(r'data-figure="(\w+)" data-exact="([-0-9.]+)"', page)
    }


def _table(page: str, table: str) -> list[list[str]]:
    """The data-exact figures of each row of one of the page's tables (rows without any,
    such as "No circular revenue.", left out)."""
    body = re.search(rf'<table id="{table}">(.*?)</table>', page, re.S)
    assert body, table
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    figures = [re.findall(r'data-exact="([-0-9.]+)"', row) for row in rows]
    return [row for row in figures if row]


@pytest.mark.parametrize("path", NETTED, ids=lambda p: p.name)
def test_the_circular_revenue_page_shows_the_figures_of_net(fava, path):
    report = _net("net", str(BOOKS))
    title = next(line for line in path.read_text().splitlines() if '"title"' in line)
    company = title.split('"')[3].removesuffix(" (netted)")
    status, body = _get(f"{fava}/{_slug(path)}/{PAGE}")
    page = body.decode()
    assert status == 200 and "<h2>Circular revenue</h2>" in page
    figures = next((c for c in report["companies"] if c["company"] == company), None)
    if figures is None:
        assert 'id="circular-problem"' in page or "has no legs" in page
        return
    shown = _figures_on(page)
    for name in ("gross", "organic", "circular"):
        assert shown[name] == Decimal(figures[name]), (company, name)
    quarters = _table(page, "quarters")
    assert sum(Decimal(o) for o, _ in quarters) == Decimal(figures["organic"])
    assert sum(Decimal(c) for _, c in quarters) == Decimal(figures["circular"])
    ranked = [Decimal(c) for [c] in _table(page, "counterparties")]
    assert sum(ranked, Decimal(0)) == Decimal(figures["circular"])
    assert ranked == sorted(ranked, reverse=True)


@pytest.mark.parametrize("company", ["Nvidia", "CoreWeave", "Oracle"])
def test_favas_time_filter_nets_the_page_on_its_dates_alone(fava, company):
    """With ``?time=2025`` the page's figures are ``roundtrip net --period 2025``'s, and its
    quarters, all of 2025, add up to them."""
    report = _net("net", str(BOOKS), "--period", "2025")
    figures = next(c for c in report["companies"] if c["company"] == company)
    status, body = _get(f"{fava}/{company.lower()}-netted/{PAGE}?time=2025")
    page = body.decode()
    assert status == 200 and 'id="time-filter"' in page
    shown = _figures_on(page)
    for name in ("gross", "organic", "circular"):
        assert shown[name] == Decimal(figures[name]), (company, name)
    labels = re.findall(r"<tr><td>(\d{4}Q\d)</td>", page)
    assert labels and all(label.startswith("2025Q") for label in labels)
    quarters = _table(page, "quarters")
    assert sum(Decimal(o) for o, _ in quarters) == Decimal(figures["organic"])
    assert sum(Decimal(c) for _, c in quarters) == Decimal(figures["circular"])


def test_nvidias_page_lists_its_cycle_witnesses_with_their_shares_and_deal_links(fava):
    report = _net("net", str(BOOKS), "--cycles", "all")
    through = [c for c in report["cycles"] if "Nvidia" in c["path"]]
    _, body = _get(f"{fava}/nvidia-netted/{PAGE}")
    page = body.decode()
    rows = _table(page, "witnesses")
    assert [Decimal(amount) for amount, _ in rows] == [Decimal(c["amount"]) for c in through]
    assert sum(Decimal(share) for _, share in rows) == Decimal(
        next(c["circular"] for c in report["companies"] if c["company"] == "Nvidia")
    )
    links = re.findall(r'<a class="deal" href="([^"]+)">\^deal-([\w-]+)</a>', page)
    assert {"cw-nv-chips", "nv-cw-equity", "nv-cw-osprey"} <= {deal for _, deal in links}
    href, deal = links[0]
    assert href == f"/nvidia-netted/journal/?filter=%5Edeal-{deal}"
    status, _ = _get(f"{fava}{href}")
    assert status == 200


def test_the_netted_income_statement_holds_circular_revenue_apart(fava):
    report = _net("net", str(BOOKS))
    [nvidia] = [c for c in report["companies"] if c["company"] == "Nvidia"]
    income = api(fava, "nvidia-netted", "income_statement")["trees"][0]
    assert -_usd(_tree(income, "Income:Circular")["balance_children"]) == Decimal(
        nvidia["circular"]
    )
    assert -_usd(income["balance_children"]) == Decimal(nvidia["gross"])


def test_favas_query_page_runs_the_saved_queries_with_nets_figures(fava):
    report = _net("net", str(BOOKS))
    [nvidia] = [c for c in report["companies"] if c["company"] == "Nvidia"]
    result = api(fava, "nvidia-netted", "query", query_string="run%20circular-by-counterparty")
    assert [name for name, _ in result["rows"]] == ["CoreWeave"]
    assert sum(Decimal(str(a)) for _, a in result["rows"]) == Decimal(nvidia["circular"])


def test_favas_query_page_lists_nvidias_undrawn_guarantee(fava):
    result = api(fava, "nvidia-forward-view", "query", query_string="run%20guarantees-outstanding")
    [(day, guarantee, status, deal, amount)] = result["rows"]
    assert (guarantee, status, deal) == (
        "Capacity guarantee to CoreWeave (undrawn)",
        "contracted",
        "nv-cw-backstop",
    )
    assert amount == "6300000000.00 USD", amount


def test_a_screenshot_of_the_page_is_a_non_blank_picture_of_the_window(fava, tmp_path):
    if browser.chromium() is None:
        pytest.skip("no Chromium installed (Debian's chromium; .ci/run installs it)")
    from PIL import Image

    shot = browser.screenshot_url(
        f"{fava}/coreweave-netted/{PAGE}", 1280, 1200, tmp_path / "circular.png"
    )
    assert browser.png_size(shot) == (1280, 1200)
    with Image.open(shot) as picture:
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 20)
    counts = {colour: n for n, colour in colours}
    assert len(counts) > 50
    # The chart's bars are drawn in the report colours: organic blue and circular vermillion.
    assert counts.get((0x00, 0x72, 0xB2), 0) > 200
    assert counts.get((0xD5, 0x5E, 0x00), 0) > 20


def _longest_amount(view: Path) -> int:
    """Characters of the widest amount Fava's tables can show for ``view``: its postings'
    absolute amounts added up, a bound on any balance or total, with separators and cents."""
    from beancount import loader

    entries, _, _ = loader.load_file(str(view))
    total = sum(
        (abs(p.units.number) for e in entries if hasattr(e, "postings") for p in e.postings),
        Decimal(0),
    )
    return len(f"-{total:,.2f}")


def test_the_netted_views_widen_favas_amount_columns_to_the_books_amounts(fava):
    """Fava's amount columns (about 15 characters) are narrower than these books' amounts:
    the extension's front-end module widens them, on every page of a netted view."""
    status, body = _get(f"{fava}/nvidia-netted/extension_js_module/CircularRevenue.js")
    assert status == 200
    widths = re.findall(
        r"\.tree-table(?:-new)? \.num:not\(\.other\)[^{]*\{ width: ([\d.]+)em;", body.decode()
    )
    assert widths
    # Fira Mono, Fava's amount font, is 0.6em a character; the cell's padding is under 1em.
    longest = max(_longest_amount(view) for view in NETTED)
    assert longest >= len("-1,000,000,000.00")
    assert float(min(widths)) >= 0.6 * longest + 0.6
    if browser.chromium() is None:
        pytest.skip("no Chromium installed (Debian's chromium; .ci/run installs it)")
    dom = browser.dump_dom_url(f"{fava}/nvidia-netted/income_statement/")
    assert 'id="roundtrip-wide-amounts"' in dom  # init ran on a page that is not the extension's
    assert "134,500,000,000.00" in dom


def _readme_curls() -> list[tuple[str, list[str]]]:
    """The README's ``curl`` commands on the Fava page, each with the lines shown under it."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found: list[tuple[str, list[str]]] = []
    for block in re.findall(r"^```console\n(.*?)^```\n", readme, re.M | re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            elif found:
                found[-1][1].append(line.rstrip())
    return [(command, output) for command, output in found if command.startswith("curl ")]


CURLS = _readme_curls()


def test_the_readme_fetches_the_page_with_and_without_a_time_filter():
    assert len(CURLS) == 2 and all(output for _, output in CURLS)


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl installed")
@pytest.mark.parametrize(("command", "output"), CURLS, ids=[c for c, _ in CURLS])
def test_the_readme_shows_what_curl_fetches_from_the_page(fava, command, output):
    """The README's ``fava`` + ``curl`` lines, run on this server instead of port 5000."""
    assert "http://127.0.0.1:5000/" in command
    run = subprocess.run(
        command.replace("http://127.0.0.1:5000", fava),
        shell=True,  # noqa: S602 - the README's own command line
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert [line.rstrip() for line in run.stdout.splitlines()] == output
