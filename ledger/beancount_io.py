"""Legs <-> beancount books: one book per company, every leg mirrored, books reconciled.

**Writing** (:func:`book_entries`, :func:`render_book`, :func:`write_books`). In: legs (and
optionally :class:`~ledger.model.Price` marks and companies that must get a book even without
legs). Out: one beancount v3 book per company, ``<account component lowercased>.beancount``
(``xAI`` -> ``xai.beancount``). Each leg becomes one balanced transaction in the payer's book and
one in the payee's book (same date, same amount, accounts from :mod:`ledger.accounts`);
``External`` keeps no book, so its legs appear in the other company's book only. A book is::

    ; roundtrip book: every leg is one transaction, mirrored in the counterparty's book.
    option "title" "OpenAI"
    option "operating_currency" "USD"

    2025-09-22 open Assets:Receivable:Nvidia ... USD
    2025-09-22 open Equity:Issued:Nvidia     ... USD

    2025-09-22 * "Nvidia" "Nvidia equity to OpenAI (leg 1 of nv-oai)" ^deal-nv-oai
      deal: "nv-oai"
      leg: 1
      counterparty: "Nvidia"
      kind: "equity"
      status: "realized"
      Assets:Receivable:Nvidia   100.00 USD
      Equity:Issued:Nvidia      -100.00 USD

The title option is the company's display name: it is how the reader knows whose book it is (no
``custom`` marker is written; the title is enough). ``operating_currency`` lists the currencies
of the book's legs (USD when it has none). ``open`` directives are dated at each account's first
use and restrict it to the currencies it holds. The flag is ``*`` for realized legs, ``!`` for
contracted or announced ones. Metadata, in this order: ``deal``, ``leg``, ``counterparty``
(display name), ``kind``, ``status``, then ``estimate: TRUE`` (only when set), ``note`` and
``source`` (only when non-empty), ``units`` and ``commodity`` (warrant grants). A book that holds
a warrant commodity also gets its ``commodity`` directive and the ``price`` directives of that
commodity; prices of a leg currency go to every book with legs in it; prices of a commodity no
book holds are not written anywhere. Output is byte-stable: the same legs give the same bytes.

**Reading** (:func:`read_books`, :func:`check_books`, :func:`bean_check`). In: a folder (its
``*.beancount`` files, not recursive) or a list of book files, hand-written ones included as long
as they follow the convention above (amounts may be elided, metadata in any order, comments and
other directives allowed). Each file goes through beancount's own loader (what ``bean-check``
runs), whose errors are reported as ``file:line``. Transactions flagged ``*`` or ``!`` are legs;
other flags belong to other passes (e.g. padding) and are skipped. The payer and payee come from
which side of the chart of accounts the postings are on, the amount from the debit postings.
Reconciliation then reports, naming both files and lines where there are two: a leg in only one
of its two books (one-sided), a mirrored pair that differs in payer/payee, date, amount,
currency, kind, status, units or commodity (mismatched), missing roundtrip metadata, an unknown
kind or status, a counterparty with no book in the set (unknown company), the same deal and leg
twice in one book (duplicate), a flag that contradicts the status, and postings that do not fit
the chart of accounts. Reading the books written from some legs gives those legs back, and
writing them again gives the same bytes.

Example::

    >>> from datetime import date
    >>> from decimal import Decimal
    >>> leg = Leg(date(2025, 9, 22), "nv-oai", 1, "Nvidia", "OpenAI", Kind.EQUITY,
    ...           Decimal("100"))
    >>> sorted(book_entries([leg]))
    ['Nvidia', 'OpenAI']
    >>> paths = write_books([leg], Path("books"))          # doctest: +SKIP
    >>> read_books(Path("books")).legs[0].amount            # doctest: +SKIP
    Decimal('100.00')
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import Any, NamedTuple

from beancount import loader
from beancount.core import amount as bc_amount
from beancount.core import data
from beancount.ops import validation
from beancount.parser import printer

from ledger import output_set
from ledger.accounts import Postings, payee_accounts, payer_accounts
from ledger.model import (
    CENT,
    EXTERNAL,
    BadInput,
    Company,
    DealId,
    Kind,
    LedgerError,
    Leg,
    Price,
    Status,
    account_component,
)

__all__ = [
    "BooksRead",
    "bean_check",
    "book_entries",
    "check_books",
    "read_books",
    "render_book",
    "write_books",
]

#: The pseudo-source of the directives this module generates (opens, commodities, prices).
SOURCE = "<roundtrip.beancount_io>"
BOOK_SUFFIX = ".beancount"
#: The kind of output set the books are (:mod:`ledger.output_set`).
BOOKS_SET = "books"

HEADER_COMMENT = (
    "; roundtrip book: every leg is one transaction, mirrored in the counterparty's book."
)

_REQUIRED_META = ("deal", "leg", "counterparty", "kind", "status")
_FLAG = {Status.REALIZED: "*", Status.CONTRACTED: "!", Status.ANNOUNCED: "!"}
_LEG_FLAGS = frozenset(_FLAG.values())
# beancount's title when a book sets none: such a book names no company.
_DEFAULT_TITLE = "Beancount"
_LINK_RE = re.compile(r"[A-Za-z0-9\-_/.]+")
_CURRENCY_RE = re.compile(bc_amount.CURRENCY_RE)

Key = tuple[DealId, int]


class _Role(IntEnum):
    """Which side of a leg a book is on; also the tie-break of the transaction order."""

    PAYER = 0
    PAYEE = 1


@dataclass(frozen=True, slots=True)
class BooksRead:
    """What :func:`read_books` found in a set of books.

    ``legs`` are rebuilt from the transactions (one per deal and leg, located at the payer's
    transaction, or the payee's when the payer is ``External``); ``prices`` are the price
    directives, each once; ``companies`` are the books' display names (their titles), in file
    order; ``entries`` are beancount's loaded entries per company; ``errors`` holds every loader
    and reconciliation problem. Legs are returned even when errors are, so that a caller can
    show what was read; a caller that must stop raises :class:`~ledger.model.BadInput`.
    """

    legs: tuple[Leg, ...]
    prices: tuple[Price, ...]
    companies: tuple[Company, ...]
    entries: dict[Company, list[Any]]
    errors: tuple[LedgerError, ...]


# --------------------------------------------------------------------------------------------
# Writing


def book_entries(
    legs: Iterable[Leg], prices: Iterable[Price] = (), companies: Iterable[Company] = ()
) -> dict[Company, list[Any]]:
    """The beancount entries of every company's book, in book order.

    Every company that pays or receives a leg gets a book, and so does every company listed in
    ``companies`` (a header-only book when it has no legs); ``External`` never does. Books come
    in file-name order; each list holds the ``open``, ``commodity`` and ``price`` directives,
    then the transactions sorted by (date, deal, leg, side).

    Raises:
        BadInput: a leg cannot be booked (payer = payee, amount not positive or with more than
            two decimals, duplicate deal and leg, invalid currency, commodity or deal id, units
            without commodity) or two companies would share a book file.
    """
    legs = tuple(legs)
    prices = tuple(prices)
    errors = _leg_errors(legs) + _price_errors(prices)
    booked: dict[Company, list[tuple[Leg, _Role]]] = {
        company: [] for company in companies if company != EXTERNAL
    }
    for leg in legs:
        for company, role in ((leg.payer, _Role.PAYER), (leg.payee, _Role.PAYEE)):
            if company != EXTERNAL:
                booked.setdefault(company, []).append((leg, role))
    errors += _file_name_errors(booked)
    if errors:
        raise BadInput(errors)
    return {
        company: _company_entries(booked[company], prices)
        for company in sorted(booked, key=_company_order)
    }


def render_book(company: Company, entries: Sequence[Any]) -> str:
    """The text of one book: the header options, then the entries as beancount prints them.

    A blank line separates blocks of directives of one type and every transaction.
    """
    header = [
        HEADER_COMMENT,
        _option("title", company),
        *(_option("operating_currency", currency) for currency in _currencies(entries)),
    ]
    chunks = ["\n".join(header) + "\n"]
    previous: type | None = None
    for entry in entries:
        if isinstance(entry, data.Transaction) or type(entry) is not previous:
            chunks.append("\n")
        chunks.append(printer.format_entry(entry))
        previous = type(entry)
    return "".join(chunks)


def write_books(
    legs: Iterable[Leg],
    out_dir: Path,
    prices: Iterable[Price] = (),
    companies: Iterable[Company] = (),
) -> tuple[Path, ...]:
    """Write every company's book into ``out_dir``, all or nothing.

    The books are one output set (:mod:`ledger.output_set`): staged and each checked with
    beancount's loader; only when all pass do they replace the books of the previous run (the
    books of companies no longer in the input go too). Files roundtrip did not write stay.

    Returns:
        The paths of the books written, in file-name order.

    Raises:
        BadInput: the legs cannot be booked, or a book fails the loader (its errors name the
            book's final path and line); ``out_dir`` is unchanged.
    """
    out_dir = Path(out_dir)
    books = book_entries(legs, prices, companies)
    names = {company: _book_filename(company) for company in books}
    with output_set.staged(out_dir, BOOKS_SET) as stage:
        errors: list[LedgerError] = []
        for company, entries in books.items():
            path = stage.folder / names[company]
            path.write_text(render_book(company, entries), encoding="utf-8")
            errors.extend(_relabel(bean_check(path), path, out_dir / names[company]))
        if errors:
            raise BadInput(errors)
    return tuple(out_dir / name for name in names.values())


def _company_entries(booked: list[tuple[Leg, _Role]], prices: tuple[Price, ...]) -> list[Any]:
    """Opens, commodities, prices and transactions of one book."""
    booked = sorted(booked, key=lambda item: (item[0].date, item[0].deal, item[0].leg, item[1]))
    transactions = [_transaction(leg, role) for leg, role in booked]
    legs = [leg for leg, _ in booked]
    commodities = {leg.commodity for leg in legs if leg.commodity}
    used = commodities | {leg.currency for leg in legs}
    marks = sorted(
        {(p.date, p.commodity, p.currency, p.amount) for p in prices if p.commodity in used}
    )
    return [
        *_opens(transactions),
        *_commodities(legs, prices, commodities),
        *(
            _price(date_, commodity, number, currency)
            for date_, commodity, currency, number in marks
        ),
        *transactions,
    ]


def _transaction(leg: Leg, role: _Role) -> data.Transaction:
    """The leg as seen from one side: balanced, flagged by status, linked by deal."""
    if role is _Role.PAYER:
        counterparty, accounts = leg.payee, payer_accounts(leg.kind, leg.payee)
    else:
        counterparty, accounts = leg.payer, payee_accounts(leg.kind, leg.payer)
    number = leg.amount.quantize(CENT)
    postings = [
        _posting(accounts.debit, number, leg.currency),
        _posting(accounts.credit, -number, leg.currency),
    ]
    meta = data.new_metadata(leg.filename, leg.lineno)
    meta.update(_leg_meta(leg, counterparty))
    return data.Transaction(
        meta,
        leg.date,
        _FLAG[Status(leg.status)],
        counterparty,
        _narration(leg),
        data.EMPTY_SET,
        frozenset({f"deal-{leg.deal}"}),
        postings,
    )


def _leg_meta(leg: Leg, counterparty: Company) -> dict[str, Any]:
    """The roundtrip metadata of a leg's transaction, in the fixed order of the convention."""
    meta: dict[str, Any] = {
        "deal": leg.deal,
        "leg": Decimal(leg.leg),
        "counterparty": counterparty,
        "kind": Kind(leg.kind).value,
        "status": Status(leg.status).value,
    }
    if leg.estimate:
        meta["estimate"] = True
    if leg.note:
        meta["note"] = leg.note
    if leg.source:
        meta["source"] = leg.source
    if leg.units is not None:
        meta["units"] = _plain(leg.units)
    if leg.commodity:
        meta["commodity"] = leg.commodity
    return meta


def _narration(leg: Leg) -> str:
    """A sentence a reader of the book understands without the metadata."""
    what = Kind(leg.kind).value
    if leg.units is not None and leg.commodity:
        what = f"{what} of {_plain(leg.units)} {leg.commodity}"
    return f"{leg.payer} {what} to {leg.payee} (leg {leg.leg} of {leg.deal})"


def _posting(account: str, number: Decimal, currency: str) -> data.Posting:
    return data.Posting(account, bc_amount.Amount(number, currency), None, None, None, None)


def _opens(transactions: list[data.Transaction]) -> list[data.Open]:
    """One ``open`` per account, at its first use, restricted to the currencies it holds."""
    first: dict[str, date] = {}
    currencies: dict[str, set[str]] = {}
    for entry in transactions:  # already in date order
        for posting in entry.postings:
            first.setdefault(posting.account, entry.date)
            currencies.setdefault(posting.account, set()).add(posting.units.currency)
    return [
        data.Open(data.new_metadata(SOURCE, 0), day, account, sorted(currencies[account]), None)
        for account, day in sorted(first.items(), key=lambda item: (item[1], item[0]))
    ]


def _commodities(
    legs: list[Leg], prices: tuple[Price, ...], commodities: set[str]
) -> list[data.Commodity]:
    """A ``commodity`` directive per warrant commodity, dated at its first leg or mark."""
    result = []
    for commodity in sorted(commodities):
        days = [leg.date for leg in legs if leg.commodity == commodity]
        days += [price.date for price in prices if price.commodity == commodity]
        result.append(data.Commodity(data.new_metadata(SOURCE, 0), min(days), commodity))
    return result


def _price(day: date, commodity: str, number: Decimal, currency: str) -> data.Price:
    return data.Price(
        data.new_metadata(SOURCE, 0), day, commodity, bc_amount.Amount(_plain(number), currency)
    )


def _plain(number: Decimal) -> Decimal:
    """The same number without an exponent, which beancount's parser would not read back."""
    return Decimal(format(number, "f"))


def _currencies(entries: Sequence[Any]) -> tuple[str, ...]:
    """The currencies of a book's transactions; USD for a book without any."""
    found = {
        posting.units.currency
        for entry in entries
        if isinstance(entry, data.Transaction)
        for posting in entry.postings
        if posting.units is not None
    }
    return tuple(sorted(found)) or ("USD",)


def _option(name: str, value: str) -> str:
    return f'option "{name}" "{_escape(value)}"'


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _book_filename(company: Company) -> str:
    return account_component(company).lower() + BOOK_SUFFIX


def _company_order(company: Company) -> tuple[str, str]:
    try:
        return (_book_filename(company), company)
    except ValueError:
        return ("", company)


def _leg_errors(legs: tuple[Leg, ...]) -> tuple[LedgerError, ...]:
    """Why legs cannot be booked: each problem a LedgerError at the leg's own source."""
    errors: list[LedgerError] = []
    seen: dict[Key, Leg] = {}
    for leg in legs:
        problems = _leg_problems(leg)
        if leg.key in seen:
            first = f"first at {_at(seen[leg.key])}"
            problems.insert(0, f"leg {leg.leg} of deal {leg.deal} is given twice ({first})")
        seen.setdefault(leg.key, leg)
        errors.extend(LedgerError(leg.filename, leg.lineno, p, leg.deal) for p in problems)
    return tuple(errors)


def _leg_problems(leg: Leg) -> list[str]:
    """What in one leg would make a book beancount cannot read, or a meaningless one."""
    problems = []
    if leg.payer == leg.payee:
        problems.append(f"leg {leg.leg}: payer and payee are both {leg.payer}")
    for company in (leg.payer, leg.payee):
        try:
            account_component(company)
        except ValueError as exc:
            problems.append(str(exc))
    if not isinstance(leg.amount, Decimal) or not leg.amount > 0:
        problems.append(f"leg {leg.leg}: amount must be a positive Decimal, got {leg.amount!r}")
    elif leg.amount != leg.amount.quantize(CENT):
        problems.append(f"leg {leg.leg}: amount {leg.amount} has more than 2 decimals")
    if not _LINK_RE.fullmatch(leg.deal):
        problems.append(f"deal id {leg.deal!r} cannot be a beancount link (use [a-z0-9-])")
    if not _CURRENCY_RE.fullmatch(leg.currency):
        problems.append(f"leg {leg.leg}: {leg.currency!r} is not a beancount currency")
    if (leg.units is None) != (leg.commodity is None):
        problems.append(f"leg {leg.leg}: units and commodity go together")
    elif leg.commodity is not None and not _CURRENCY_RE.fullmatch(leg.commodity):
        problems.append(f"leg {leg.leg}: {leg.commodity!r} is not a beancount commodity")
    return problems


def _price_errors(prices: tuple[Price, ...]) -> tuple[LedgerError, ...]:
    """Why price marks cannot be written: names beancount cannot read, or a negative price."""
    errors = []
    for p in prices:
        if not (_CURRENCY_RE.fullmatch(p.commodity) and _CURRENCY_RE.fullmatch(p.currency)):
            message = f"price of {p.commodity!r} in {p.currency!r}: not beancount commodities"
            errors.append(LedgerError(p.filename, p.lineno, message))
        elif not isinstance(p.amount, Decimal) or p.amount < 0:
            message = f"price of {p.commodity} must be a Decimal >= 0, got {p.amount!r}"
            errors.append(LedgerError(p.filename, p.lineno, message))
    return tuple(errors)


def _file_name_errors(booked: dict[Company, list[tuple[Leg, _Role]]]) -> tuple[LedgerError, ...]:
    """Two companies whose names map to one book file (``xAI`` and ``XAI``) cannot both have one."""
    owners: dict[str, Company] = {}
    errors = []
    for company in sorted(booked):
        try:
            name = _book_filename(company)
        except ValueError as exc:
            errors.append(LedgerError(SOURCE, 0, str(exc)))
            continue
        if name in owners:
            errors.append(
                LedgerError(
                    SOURCE,
                    0,
                    f"companies {owners[name]!r} and {company!r} would share "
                    f"the book {name}: rename one",
                )
            )
        owners.setdefault(name, company)
    return tuple(errors)


def _relabel(errors: tuple[LedgerError, ...], staged: Path, final: Path) -> list[LedgerError]:
    """Errors found in a staged book, named after the path the book was meant for."""
    staged_name = _loader_name(staged)
    return [
        error._replace(filename=str(final))
        if error.filename in (staged_name, str(staged))
        else error
        for error in errors
    ]


# --------------------------------------------------------------------------------------------
# Reading


class _Side(NamedTuple):
    """One book's transaction for a leg: whose book, which side, and the leg it describes."""

    company: Company
    role: _Role
    leg: Leg


class _Book(NamedTuple):
    """One book as read: its leg transactions, its marks, and the legs it books unreadably."""

    company: Company
    filename: str
    entries: list[Any]
    sides: tuple[_Side, ...]
    prices: tuple[Price, ...]
    broken: frozenset[Key]


def bean_check(path: Path | str) -> tuple[LedgerError, ...]:
    """Run beancount's loader on one book, as ``bean-check`` does, and return its errors.

    Each error is located at the file and line beancount reports (the path as given).
    """
    path = Path(path)
    if not path.is_file():
        return (LedgerError(str(path), 0, "no such book file"),)
    _, errors, _ = _load(path)
    return errors


def read_books(paths: Path | str | Sequence[Path | str]) -> BooksRead:
    """Read a set of books back into legs and reconcile every mirrored pair.

    Args:
        paths: a folder (every ``*.beancount`` directly in it) or a list of book files.

    Returns:
        The legs, prices, companies and entries found, and every problem (see the module
        docstring for the list); nothing is raised for problems in the books.
    """
    files, errors = _book_files(paths)
    books: list[_Book] = []
    owners: dict[Company, str] = {}
    for path in files:
        book, book_errors = _read_book(path)
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
        entries={book.company: book.entries for book in books},
        errors=tuple(errors) + reconcile_errors + price_errors,
    )


