"""Legs -> beancount books: four files per company, every leg mirrored, rendered as text.

In: legs (and optionally :class:`~ledger.model.Price` marks and companies that must get a book
even without legs). Out, per company ``<slug>`` (its account component lowercased: ``xAI`` ->
``xai``):

``<slug>.beancount``
    **The book: what happened.** Its realized legs, each one balanced transaction settled in
    cash (postings from :mod:`ledger.accounts`), with the options Fava needs at these
    magnitudes. Opened alone in Fava or bean-query, its income statement is the company's
    realized revenue and its balance sheet the positions the realized legs leave.
``<slug>.commitments.beancount``
    **What was promised**: its contracted and announced legs (remaining performance
    obligations, purchase commitments, letters of intent), flagged ``!`` and tagged
    ``#contracted`` or ``#announced``, booked with the postings they will have when they
    happen; an undrawn guarantee posts nothing and carries its ``amount:`` as metadata (ASC
    460). It has no options of its own: it is loaded with the book.
``<slug>.forward.beancount``
    **The forward view**: ``include``s both, so ``fava books/<slug>.forward.beancount`` shows
    what happened and what is promised; Fava's tag filter (``#contracted``) or bean-query
    (``WHERE 'contracted' IN tags``) selects the signed part; saved queries for deals by
    status, commitments outstanding and the undrawn guarantees (which post nothing).
``<slug>.netted.beancount``
    **The netted view**: the book with roundtrip's beancount plugin (reconciliation against
    the other books, elimination entries), Fava's Circular revenue page and the saved queries
    (:mod:`ledger.netted_view`).

``External`` keeps no book, so its legs appear in the other company's book only. The book of
Nvidia for ``tests/test_books_write.py``'s ``TINY`` (Nvidia invests 100 in OpenAI; OpenAI is
to buy 60.50 of chips), header comment left out::

    option "title" "Nvidia"
    option "operating_currency" "USD"
    option "render_commas" "TRUE"

    2025-09-22 custom "fava-option" "locale" "en_US"
    2025-09-22 custom "fava-option" "invert-income-liabilities-equity" "true"

    2025-09-22 open Assets:Cash                                          USD
    2025-09-22 open Assets:Investments:OpenAI                            USD

    2025-09-22 * "OpenAI" "Investment in OpenAI: Nvidia to invest in OpenAI" ^deal-nv-oai
      deal: "nv-oai"
      leg: 1
      counterparty: "OpenAI"
      kind: "equity"
      status: "realized"
      source: "PR"
      Assets:Investments:OpenAI   100.00 USD
      Assets:Cash                -100.00 USD

and its commitments file holds ``2025-10-01 ! "OpenAI" "Sale to OpenAI: ..." #contracted``
with ``Assets:Cash 60.50 USD`` / ``Income:Sales:OpenAI -60.50 USD``.

**Conventions** (what the reader, :mod:`ledger.books_read`, relies on). The title option is the
company's display name. ``operating_currency`` lists the currencies of all the company's legs
(USD when it has none). ``open`` directives are dated at each account's first use in either file
and restrict it to the currencies (or commodities) it holds; the book opens every account its
own legs use, the commitments file the others. Metadata, in this order: ``deal``, ``leg``,
``counterparty`` (display name), ``kind``, ``status``, then ``estimate: TRUE`` (only when
set), ``note`` and ``source`` (only when non-empty), ``units`` and ``commodity`` (grants),
``amount`` (undrawn guarantees). Payee: the counterparty; narration: what the leg is from the
owner's side ("Sale to OpenAI", "Investment from Nvidia": :func:`narration`), then ``: `` and
the deal's title when it has one. Amounts carry thousands separators (beancount reads them).
A book holding a commodity or trading in a currency gets its ``commodity`` directive and its
``price`` directives; prices of a commodity no leg uses are written nowhere. When the realized
legs take ``Assets:Cash`` below zero the header says so: the web does not hold the company's
other funding, and no figure is invented to cover it. Output is byte-stable: the same legs give
the same bytes.

Text is rendered directly (no round trip through beancount's printer), in time proportional to
the number of legs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from beancount.core import amount as bc_amount

from ledger import output_set
from ledger.accounts import CASH, BookPosting, Role, contingent, leg_postings
from ledger.books_load import load, loader_name, one_book_at_a_time
from ledger.limits import MIN_DATE
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
from ledger.netted_view import FORWARD_QUERIES, netted_view, query_lines

__all__ = [
    "BOOK_SUFFIX",
    "COMMITMENTS_SUFFIX",
    "ELIMINATIONS_SUFFIX",
    "FORWARD_SUFFIX",
    "NETTED_SUFFIX",
    "SOURCE",
    "BookFiles",
    "book_slug",
    "narration",
    "render_books",
    "write_books",
]

#: The pseudo-source of the errors this module reports about the set of books.
SOURCE = "<roundtrip.books_write>"
BOOK_SUFFIX = ".beancount"
#: The kind of output set the books are (:mod:`ledger.output_set`).
BOOKS_SET = "books"
COMMITMENTS_SUFFIX = ".commitments.beancount"
FORWARD_SUFFIX = ".forward.beancount"
ELIMINATIONS_SUFFIX = ".eliminations.beancount"
#: The netted view: the book with roundtrip's plugin, saved queries and Fava page.
NETTED_SUFFIX = ".netted.beancount"

#: Fava options every book sets (``custom "fava-option"``): thousands separators in the
#: en_US locale, and income, liabilities and equity shown as positive numbers.
FAVA_OPTIONS = (("locale", "en_US"), ("invert-income-liabilities-equity", "true"))

_FLAG = {Status.REALIZED: "*", Status.CONTRACTED: "!", Status.ANNOUNCED: "!"}
_LINK_RE = re.compile(r"[A-Za-z0-9\-_/.]+")
_CURRENCY_RE = re.compile(bc_amount.CURRENCY_RE)
_OPEN_WIDTH = 52

Key = tuple[DealId, int]
#: ``on_progress(done, total)``: told after each company's files, for a progress bar.
Progress = Callable[[int, int], None]

# What a leg is, said from each side: (payer's words, payee's words) before the counterparty.
_PHRASES: dict[Kind, tuple[str, str]] = {
    Kind.SALE: ("Purchase from", "Sale to"),
    Kind.CLOUD: ("Cloud services from", "Cloud services to"),
    Kind.LEASE: ("Lease from", "Lease to"),
    Kind.BACKSTOP: ("Backstop drawn: capacity from", "Backstop drawn by"),
    Kind.EQUITY: ("Investment in", "Investment from"),
    Kind.LOAN: ("Loan to", "Loan from"),
    Kind.REPAYMENT: ("Loan repayment to", "Loan repayment from"),
    Kind.DIVIDEND: ("Dividend to", "Dividend from"),
    Kind.TAX: ("Tax paid to", "Tax from"),
    Kind.WARRANT: ("Warrant granted to", "Warrant from"),
}


@dataclass(frozen=True, slots=True)
class BookFiles:
    """The three files of one company: names and texts."""

    company: Company
    slug: str
    book: str
    commitments: str
    forward: str
    netted: str = ""

    def files(self) -> dict[str, str]:
        """``{file name: text}`` in the order the files are written."""
        files = {
            self.slug + BOOK_SUFFIX: self.book,
            self.slug + COMMITMENTS_SUFFIX: self.commitments,
            self.slug + FORWARD_SUFFIX: self.forward,
        }
        if self.netted:
            files[self.slug + NETTED_SUFFIX] = self.netted
        return files


def book_slug(company: Company) -> str:
    """The stem of a company's files: its account component, lowercased (``xAI`` -> ``xai``).

    Raises:
        ValueError: the name has no letters or digits.
    """
    return account_component(company).lower()


def phrase(kind: Kind, role: Role, counterparty: Company, status: Status, capex: bool) -> str:
    """What the leg is, from the book owner's side, without the deal's title."""
    if contingent(kind, status):
        words = "Capacity guarantee to" if role is Role.PAYER else "Capacity guarantee from"
        return f"{words} {counterparty} (undrawn)"
    if kind is Kind.SALE and role is Role.PAYER and capex:
        return f"Equipment purchase from {counterparty}"
    return f"{_PHRASES[kind][role]} {counterparty}"


def narration(leg: Leg, role: Role) -> str:
    """The narration of a leg's transaction in the book of its payer or payee."""
    counterparty = leg.payee if role is Role.PAYER else leg.payer
    words = phrase(leg.kind, role, counterparty, leg.status, leg.capex)
    return f"{words}: {leg.title}" if leg.title else words


