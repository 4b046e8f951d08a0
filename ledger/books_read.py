"""Beancount books -> legs: every company's book and commitments read, every leg reconciled.

In: a folder, one book file, or a list of book files; hand-written books included. Out: a
:class:`BooksRead` — the legs (each once, however many books hold it), the price marks, the
companies, how many ordinary transactions each book holds, and every problem found as
``file:line: message [deal]``. beancount's entries of a book are dropped once its legs are
taken from them, so memory holds legs, not entries (a million-leg set of books is two million
transactions).

**Cost.** Each company's book and commitments are loaded once, as one ledger, and the legs are
reconciled in one pass over a dict keyed by deal and leg: the time is linear in the size of the
books.

**Which files.** In a folder, every ``*.beancount`` file directly in it is one of:

- ``<slug>.commitments.beancount``: the commitments of the book ``<slug>.beancount``, loaded
  together with it as one ledger (the book first: its options count);
- ``<slug>.forward.beancount``: a view (it includes the two above); not read for legs;
- ``<slug>.netted.beancount``: a view (the book with roundtrip's plugin, saved queries and
  Fava page, :mod:`ledger.netted_view`); not read for legs;
- ``<slug>.eliminations.beancount``: netting's write-back; not read for legs, but
  :func:`check_books` bean-checks it with its book (it may include the book itself);
- any other file: a **book**, unless another book of the folder (or its commitments)
  ``include``s it, in which case it is part of that book.

A book may hold any valid beancount — ordinary transactions, other accounts, ``plugin`` and
``include`` directives, balance assertions, pads — and each goes through beancount's own loader
(what ``bean-check`` runs; see :mod:`ledger.books_load`), whose errors are reported as
``file:line``. Its ``option "title"`` names the company.

**Which transactions are legs** (the exact rule): a transaction is a leg when its flag is ``*``
or ``!`` **and** it carries the metadata key ``deal``. It must then carry ``leg``,
``counterparty``, ``kind`` and ``status`` too, and its postings must be the two that
:mod:`ledger.accounts` gives its side (none for an undrawn guarantee, which carries
``amount:``). A ``*``/``!`` transaction linked ``^deal-…`` without a ``deal`` key is reported
(a leg that lost its metadata). Every other transaction — a coffee, a payroll, a pad, an
elimination (flag ``%``) — is **ordinary**: counted (:attr:`BooksRead.ordinary`) and left alone.

The payer and payee come from which side of the chart the postings are on (``Assets:Equipment``
on the payer's side of a sale means ``capex``); the amount from the postings; units and
commodity from the metadata, checked against a holding at cost when there is one; the deal's
title from the narration after the owner's-side phrase (``Sale to OpenAI: <title>``).
Reconciliation then reports, naming both files and lines where there are two: a leg in only one
of its two books (one-sided), a mirrored pair that differs in payer/payee, date, amount,
currency, kind, status, units or commodity (mismatched), missing or ill-typed roundtrip metadata,
an unknown kind or status, a counterparty with no book in the set (unknown company), the same
deal and leg twice in one company's files (duplicate), a flag that contradicts the status, and
postings that do not fit the chart of accounts. A leg may sit in the book or in its commitments
file whatever its status (hand-written books need not split them); ``roundtrip book`` puts the
realized ones in the book. Reading the books written from some legs gives those legs back, and
writing them again gives the same bytes.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from beancount.core import data

from ledger.accounts import CASH, Postings, Role, contingent, payee_accounts, payer_accounts
from ledger.books_load import load, loader_name, one_book_at_a_time
from ledger.books_write import (
    BOOK_SUFFIX,
    COMMITMENTS_SUFFIX,
    ELIMINATIONS_SUFFIX,
    FORWARD_SUFFIX,
    NETTED_SUFFIX,
    phrase,
)
from ledger.limits import MAX_LEG_NUMBER
from ledger.model import (
    EXTERNAL,
    Company,
    DealId,
    EnvironmentProblem,
    Kind,
    LedgerError,
    Leg,
    Price,
    Status,
)

__all__ = ["BookSet", "BooksRead", "bean_check", "book_sets", "check_books", "read_books"]

_REQUIRED_META = ("deal", "leg", "counterparty", "kind", "status")
_FLAG = {Status.REALIZED: "*", Status.CONTRACTED: "!", Status.ANNOUNCED: "!"}
_LEG_FLAGS = frozenset(_FLAG.values())
# beancount's title when a book sets none: such a book names no company.
_DEFAULT_TITLE = "Beancount"
_INCLUDE_RE = re.compile(r'^include\s+"((?:[^"\\]|\\.)*)"', re.M)

Key = tuple[DealId, int]
#: ``on_progress(done, total)``: told after each company's files are read, for a progress bar.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class BooksRead:
    """What :func:`read_books` found in a set of books.

    ``legs`` are rebuilt from the transactions (one per deal and leg, located at the payer's
    transaction, or the payee's when the payer is ``External``); ``prices`` are the price
    directives, each once; ``companies`` are the books' display names (their titles), in file
    order; ``ordinary`` counts per company the transactions that are not legs (left alone);
    ``errors`` holds every loader and reconciliation problem. Legs are returned even when
    errors are, so that a caller can show what was read; a caller that must stop raises
    :class:`~ledger.model.BadInput`. ``loader_errors`` are those of ``errors`` that beancount's
    loader itself reported (what a beancount plugin must not report again); ``books`` names
    each company's book file.
    """

    legs: tuple[Leg, ...]
    prices: tuple[Price, ...]
    companies: tuple[Company, ...]
    errors: tuple[LedgerError, ...]
    ordinary: dict[Company, int] = field(default_factory=dict)
    loader_errors: tuple[LedgerError, ...] = ()
    books: dict[Company, str] = field(default_factory=dict)

    @property
    def ordinary_total(self) -> int:
        """How many ordinary (non-leg) transactions the books hold in all."""
        return sum(self.ordinary.values())


class BookSet(NamedTuple):
    """One company's files: its book, and its commitments and eliminations when there are."""

    book: Path
    commitments: Path | None = None
    eliminations: Path | None = None


class _Side(NamedTuple):
    """One book's transaction for a leg: whose book, which side, and the leg it describes."""

    company: Company
    role: Role
    leg: Leg


class _Book(NamedTuple):
    """One company's files as read: its leg transactions, its marks, what else it holds."""

    company: Company
    filename: str
    sides: tuple[_Side, ...]
    prices: tuple[Price, ...]
    broken: frozenset[Key]
    ordinary: int
    includes: frozenset[str]
    loader_errors: tuple[LedgerError, ...] = ()
    stamp: tuple[tuple[str, int, int], ...] = ()


# --------------------------------------------------------------------------------------------
# Files


def bean_check(path: Path | str) -> tuple[LedgerError, ...]:
    """Run beancount's loader on one file, as ``bean-check`` does, and return its errors.

    Each error is located at the file and line beancount reports (the path as given).
    """
    path = Path(path)
    if not path.is_file():
        return (LedgerError(str(path), 0, "no such book file"),)
    return load([path])[1]


def _role_of(path: Path) -> str:
    name = path.name
    for suffix, role in (
        (COMMITMENTS_SUFFIX, "commitments"),
        (FORWARD_SUFFIX, "view"),
        (NETTED_SUFFIX, "view"),
        (ELIMINATIONS_SUFFIX, "eliminations"),
    ):
        if name.endswith(suffix):
            return role
    return "book"


def _stem(path: Path) -> str:
    """The ``<slug>`` of any of a company's files."""
    name = path.name
    for suffix in (
        COMMITMENTS_SUFFIX,
        FORWARD_SUFFIX,
        NETTED_SUFFIX,
        ELIMINATIONS_SUFFIX,
        BOOK_SUFFIX,
    ):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def book_sets(paths: Path | str | Sequence[Path | str]) -> tuple[list[BookSet], list[LedgerError]]:
    """The companies' files to read: a folder's (see the module docstring), or those given.

    A single book file brings its ``.commitments`` (and ``.eliminations``) sibling when there is
    one. A commitments file given without its book is an error.
    """
    errors: list[LedgerError] = []
    if isinstance(paths, (str, os.PathLike)):
        path = Path(paths)
        if path.is_dir():
            files = sorted(path.glob(f"*{BOOK_SUFFIX}"))
            if not [f for f in files if _role_of(f) == "book"]:
                return [], [LedgerError(str(path), 0, f"no *{BOOK_SUFFIX} books in this folder")]
        elif path.is_file() and _role_of(path) == "book":
            siblings = (
                path.with_name(_stem(path) + COMMITMENTS_SUFFIX),
                path.with_name(_stem(path) + ELIMINATIONS_SUFFIX),
            )
            files = [path, *(s for s in siblings if s.is_file())]
        else:
            files = [path]
    else:
        files = list(dict.fromkeys(Path(p) for p in paths))
    present = []
    for path in files:
        if not path.is_file():
            errors.append(LedgerError(str(path), 0, "no such book file"))
        elif _role_of(path) == "view":
            message = "a view, not a book: read the book and its commitments it includes"
            if not isinstance(paths, (str, os.PathLike)) or Path(paths).is_file():
                errors.append(LedgerError(str(path), 0, message))
        else:
            present.append(path)
    books = {_stem(p): p for p in present if _role_of(p) == "book"}
    extra: dict[str, dict[str, Path]] = {"commitments": {}, "eliminations": {}}
    for path in present:
        role = _role_of(path)
        if role in extra:
            if _stem(path) in books:
                extra[role][_stem(path)] = path
            elif role == "commitments":
                message = f"commitments without their book {_stem(path)}{BOOK_SUFFIX}"
                errors.append(LedgerError(str(path), 0, message))
    sets = [
        BookSet(book, extra["commitments"].get(stem), extra["eliminations"].get(stem))
        for stem, book in books.items()
    ]
    return sets, errors


# --------------------------------------------------------------------------------------------
# Reading


#: What :func:`read_books` keeps between calls when given a ``cache``: per company's files,
#: the book as read, valid while none of its files changes (size and mtime).
BookCache = dict[BookSet, tuple[_Book, list[LedgerError]]]


def read_books(
    paths: Path | str | Sequence[Path | str],
    *,
    standalone: bool = False,
    on_progress: Progress | None = None,
    cache: BookCache | None = None,
) -> BooksRead:
    """Read a set of books back into legs and reconcile every mirrored pair.

    Each company's book and commitments are loaded once, as one ledger. With ``standalone``
    (what ``roundtrip check`` does), each book is also bean-checked alone, and with its
    commitments and eliminations when it has an eliminations file.

    Args:
        paths: a folder, a book file, or a list of book files.
        standalone: also check each book alone and with its eliminations.
        on_progress: told ``(done, total)`` after each company's files are read.
        cache: books read before, reused while their files are unchanged (a long-lived
            reader, such as a beancount plugin under Fava, reloads only what was edited).

    Returns:
        The legs, prices and companies found, and every problem (see the module
        docstring for the list); nothing is raised for problems in the books.

    Raises:
        EnvironmentProblem: a book cannot be opened (no permission to read it).
    """
    sets, errors = book_sets(paths)
    read: list[tuple[BookSet, _Book, list[LedgerError]]] = []
    pending: list[Callable[[], list[LedgerError]]] = []
    checked = len(sets) if standalone else 0
    with one_book_at_a_time() as settle, _standalone_checks(checked) as check_alone:
        for done, book_set in enumerate(sets, 1):
            if standalone:
                pending.append(check_alone(book_set))
            book, book_errors = _cached_read(book_set, cache)
            read.append((book_set, book, book_errors))
            settle()
            if on_progress is not None:
                on_progress(done, len(sets))
        if standalone:
            read = [
                (book_set, book, book_errors + _not_in(alone(), book_errors))
                for (book_set, book, book_errors), alone in zip(read, pending, strict=True)
            ]
    # A book another book includes is part of that book, not a book of its own.
    included = {name for _, book, _ in read for name in book.includes}
    books: list[_Book] = []
    owners: dict[Company, str] = {}
    for book_set, book, book_errors in read:
        if loader_name(book_set.book) in included:
            continue
        errors.extend(book_errors)
        if book.company in owners:
            errors.append(
                LedgerError(
                    book.filename,
                    0,
                    f"a second book for {book.company} "
                    f"(the first is {owners[book.company]}): this one is ignored",
                )
            )
            continue
        owners[book.company] = book.filename
        books.append(book)
    legs, reconcile_errors = _reconcile(books)
    prices, price_errors = _merge_prices(books)
    return BooksRead(
        legs=legs,
        prices=prices,
        companies=tuple(book.company for book in books),
        errors=tuple(dict.fromkeys([*errors, *reconcile_errors, *price_errors])),
        ordinary={book.company: book.ordinary for book in books},
        loader_errors=tuple(e for book in books for e in book.loader_errors),
        books=owners,
    )


def _stamp(paths: Sequence[Path | str]) -> tuple[tuple[str, int, int], ...]:
    """Name, size and mtime of each file: what says a cached read is still the file's."""
    found = []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            found.append((str(path), -1, -1))
        else:
            found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(found)


def _cached_read(book_set: BookSet, cache: BookCache | None) -> tuple[_Book, list[LedgerError]]:
    """:func:`_read_book`, or its earlier answer while none of the files it read changed."""
    if cache is not None and book_set in cache:
        book, errors = cache[book_set]
        if _stamp([name for name, _, _ in book.stamp]) == book.stamp:
            return book, errors
    book, errors = _read_book(book_set)
    if cache is not None:
        cache[book_set] = (book, errors)
    return book, errors


def check_books(
    paths: Path | str | Sequence[Path | str], *, on_progress: Progress | None = None
) -> tuple[LedgerError, ...]:
    """Every problem ``roundtrip check`` reports: :func:`read_books` with ``standalone``."""
    return read_books(paths, standalone=True, on_progress=on_progress).errors


#: From this many books on, ``roundtrip check`` runs the standalone checks in a second process
#: while this one reads the books: they are a second load of most books (the book without its
#: commitments), nearly doubling the time on one core. Below it, starting a process costs more
#: than it saves.
PARALLEL_BOOKS = 200


@contextmanager
def _standalone_checks(
    books: int,
) -> Iterator[Callable[[BookSet], Callable[[], list[LedgerError]]]]:
    """``check_alone(book_set)``, which starts a book's standalone checks and gives their answer.

    With few books, or one core, a check runs at once, here; with many, in a worker process
    while this one reads the next books, and the answer waits for it.
    """
    if books < PARALLEL_BOOKS or (os.cpu_count() or 1) < 2:

        def at_once(book_set: BookSet) -> Callable[[], list[LedgerError]]:
            found = _standalone_errors(book_set)
            return lambda: found

        yield at_once
        return
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    # spawn, not fork: the reading process may hold threads (pyarrow's) a fork would copy.
    pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=_ignore_ctrl_c)
    try:
        yield lambda book_set: pool.submit(_standalone_errors, book_set).result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ignore_ctrl_c() -> None:
    """Ctrl-C is the reading process's to handle: it stops the worker by shutting it down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _not_in(found: list[LedgerError], known: list[LedgerError]) -> list[LedgerError]:
    seen = set(known)
    return [error for error in found if error not in seen]


def _standalone_errors(book_set: BookSet) -> list[LedgerError]:
    """Problems of the book alone, and of the book with its eliminations (each once)."""
    found: list[LedgerError] = []
    if book_set.commitments is not None:
        found.extend(load([book_set.book])[1])
    if book_set.eliminations is not None:
        if _includes(book_set.eliminations, book_set.book):
            sources = [book_set.eliminations]
        else:
            sources = [p for p in book_set if p is not None]
        found.extend(load(sources)[1])
    return list(dict.fromkeys(found))


def _includes(path: Path, book: Path) -> bool:
    """Whether ``path`` includes ``book`` itself (as eliminations written from books do)."""
    text = path.read_text(encoding="utf-8")
    target = loader_name(book)
    return any(
        loader_name(path.parent / name.replace('\\"', '"')) == target
        for name in _INCLUDE_RE.findall(text)
    )


def _require_readable(paths: list[Path]) -> None:
    """Refuse, as the environment's problem, files that cannot be opened (no permission).

    beancount's loader would raise a bare OSError on them; the CLI says this in one line and
    exits 1, as typer does for an unreadable file argument.
    """
    for path in paths:
        try:
            with open(path, "rb"):
                pass
        except OSError as error:
            message = f"cannot read: {error.strerror or error}"
            raise EnvironmentProblem([LedgerError(str(path), 0, message)]) from None


def _read_book(book_set: BookSet) -> tuple[_Book, list[LedgerError]]:
    """Load one company's book and commitments, and turn its legs and prices into records."""
    sources = [book_set.book] + ([book_set.commitments] if book_set.commitments else [])
    filename = str(book_set.book)
    _require_readable(sources)
    entries, loader_errors, options = load(sources)
    names = {loader_name(p): str(p) for p in sources}
    errors = list(loader_errors)
    company = options.get("title") or _DEFAULT_TITLE
    if company == _DEFAULT_TITLE:
        errors.append(
            LedgerError(filename, 0, 'the book names no company: add option "title" "<name>"')
        )
        company = book_set.book.stem
    flagged = {(e.filename, e.lineno) for e in loader_errors}
    sides: list[_Side] = []
    prices: list[Price] = []
    broken: set[Key] = set()
    ordinary = 0
    for entry in entries:
        where = (names.get(entry.meta["filename"], entry.meta["filename"]), entry.meta["lineno"])
        if isinstance(entry, data.Transaction):
            if entry.flag not in _LEG_FLAGS or "deal" not in entry.meta:
                if entry.flag in _LEG_FLAGS and any(
                    link.startswith("deal-") for link in entry.links
                ):
                    errors.append(_lost_metadata(entry, where))
                else:
                    ordinary += 1
                continue
            side, side_errors = _parse_side(entry, company, where, where in flagged)
            errors.extend(side_errors)
            if side is not None:
                sides.append(side)
            elif (key := _meta_key(entry.meta)) is not None:
                broken.add(key)
        elif isinstance(entry, data.Price):
            prices.append(
                Price(
                    entry.date, entry.currency, entry.amount.number, entry.amount.currency, *where
                )
            )
    own = {loader_name(p) for p in sources}
    includes = frozenset(name for name in options.get("include", ()) if name not in own)
    book = _Book(
        company,
        filename,
        tuple(sides),
        tuple(prices),
        frozenset(broken),
        ordinary,
        includes,
        loader_errors,
        _stamp(options.get("include", ())),
    )
    return book, errors


