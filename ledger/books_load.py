"""beancount's loader, as ``bean-check`` runs it, minus two side effects of beancount 3.2.

Every read of a book by roundtrip goes through :func:`load`. It gives what ``bean-check`` gives
(parse, booking, plugins, the basic validations and the "hardcore" data-type validation) and
works around two behaviours of beancount 3.2's loader:

1. **A global list that grows.** ``beancount.ops.validation.validate`` does::

       validation_tests = VALIDATIONS
       if extra_validations:
           validation_tests += extra_validations

   which extends the module-level ``VALIDATIONS`` list (the same object as
   ``BASIC_VALIDATIONS``) **in place**. ``loader.load_file(..., extra_validations=
   HARDCORE_VALIDATIONS)``, which is what ``bean-check`` does, thus adds one more pass of
   ``validate_data_types`` to every later load in the process: reading 400 books ran 407
   validation passes on the last one (upstream bug; the fix is ``validation_tests =
   VALIDATIONS + extra_validations``). Here the loader runs with no extra validations (so the
   list is left alone) and :func:`load` runs ``validate_data_types`` itself, once.
2. **A read that writes.** ``load_file`` goes through a pickle cache that is on by default
   and writes ``.<book>.beancount.picklecache`` next to any book that took over a second to
   load: a read writing into the user's folder. :func:`load` calls the uncached loader
   (``loader._load``, what ``load_file`` calls on a cache miss), so nothing is written.

``loader._load`` is private; it has had this signature since beancount 3.0 and takes several
sources at once, which is how a book and its commitments file are loaded as one ledger.

roundtrip reads books **as they are written**: while :func:`load` runs, :func:`reading` is
true in its thread and roundtrip's own beancount plugins (:mod:`ledger.plugins`) do nothing, so
a book that loads one reads the same, and the plugin, which reads the other books through
:func:`load`, never runs inside itself.

:func:`one_book_at_a_time` keeps Python's cyclic garbage collector to the book at hand while
thousands are read or written in one process (see there).
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from beancount import loader
from beancount.ops import validation

from ledger.model import LedgerError

__all__ = ["Loaded", "load", "loader_name", "one_book_at_a_time", "reading"]

Loaded = tuple[list[Any], tuple[LedgerError, ...], dict[str, Any]]


def loader_name(path: Path | str) -> str:
    """The file name beancount's loader puts in the metadata of what it reads from ``path``."""
    return os.path.normpath(os.path.abspath(str(path)))


_state = threading.local()


def reading() -> bool:
    """Whether this thread is inside :func:`load` (roundtrip's plugins then do nothing)."""
    return getattr(_state, "reading", False)


def load(paths: Sequence[Path | str]) -> Loaded:
    """Load ``paths`` as one ledger (the first is the top level: its options count).

    Returns:
        beancount's entries, its errors as :class:`~ledger.model.LedgerError` (each at the
        file, as given, and line beancount reports), and the options map.
    """
    sources = [(loader_name(path), True) for path in paths]
    outer = reading()
    _state.reading = True
    try:
        entries, errors, options = loader._load(sources, None, None, None)
    finally:
        _state.reading = outer
    if any(_interrupted(error) for error in errors):
        raise KeyboardInterrupt
    errors = list(errors) + list(validation.validate_data_types(entries, options))
    names = {loader_name(path): str(path) for path in paths}
    top = str(paths[0]) if paths else "<beancount>"
    return entries, tuple(convert_error(error, names, top) for error in errors), options


def _interrupted(error: Any) -> bool:
    """Whether a parser error is a Ctrl-C the parser caught.

    beancount's C parser turns any exception raised in its Python callbacks into a syntax
    error of the file being parsed (``grammar.py:474: KeyboardInterrupt``): that is the user's
    interrupt, not a problem of the book.
    """
    return str(getattr(error, "message", "")).startswith("KeyboardInterrupt")


def convert_error(error: Any, names: dict[str, str], top: str = "<beancount>") -> LedgerError:
    """A beancount error as a LedgerError, its file named as the caller named it.

    An error of the loader itself (file ``<load>``: a plugin that raised, such as
    ``beancount.ops.pad`` on a ``custom`` directive without values) is put at ``top``, the
    book loaded, and its message cut to one line: beancount embeds the plugin's Python
    traceback in it, which is no message for a user.
    """
    source = error.source or {}
    filename = source.get("filename") or "<beancount>"
    entry_meta = getattr(error.entry, "meta", None) or {}
    deal = entry_meta.get("deal")
    return LedgerError(
        names.get(filename, top if filename.startswith("<") else filename),
        int(source.get("lineno") or 0),
        _one_line(str(error.message)),
        deal if isinstance(deal, str) else None,
    )


def _one_line(message: str) -> str:
    """``Error applying plugin "p": Traceback ... TypeError: x`` as ``... "p": TypeError: x``."""
    head, marker, rest = message.strip().partition("Traceback (most recent call last):")
    if not marker:
        return " ".join(message.split())
    last = [line.strip() for line in rest.splitlines() if line.strip()][-1:]
    return " ".join([head.strip().rstrip(":") + ":", *last])


@contextmanager
def one_book_at_a_time() -> Iterator[Callable[[], None]]:
    """A loop over books that calls the yielded ``settle()`` after each book.

    Why: a load makes tens of thousands of objects that outlive the collector's young
    generations, and every so many of them CPython runs a full collection, which walks every
    tracked object alive: the million legs of the input (or of the books read so far), not
    only the book's. That costs a third of ``book`` at a million legs. ``settle()`` collects
    what the last book left (only the objects made since the previous ``settle()`` are walked)
    and then freezes the survivors (``gc.freeze``: moved out of the collector's generations), so
    no pass walks them again; the block's end unfreezes them. When the process has frozen
    objects of its own (a pre-forking server), nothing is frozen or unfrozen.
    """
    if gc.get_freeze_count():
        yield lambda: None
        return
    gc.freeze()
    try:
        yield _settle
    finally:
        gc.unfreeze()


def _settle() -> None:
    gc.collect()
    gc.freeze()