# --------------------------------------------------------------------------------------------
# Rendering


def render_books(
    legs: Iterable[Leg], prices: Iterable[Price] = (), companies: Iterable[Company] = ()
) -> dict[Company, BookFiles]:
    """The files of every company, in file-name order.

    Every company that pays or receives a leg gets its files, and so does every company listed
    in ``companies`` (header-only files when it has no legs); ``External`` never does.

    Raises:
        BadInput: a leg cannot be booked (payer = payee, amount not positive or with more than
            two decimals, duplicate deal and leg, invalid currency, commodity or deal id, units
            without commodity, ``capex`` on a leg that is not a sale) or two companies would
            share a book file.
    """
    booked, marks = _bookable(legs, prices, companies)
    return {company: _company_files(company, items, marks) for company, items in booked.items()}


Marks = dict[str, list[tuple[date, str, str, Decimal]]]


def _bookable(
    legs: Iterable[Leg], prices: Iterable[Price], companies: Iterable[Company]
) -> tuple[dict[Company, list[tuple[Leg, Role]]], Marks]:
    """Each company's legs with its side, in file-name order, and the price marks by commodity.

    Grouping the marks once lets each company find its own without a pass over every mark.

    Raises:
        BadInput: as :func:`render_books` says.
    """
    legs = tuple(legs)
    prices = tuple(prices)
    errors = _leg_errors(legs) + _price_errors(prices)
    booked: dict[Company, list[tuple[Leg, Role]]] = {
        company: [] for company in companies if company != EXTERNAL
    }
    for leg in legs:
        if leg.payer != EXTERNAL:
            booked.setdefault(leg.payer, []).append((leg, Role.PAYER))
        if leg.payee != EXTERNAL:
            booked.setdefault(leg.payee, []).append((leg, Role.PAYEE))
    errors += _file_name_errors(booked)
    if errors:
        raise BadInput(errors)
    marks: Marks = {}
    for p in sorted({(p.date, p.commodity, p.currency, p.amount) for p in prices}):
        marks.setdefault(p[1], []).append(p)
    return {company: booked[company] for company in sorted(booked, key=_company_order)}, marks


