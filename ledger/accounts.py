"""The chart of accounts: the postings a leg makes in each of its two books, and why.

Every leg is booked from the owner's side of each book, as the entry an accountant would write
when it happens. ``X`` is the counterparty's account component (``xAI`` -> ``XAI``); ``A`` the
leg's amount. A realized leg settles in cash in the same transaction (``Assets:Cash``), so a
book's cash is the sum of what its realized legs moved (:func:`booked_cash`).

==========  ========================================  ========================================
kind        payee's book (receives)                   payer's book (pays)
==========  ========================================  ========================================
sale        Assets:Cash  +A / Income:Sales:X          Expenses:Purchases:X +A / Assets:Cash
            (ASC 606: revenue when control passes)    or, ``capex``: Assets:Equipment:X +A
                                                      (ASC 360: equipment the buyer installs)
cloud       Assets:Cash / Income:Cloud:X              Expenses:Cloud:X / Assets:Cash
lease       Assets:Cash / Income:Lease:X              Expenses:Lease:X / Assets:Cash
backstop    drawn: Assets:Cash / Income:Backstop:X    drawn: Expenses:Backstop:X / Assets:Cash
            undrawn: no posting (ASC 460, below)      undrawn: no posting (ASC 460, below)
equity      Assets:Cash / Equity:Issued:X (ASC 505)   Assets:Investments:X / Assets:Cash
                                                      (ASC 321/323)
loan        Assets:Cash / Liabilities:Loans:X         Assets:Loans:X / Assets:Cash (ASC 310)
            (ASC 470: debt until repaid)
repayment   Assets:Cash / Assets:Loans:X              Liabilities:Loans:X / Assets:Cash
dividend    Assets:Cash / Income:Dividends:X          Equity:Dividends:X / Assets:Cash
tax         Assets:Cash / Income:Tax:X                Expenses:Tax:X / Assets:Cash
warrant     Assets:Warrants:X / Income:Grants:X       Expenses:Warrants:X / Equity:Warrants:X
==========  ========================================  ========================================

Why these, in more words:

- **Revenue** (``Income:Sales|Cloud|Lease|Backstop``) is what the netting engine counts as
  revenue; no other account sits under those four, so a book's income statement over those
  accounts equals the payee's gross revenue of ``roundtrip net`` for the same period. ``tax``
  (a government's receipt) and ``dividend`` sit under ``Income`` apart, and are not revenue.
- **Equipment** (``capex: TRUE`` on a ``sale`` leg): chips and systems a buyer puts into its
  own data centres are property and equipment (ASC 360-10), not an expense of the period;
  depreciation is not booked (no useful lives are in the data). Cloud capacity and leases are
  expensed as used: a lessee's right-of-use asset and lease liability (ASC 842-20-25-1) need a
  discount rate and the whole term, which the data does not give; the lease payments of later
  periods are in the commitments view.
- **Warrants and share grants** are held in their own commodity at their grant-date value,
  ``40,000,000 AMDW {{6,600,000,000.00 USD}}``, so that the ``price`` directives give Fava a
  market value and an unrealized gain (ASC 321-10-35-1 measures equity securities at fair value):
  the gain is units x the latest price - the grant-date value, which is what ``roundtrip audit``
  and ``roundtrip net`` report as **paper gains**. The holder credits ``Income:Grants:X``
  (non-cash consideration received; ASC 705-20 would net it against the vendor's prices, kept
  apart here so purchases show their contract price). The grantor books equity it issued
  (``Equity:Warrants:X``) against ``Expenses:Warrants:X`` (ASC 606-10-32-25 would present
  consideration payable to a customer as a reduction of revenue; kept on its own line so the
  grantor's revenue stays gross, as the netting counts it). A warrant without ``units`` is held
  at its value in the leg's currency.
- **Equity bought with units** (``units``/``commodity`` on an equity leg) is held the same way
  at the investor: ``Assets:Investments:X  6,250,000 CRWV {{250,000,000.00 USD}}``.
- **A guarantee or capacity backstop** is a contingent obligation (ASC 460-10-50-4: disclosed
  with its maximum exposure): while undrawn it posts nothing in either book — the transaction
  carries the amount as metadata ``amount:`` and sits in the commitments view only. A drawn
  backstop (``realized``) is a purchase of capacity like any other.
- **Contracted and announced legs** (remaining performance obligations, ASC 606-10-50-13;
  purchase commitments, ASC 440-10-50; letters of intent) are booked with the same postings as
  when they happen, but in the company's commitments file, which only the forward view loads.

Circular revenue written back by netting is moved from ``Income:<Label>:<payer>`` to
``Income:Circular:<Label>:<payer>`` so that ``Income:Sales`` etc. show organic revenue only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import IntEnum
from typing import NamedTuple

from ledger.model import Company, Kind, Leg, Status, account_component

__all__ = [
    "CASH",
    "BookPosting",
    "Postings",
    "Role",
    "booked_cash",
    "in_booked_cash",
    "circular_account",
    "contingent",
    "leg_postings",
    "moves_cash",
    "payee_accounts",
    "payer_accounts",
    "revenue_account",
]

#: The one cash account of every book.
CASH = "Assets:Cash"

_REVENUE_LABEL: dict[Kind, str] = {
    Kind.SALE: "Sales",
    Kind.CLOUD: "Cloud",
    Kind.LEASE: "Lease",
    Kind.BACKSTOP: "Backstop",
}
_PURCHASE_LABEL: dict[Kind, str] = {
    Kind.SALE: "Purchases",
    Kind.CLOUD: "Cloud",
    Kind.LEASE: "Lease",
    Kind.BACKSTOP: "Backstop",
}
# The non-cash account of a cash leg, per side: payee credits, payer debits.
_PAYEE_CREDIT: dict[Kind, str] = {
    Kind.EQUITY: "Equity:Issued",
    Kind.LOAN: "Liabilities:Loans",
    Kind.REPAYMENT: "Assets:Loans",
    Kind.DIVIDEND: "Income:Dividends",
    Kind.TAX: "Income:Tax",
}
_PAYER_DEBIT: dict[Kind, str] = {
    Kind.EQUITY: "Assets:Investments",
    Kind.LOAN: "Assets:Loans",
    Kind.REPAYMENT: "Liabilities:Loans",
    Kind.DIVIDEND: "Equity:Dividends",
    Kind.TAX: "Expenses:Tax",
}


class Role(IntEnum):
    """Which side of a leg a book is on; also the tie-break of the transaction order."""

    PAYER = 0
    PAYEE = 1


class Postings(NamedTuple):
    """The account debited and the account credited by one leg in one book."""

    debit: str
    credit: str


class BookPosting(NamedTuple):
    """One posting of a leg's transaction: ``number currency`` on ``account``.

    A holding at cost (a warrant or a marked stake at its holder) has ``units`` of
    ``commodity`` whose total cost is ``number currency``.
    """

    account: str
    number: Decimal
    currency: str
    units: Decimal | None = None
    commodity: str | None = None


def revenue_account(kind: Kind, payer: Company) -> str:
    """The payee's income account for a revenue leg from ``payer``.

    Raises:
        KeyError: ``kind`` is not a revenue kind.
    """
    return f"Income:{_REVENUE_LABEL[kind]}:{account_component(payer)}"


def circular_account(kind: Kind, payer: Company) -> str:
    """Where netting moves the circular part of :func:`revenue_account`."""
    return f"Income:Circular:{_REVENUE_LABEL[kind]}:{account_component(payer)}"


def contingent(kind: Kind, status: Status) -> bool:
    """Whether a leg is a contingent obligation that posts nothing: an undrawn backstop."""
    return kind is Kind.BACKSTOP and status is not Status.REALIZED


def moves_cash(kind: Kind, status: Status) -> bool:
    """Whether a leg moves cash once it happens: all but warrants and undrawn backstops."""
    return kind is not Kind.WARRANT and not contingent(kind, status)


def payee_accounts(kind: Kind, payer: Company) -> Postings:
    """The two accounts a (drawn, for a backstop) leg touches in the payee's book."""
    x = account_component(payer)
    if kind in _REVENUE_LABEL:
        return Postings(CASH, revenue_account(kind, payer))
    if kind is Kind.WARRANT:
        return Postings(f"Assets:Warrants:{x}", f"Income:Grants:{x}")
    return Postings(CASH, f"{_PAYEE_CREDIT[kind]}:{x}")


