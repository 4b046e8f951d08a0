"""The shipped books and reports are what the engine makes from the deals files.

``books/*.beancount`` are generated from ``books/deals.yaml`` (and the example folders from
their ``.yaml``); ``reports/`` is generated from ``books/``. If either drifts, regenerate with::

    roundtrip book books/deals.yaml --out books/
    roundtrip book books/examples/dotcom.yaml --out books/examples/dotcom/
    roundtrip book books/examples/telecom.yaml --out books/examples/telecom/
    roundtrip report
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.beancount_io import write_books
from ledger.inputs import read_web
from ledger.render import Unit
from ledger.reports import build_reports, stale_reports, write_reports

REPO = Path(__file__).parent.parent
BOOKS = REPO / "books"
REPORTS = REPO / "reports"

SOURCES = [
    (BOOKS / "deals.yaml", BOOKS),
    (BOOKS / "examples" / "dotcom.yaml", BOOKS / "examples" / "dotcom"),
    (BOOKS / "examples" / "telecom.yaml", BOOKS / "examples" / "telecom"),
]


def _generated(source: Path, tmp_path: Path) -> dict[str, str]:
    web = read_web(source)
    assert web.errors == ()
    written = write_books(web.legs, tmp_path, web.prices, web.companies)
    return {path.name: path.read_text(encoding="utf-8") for path in written}


@pytest.mark.parametrize(("source", "folder"), SOURCES, ids=lambda p: p.name)
def test_shipped_books_are_exactly_what_the_deals_file_expands_to(source, folder, tmp_path):
    generated = _generated(source, tmp_path)
    shipped = {path.name: path.read_text(encoding="utf-8") for path in folder.glob("*.beancount")}
    assert shipped == generated


def test_reports_folder_is_current():
    stale = stale_reports(BOOKS, REPORTS)
    assert stale == (), f"stale reports (run `roundtrip report`): {', '.join(stale)}"


def test_reports_hold_netting_for_every_basis_and_the_headline_audits():
    names = set(build_reports(BOOKS))
    for basis in ("realized", "contracted", "announced"):
        assert {f"net-max-{basis}.md", f"net-max-{basis}.json", f"net-max-{basis}.html"} <= names
        assert {f"net-pro-rata-{basis}.md", f"net-pro-rata-{basis}.json"} <= names
    assert {"audit.md", "audit.html", "audit.json", "audit-fail-openai.md"} <= names
    assert {"examples/dotcom.md", "examples/telecom.md"} <= names


def test_stale_reports_names_a_changed_file(tmp_path):
    write_reports(build_reports(BOOKS), tmp_path)
    (tmp_path / "companies.md").write_text("edited by hand\n", encoding="utf-8")
    assert stale_reports(BOOKS, tmp_path) == ("companies.md",)


def test_report_honours_the_unit_it_is_given():
    exact = build_reports(BOOKS, Unit.ONE)
    assert "| 638,000,000,000.00 |" in exact["net-max-realized.md"]
    assert "Amounts in" not in exact["net-max-realized.md"]
    assert "| 638.00 |" in build_reports(BOOKS)["net-max-realized.md"]  # auto: billions