class _Txn:
    """One leg's transaction in one book, with what the opens and header need from it."""

    __slots__ = ("leg", "postings", "role")

    def __init__(self, leg: Leg, role: Role) -> None:
        self.leg = leg
        self.role = role
        self.postings = leg_postings(leg, role)


def _company_files(company: Company, booked: list[tuple[Leg, Role]], prices: Marks) -> BookFiles:
    booked.sort(key=lambda item: (item[0].date, item[0].deal, item[0].leg, item[1]))
    txns = [_Txn(leg, role) for leg, role in booked]
    realized = [t for t in txns if t.leg.status is Status.REALIZED]
    promised = [t for t in txns if t.leg.status is not Status.REALIZED]
    book_opens, commitment_opens = _opens(realized, promised)
    legs = [t.leg for t in txns]
    commodities = sorted({leg.commodity for leg in legs if leg.commodity})
    currencies = sorted({leg.currency for leg in legs}) or ["USD"]
    used = set(commodities) | set(currencies)
    marks = sorted(mark for commodity in used for mark in prices.get(commodity, ()))
    commodity_lines = [
        f"{_first_day(commodity, legs, marks)} commodity {commodity}" for commodity in commodities
    ]
    price_lines = [f"{day} price {c} {_units(number)} {cur}" for day, c, cur, number in marks]
    days = [line[:10] for line in book_opens + commodity_lines + price_lines]
    first = min(days) if days else MIN_DATE.isoformat()
    slug = book_slug(company)
    options = [
        _option("title", company),
        *(_option("operating_currency", c) for c in currencies),
        _option("render_commas", "TRUE"),
    ]
    fava = [f'{first} custom "fava-option" "{k}" "{v}"' for k, v in FAVA_OPTIONS]
    book = _join(
        _book_header(company, slug, realized),
        options,
        fava,
        book_opens,
        commodity_lines,
        price_lines,
        *(_transaction(t) for t in realized),
    )
    commitments = _join(
        _commitments_header(company, slug),
        commitment_opens,
        *(_transaction(t) for t in promised),
    )
    forward = _join(
        [
            f"; {company}: forward view -- what happened ({slug}{BOOK_SUFFIX}) and what is",
            f"; contracted or announced ({slug}{COMMITMENTS_SUFFIX}). Filter with the tags",
            "; #contracted and #announced. Generated by `roundtrip book`.",
        ],
        [
            _option("title", f"{company} (forward view)"),
            *(_option("operating_currency", c) for c in currencies),
            _option("render_commas", "TRUE"),
        ],
        [f'include "{slug}{BOOK_SUFFIX}"', f'include "{slug}{COMMITMENTS_SUFFIX}"'],
        query_lines(first, FORWARD_QUERIES),
    )
    netted = netted_view(company, slug, currencies, first)
    return BookFiles(company, slug, book, commitments, forward, netted)


