"""The chart of accounts: which two accounts a leg touches in each of its two books.

One rule keeps every intercompany balance mirrored (SPEC §2): for a money leg, the **payee**
debits ``Assets:Receivable:<payer>`` and the **payer** credits ``Liabilities:Payable:<payee>``,
so ``Assets:Receivable:OpenAI`` in Nvidia's book always equals minus
``Liabilities:Payable:Nvidia`` in OpenAI's. The other posting says what the leg was:

=========  ==================================  ==================================
kind       payee's book (credit)               payer's book (debit)
=========  ==================================  ==================================
sale       Income:Sales:<payer>                Expenses:Purchases:<payee>
cloud      Income:Cloud:<payer>                Expenses:Cloud:<payee>
lease      Income:Lease:<payer>                Expenses:Lease:<payee>
backstop   Income:Backstop:<payer>             Expenses:Backstop:<payee>
equity     Equity:Issued:<payer>               Assets:Investments:<payee>
loan       Liabilities:Loans:<payer>           Assets:Loans:<payee>
repayment  Assets:Loans:<payer>  (debit side   Liabilities:Loans:<payee>
           swaps: see below)
dividend   Income:Dividends:<payer>            Equity:Dividends:<payee>
tax        Income:Tax:<payer>                  Expenses:Tax:<payee>
warrant    Assets:Warrants:<payer> (debit)     Equity:Warrants:<payee> (credit)
           Income:PaperGains:<payer> (credit)  Expenses:Warrants:<payee> (debit)
=========  ==================================  ==================================

A repayment runs the loan backwards: the lender (payee) credits ``Assets:Loans:<borrower>``
against its receivable; the borrower (payer) debits ``Liabilities:Loans:<lender>`` against its
payable. A warrant moves no money, so it touches no intercompany account: the holder books the
grant as a paper gain, the grantor as equity it issued.

Circular revenue written back by netting is moved from ``Income:<Label>:<payer>`` to
``Income:Circular:<Label>:<payer>`` so that ``Income:Sales`` etc. show organic revenue only.
"""

from __future__ import annotations

from typing import NamedTuple

from ledger.model import Company, Kind, account_component

__all__ = [
    "Postings",
    "circular_account",
    "payee_accounts",
    "payer_accounts",
    "revenue_account",
]

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


class Postings(NamedTuple):
    """The account debited and the account credited by one leg in one book."""

    debit: str
    credit: str


def revenue_account(kind: Kind, payer: Company) -> str:
    """The payee's income account for a revenue leg from ``payer``.

    Raises:
        KeyError: ``kind`` is not a revenue kind.
    """
    return f"Income:{_REVENUE_LABEL[kind]}:{account_component(payer)}"


def circular_account(kind: Kind, payer: Company) -> str:
    """Where netting moves the circular part of :func:`revenue_account`."""
    return f"Income:Circular:{_REVENUE_LABEL[kind]}:{account_component(payer)}"


def payee_accounts(kind: Kind, payer: Company) -> Postings:
    """The two accounts the leg touches in the payee's book."""
    x = account_component(payer)
    receivable = f"Assets:Receivable:{x}"
    if kind in _REVENUE_LABEL:
        return Postings(receivable, revenue_account(kind, payer))
    credit = {
        Kind.EQUITY: f"Equity:Issued:{x}",
        Kind.LOAN: f"Liabilities:Loans:{x}",
        Kind.REPAYMENT: f"Assets:Loans:{x}",
        Kind.DIVIDEND: f"Income:Dividends:{x}",
        Kind.TAX: f"Income:Tax:{x}",
        Kind.WARRANT: f"Income:PaperGains:{x}",
    }[kind]
    debit = f"Assets:Warrants:{x}" if kind is Kind.WARRANT else receivable
    return Postings(debit, credit)


def payer_accounts(kind: Kind, payee: Company) -> Postings:
    """The two accounts the leg touches in the payer's book."""
    x = account_component(payee)
    payable = f"Liabilities:Payable:{x}"
    if kind in _PURCHASE_LABEL:
        return Postings(f"Expenses:{_PURCHASE_LABEL[kind]}:{x}", payable)
    debit = {
        Kind.EQUITY: f"Assets:Investments:{x}",
        Kind.LOAN: f"Assets:Loans:{x}",
        Kind.REPAYMENT: f"Liabilities:Loans:{x}",
        Kind.DIVIDEND: f"Equity:Dividends:{x}",
        Kind.TAX: f"Expenses:Tax:{x}",
        Kind.WARRANT: f"Expenses:Warrants:{x}",
    }[kind]
    credit = f"Equity:Warrants:{x}" if kind is Kind.WARRANT else payable
    return Postings(debit, credit)