def _lost_metadata(entry: data.Transaction, where: tuple[str, int]) -> LedgerError:
    link = sorted(link for link in entry.links if link.startswith("deal-"))[0]
    return LedgerError(
        *where,
        f"transaction linked ^{link} has no deal metadata: a leg carries "
        f"{', '.join(_REQUIRED_META)} (an ordinary transaction takes no ^deal- link)",
        link[len("deal-") :],
    )


def _meta_key(meta: dict[str, Any]) -> Key | None:
    """The deal and leg a transaction claims, even when the rest of it cannot be read.

    A leg whose transaction is reported as unreadable is not reported again as one-sided.
    """
    deal, number = meta.get("deal"), meta.get("leg")
    if isinstance(deal, str) and isinstance(number, Decimal) and number == int(number):
        return (deal, int(number))
    return None


def _parse_side(
    entry: data.Transaction, company: Company, where: tuple[str, int], flagged: bool
) -> tuple[_Side | None, list[LedgerError]]:
    """The leg one transaction describes, or why it describes none."""
    filename, lineno = where
    meta = entry.meta
    deal = meta.get("deal") if isinstance(meta.get("deal"), str) else None

    def error(message: str) -> tuple[None, list[LedgerError]]:
        return None, [LedgerError(filename, lineno, message, deal)]

    missing = [key for key in _REQUIRED_META if key not in meta]
    if missing:
        return error(
            f"transaction lacks roundtrip metadata: {', '.join(missing)} "
            "(a transaction with a deal key is a leg; an ordinary one has none)"
        )
    fields, problems = _meta_fields(meta, company)
    if problems:
        return None, [LedgerError(filename, lineno, p, deal) for p in problems]
    kind, status, counterparty = fields["kind"], fields["status"], fields["counterparty"]
    found = _postings_side(entry, fields, flagged)
    if isinstance(found, str):
        return error(found)
    errors = []
    if entry.flag != _FLAG[status]:
        message = f"flag {entry.flag} contradicts status {status} (use {_FLAG[status]})"
        errors.append(LedgerError(filename, lineno, message, deal))
    role, number, currency, capex = found
    payer, payee = (company, counterparty) if role is Role.PAYER else (counterparty, company)
    words = phrase(kind, role, counterparty, status, capex)
    narration = entry.narration or ""
    title = narration[len(words) + 2 :] if narration.startswith(words + ": ") else ""
    leg = Leg(
        date=entry.date,
        payer=payer,
        payee=payee,
        amount=number,
        currency=currency,
        filename=filename,
        lineno=lineno,
        title=title,
        capex=capex,
        **fields["leg"],
    )
    return _Side(company, role, leg), errors