def _join(*blocks: Sequence[str] | str) -> str:
    """Blocks of lines (or one rendered transaction each) separated by blank lines."""
    parts = [b if isinstance(b, str) else "".join(line + "\n" for line in b) for b in blocks]
    return "\n".join(part for part in parts if part)


def _book_header(company: Company, slug: str, realized: list[_Txn]) -> list[str]:
    lines = [
        f"; {company}: what happened (realized legs), as `roundtrip book` writes it.",
        "; Every leg is one transaction here and one in the counterparty's book, linked",
        "; ^deal-<id>; a realized leg settles in Assets:Cash. Contracted and announced legs are",
        f"; in {slug}{COMMITMENTS_SUFFIX}; {slug}{FORWARD_SUFFIX} loads both.",
    ]
    for currency, (low, day) in sorted(_lowest_cash(realized).items()):
        lines += [
            f"; Assets:Cash goes below zero (lowest {_money(low)} {currency} on {day}): the web",
            f"; does not hold all of {company}'s funding and spending (revenue, debt and equity",
            "; from outside it), so this cash is what the web's legs moved, not a bank balance.",
        ]
    return lines


def _commitments_header(company: Company, slug: str) -> list[str]:
    return [
        f"; {company}: commitments -- contracted and announced legs, not (yet) happened,",
        "; booked as they will be when they happen, flagged ! and tagged #contracted or",
        "; #announced. An undrawn guarantee posts nothing: its amount is metadata (ASC 460).",
        f"; Not a ledger on its own: load it with {slug}{BOOK_SUFFIX} (as {slug}{FORWARD_SUFFIX}",
        "; does).",
    ]


def _lowest_cash(realized: list[_Txn]) -> dict[str, tuple[Decimal, date]]:
    """Per currency, the lowest negative end-of-day balance of Assets:Cash, and its day."""
    balance: dict[str, Decimal] = {}
    lowest: dict[str, tuple[Decimal, date]] = {}
    for i, txn in enumerate(realized):
        for posting in txn.postings:
            if posting.account == CASH:
                balance[posting.currency] = balance.get(posting.currency, Decimal(0)) + (
                    posting.number
                )
        last_of_day = i + 1 == len(realized) or realized[i + 1].leg.date != txn.leg.date
        if last_of_day:
            for currency, total in balance.items():
                if total < 0 and (currency not in lowest or total < lowest[currency][0]):
                    lowest[currency] = (total, txn.leg.date)
    return lowest


