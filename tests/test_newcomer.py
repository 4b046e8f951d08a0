"""A newcomer's path, with the commands the README and its docs pages show, as written.

After the quick start a user brings their own data: a legs CSV, a deals file, and books of
their own — an ordinary beancount book with coffee and salaries beside two intercompany legs.
Each step runs the documented command lines in a shell (the venv activated, as the quick start
leaves it), in a fresh folder holding only the user's files, through ``check``, ``book``,
``net`` and ``load``; the results are checked against figures worked out by hand.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
VENV_BIN = Path(sys.executable).parent


def _console_commands(text: str) -> list[str]:
    """Every ``$ ...`` line of the ```console blocks of a page."""
    blocks = re.findall(r"^```console\n(.*?)^```\n", text, re.M | re.S)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def _page_commands(page: str, verb_file: str) -> list[str]:
    """The first console block's commands of a docs page (those that name ``verb_file``)."""
    commands = _console_commands((REPO / "docs" / page).read_text(encoding="utf-8"))
    found = [c for c in commands if c.startswith("roundtrip ") and verb_file in c]
    assert found, f"docs/{page} shows no roundtrip command on {verb_file}"
    return found


def _table_command(verb: str) -> str:
    """The README's command-table form of ``verb`` (``roundtrip load PATH [--db URL]``), without
    its optional ``[...]`` parts: what a user types first."""
    match = re.search(rf"^\| `(roundtrip {verb} [^`]*)` \|", README, re.M)
    assert match, f"the README's command table has no {verb}"
    return re.sub(r" \[[^]]*\]", "", match[1])


def _shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``command`` in bash with the venv activated (its bin first on PATH), as a user types it."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("ROUNDTRIP_PROGRESS", None)
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def _ok(command: str, cwd: Path) -> str:
    done = _shell(command, cwd)
    assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done.stdout


def _legs_in(db: Path) -> int:
    with sqlite3.connect(db) as store:
        return store.execute("SELECT count(*) FROM leg").fetchone()[0]


def _circular(stdout: str) -> dict[str, str]:
    return {c["company"]: c["circular"] for c in json.loads(stdout)["companies"]}


# -- quick start -------------------------------------------------------------------------------


def test_the_quick_start_runs_as_written(tmp_path: Path) -> None:
    """The quick start's command after the install, in a folder with the shipped books."""
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    command = _console_commands(quick)[0]
    assert command.startswith("python3 -m venv .venv && source .venv/bin/activate && pip")
    after_install = command.split("pip install -q -e . && ", 1)[1]
    shutil.copytree(REPO / "books", tmp_path / "books")
    out = _ok(after_install, tmp_path)
    assert out.startswith("Organic vs circular revenue (max, announced)")
    assert (tmp_path / "roundtrip.db").is_file()


# -- their own legs CSV ------------------------------------------------------------------------

#: Three companies of the newcomer's own: Alpha sells to Beta, Beta to Gamma, Gamma to Alpha
#: (a cycle of 40 at most, its smallest edge), and Alpha sells 10 outside the web.
OWN_CSV = """\
date,deal,payer,payee,kind,amount,currency,status
2024-01-15,a-b,Beta,Alpha,sale,100.00,EUR,realized
2024-02-15,b-c,Gamma,Beta,cloud,70.00,EUR,realized
2024-03-15,c-a,Alpha,Gamma,lease,40.00,EUR,realized
2024-04-15,ext-a,External,Alpha,sale,10.00,EUR,realized
"""


def test_their_own_csv_goes_through_check_book_net_and_load(tmp_path: Path) -> None:
    (tmp_path / "legs.csv").write_text(OWN_CSV, encoding="utf-8")
    commands = _page_commands("legs-csv.md", "legs.csv")
    outputs = {c.split()[1]: _ok(c, tmp_path) for c in commands}
    assert outputs["check"].startswith("ok: 4 legs, 3 companies")
    assert "Gamma" in outputs["net"] and "EUR" in outputs["net"]
    assert sorted(p.name for p in (tmp_path / "books").glob("*.beancount"))[:3] == [
        "alpha.beancount",
        "alpha.commitments.beancount",
        "alpha.forward.beancount",
    ]
    net = _ok("roundtrip net legs.csv --format json", tmp_path)
    assert _circular(net) == {"Alpha": "40.00", "Beta": "40.00", "Gamma": "40.00"}
    assert _circular(_ok("roundtrip net books/ --format json", tmp_path)) == _circular(net)
    load = _table_command("load").replace("PATH", "books/")
    _ok(load, tmp_path)
    assert _legs_in(tmp_path / "roundtrip.db") == 4
    assert "nothing changed" in _ok(load, tmp_path)


# -- their own deals file ----------------------------------------------------------------------

OWN_DEALS = """\
version: 1
currency: USD
companies:
  - Alpha
  - Beta
deals:
  - id: alpha-beta-chips
    title: "Beta buys chips from Alpha"
    date: 2025-01-10
    source: "our own contract register"
    template: single
    payer: Beta
    payee: Alpha
    kind: sale
    amount: 5M
  - id: beta-alpha-equity
    title: "Alpha invests in Beta in two tranches"
    date: 2025-01-01
    source: "board minutes"
    template: tranches
    payer: Alpha
    payee: Beta
    kind: equity
    total: 8M
    count: 2
    statuses: {realized: 2}
"""


def test_their_own_deals_file_goes_through_check_book_net_and_load(tmp_path: Path) -> None:
    (tmp_path / "my-deals.yaml").write_text(OWN_DEALS, encoding="utf-8")
    commands = _page_commands("deals-file.md", "my-deals.yaml")
    outputs = {c.split()[1]: _ok(c, tmp_path) for c in commands}
    assert outputs["check"].startswith("ok: 3 legs, 2 companies")
    assert (tmp_path / "my-books" / "beta.beancount").is_file()
    assert "Alpha" in outputs["net"]
    # Alpha's 8M of equity pays for Beta's 5M of chips: all of Alpha's sale is circular.
    net = _circular(_ok("roundtrip net my-books/ --format json", tmp_path))
    assert net == {"Alpha": "5000000.00", "Beta": "0.00"}
    load = _table_command("load").replace("PATH", "my-deals.yaml")
    _ok(load, tmp_path)
    assert _legs_in(tmp_path / "roundtrip.db") == 3


# -- their own books: ordinary transactions beside two legs ------------------------------------

ALPHA_BOOK = """\
option "title" "Alpha"
option "operating_currency" "USD"

2025-01-01 open Assets:Bank:Checking                USD
2025-01-01 open Assets:Cash                         USD
2025-01-01 open Equity:Opening-Balances             USD
2025-01-01 open Expenses:Office:Coffee              USD
2025-01-01 open Expenses:Payroll                    USD
2025-01-01 open Income:Sales:Beta                   USD
2025-01-01 open Expenses:Cloud:Beta                 USD

2025-01-01 * "Opening balance"
  Assets:Bank:Checking      10000.00 USD
  Equity:Opening-Balances

2025-01-03 * "Corner café" "Coffee for the team"
  Expenses:Office:Coffee       42.50 USD
  Assets:Bank:Checking

2025-01-31 * "January payroll"
  Expenses:Payroll           3000.00 USD
  Assets:Bank:Checking

2025-02-01 * "Beta" "Sale to Beta" ^deal-ab-chips
  deal: "ab-chips"
  leg: 1
  counterparty: "Beta"
  kind: "sale"
  status: "realized"
  Assets:Cash               100.00 USD
  Income:Sales:Beta        -100.00 USD

2025-02-10 * "Beta" "Cloud from Beta" ^deal-ba-cloud
  deal: "ba-cloud"
  leg: 1
  counterparty: "Beta"
  kind: "cloud"
  status: "realized"
  Expenses:Cloud:Beta        60.00 USD
  Assets:Cash               -60.00 USD
"""

BETA_BOOK = """\
option "title" "Beta"
option "operating_currency" "USD"

2025-01-01 open Assets:Cash                         USD
2025-01-01 open Expenses:Purchases:Alpha            USD
2025-01-01 open Income:Cloud:Alpha                  USD
2025-01-01 open Expenses:Rent                       USD
2025-01-01 open Liabilities:CreditCard              USD

2025-01-05 * "Landlord" "Office rent"
  Expenses:Rent                800.00 USD
  Liabilities:CreditCard

2025-02-01 * "Alpha" "Purchase from Alpha" ^deal-ab-chips
  deal: "ab-chips"
  leg: 1
  counterparty: "Alpha"
  kind: "sale"
  status: "realized"
  Expenses:Purchases:Alpha  100.00 USD
  Assets:Cash              -100.00 USD

2025-02-10 * "Alpha" "Cloud services to Alpha" ^deal-ba-cloud
  deal: "ba-cloud"
  leg: 1
  counterparty: "Alpha"
  kind: "cloud"
  status: "realized"
  Assets:Cash                60.00 USD
  Income:Cloud:Alpha        -60.00 USD
"""


def test_their_own_books_with_ordinary_transactions_go_through_check_book_net_and_load(
    tmp_path: Path,
) -> None:
    """Two legs read out of books that also hold coffee, payroll and rent, left alone."""
    books = tmp_path / "mine"
    books.mkdir()
    (books / "alpha.beancount").write_text(ALPHA_BOOK, encoding="utf-8")
    (books / "beta.beancount").write_text(BETA_BOOK, encoding="utf-8")
    check = _table_command("check").replace("PATH", "mine/")
    checked = _ok(check, tmp_path)
    assert checked.startswith("ok: 2 legs, 2 companies")
    assert "4 ordinary transactions (not legs) left alone" in " ".join(checked.split())
    # A sale of 100 and a cloud purchase of 60 back: 60 goes round, 60 of each one's revenue.
    net = _circular(_ok("roundtrip net mine/ --format json", tmp_path))
    assert net == {"Alpha": "60.00", "Beta": "60.00"}
    book = _table_command("book").replace("DEALS_OR_CSV", "mine/")
    assert "2 legs" in _ok(book, tmp_path)
    assert _circular(_ok("roundtrip net books/ --format json", tmp_path)) == net
    load = _table_command("load").replace("PATH", "mine/")
    _ok(load, tmp_path)
    assert _legs_in(tmp_path / "roundtrip.db") == 2