def _meta_fields(meta: dict[str, Any], company: Company) -> tuple[dict[str, Any], list[str]]:
    """Typed roundtrip metadata of a transaction, and what is wrong with it."""
    problems: list[str] = []
    deal, number = meta["deal"], meta["leg"]
    if not isinstance(deal, str) or not deal:
        problems.append(f"deal must be a string, got {deal!r}")
    if (
        not isinstance(number, Decimal)
        or number != number.to_integral_value()
        or not 1 <= number <= MAX_LEG_NUMBER
    ):
        problems.append(f"leg must be a whole number from 1 to {MAX_LEG_NUMBER:,}, got {number!r}")
    kind = _enum(Kind, meta["kind"], "kind", problems)
    status = _enum(Status, meta["status"], "status", problems)
    counterparty = meta["counterparty"]
    if not isinstance(counterparty, str) or not counterparty:
        problems.append(f"counterparty must be a company name, got {counterparty!r}")
    elif counterparty == company:
        problems.append(f"counterparty {counterparty} is the book's own company")
    estimate = meta.get("estimate", False)
    if not isinstance(estimate, bool):
        problems.append(f"estimate must be TRUE or FALSE, got {estimate!r}")
    texts = {key: meta.get(key, "") for key in ("note", "source")}
    problems += [f"{key} must be a string" for key, v in texts.items() if not isinstance(v, str)]
    units, commodity = meta.get("units"), meta.get("commodity")
    if (units is None) != (commodity is None):
        problems.append("units and commodity go together")
    elif units is not None and (not isinstance(units, Decimal) or not isinstance(commodity, str)):
        problems.append(f"units must be a number and commodity a name: {units!r} {commodity!r}")
    if problems:
        return {}, problems
    leg = {
        "deal": deal,
        "leg": int(number),
        "kind": kind,
        "status": status,
        "estimate": estimate,
        "units": units,
        "commodity": commodity,
        **texts,
    }
    fields = {"kind": kind, "status": status, "counterparty": counterparty, "leg": leg}
    fields["amount"] = meta.get("amount")
    return fields, []