def _opens(realized: list[_Txn], promised: list[_Txn]) -> tuple[list[str], list[str]]:
    """The ``open`` lines of the book and of the commitments file.

    Each account opens once, at its first use in either file, with every currency it holds;
    in the book when the book uses it, else in the commitments file.
    """
    first: dict[str, date] = {}
    held: dict[str, set[str]] = {}
    in_book: set[str] = set()
    for txns, book in ((realized, True), (promised, False)):
        for txn in txns:
            for posting in txn.postings:
                account = posting.account
                day = first.get(account)
                if day is None or txn.leg.date < day:
                    first[account] = txn.leg.date
                held.setdefault(account, set()).add(posting.commodity or posting.currency)
                if book:
                    in_book.add(account)
    book_lines, commitment_lines = [], []
    for account, day in sorted(first.items(), key=lambda item: (item[1], item[0])):
        line = f"{day} open {account:<{_OPEN_WIDTH}} {','.join(sorted(held[account]))}"
        (book_lines if account in in_book else commitment_lines).append(line)
    return book_lines, commitment_lines


def _first_day(commodity: str, legs: list[Leg], marks: list[tuple]) -> date:
    days = [leg.date for leg in legs if leg.commodity == commodity]
    days += [day for day, c, _, _ in marks if c == commodity]
    return min(days)


def _transaction(txn: _Txn) -> str:
    """The leg as seen from one side: flagged and tagged by status, linked by deal.

    One f-string per line, joined once: a book of a million legs is rendered in seconds, with
    no round trip through beancount's printer (the round-trip tests hold the text to what
    beancount reads back).
    """
    leg, role = txn.leg, txn.role
    counterparty = _escape(leg.payee if role is Role.PAYER else leg.payer)
    status = Status(leg.status)
    tag = "" if status is Status.REALIZED else f" #{status}"
    text = (
        f'{leg.date} {_FLAG[status]} "{counterparty}" "{_escape(narration(leg, role))}"'
        f'{tag} ^deal-{leg.deal}\n  deal: "{_escape(leg.deal)}"\n  leg: {leg.leg}\n'
        f'  counterparty: "{counterparty}"\n  kind: "{Kind(leg.kind)}"\n  status: "{status}"\n'
    )
    if leg.estimate:
        text += "  estimate: TRUE\n"
    if leg.note:
        text += f'  note: "{_escape(leg.note)}"\n'
    if leg.source:
        text += f'  source: "{_escape(leg.source)}"\n'
    if leg.units is not None:
        text += f"  units: {_plain(leg.units)}\n"
    if leg.commodity:
        text += f'  commodity: "{leg.commodity}"\n'
    if not txn.postings:
        return text + f"  amount: {_money(leg.amount)} {leg.currency}\n"
    return text + _posting_lines(txn.postings)


def _posting_lines(postings: tuple[BookPosting, ...]) -> str:
    """Postings with accounts padded to one width and amounts right-aligned."""
    width = max(len(p.account) for p in postings)
    cells = [
        (_units(p.units), f"{p.commodity} {{{{{_money(p.number)} {p.currency}}}}}")
        if p.units is not None
        else (_money(p.number), p.currency)
        for p in postings
    ]
    # Amounts align on their right end, unless a holding at cost makes the lines unlike.
    right = 0 if any(p.units is not None for p in postings) else max(len(n) for n, _ in cells)
    return "".join(
        f"  {p.account:<{width}}  {number:>{right}} {rest}\n"
        for p, (number, rest) in zip(postings, cells, strict=True)
    )


def _money(number: Decimal) -> str:
    """Two decimals with thousands separators: ``-1,234.50``."""
    return format(number.quantize(CENT), ",")


def _units(number: Decimal) -> str:
    """A unit count or price with thousands separators, without an exponent."""
    return format(_plain(number), ",")


def _plain(number: Decimal) -> Decimal:
    """The same number without an exponent, which beancount's parser would not read back."""
    return Decimal(format(number, "f"))