def check_books(paths: Path | str | Sequence[Path | str]) -> tuple[LedgerError, ...]:
    """Every problem :func:`read_books` finds: what ``roundtrip check`` reports."""
    return read_books(paths).errors


def _book_files(paths: Path | str | Sequence[Path | str]) -> tuple[list[Path], list[LedgerError]]:
    """The book files to read: a folder's ``*.beancount`` files, or the files given."""
    if isinstance(paths, (str, os.PathLike)):
        path = Path(paths)
        if path.is_dir():
            files = sorted(path.glob(f"*{BOOK_SUFFIX}"))
            if not files:
                return [], [LedgerError(str(path), 0, f"no *{BOOK_SUFFIX} books in this folder")]
            return files, []
        candidates = [path]
    else:
        candidates = list(dict.fromkeys(Path(p) for p in paths))
    missing = [LedgerError(str(p), 0, "no such book file") for p in candidates if not p.is_file()]
    return [p for p in candidates if p.is_file()], missing


def _load(path: Path) -> tuple[list[Any], tuple[LedgerError, ...], dict[str, Any]]:
    """Beancount's loader on one file, with the extra validations ``bean-check`` runs."""
    entries, errors, options = loader.load_file(
        str(path), extra_validations=validation.HARDCORE_VALIDATIONS
    )
    names = {_loader_name(path): str(path)}
    return entries, tuple(_convert_error(error, names) for error in errors), options