def _enum(enum: type[Kind] | type[Status], value: Any, name: str, problems: list[str]) -> Any:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        problems.append(f"unknown {name} {value!r} (one of {choices})")
        return None


_Found = tuple[Role, Decimal, str, bool]


def _postings_side(entry: data.Transaction, fields: dict[str, Any], flagged: bool) -> _Found | str:
    """Which side of the leg the postings book, its amount, currency and capex; or what is wrong.

    ``flagged``: the loader already reported this transaction, so an imbalance is not
    reported twice.
    """
    kind, status, counterparty = fields["kind"], fields["status"], fields["counterparty"]
    if contingent(kind, status):
        return _contingent_side(entry, fields)
    try:
        sides: list[tuple[Role, bool, Postings]] = [
            (Role.PAYER, False, payer_accounts(kind, counterparty)),
            (Role.PAYEE, False, payee_accounts(kind, counterparty)),
        ]
        if kind is Kind.SALE:
            sides.insert(1, (Role.PAYER, True, payer_accounts(kind, counterparty, True)))
    except ValueError as exc:
        return str(exc)
    by_account: dict[str, list[data.Posting]] = {}
    for posting in entry.postings:
        if posting.units is None or not isinstance(posting.units.number, Decimal):
            return f"posting to {posting.account} has no amount"
        by_account.setdefault(_chart_account(posting.account), []).append(posting)
    match = next(
        ((r, c, acc) for r, c, acc in sides if set(by_account) == {acc.debit, acc.credit}), None
    )
    if match is None:
        payer = sides[0][2]
        posted = sorted({posting.account for posting in entry.postings})
        return (
            f"postings to {', '.join(posted)} do not fit a {kind} leg with "
            f"{counterparty}: the payer books {_pair(payer)}, the payee {_pair(sides[-1][2])}"
            + (" (or Assets:Equipment for a capitalised sale)" if kind is Kind.SALE else "")
        )
    role, capex, accounts = match
    credit, debit = by_account[accounts.credit], by_account[accounts.debit]
    currencies = {p.units.currency for p in credit}
    if len(currencies) != 1:
        return f"postings mix currencies {', '.join(sorted(currencies))}"
    currency = currencies.pop()
    credited = -sum((p.units.number for p in credit), Decimal(0))
    found = _debited(debit, fields["leg"], currency)
    if isinstance(found, str):
        return found
    # A holding at cost is worth what was credited; otherwise the debit is the amount.
    number = credited if found is None else found
    if number <= 0:
        return f"{accounts.debit} must be debited a positive amount, got {number}"
    if found is not None and credited != number and not flagged:
        return f"transaction does not balance: {number} vs {-credited}"
    return role, number, currency, capex


