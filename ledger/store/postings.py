"""The ``posting`` view: every leg's postings, by the rules of :func:`ledger.accounts.leg_postings`.

Postings are a function of their leg (kind, status, counterparty, capex, units), so the store
keeps them as a view over ``leg`` rather than as rows: a million legs would otherwise write four
million more rows on every load (most of a load's time), and a view cannot disagree with its
legs. The SQL is generated here from the functions of :mod:`ledger.accounts` themselves — each
kind's accounts are asked for with a placeholder counterparty that is then replaced by the
counterparty's account component (``company.account``) — so the rules have one home. The rules,
side by side with :func:`~ledger.accounts.leg_postings`:

- an undrawn backstop posts nothing (:func:`~ledger.accounts.contingent`; ASC 460);
- each book gets ``+amount`` on its debit account and ``-amount`` on its credit account;
- the holder of units keeps them on its debit posting: the payee of a warrant, the payer of an
  equity leg, when the leg has both units and a commodity;
- ``External`` keeps no book, so its side posts nothing.

A test holds the view to :func:`~ledger.accounts.leg_postings` on the shipped books.
"""

from __future__ import annotations

from collections.abc import Callable

from ledger.accounts import Postings, contingent, payee_accounts, payer_accounts
from ledger.model import EXTERNAL, Kind, Status

__all__ = ["POSTING_COLUMNS", "posting_view_sql"]

#: The columns of the ``posting`` view.
POSTING_COLUMNS = (
    "deal",
    "leg",
    "book",
    "account",
    "amount_cents",
    "currency",
    "units",
    "commodity",
)

#: A counterparty whose account component is itself, to find where it goes in an account.
_PLACEHOLDER = "Qz9placeholder"


def _account(name: str, counterparty: str) -> str:
    """An account name as SQL: a literal, with the counterparty's component spliced in."""
    head, found, tail = name.partition(_PLACEHOLDER)
    if not found:
        return f"'{name}'"
    return f"'{head}' || {counterparty}" + (f" || '{tail}'" if tail else "")


def _case(accounts: Callable[[Kind], Postings], side: str, counterparty: str) -> str:
    """``CASE l.kind WHEN ... END``: one side's debit or credit account for every kind."""
    whens = " ".join(
        f"WHEN '{kind.value}' THEN {_account(getattr(accounts(kind), side), counterparty)}"
        for kind in Kind
    )
    return f"CASE l.kind {whens} END"


def _booked() -> str:
    """SQL true for the legs that post (every (kind, status) but the contingent ones)."""
    pairs = [
        f"(l.kind = '{k.value}' AND l.status = '{s.value}')"
        for k in Kind
        for s in Status
        if contingent(k, s)
    ]
    return "NOT (" + " OR ".join(pairs) + ")" if pairs else "1 = 1"


def posting_view_sql(dialect: str) -> str:
    """The body of the ``posting`` view for ``dialect`` (``sqlite`` or ``postgresql``)."""
    null_units = "CAST(NULL AS NUMERIC)" if dialect == "postgresql" else "NULL"
    null_text = "CAST(NULL AS VARCHAR)" if dialect == "postgresql" else "NULL"
    payee_debit = _case(lambda k: payee_accounts(k, _PLACEHOLDER), "debit", "c.account")
    payee_credit = _case(lambda k: payee_accounts(k, _PLACEHOLDER), "credit", "c.account")
    capex_sale = payer_accounts(Kind.SALE, _PLACEHOLDER, capex=True)
    payer_debit = (
        f"CASE WHEN l.kind = '{Kind.SALE.value}' AND l.capex "
        f"THEN {_account(capex_sale.debit, 'c.account')} "
        f"ELSE {_case(lambda k: payer_accounts(k, _PLACEHOLDER), 'debit', 'c.account')} END"
    )
    payer_credit = _case(lambda k: payer_accounts(k, _PLACEHOLDER), "credit", "c.account")

    def holds(kind: Kind, column: str) -> str:
        return (
            f"CASE WHEN l.kind = '{kind.value}' AND l.units IS NOT NULL "
            f"AND l.commodity IS NOT NULL THEN l.{column} END"
        )

    booked = _booked()
    selects = []
    for book, other, debit, credit, kind in (
        ("payee", "payer", payee_debit, payee_credit, Kind.WARRANT),
        ("payer", "payee", payer_debit, payer_credit, Kind.EQUITY),
    ):
        source = (
            f"FROM leg l JOIN company c ON c.name = l.{other} "
            f"WHERE l.{book} <> '{EXTERNAL}' AND {booked}"
        )
        selects.append(
            f"SELECT l.deal, l.leg, l.{book} AS book, {debit} AS account, "
            f"l.amount_cents AS amount_cents, l.currency, {holds(kind, 'units')} AS units, "
            f"{holds(kind, 'commodity')} AS commodity {source}"
        )
        selects.append(
            f"SELECT l.deal, l.leg, l.{book}, {credit}, -l.amount_cents, l.currency, "
            f"{null_units}, {null_text} {source}"
        )
    return " UNION ALL ".join(selects)