def _option(name: str, value: str) -> str:
    return f'option "{name}" "{_escape(value)}"'


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _company_order(company: Company) -> tuple[str, str]:
    try:
        return (book_slug(company), company)
    except ValueError:
        return ("", company)


# --------------------------------------------------------------------------------------------
# Validation of what is to be booked


def _leg_errors(legs: tuple[Leg, ...]) -> tuple[LedgerError, ...]:
    """Why legs cannot be booked: each problem a LedgerError at the leg's own source."""
    errors: list[LedgerError] = []
    seen: dict[Key, Leg] = {}
    for leg in legs:
        problems = _leg_problems(leg)
        if leg.key in seen:
            first = f"first at {seen[leg.key].filename}:{seen[leg.key].lineno}"
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
    elif leg.units is not None and not leg.units > 0:
        problems.append(f"leg {leg.leg}: units must be > 0, got {leg.units}")
    if leg.capex and leg.kind is not Kind.SALE:
        problems.append(
            f"leg {leg.leg}: capex (equipment the buyer capitalises) goes with kind sale, "
            f"not {Kind(leg.kind).value}"
        )
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


def _file_name_errors(booked: dict[Company, list[tuple[Leg, Role]]]) -> tuple[LedgerError, ...]:
    """Two companies whose names map to one book file (``xAI`` and ``XAI``) cannot both have one."""
    owners: dict[str, Company] = {}
    errors = []
    for company in sorted(booked):
        try:
            name = book_slug(company) + BOOK_SUFFIX
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


# --------------------------------------------------------------------------------------------
# Writing


def write_books(
    legs: Iterable[Leg],
    out_dir: Path,
    prices: Iterable[Price] = (),
    companies: Iterable[Company] = (),
    *,
    on_progress: Progress | None = None,
) -> tuple[Path, ...]:
    """Write every company's three files into ``out_dir``, all or nothing.

    The files are one output set (:mod:`ledger.output_set`): staged company by company (each
    company's text is written before the next is rendered, so memory holds one company's
    text), each book checked once with beancount's loader together with its commitments (what
    its forward view loads), and only when all pass do they replace the files of the previous
    run (the files of companies no longer in the input go too). Files roundtrip did not write
    stay. That one load also covers the book alone: the book opens every account and commodity
    its own transactions use, with every currency either file puts in it, so its entries meet
    the same checks with or without the commitments (``roundtrip check`` still loads it alone,
    for books edited by hand).

    ``on_progress(done, total)`` is told after each company's files are written and checked.

    Returns:
        The paths written, company by company (book, commitments, forward view).

    Raises:
        BadInput: the legs cannot be booked, or a book fails the loader (its errors name the
            book's final path and line); ``out_dir`` is unchanged.
    """
    out_dir = Path(out_dir)
    booked, marks = _bookable(legs, prices, companies)
    names: list[str] = []
    with output_set.staged(out_dir, BOOKS_SET) as stage:
        staged = stage.folder
        errors: list[LedgerError] = []
        with one_book_at_a_time() as settle:
            for done, (company, items) in enumerate(booked.items(), 1):
                files = _company_files(company, items, marks)
                for name, text in files.files().items():
                    (staged / name).write_text(text, encoding="utf-8")
                    names.append(name)
                book = staged / (files.slug + BOOK_SUFFIX)
                commitments = staged / (files.slug + COMMITMENTS_SUFFIX)
                errors.extend(_relabel(load((book, commitments))[1], staged, out_dir))
                settle()
                if on_progress is not None:
                    on_progress(done, len(booked))
        if errors:
            raise BadInput(list(dict.fromkeys(errors)))
    return tuple(out_dir / name for name in names)


def _relabel(errors: tuple[LedgerError, ...], staged: Path, final: Path) -> list[LedgerError]:
    """Errors found in a staged file, named after the path the file was meant for."""
    prefixes = (str(staged) + os.sep, loader_name(staged) + os.sep)
    return [
        error._replace(filename=str(final / Path(error.filename).name))
        if error.filename.startswith(prefixes)
        else error
        for error in errors
    ]