#: The asset accounts of the chart that are not cash: a leg's holding, never its payment.
_NON_CASH_ASSETS = ("Assets:Equipment:", "Assets:Investments:", "Assets:Loans:", "Assets:Warrants:")


def _chart_account(account: str) -> str:
    """The chart's name for a leg's posting: any other asset account is the book's cash.

    A company's own book pays from the bank accounts it keeps (``Assets:Bank:Checking``,
    ``Assets:US:BofA:Checking``); roundtrip's books call that side ``Assets:Cash``. Only the
    leg's other side names the counterparty, so that side alone must follow the chart.
    """
    if account.startswith("Assets:") and not account.startswith(_NON_CASH_ASSETS):
        return CASH
    return account


def _debited(debit: list[data.Posting], leg: dict[str, Any], currency: str) -> Decimal | None | str:
    """The amount debited in ``currency``, None for a holding at cost, or what is wrong.

    A holding must carry the metadata's units of its commodity, at cost in ``currency``.
    """
    units, commodity = leg["units"], leg["commodity"]
    held = [p for p in debit if commodity is not None and p.units.currency == commodity]
    if held:
        total = sum((p.units.number for p in held), Decimal(0))
        if len(held) != len(debit) or total != units:
            return f"holding of {total} {commodity} contradicts units: {units}"
        if {p.cost.currency for p in held if p.cost is not None} != {currency}:
            return f"a holding of {commodity} must be at cost in {currency}"
        return None
    if {p.units.currency for p in debit} != {currency}:
        found = ", ".join(sorted({p.units.currency for p in debit}))
        return f"postings mix currencies {found} and {currency}"
    return sum((p.units.number for p in debit), Decimal(0))


