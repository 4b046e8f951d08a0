"""beancount plugins: roundtrip's reconciliation and eliminations inside ``bean-check`` and Fava.

Both follow beancount's plugin contract (``__plugins__`` names a function ``(entries,
options_map, config) -> (entries, errors)``; each error has ``source``, ``message`` and
``entry``, its source the ``filename``/``lineno`` that ``bean-check`` prints):

- ``plugin "ledger.plugins.check" "{'books': '.'}"`` checks every intercompany leg of this
  book against its counterparty's book in the folder ``books`` and returns one error per
  one-sided or mismatched leg (and per leg whose metadata or postings cannot be read), at the
  leg's own transaction; both books' views report it (a mismatched pair at each book's own
  transaction, a leg this book lacks at the counterparty's transaction);
- ``plugin "ledger.plugins.circular" "{'books': '.', 'method': 'max', 'basis': 'realized'}"``
  does the same and adds this company's elimination entries (:mod:`ledger.eliminations`, one
  per payer, kind and quarter), so the loaded ledger's ``Income:Sales`` etc. show organic
  revenue and ``Income:Circular`` the circular part.

The other books are read through :func:`ledger.netted.netted`, which keeps them while their
files are unchanged: a Fava reload reads again only what was edited.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from beancount.core import data

from ledger.books_load import loader_name
from ledger.model import LedgerError

__all__ = ["PluginError", "run"]

#: A plugin's error, as beancount's loader and ``bean-check`` expect one.
PluginError = namedtuple("PluginError", "source message entry")

#: Where the entries the plugin adds say they come from.
SOURCE = "<ledger.plugins.circular>"


def run(
    entries: list[Any], options_map: dict[str, Any], config: str | None, *, eliminate: bool
) -> tuple[list[Any], list[PluginError]]:
    """Check this book's legs against the folder's books and, with ``eliminate``, net them."""
    from ledger.books_load import reading
    from ledger.netted import company_of, errors_in, netted, parse_settings, read_folder

    if reading():
        # Loaded by roundtrip's own reader (ledger.books_load): books are read as written.
        return entries, []
    top = options_map.get("filename") or ""
    try:
        settings = parse_settings(config, top)
    except ValueError as exc:
        return entries, [_error(top, 0, str(exc))]
    if not settings.books.is_dir():
        return entries, [_error(top, 0, f"config: no folder of books {settings.books}")]
    folder_files, read = read_folder(settings.books)
    files = options_map.get("include") or [top]
    company = company_of(read, files)
    if company is None:
        message = f"this ledger loads no single book of {settings.books} (or loads several)"
        return entries, [_error(top, 0, message)]
    _depend_on(options_map, folder_files)
    where = {(e.meta.get("filename"), e.meta.get("lineno")): e for e in entries}
    errors = [_located(error, where) for error in errors_in(read, files)]
    if not eliminate:
        return entries, errors
    found = netted(settings)
    if found.result is None:
        return entries, [*errors, _error(top, 0, f"cannot net the web: {found.problem}")]
    if any(_is_elimination(entry) for entry in entries):
        message = "eliminations already loaded (an .eliminations.beancount file): none added"
        return entries, [*errors, _error(top, 0, message)]
    added = found.eliminations.get(company, [])
    return data.sorted([*entries, *_opens(entries, added), *added]), errors


def _depend_on(options_map: dict[str, Any], books: tuple[str, ...]) -> None:
    """Name the other books among the ledger's input files.

    beancount's pickle cache (``bean-check``, ``load_file``) and Fava's file watcher both go by
    ``options_map["include"]``: listed there, an edit of a counterparty's book reloads this
    ledger instead of leaving a stale check.
    """
    options_map["include"] = sorted({*(options_map.get("include") or []), *books})


def _error(filename: str, lineno: int, message: str, entry: Any = None) -> PluginError:
    return PluginError(data.new_metadata(filename, lineno), message, entry)


def _located(error: LedgerError, where: dict[tuple[Any, Any], Any]) -> PluginError:
    """A reconciliation problem at its leg's transaction, as ``bean-check`` prints it."""
    filename = loader_name(error.filename)
    entry = where.get((filename, error.lineno))
    message = error.message + (f" [{error.deal}]" if error.deal else "")
    return _error(filename, error.lineno, message, entry)


def _is_elimination(entry: Any) -> bool:
    from ledger.eliminations import ELIMINATION_FLAG

    return (
        isinstance(entry, data.Transaction)
        and entry.flag == ELIMINATION_FLAG
        and "circular" in entry.tags
    )


def _opens(entries: list[Any], added: list[Any]) -> list[data.Open]:
    """``open`` directives for the accounts the eliminations use and the ledger does not open."""
    opened = {entry.account for entry in entries if isinstance(entry, data.Open)}
    first: dict[str, tuple[Any, str]] = {}
    for entry in added:
        for posting in entry.postings:
            if posting.account not in opened and posting.account not in first:
                first[posting.account] = (entry.date, posting.units.currency)
    return [
        data.Open(data.new_metadata(SOURCE, 0), day, account, [currency], None)
        for account, (day, currency) in sorted(first.items())
    ]