def _loader_name(path: Path) -> str:
    """The file name beancount's loader puts in the metadata of what it reads from ``path``."""
    return os.path.normpath(os.path.abspath(str(path)))


def _convert_error(error: Any, names: dict[str, str]) -> LedgerError:
    source = error.source or {}
    filename = source.get("filename") or "<beancount>"
    entry_meta = getattr(error.entry, "meta", None) or {}
    deal = entry_meta.get("deal")
    return LedgerError(
        names.get(filename, filename),
        int(source.get("lineno") or 0),
        str(error.message).strip(),
        deal if isinstance(deal, str) else None,
    )


def _read_book(path: Path) -> tuple[_Book, list[LedgerError]]:
    """Load one book and turn its leg transactions and price directives into records."""
    entries, loader_errors, options = _load(path)
    filename = str(path)
    names = {_loader_name(path): filename}
    errors = list(loader_errors)
    company = options.get("title") or _DEFAULT_TITLE
    if company == _DEFAULT_TITLE:
        errors.append(
            LedgerError(filename, 0, 'the book names no company: add option "title" "<name>"')
        )
        company = path.stem
    flagged = {(e.filename, e.lineno) for e in loader_errors}
    sides: list[_Side] = []
    prices: list[Price] = []
    broken: set[Key] = set()
    for entry in entries:
        where = (names.get(entry.meta["filename"], entry.meta["filename"]), entry.meta["lineno"])
        if isinstance(entry, data.Transaction) and entry.flag in _LEG_FLAGS:
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
    book = _Book(company, filename, entries, tuple(sides), tuple(prices), frozenset(broken))
    return book, errors


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
            "(a transaction that is not a leg takes a flag other than * or !)"
        )
    fields, problems = _meta_fields(meta, company)
    if problems:
        return None, [LedgerError(filename, lineno, p, deal) for p in problems]
    kind, status, counterparty = fields["kind"], fields["status"], fields["counterparty"]
    found = _postings_side(entry, kind, counterparty, flagged)
    if isinstance(found, str):
        return error(found)
    errors = []
    if entry.flag != _FLAG[status]:
        message = f"flag {entry.flag} contradicts status {status} (use {_FLAG[status]})"
        errors.append(LedgerError(filename, lineno, message, deal))
    role, number, currency = found
    payer, payee = (company, counterparty) if role is _Role.PAYER else (counterparty, company)
    leg = Leg(
        date=entry.date,
        payer=payer,
        payee=payee,
        amount=number,
        currency=currency,
        filename=filename,
        lineno=lineno,
        **fields["leg"],
    )
    return _Side(company, role, leg), errors