def _contingent_side(entry: data.Transaction, fields: dict[str, Any]) -> _Found | str:
    """An undrawn guarantee: no postings, the amount as metadata, the side from the owner."""
    amount = fields["amount"]
    if entry.postings:
        return (
            "an undrawn backstop posts nothing (a contingent obligation, ASC 460): remove its "
            "postings and give its amount as metadata amount: <number> <currency>"
        )
    number = getattr(amount, "number", None)
    if not isinstance(number, Decimal) or not number > 0:
        return f"an undrawn backstop needs metadata amount: <number> <currency>, got {amount!r}"
    # Whose side this is cannot come from postings; the narration says it.
    counterparty = fields["counterparty"]
    payer_words = phrase(Kind.BACKSTOP, Role.PAYER, counterparty, fields["status"], False)
    narration = entry.narration or ""
    role = Role.PAYER if narration.startswith(payer_words) else Role.PAYEE
    if narration.startswith(payer_words) or narration.startswith(
        phrase(Kind.BACKSTOP, Role.PAYEE, counterparty, fields["status"], False)
    ):
        return role, number, amount.currency, False
    return (
        "an undrawn backstop's narration must say its side: "
        f'"{payer_words}" (the buyer) or '
        f'"{phrase(Kind.BACKSTOP, Role.PAYEE, counterparty, fields["status"], False)}"'
    )


