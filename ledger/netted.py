"""A folder of books netted, kept warm: what the beancount plugin and the Fava page share.

The plugin (:mod:`ledger.plugins.circular`) runs inside beancount's loader every time Fava
reloads a company's ledger, and the Fava page (:mod:`ledger.fava_ext`) renders on every
request. Both need the same thing: the other companies' books read and reconciled
(:func:`ledger.books_read.read_books`), the web netted (:func:`ledger.netting.net`) and this
company's elimination entries (:func:`ledger.eliminations.eliminations`). :func:`netted` gives
them, and keeps them for as long as no ``*.beancount`` file of the folder changes (size and
mtime); when one does, only the changed books are read again. So a Fava reload after an edit
costs one more load of the edited book plus a netting of the web, not a load of every book.

Settings come from the plugin's (or extension's) config string, a Python literal read with
:func:`ast.literal_eval` (never evaluated as code)::

    plugin "ledger.plugins.circular" "{'books': '.', 'method': 'max', 'basis': 'realized'}"

``books`` is the folder of every company's book, relative to the top-level file; ``method``,
``basis`` and ``period`` (``2025``, ``2025Q3``, …; all dates when absent) are those of
``roundtrip net``.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.books_load import loader_name
from ledger.books_read import BookCache, BooksRead, read_books
from ledger.books_write import BOOK_SUFFIX
from ledger.model import Basis, Company, LedgerError, Leg, Period

if TYPE_CHECKING:
    from ledger.netting import NettingResult

__all__ = [
    "Netted",
    "Settings",
    "company_of",
    "errors_in",
    "netted",
    "parse_settings",
    "read_folder",
]

_KEYS = ("books", "method", "basis", "period")
#: The values of :class:`ledger.netting.Method`, named here so that reading the settings (all the
#: check-only plugin needs besides the books) does not import the netting engine: numpy, pandas,
#: SciPy and OR-Tools take most of a second to import, in every ``bean-check`` run.
_METHODS = ("max", "pro-rata")


@dataclass(frozen=True)
class Settings:
    """What to net: the folder of books, the method, the basis and the period."""

    books: Path
    method: str = "max"
    basis: Basis = Basis.REALIZED
    period: Period = Period()


@dataclass(frozen=True, eq=False)
class Netted:
    """The books of a folder read, reconciled and netted.

    ``result`` is None when the web cannot be netted (``problem`` says why: no legs, or
    legs in several currencies). ``eliminations`` holds each company's elimination entries;
    ``files`` every ``*.beancount`` file of the folder (absolute), what the figures rest on.
    """

    settings: Settings
    files: tuple[str, ...]
    read: BooksRead
    legs: tuple[Leg, ...]
    result: NettingResult | None
    eliminations: dict[Company, list[Any]]
    problem: str | None


def parse_settings(config: str | dict[str, Any] | None, top_level: str | Path) -> Settings:
    """The settings a config string (or the dict Fava parsed from it) gives.

    The folder is relative to the top-level file's.

    Raises:
        ValueError: the config is not a dict literal of the known keys and values (one line).
    """
    try:
        if isinstance(config, str):
            given = ast.literal_eval(config) if config.strip() else {}
        else:
            given = config or {}
    except (SyntaxError, ValueError) as exc:
        raise ValueError(f"config {config!r} is not a Python dict literal ({exc})") from None
    if not isinstance(given, dict):
        raise ValueError(f"config {config!r} is not a dict")
    unknown = sorted(set(given) - set(_KEYS))
    if unknown:
        raise ValueError(f"config: unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})")
    if any(not isinstance(value, str) for value in given.values()):
        raise ValueError("config: every value is a string")
    base = Path(top_level).parent
    method = given.get("method", "max")
    try:
        if method not in _METHODS:
            raise ValueError(f"{method!r} is not a valid Method")
        return Settings(
            books=(base / given.get("books", ".")).resolve(),
            method=method,
            basis=Basis(given.get("basis", "realized")),
            period=Period.parse(given.get("period")),
        )
    except ValueError as exc:
        raise ValueError(f"config: {exc}") from None


# --------------------------------------------------------------------------------------------
# The warm cache

_lock = threading.RLock()
_books: BookCache = {}
_Stamp = tuple[tuple[str, int, int], ...]
_reads: dict[Path, tuple[_Stamp, tuple[str, ...], BooksRead]] = {}
_netted: dict[Settings, tuple[_Stamp, Netted]] = {}


def _folder_stamp(folder: Path) -> _Stamp:
    found = []
    for path in sorted(folder.glob(f"*{BOOK_SUFFIX}")):
        try:
            stat = path.stat()
        except OSError:
            continue
        found.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


def read_folder(folder: Path) -> tuple[tuple[str, ...], BooksRead]:
    """The folder's ``*.beancount`` files (absolute) and its books read and reconciled.

    Cached while no file of the folder changes; when one does, only the changed books are
    loaded again (what the check-only plugin needs: no netting).
    """
    with _lock:
        return _read_folder(folder)[1:]


def _read_folder(folder: Path) -> tuple[_Stamp, tuple[str, ...], BooksRead]:
    stamp = _folder_stamp(folder)
    kept = _reads.get(folder)
    if kept is None or kept[0] != stamp:
        files = tuple(str(folder / name) for name, _, _ in stamp)
        kept = (stamp, files, read_books(folder, cache=_books))
        _reads[folder] = kept
    return kept


def netted(settings: Settings) -> Netted:
    """The folder's books read and netted: cached while no book of the folder changes."""
    with _lock:
        stamp, files, read = _read_folder(settings.books)
        kept = _netted.get(settings)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        found = _net(settings, files, read)
        _netted[settings] = (stamp, found)
        return found


def _net(settings: Settings, files: tuple[str, ...], read: BooksRead) -> Netted:
    from ledger.eliminations import eliminations
    from ledger.flows import GraphError, build_flow_graph
    from ledger.legs_frame import frame_of_legs
    from ledger.netting import net

    legs = read.legs
    if not legs:
        problem = f"no legs in the books of {settings.books}"
        return Netted(settings, files, read, legs, None, {}, problem)
    try:
        graph = build_flow_graph(frame_of_legs(legs), settings.period, settings.basis)
    except GraphError as exc:
        return Netted(settings, files, read, legs, None, {}, str(exc))
    result = net(graph, settings.method, edge_flows=False)
    return Netted(settings, files, read, legs, result, eliminations(result, legs), None)


def company_of(read: BooksRead, files: Iterable[str]) -> Company | None:
    """The company whose book is among ``files`` (a ledger's loaded files), if exactly one."""
    loaded = {loader_name(name) for name in files}
    found = [company for company, book in read.books.items() if loader_name(book) in loaded]
    return found[0] if len(found) == 1 else None


def errors_in(read: BooksRead, files: Iterable[str]) -> list[LedgerError]:
    """The reconciliation problems of the books among ``files`` (less beancount's own).

    A problem of a leg both books should hold is reported in each: a mismatched pair at each
    book's own transaction, a one-sided leg in the book that has it and, at that transaction,
    in the view of the book that lacks it.
    """
    loaded = {loader_name(name) for name in files}
    own = set(read.loader_errors)
    found = []
    for error in read.errors:
        if error in own:
            continue
        if loader_name(error.filename) in loaded:
            found.append(error)
        elif error.mirror and loader_name(error.mirror[0]) in loaded:
            filename, lineno = error.mirror
            found.append(error._replace(filename=filename, lineno=lineno) if lineno else error)
    return found