def _meta_fields(meta: dict[str, Any], company: Company) -> tuple[dict[str, Any], list[str]]:
    """Typed roundtrip metadata of a transaction, and what is wrong with it."""
    problems: list[str] = []
    deal, number = meta["deal"], meta["leg"]
    if not isinstance(deal, str) or not deal:
        problems.append(f"deal must be a string, got {deal!r}")
    if not isinstance(number, Decimal) or number != number.to_integral_value() or number < 1:
        problems.append(f"leg must be a positive whole number, got {number!r}")
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
    return {"kind": kind, "status": status, "counterparty": counterparty, "leg": leg}, []


def _enum(enum: type[Kind] | type[Status], value: Any, name: str, problems: list[str]) -> Any:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        problems.append(f"unknown {name} {value!r} (one of {choices})")
        return None


def _postings_side(
    entry: data.Transaction, kind: Kind, counterparty: Company, flagged: bool
) -> tuple[_Role, Decimal, str] | str:
    """Which side of the leg the postings book, its amount and currency; or what is wrong.

    ``flagged``: the loader already reported this transaction, so an imbalance is not
    reported twice.
    """
    try:
        sides = {
            _Role.PAYER: payer_accounts(kind, counterparty),
            _Role.PAYEE: payee_accounts(kind, counterparty),
        }
    except ValueError as exc:
        return str(exc)
    totals: dict[str, Decimal] = {}
    currencies: set[str] = set()
    for posting in entry.postings:
        if posting.units is None or not isinstance(posting.units.number, Decimal):
            return f"posting to {posting.account} has no amount"
        totals[posting.account] = totals.get(posting.account, Decimal(0)) + posting.units.number
        currencies.add(posting.units.currency)
    role = next((r for r, acc in sides.items() if set(totals) == {acc.debit, acc.credit}), None)
    if role is None:
        return (
            f"postings to {', '.join(sorted(totals))} do not fit a {kind} leg with "
            f"{counterparty}: the payer books {_pair(sides[_Role.PAYER])}, "
            f"the payee {_pair(sides[_Role.PAYEE])}"
        )
    if len(currencies) != 1:
        return f"postings mix currencies {', '.join(sorted(currencies))}"
    accounts = sides[role]
    number = totals[accounts.debit]
    if number <= 0:
        return f"{accounts.debit} must be debited a positive amount, got {number}"
    if totals[accounts.credit] != -number and not flagged:
        return f"transaction does not balance: {number} vs {totals[accounts.credit]}"
    return role, number, currencies.pop()


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

    def err(leg: Leg, message: str) -> None:
        errors.append(LedgerError(leg.filename, leg.lineno, message, leg.deal))

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