def _pair(accounts: Postings) -> str:
    return f"{accounts.debit} / {accounts.credit}"


def _reconcile(books: list[_Book]) -> tuple[tuple[Leg, ...], tuple[LedgerError, ...]]:
    """One leg per deal and leg number, and every way the books disagree about it."""
    known = {book.company: book.filename for book in books}
    broken = {(book.company, key) for book in books for key in book.broken}
    errors: list[LedgerError] = []
    observed: dict[Key, list[_Side]] = {}
    for book in books:
        seen: dict[Key, _Side] = {}
        for side in book.sides:
            key = side.leg.key
            if key in seen:
                errors.append(
                    LedgerError(
                        side.leg.filename,
                        side.leg.lineno,
                        f"duplicate: leg {key[1]} of deal {key[0]} is booked twice in this "
                        f"book (first at {_at(seen[key].leg)})",
                        key[0],
                    )
                )
                continue
            seen[key] = side
            observed.setdefault(key, []).append(side)
    legs = []
    for sides in observed.values():
        leg, leg_errors = _reconcile_leg(sides, known, broken)
        legs.append(leg)
        errors.extend(leg_errors)
    legs.sort(key=lambda leg: (leg.date, leg.deal, leg.leg))
    return tuple(legs), tuple(errors)


def _reconcile_leg(
    sides: list[_Side], known: dict[Company, str], broken: set[tuple[Company, Key]]
) -> tuple[Leg, list[LedgerError]]:
    """The leg its books agree on (the payer's view), and every disagreement.

    ``broken`` holds the (book, leg) pairs whose transaction was already reported unreadable.
    """
    ref = sides[0].leg
    participants = [c for c in (ref.payer, ref.payee) if c != EXTERNAL]
    by_company = {side.company: side for side in sides}
    errors = []

    def err(leg: Leg, message: str, mirror: tuple[str, int] | tuple[()] = ()) -> None:
        errors.append(LedgerError(leg.filename, leg.lineno, message, leg.deal, mirror))

    for side in sides[1:]:
        if side.company not in participants:
            err(
                side.leg,
                f"mismatched: {_describe(side.leg)} here, but {_describe(ref)} at {_at(ref)}",
            )
    for company in participants:
        if company in by_company or (company, ref.key) in broken:
            continue
        if company in known:
            err(
                ref,
                f"one-sided: {_describe(ref)} is missing from {company}'s book {known[company]}",
                (known[company], 0),
            )
        else:
            err(
                ref,
                f"unknown company: {_describe(ref)} names {company}, which has no book among these",
            )
    if len(participants) == 2 and all(c in by_company for c in participants):
        one, other = by_company[participants[0]].leg, by_company[participants[1]].leg
        diffs = _differences(one, other)
        if diffs:
            err(
                one,
                f"mismatched: leg {one.leg} of deal {one.deal} differs between "
                f"{_at(one)} and {_at(other)}: {'; '.join(diffs)}",
                (other.filename, other.lineno),
            )
    for company in (ref.payer, ref.payee):
        if company in by_company and company in participants:
            return by_company[company].leg, errors
    return ref, errors


