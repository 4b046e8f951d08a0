"""``roundtrip book --format ledger``: hledger reads the journals with beancount's income totals.

Runs Debian's ``hledger`` and ``ledger`` (ledger-cli; ``.ci/run`` installs both) over the
journals written from the shipped deals file, and compares each company's income accounts with
its beancount book's.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from beancount.core import data
from typer.testing import CliRunner

from ledger.books_hledger import write_journals
from ledger.books_load import load
from ledger.cli import app
from ledger.model import Kind, Leg

REPO = Path(__file__).parent.parent
BOOKS = REPO / "books"
SLUGS = sorted(
    p.name.removesuffix(".beancount") for p in BOOKS.glob("*.beancount") if p.name.count(".") == 1
)

pytestmark = pytest.mark.skipif(
    shutil.which("hledger") is None,
    reason="no hledger installed (Debian's hledger; .ci/run installs it)",
)


@pytest.fixture(scope="module")
def journals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("journals")
    result = CliRunner().invoke(
        app, ["book", str(BOOKS / "deals.yaml"), "--format", "ledger", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def _hledger(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["hledger", *map(str, args)], capture_output=True, text=True, check=False)


def _hledger_income(journal: Path) -> dict[str, Decimal]:
    """Per income account, its balance in USD, as hledger reports it."""
    result = _hledger("-f", journal, "balance", "^Income", "--flat", "-O", "csv", "--cost")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))[1:]
    found = {}
    for account, balance in rows:
        if account == "total" or not balance.strip() or balance.strip() == "0":
            continue
        number, currency = balance.rsplit(" ", 1)
        assert currency == "USD"
        found[account] = Decimal(number)
    return found


def _beancount_income(path: Path) -> dict[str, Decimal]:
    entries, errors, _ = load([path])
    assert errors == ()
    found: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                if posting.account.startswith("Income:"):
                    found[posting.account] += posting.units.number
    return {account: total for account, total in found.items() if total}


def test_book_writes_three_journals_per_company(journals: Path) -> None:
    assert sorted(p.name for p in journals.glob("*.journal")) == sorted(
        f"{slug}{suffix}"
        for slug in SLUGS
        for suffix in (".journal", ".commitments.journal", ".forward.journal")
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_hledger_check_strict_accepts_the_book_and_the_forward_view(journals: Path, slug: str):
    for name in (f"{slug}.journal", f"{slug}.forward.journal"):
        result = _hledger("-f", journals / name, "check", "--strict")
        assert result.returncode == 0, (name, result.stderr)


@pytest.mark.parametrize("slug", SLUGS)
def test_hledger_gives_the_income_of_the_beancount_book(journals: Path, slug: str) -> None:
    assert _hledger_income(journals / f"{slug}.journal") == _beancount_income(
        BOOKS / f"{slug}.beancount"
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_hledger_gives_the_income_of_the_beancount_forward_view(journals: Path, slug: str) -> None:
    assert _hledger_income(journals / f"{slug}.forward.journal") == _beancount_income(
        BOOKS / f"{slug}.forward.beancount"
    )


def test_nvidias_income_is_not_empty(journals: Path) -> None:
    income = _hledger_income(journals / "nvidia.journal")
    assert sum(income.values()) == Decimal("-134500000000.00")


def test_a_deals_legs_are_found_by_its_tag(journals: Path) -> None:
    result = _hledger("-f", journals / "nvidia.journal", "print", "tag:deal=nv-cw-equity")
    assert result.returncode == 0, result.stderr
    in_beancount = (BOOKS / "nvidia.beancount").read_text().count("^deal-nv-cw-equity")
    assert result.stdout.count("deal:nv-cw-equity") == in_beancount == 2


def test_a_title_with_a_semicolon_and_a_bar_stays_in_the_description(tmp_path: Path) -> None:
    leg = Leg(
        date(2025, 1, 2), "d-1", 1, "Nvidia", "OpenAI", Kind.SALE, Decimal("12.50"),
        title="chips; racks | boards",
    )  # fmt: skip
    write_journals([leg], tmp_path)
    result = _hledger("-f", tmp_path / "openai.journal", "print")
    assert result.returncode == 0, result.stderr
    assert "Nvidia | Sale to Nvidia: chips, racks / boards  ; deal:d-1" in result.stdout
    assert _hledger_income(tmp_path / "openai.journal") == {
        "Income:Sales:Nvidia": Decimal("-12.50")
    }


# -- ledger-cli reads the same journals ---------------------------------------------------------


def _ledger_income(journal: Path) -> dict[str, Decimal]:
    """Per income account, its balance in USD, as ledger-cli (``--pedantic``) reports it."""
    result = subprocess.run(
        ["ledger", "-f", str(journal), "--pedantic", "balance", "^Income", "--flat",
         "--no-total", "-F", "%(account)|%(display_total)\n"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = {}
    for line in result.stdout.splitlines():
        account, balance = line.split("|")
        number, currency = balance.rsplit(" ", 1)
        assert currency == "USD"
        found[account] = Decimal(number)
    return found


@pytest.mark.skipif(
    shutil.which("ledger") is None,
    reason="no ledger-cli installed (Debian's ledger; .ci/run installs it)",
)
@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("view", ["", ".forward"])
def test_ledger_cli_reads_the_journals_with_beancounts_income(
    journals: Path, slug: str, view: str
) -> None:
    assert _ledger_income(journals / f"{slug}{view}.journal") == _beancount_income(
        BOOKS / f"{slug}{view}.beancount"
    )