def payer_accounts(kind: Kind, payee: Company, capex: bool = False) -> Postings:
    """The two accounts a (drawn, for a backstop) leg touches in the payer's book.

    ``capex``: a ``sale`` the buyer capitalises as equipment.
    """
    x = account_component(payee)
    if kind is Kind.SALE and capex:
        return Postings(f"Assets:Equipment:{x}", CASH)
    if kind in _PURCHASE_LABEL:
        return Postings(f"Expenses:{_PURCHASE_LABEL[kind]}:{x}", CASH)
    if kind is Kind.WARRANT:
        return Postings(f"Expenses:Warrants:{x}", f"Equity:Warrants:{x}")
    return Postings(f"{_PAYER_DEBIT[kind]}:{x}", CASH)


def _holds_units(leg: Leg, role: Role) -> bool:
    """Whether this side holds the leg's units at cost: a warrant's holder, an investor."""
    if leg.units is None or leg.commodity is None:
        return False
    return (leg.kind is Kind.WARRANT and role is Role.PAYEE) or (
        leg.kind is Kind.EQUITY and role is Role.PAYER
    )


def leg_postings(leg: Leg, role: Role) -> tuple[BookPosting, ...]:
    """The postings of ``leg`` in the book of its payer or payee (debit first).

    An undrawn backstop has none (it is disclosed, not booked: ASC 460).
    """
    if contingent(leg.kind, leg.status):
        return ()
    if role is Role.PAYER:
        accounts = payer_accounts(leg.kind, leg.payee, leg.capex)
    else:
        accounts = payee_accounts(leg.kind, leg.payer)
    number = leg.amount
    if _holds_units(leg, role):
        debit = BookPosting(accounts.debit, number, leg.currency, leg.units, leg.commodity)
    else:
        debit = BookPosting(accounts.debit, number, leg.currency)
    return (debit, BookPosting(accounts.credit, -number, leg.currency))


def in_booked_cash(leg: Leg, as_of: date | None, currency: str) -> bool:
    """Whether a leg moves ``Assets:Cash`` in ``currency`` by the end of ``as_of`` (None: ever)."""
    return (
        leg.status is Status.REALIZED
        and leg.currency == currency
        and (as_of is None or leg.date <= as_of)
        and moves_cash(leg.kind, leg.status)
    )


def booked_cash(
    legs: Iterable[Leg], company: Company, as_of: date | None = None, currency: str = "USD"
) -> Decimal:
    """The ``Assets:Cash`` balance in ``currency`` of ``company``'s book at the end of ``as_of``.

    Realized legs that move cash, in minus out, dated on or before ``as_of`` (every date when
    ``None``). This is the figure a reader of the book sees; it leaves out all the company's
    cash that no leg of the web carries (its other revenue, funding and spending), so it can
    be negative.
    """
    total = Decimal(0)
    for leg in legs:
        if not in_booked_cash(leg, as_of, currency):
            continue
        if leg.payee == company:
            total += leg.amount
        elif leg.payer == company:
            total -= leg.amount
    return total