_COMPARED = ("payer", "payee", "date", "amount", "currency", "kind", "status", "units", "commodity")


def _differences(one: Leg, other: Leg) -> list[str]:
    """The fields on which two books' views of one leg disagree, as ``field a vs b``."""
    return [
        f"{name} {getattr(one, name)} vs {getattr(other, name)}"
        for name in _COMPARED
        if getattr(one, name) != getattr(other, name)
    ]


def _describe(leg: Leg) -> str:
    return f"leg {leg.leg} of deal {leg.deal} ({leg.payer} -> {leg.payee}, {leg.kind})"


def _at(leg: Leg | Price) -> str:
    return f"{leg.filename}:{leg.lineno}"


def _merge_prices(books: list[_Book]) -> tuple[tuple[Price, ...], tuple[LedgerError, ...]]:
    """Every mark once; two books giving one commodity two prices on one day is an error."""
    marks: dict[tuple[date, str, str], Price] = {}
    errors = []
    for book in books:
        for price in book.prices:
            key = (price.date, price.commodity, price.currency)
            first = marks.setdefault(key, price)
            if first.amount != price.amount:
                errors.append(
                    LedgerError(
                        price.filename,
                        price.lineno,
                        f"price of {price.commodity} on {price.date} is {price.amount} "
                        f"{price.currency} here but {first.amount} at {_at(first)}",
                    )
                )
    ordered = sorted(marks.values(), key=lambda p: (p.date, p.commodity, p.currency))
    return tuple(ordered), tuple(errors)
