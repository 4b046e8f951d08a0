"""Reading books costs the same every time and writes nothing (issue 15, items 1 and 2).

Also: the collector is kept to the book at hand while many are read or written.

beancount 3.2's ``validate`` extends the module-level ``VALIDATIONS`` list in place with every
call's ``extra_validations``, and its loader writes ``.<book>.picklecache`` files next to books
that take over a second to load; :mod:`ledger.books_load` works around both.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import weakref
from collections.abc import Callable
from pathlib import Path

import pytest
from beancount import loader
from beancount.ops import validation
from typer.testing import CliRunner

from ledger.books_load import load, one_book_at_a_time
from ledger.books_read import check_books, read_books
from ledger.cli import app

BOOKS = Path(__file__).parent.parent / "books"


def _listing(folder: Path) -> list[tuple[str, int, int]]:
    """Every file under ``folder``, hidden ones included, with its size and mtime, and the
    folder's own mtime (which a file made and removed again would change)."""
    return sorted(
        (str(path.relative_to(folder)), path.stat().st_size, path.stat().st_mtime_ns)
        for path in [folder, *folder.rglob("*")]
    )


def test_reading_the_shipped_books_twice_leaves_beancounts_validation_list_alone():
    before = list(validation.VALIDATIONS)
    for _ in range(2):
        assert read_books(BOOKS).errors == ()
        assert check_books(BOOKS) == ()
    assert before == validation.VALIDATIONS
    assert before == validation.BASIC_VALIDATIONS


def _calls(work: Callable[[], object]) -> int:
    """How many Python function calls ``work`` makes: its cost as a count, not a time."""
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        calls += event == "call"

    sys.setprofile(count)
    try:
        work()
    finally:
        sys.setprofile(None)
    return calls


def test_a_read_of_the_shipped_books_costs_no_more_than_the_one_before():
    """The second read of the shipped books makes no more calls than the first (the first may
    make more: it fills caches); with the upstream bug each book read added one more pass of
    the data-type validation to every later read."""
    first = _calls(lambda: read_books(BOOKS))
    second = _calls(lambda: read_books(BOOKS))
    assert 0 < second <= first


def test_the_call_count_sees_the_cost_beancounts_growing_list_adds(
    monkeypatch: pytest.MonkeyPatch,
):
    """What the test above guards against, shown with the call count: loading as bean-check
    does (extra validations) makes each later load dearer. The list is a copy, put back after."""
    monkeypatch.setattr(validation, "VALIDATIONS", list(validation.VALIDATIONS))
    book = [(str(BOOKS / "nvidia.beancount"), True)]

    def bean_check_load() -> object:
        return loader._load(book, None, validation.HARDCORE_VALIDATIONS, None)

    first, second = _calls(bean_check_load), _calls(bean_check_load)
    assert second > first
    assert len(validation.VALIDATIONS) == len(validation.BASIC_VALIDATIONS) + 2


BAD_PLUGIN = """\
__plugins__ = ["bad"]


def bad(entries, options):
    return [e._replace(tags=list(e.tags)) if hasattr(e, "tags") else e for e in entries], []
"""

BOOK_WITH_BAD_PLUGIN = """\
option "title" "A"
option "insert_pythonpath" "TRUE"
plugin "bad_tags_plugin"
2025-01-01 open Assets:Cash USD
2025-01-01 open Income:Sales:B USD
2025-01-02 * "B" "Sale to B"
  Assets:Cash  1.00 USD
  Income:Sales:B
"""


def test_the_loader_still_runs_bean_checks_data_type_validation(tmp_path: Path):
    """A plugin that leaves a list where beancount wants a set: bean-check's hardcore check
    reports it, and so does load(); the basic validations alone do not."""
    (tmp_path / "bad_tags_plugin.py").write_text(BAD_PLUGIN)
    path = tmp_path / "a.beancount"
    path.write_text(BOOK_WITH_BAD_PLUGIN)
    _, errors, _ = load([path])
    assert [e.message for e in errors] == ["Invalid data types: Invalid tags type: <class 'list'>"]
    assert loader._load([(str(path), True)], None, None, None)[1] == []


def test_reading_a_books_folder_writes_nothing_into_it(tmp_path: Path):
    folder = tmp_path / "books"
    shutil.copytree(BOOKS, folder)
    before = _listing(folder)
    read_books(folder)
    check_books(folder)
    assert _listing(folder) == before


@pytest.mark.parametrize(
    "verb",
    [
        ["net", "--format", "json"],
        ["net", "--method", "pro-rata", "--format", "md"],
        ["check"],
        ["audit", "--format", "json"],
        ["show", "legs", "--format", "csv"],
    ],
    ids=lambda verb: " ".join(verb),
)
def test_reading_verbs_leave_the_books_folder_as_it_was(tmp_path: Path, verb: list[str]):
    folder = tmp_path / "books"
    shutil.copytree(BOOKS, folder)
    before = _listing(folder)
    done = CliRunner().invoke(app, [verb[0], str(folder), *verb[1:]])
    assert done.exit_code == 0, done.output
    assert _listing(folder) == before


@pytest.fixture
def eager_pickle_cache(monkeypatch: pytest.MonkeyPatch):
    """beancount's loader with its pickle cache written after any load, however quick."""
    monkeypatch.delenv("BEANCOUNT_DISABLE_LOAD_CACHE", raising=False)
    monkeypatch.setattr(loader, "PICKLE_CACHE_THRESHOLD", 0.0)
    loader.initialize(use_cache=True)
    yield
    monkeypatch.undo()
    loader.initialize(use_cache=True)


def test_no_pickle_cache_is_written_even_where_beancount_would_write_one(
    tmp_path: Path, eager_pickle_cache: None
):
    folder = tmp_path / "books"
    shutil.copytree(BOOKS, folder)
    before = _listing(folder)
    read_books(folder)
    check_books(folder)
    assert _listing(folder) == before
    loader.load_file(str(folder / "nvidia.beancount"))  # the test can fail: beancount writes
    assert ".nvidia.beancount.picklecache" in os.listdir(folder)


class _Node:
    """An object in a reference cycle with itself: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_settling_collects_the_last_books_cycles_and_freezes_the_rest():
    with one_book_at_a_time() as settle:
        kept, dropped = _Node(), weakref.ref(_Node())
        settle()
        assert dropped() is None
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    assert kept.me is kept


def test_a_process_that_froze_objects_itself_keeps_them_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with one_book_at_a_time() as settle:
            settle()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_ctrl_c_the_parser_caught_is_raised_again_not_reported_as_a_books_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """beancount's C parser turns a KeyboardInterrupt raised in its callbacks into a syntax
    error of the book; the loader raises it again, so Ctrl-C exits 130, not 2."""
    from beancount.parser import grammar

    book = tmp_path / "a.beancount"
    book.write_text('2025-01-01 open Assets:Cash\n2025-01-02 * "x"\n  Assets:Cash 1 USD\n')

    def interrupted(self, filename, lineno, account):  # noqa: ANN001, ANN202
        raise KeyboardInterrupt

    monkeypatch.setattr(grammar.Builder, "account", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load([book])
