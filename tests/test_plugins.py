"""The beancount plugins: bean-check catches one-sided legs; the netted view shows organic revenue.

Run over copies of the shipped books (``books/``), each company's netted view
(``<slug>.netted.beancount``) loading ``ledger.plugins.circular``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from beancount.core import data
from typer.testing import CliRunner

from ledger import netted as netted_module
from ledger.books_load import load
from ledger.cli import app
from ledger.eliminations import ELIMINATION_FLAG
from ledger.netted import netted, parse_settings
from ledger.plugins import check, circular

REPO = Path(__file__).parent.parent
BOOKS = REPO / "books"
CONFIG = "{'books': '.', 'method': 'max', 'basis': 'realized'}"


def _beancount(path: Path) -> tuple[list, list, dict]:
    """Load as bean-check and Fava do: beancount's loader, plugins run (no pickle cache)."""
    return loader._load([(str(path), True)], None, None, None)


@pytest.fixture
def books(tmp_path: Path) -> Path:
    folder = tmp_path / "books"
    shutil.copytree(BOOKS, folder)
    return folder


def _net_json() -> dict:
    result = CliRunner().invoke(app, ["net", str(BOOKS), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _drop_transaction(book: Path, header_contains: str) -> str:
    """Remove the first transaction whose header line holds ``header_contains``; return it."""
    blocks = book.read_text(encoding="utf-8").split("\n\n")
    index = next(
        i for i, block in enumerate(blocks) if block[:4].isdigit() and header_contains in block
    )
    removed = blocks.pop(index)
    book.write_text("\n\n".join(blocks), encoding="utf-8")
    return removed


def _line_of(book: Path, text: str) -> int:
    return next(n for n, line in enumerate(book.read_text().splitlines(), start=1) if text in line)


def _eliminated(entries: list) -> Decimal:
    return -sum(
        (
            p.units.number
            for e in entries
            if isinstance(e, data.Transaction) and e.flag == ELIMINATION_FLAG
            for p in e.postings
            if p.account.startswith("Income:Circular:")
        ),
        Decimal(0),
    )


def test_bean_check_reports_a_one_sided_leg_at_its_line(books: Path) -> None:
    removed = _drop_transaction(books / "coreweave.beancount", '"Investment from Nvidia')
    assert "^deal-nv-cw-equity" in removed
    nvidia = books / "nvidia.beancount"
    line = _line_of(nvidia, "^deal-nv-cw-equity")
    result = subprocess.run(
        [Path(sys.executable).with_name("bean-check"), books / "nvidia.netted.beancount"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert f"{nvidia}:{line}: one-sided: leg 1 of deal nv-cw-equity" in result.stderr
    assert "missing from CoreWeave's book" in result.stderr


def _the_error(view: Path, word: str) -> Any:
    """The one error of loading `view` whose message names `word`."""
    _, errors, _ = _beancount(view)
    [error] = [e for e in errors if word in e.message]
    return error


def _where(error: Any) -> tuple[str, int]:
    return error.source["filename"], error.source["lineno"]


def test_bean_check_passes_every_shipped_netted_view() -> None:
    for view in sorted(BOOKS.glob("*.netted.beancount")):
        entries, errors, _ = _beancount(view)
        assert errors == [], view


def test_a_mismatched_amount_is_reported_in_both_books(books: Path) -> None:
    coreweave = books / "coreweave.beancount"
    text = coreweave.read_text()
    assert "  Assets:Cash            100,000,000.00 USD" in text
    coreweave.write_text(
        text.replace("100,000,000.00 USD", "100,000,001.00 USD", 1), encoding="utf-8"
    )
    nvidia = books / "nvidia.beancount"
    for view, book in (("nvidia", nvidia), ("coreweave", coreweave)):
        mismatched = _the_error(books / f"{view}.netted.beancount", "mismatched")
        assert "nv-cw-equity" in mismatched.message
        assert "amount 100000000.00 vs 100000001.00" in mismatched.message
        # Each view reports it at its own book's side of the leg.
        assert _where(mismatched) == (str(book), _line_of(book, "^deal-nv-cw-equity"))


def test_the_book_that_lacks_a_leg_reports_it_at_the_other_books_line(books: Path) -> None:
    _drop_transaction(books / "coreweave.beancount", '"Investment from Nvidia')
    nvidia = books / "nvidia.beancount"
    one_sided = _the_error(books / "coreweave.netted.beancount", "one-sided")
    assert "leg 1 of deal nv-cw-equity" in one_sided.message
    assert "missing from CoreWeave's book" in one_sided.message
    assert _where(one_sided) == (str(nvidia), _line_of(nvidia, "^deal-nv-cw-equity"))


def test_roundtrip_check_still_reports_a_mismatch_once(books: Path) -> None:
    coreweave = books / "coreweave.beancount"
    text = coreweave.read_text()
    coreweave.write_text(text.replace("100,000,000.00 USD", "100,000,001.00 USD", 2))
    result = CliRunner().invoke(app, ["check", str(books)])
    assert result.exit_code == 2
    assert result.output.count("mismatched") == 1 and "1 problem found" in result.output


def test_the_netted_views_eliminate_each_companys_circular_revenue_of_net() -> None:
    report = _net_json()
    assert Decimal(report["total_circular"]) > 0
    for figures in report["companies"]:
        slug = figures["company"].lower()
        entries, errors, _ = _beancount(BOOKS / f"{slug}.netted.beancount")
        assert errors == []
        assert _eliminated(entries) == Decimal(figures["circular"]), figures["company"]


def test_the_check_plugin_reports_but_adds_no_entries(books: Path) -> None:
    _drop_transaction(books / "coreweave.beancount", '"Investment from Nvidia')
    entries, _, options = load([books / "nvidia.beancount"])
    options = {**options, "filename": str(books / "nvidia.beancount")}
    kept, errors = check.check(entries, options, "{'books': '.'}")
    assert kept == entries
    assert [e.source["lineno"] for e in errors] == [
        _line_of(books / "nvidia.beancount", "^deal-nv-cw-equity")
    ]
    assert errors[0].entry.meta["deal"] == "nv-cw-equity"


_FRESH_LOAD = """
import sys
from beancount import loader
_, errors, _ = loader._load([(sys.argv[1], True)], None, None, None)
print(len(errors), *(m in sys.modules for m in ("ledger.netting", "pandas", "scipy")))
"""


def _fresh_load(view: Path) -> str:
    """Load ``view`` in a new process, as ``bean-check`` does: its errors, and whether the
    netting engine and its libraries were imported."""
    run = subprocess.run(
        [sys.executable, "-c", _FRESH_LOAD, str(view)], capture_output=True, text=True, check=True
    )
    return run.stdout.strip()


def test_bean_check_with_the_check_plugin_does_not_import_the_netting_engine(
    books: Path, tmp_path: Path
) -> None:
    """numpy, pandas, SciPy and OR-Tools take most of a second to import: a check that nets
    nothing does not pay for them in every bean-check run. The circular plugin does."""
    view = tmp_path / "nvidia.checked.beancount"
    view.write_text(
        f'option "title" "Nvidia (checked)"\n'
        f"plugin \"ledger.plugins.check\" \"{{'books': '{books}'}}\"\n"
        f'include "{books / "nvidia.beancount"}"\n',
        encoding="utf-8",
    )
    assert _fresh_load(view) == "0 False False False"
    _drop_transaction(books / "coreweave.beancount", '"Investment from Nvidia')
    assert _fresh_load(view) == "1 False False False"
    assert _fresh_load(books / "nvidia.netted.beancount") == "1 True True True"


def test_the_settings_know_every_netting_method() -> None:
    from ledger.netting import Method

    assert tuple(method.value for method in Method) == netted_module._METHODS
    for method in Method:
        assert parse_settings(f"{{'method': '{method}'}}", BOOKS / "x").method == method.value


def test_a_bad_config_is_one_error_naming_it(books: Path) -> None:
    entries, _, options = load([books / "nvidia.beancount"])
    for config in ("{'method': 'median'}", "{'bookz': '.'}", "not a dict"):
        kept, errors = circular.circular(entries, options, config)
        assert kept == entries
        assert len(errors) == 1 and "config" in errors[0].message


def test_eliminations_already_loaded_are_not_added_twice(books: Path, tmp_path: Path) -> None:
    out = tmp_path / "eliminations"
    result = CliRunner().invoke(app, ["net", str(books), "--eliminations", str(out)])
    assert result.exit_code == 0, result.output
    view = books.parent / "nvidia-both.beancount"
    view.write_text(
        'option "title" "Nvidia"\n'
        "plugin \"ledger.plugins.circular\" \"{'books': 'books'}\"\n"
        f'include "{out / "nvidia.eliminations.beancount"}"\n',
        encoding="utf-8",
    )
    entries, errors, _ = _beancount(view)
    assert any("already loaded" in e.message for e in errors)
    assert _eliminated(entries) == Decimal(
        next(c["circular"] for c in _net_json()["companies"] if c["company"] == "Nvidia")
    )


def test_a_reload_with_no_book_changed_reuses_the_netting(books: Path) -> None:
    settings = parse_settings(CONFIG, books / "nvidia.netted.beancount")
    first = netted(settings)
    assert netted(settings) is first


def test_after_an_edit_only_the_edited_book_is_read_again(books: Path) -> None:
    settings = parse_settings(CONFIG, books / "nvidia.netted.beancount")
    netted(settings)
    before = {key: value[0] for key, value in netted_module._books.items()}
    nvidia = books / "nvidia.beancount"
    nvidia.write_text(nvidia.read_text() + "\n; edited\n", encoding="utf-8")
    netted(settings)
    again = [
        key.book.name for key, value in netted_module._books.items() if before[key] is not value[0]
    ]
    assert again == ["nvidia.beancount"]


def test_the_other_books_are_input_files_of_the_netted_view(books: Path) -> None:
    """beancount's pickle cache and Fava's watcher go by the include list: a counterparty's
    edit must reload this ledger."""
    _, _, options = _beancount(books / "nvidia.netted.beancount")
    assert str(books / "coreweave.beancount") in options["include"]
    assert str(books / "coreweave.commitments.beancount") in options["include"]


def test_a_book_that_loads_the_plugin_itself_is_checked_and_still_read_as_written(
    books: Path,
) -> None:
    nvidia = books / "nvidia.beancount"
    text = nvidia.read_text()
    nvidia.write_text(
        text.replace('option "render_commas" "TRUE"\n',
                     f'option "render_commas" "TRUE"\nplugin "ledger.plugins.circular" "{CONFIG}"\n', 1),
        encoding="utf-8",
    )  # fmt: skip
    before = _net_json()
    result = CliRunner().invoke(app, ["net", str(books), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["companies"] == before["companies"]
    entries, errors, _ = _beancount(nvidia)
    assert errors == []
    assert _eliminated(entries) == Decimal(
        next(c["circular"] for c in before["companies"] if c["company"] == "Nvidia")
    )
    _drop_transaction(books / "coreweave.beancount", '"Investment from Nvidia')
    _, errors, _ = _beancount(nvidia)
    assert [(e.source["lineno"], e.message[:9]) for e in errors] == [
        (_line_of(nvidia, "^deal-nv-cw-equity"), "one-sided")
    ]


def test_roundtrips_own_reads_run_no_plugin(books: Path) -> None:
    entries, errors, options = load([books / "nvidia.netted.beancount"])
    assert errors == () and _eliminated(entries) == 0
    assert str(books / "coreweave.beancount") not in options["include"]


def test_a_period_in_the_config_eliminates_the_circular_revenue_of_that_period(
    books: Path,
) -> None:
    result = CliRunner().invoke(app, ["net", str(BOOKS), "--period", "2025", "--format", "json"])
    assert result.exit_code == 0, result.output
    in_2025 = next(c for c in json.loads(result.stdout)["companies"] if c["company"] == "Nvidia")
    # Outside the folder: a file in it that includes a book is read as that company's book.
    view = books.parent / "nvidia-2025.beancount"
    view.write_text(
        'option "title" "Nvidia 2025"\n'
        "plugin \"ledger.plugins.circular\" \"{'books': 'books', 'period': '2025'}\"\n"
        'include "books/nvidia.beancount"\n',
        encoding="utf-8",
    )
    entries, errors, _ = _beancount(view)
    assert errors == []
    assert _eliminated(entries) == Decimal(in_2025["circular"]) > 0
    assert {e.date.year for e in entries if getattr(e, "flag", None) == ELIMINATION_FLAG} == {2025}
