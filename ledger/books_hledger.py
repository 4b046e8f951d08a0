"""Legs -> hledger (and ledger-cli) journals: the same books for plain-text accounting users.

``roundtrip book --format ledger`` writes, per company ``<slug>``, the books of
:mod:`ledger.books_write` in hledger's journal format:

``<slug>.journal``
    what happened (realized legs), with the declarations ``hledger check --strict`` asks for:
    every account (``account``) and commodity (``commodity``) the company's legs use in
    either file, and the price marks (``P``);
``<slug>.commitments.journal``
    contracted and announced legs, flagged ``!`` (pending) and tagged ``contracted:`` or
    ``announced:``; loaded with the book, not alone;
``<slug>.forward.journal``
    ``include``s both.

The postings are :func:`ledger.accounts.leg_postings`, so ``hledger -f <slug>.journal
balance Income`` gives the income of the beancount book. A holding at cost (a warrant) is
``units COMMODITY @@ cost USD`` (hledger's total price, what beancount's ``{{cost}}`` is); an
undrawn guarantee posts nothing and is a transaction without postings, its amount a tag.
Transactions carry the leg's metadata as tags (``deal:``, ``leg:``, ``counterparty:``,
``kind:``, ``status:``) and are linked by ``deal:`` as the beancount books are by
``^deal-<id>``. Amounts are written without thousands separators (no ``commodity`` format
directive is needed to read them) and the text is byte-stable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from ledger import output_set
from ledger.accounts import BookPosting, Role, leg_postings
from ledger.books_write import book_slug, narration, render_books
from ledger.model import CENT, EXTERNAL, Company, Kind, Leg, Price, Status

__all__ = ["JOURNALS_SET", "render_journals", "write_journals"]

#: The kind of output set the journals are (:mod:`ledger.output_set`).
JOURNALS_SET = "journals"
JOURNAL_SUFFIX = ".journal"
COMMITMENTS_SUFFIX = ".commitments.journal"
FORWARD_SUFFIX = ".forward.journal"

_FLAG = {Status.REALIZED: "*", Status.CONTRACTED: "!", Status.ANNOUNCED: "!"}
_PLAIN_COMMODITY = re.compile(r"[A-Za-z]+")


def render_journals(
    legs: Iterable[Leg], prices: Iterable[Price] = (), companies: Iterable[Company] = ()
) -> dict[str, str]:
    """``{file name: text}`` of every company's three journals, in file-name order.

    Raises:
        BadInput: the legs cannot be booked (the checks of
            :func:`ledger.books_write.render_books`, which this runs first).
    """
    legs = tuple(legs)
    prices = tuple(prices)
    books = render_books(legs, prices, companies)
    booked: dict[Company, list[tuple[Leg, Role]]] = {company: [] for company in books}
    for leg in legs:
        if leg.payer != EXTERNAL:
            booked[leg.payer].append((leg, Role.PAYER))
        if leg.payee != EXTERNAL:
            booked[leg.payee].append((leg, Role.PAYEE))
    files: dict[str, str] = {}
    for company, sides in booked.items():
        files.update(_company_journals(company, sides, prices))
    return files


def _company_journals(
    company: Company, sides: list[tuple[Leg, Role]], prices: tuple[Price, ...]
) -> dict[str, str]:
    sides.sort(key=lambda item: (item[0].date, item[0].deal, item[0].leg, item[1]))
    txns = [(leg, role, leg_postings(leg, role)) for leg, role in sides]
    slug = book_slug(company)
    accounts = sorted({p.account for _, _, postings in txns for p in postings})
    used = {leg.currency for leg, _ in sides} | {leg.commodity for leg, _ in sides if leg.commodity}
    marks = sorted(
        {(p.date, p.commodity, p.currency, p.amount) for p in prices if p.commodity in used}
    )
    commodities = sorted(used | {currency for _, _, currency, _ in marks}) or ["USD"]
    realized = [t for t in txns if t[0].status is Status.REALIZED]
    promised = [t for t in txns if t[0].status is not Status.REALIZED]
    book = [
        [
            f"; {company}: what happened (realized legs), as `roundtrip book --format ledger`",
            f"; writes it. Contracted and announced legs are in {slug}{COMMITMENTS_SUFFIX};",
            f"; {slug}{FORWARD_SUFFIX} loads both. Every leg is tagged deal:<id>.",
        ],
        [f"account {account}" for account in accounts],
        [f"commodity {_commodity(c)}" for c in commodities],
        [f"P {day} {_commodity(c)} {_plain(n)} {_commodity(cur)}" for day, c, cur, n in marks],
    ]
    commitments = [
        [
            f"; {company}: commitments -- contracted and announced legs, not (yet) happened,",
            "; flagged ! and tagged contracted: or announced:. Load it with the book (as",
            f"; {slug}{FORWARD_SUFFIX} does); an undrawn guarantee posts nothing.",
        ]
    ]
    forward = [
        [f"; {company}: forward view -- what happened and what is contracted or announced."],
        [f"include {slug}{JOURNAL_SUFFIX}", f"include {slug}{COMMITMENTS_SUFFIX}"],
    ]
    return {
        slug + JOURNAL_SUFFIX: _text(book, realized),
        slug + COMMITMENTS_SUFFIX: _text(commitments, promised),
        slug + FORWARD_SUFFIX: _text(forward, []),
    }


def _text(header: list[list[str]], txns: list[tuple[Leg, Role, tuple[BookPosting, ...]]]) -> str:
    """Blocks of header lines, then the transactions, separated by blank lines."""
    blocks = ["".join(line + "\n" for line in block) for block in header if block]
    return "\n".join(blocks + [_transaction(*txn) for txn in txns])


def _transaction(leg: Leg, role: Role, postings: tuple[BookPosting, ...]) -> str:
    """One leg from one side: ``date flag payee | narration  ; tags``, then its postings."""
    counterparty = leg.payee if role is Role.PAYER else leg.payer
    status = Status(leg.status)
    tags = [
        ("deal", leg.deal),
        ("leg", str(leg.leg)),
        ("counterparty", counterparty),
        ("kind", Kind(leg.kind).value),
        ("status", status.value),
    ]
    if not postings:
        tags.append(("amount", f"{_money(leg.amount)} {leg.currency}"))
    tag_text = ", ".join(f"{name}:{_tag_value(value)}" for name, value in tags)
    if status is not Status.REALIZED:
        tag_text += f", {status.value}:"
    head = (
        f"{leg.date} {_FLAG[status]} {_description(counterparty)} | "
        f"{_description(narration(leg, role))}  ; {tag_text}"
    )
    lines = [head]
    for text in (leg.note, leg.source):
        if text:
            lines.append(f"    ; {_comment(text)}")
    width = max((len(p.account) for p in postings), default=0)
    amounts = [_amount(p) for p in postings]
    right = max((len(number) for number, _ in amounts), default=0)
    lines += [
        f"    {p.account:<{width}}  {number:>{right}} {rest}"
        for p, (number, rest) in zip(postings, amounts, strict=True)
    ]
    return "".join(line + "\n" for line in lines)


def _amount(posting: BookPosting) -> tuple[str, str]:
    """The number and what follows it (commodity, and a holding's total cost)."""
    if posting.units is not None and posting.commodity is not None:
        return _plain(posting.units), (
            f"{_commodity(posting.commodity)} @@ "
            f"{_money(posting.number)} {_commodity(posting.currency)}"
        )
    return _money(posting.number), _commodity(posting.currency)


def _commodity(name: str) -> str:
    """A commodity symbol as hledger reads it: letters bare, anything else quoted."""
    return name if _PLAIN_COMMODITY.fullmatch(name) else f'"{name}"'


def _money(number: Decimal) -> str:
    return format(number.quantize(CENT), "f")


def _plain(number: Decimal) -> str:
    return format(number, "f")


def _description(text: str) -> str:
    """Text for a description: ``;`` would start a comment and ``|`` split payee from note."""
    return text.replace(";", ",").replace("|", "/")


def _tag_value(text: str) -> str:
    """A tag's value ends at a comma: commas become spaces."""
    return text.replace(",", " ").replace(";", " ")


def _comment(text: str) -> str:
    """A comment line's text: a ``name:`` in it would read as a tag, so colons are spaced."""
    return text.replace("\n", " ").replace(":", " :")


def write_journals(
    legs: Iterable[Leg],
    out_dir: Path,
    prices: Iterable[Price] = (),
    companies: Iterable[Company] = (),
) -> tuple[Path, ...]:
    """Write every company's journals into ``out_dir``, all or nothing (an output set).

    Raises:
        BadInput: the legs cannot be booked; ``out_dir`` is unchanged.
    """
    files = render_journals(legs, prices, companies)
    return output_set.write_set(Path(out_dir), files, JOURNALS_SET, foreign="*.journal")
