"""The postings of a whole legs frame at once, by the rules of :func:`ledger.accounts.leg_postings`.

A million legs make up to four million postings; building a :class:`~ledger.model.Leg` and
calling :func:`~ledger.accounts.leg_postings` for each would cost minutes. The accounts depend
only on (kind, counterparty, capex), so they are computed once per distinct combination with
the very functions of :mod:`ledger.accounts` and spread to the rows by integer codes. The rules
carried over, side by side with :func:`~ledger.accounts.leg_postings`:

- an undrawn backstop posts nothing (ASC 460: disclosed, not booked);
- each book gets ``+amount`` on its debit account and ``-amount`` on its credit account;
- the holder of units keeps them on its debit posting: the payee of a warrant, the payer of an
  equity leg, when the leg has both units and a commodity;
- ``External`` keeps no book, so its side posts nothing here.

A test holds the result to :func:`~ledger.accounts.leg_postings` on the shipped books.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ledger.accounts import payee_accounts, payer_accounts
from ledger.model import EXTERNAL, Kind

__all__ = ["POSTING_COLUMNS", "frame_postings"]

#: The columns of :func:`frame_postings`, in the store's order.
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


def _texts(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and distinct values of a text column (categorical or not)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy().astype(np.int64), np.asarray(
            series.cat.categories, dtype=object
        )
    codes, uniques = pd.factorize(series, sort=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _side_accounts(
    kinds: np.ndarray,
    kind_codes: np.ndarray,
    names: np.ndarray,
    other_codes: np.ndarray,
    capex: np.ndarray,
    payer_side: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Debit and credit account of every row on one side, computed once per combination."""
    combo = (kind_codes * (len(names) + 1) + other_codes) * 2 + capex.astype(np.int64)
    distinct, inverse = np.unique(combo, return_inverse=True)
    debits = np.empty(len(distinct), dtype=object)
    credits = np.empty(len(distinct), dtype=object)
    for i, value in enumerate(distinct.tolist()):
        flag, rest = value % 2, value // 2
        kind = Kind(kinds[rest // (len(names) + 1)])
        other = names[rest % (len(names) + 1)]
        if payer_side:
            accounts = payer_accounts(kind, other, bool(flag))
        else:
            accounts = payee_accounts(kind, other)
        debits[i], credits[i] = accounts.debit, accounts.credit
    return debits[inverse], credits[inverse]


def frame_postings(frame: pd.DataFrame, capex: np.ndarray | None = None) -> pd.DataFrame:
    """Every posting of every leg of ``frame`` (a legs frame), as :data:`POSTING_COLUMNS`.

    ``capex`` marks the rows whose buyer capitalises a sale (a legs frame has no such column:
    only books and deals files say it); none when omitted. Rows come leg by leg: the payee's
    debit and credit, then the payer's.
    """
    n = len(frame)
    capex = np.zeros(n, dtype=bool) if capex is None else np.asarray(capex, dtype=bool)
    kind_codes, kinds = _texts(frame["kind"])
    status_codes, statuses = _texts(frame["status"])
    kinds = np.asarray([str(k) for k in kinds], dtype=object)
    backstop = np.asarray([k == Kind.BACKSTOP.value for k in kinds] + [False])[kind_codes]
    realized = np.asarray([s == "realized" for s in statuses] + [False])[status_codes]
    booked = ~(backstop & ~realized)
    payer_codes, payer_names = _texts(frame["payer"])
    payee_codes, payee_names = _texts(frame["payee"])
    names = np.asarray(
        sorted(set(map(str, payer_names)) | set(map(str, payee_names))), dtype=object
    )
    position = {name: i for i, name in enumerate(names.tolist())}
    payer = np.asarray([position[str(x)] for x in payer_names] + [0], dtype=np.int64)[payer_codes]
    payee = np.asarray([position[str(x)] for x in payee_names] + [0], dtype=np.int64)[payee_codes]
    units_codes, units_values = _texts(frame["units"])
    commodity_codes, commodity_values = _texts(frame["commodity"])
    has_units = (
        (np.asarray([str(u) != "" for u in units_values] + [False])[units_codes])
        & (np.asarray([str(c) != "" for c in commodity_values] + [False])[commodity_codes])
    )
    is_kind = lambda kind: np.asarray([k == kind.value for k in kinds] + [False])[kind_codes]  # noqa: E731
    external = position.get(EXTERNAL, -1)
    parts = []
    for payer_side in (False, True):
        book = payer if payer_side else payee
        other = payee if payer_side else payer
        rows = np.flatnonzero(booked & (book != external))
        debit, credit = _side_accounts(
            kinds, kind_codes[rows], names, other[rows], capex[rows] & payer_side, payer_side
        )
        holds = has_units[rows] & is_kind(Kind.EQUITY if payer_side else Kind.WARRANT)[rows]
        parts.append((rows, book[rows], debit, credit, holds))
    return _assemble(frame, names, parts)


def _assemble(
    frame: pd.DataFrame,
    names: np.ndarray,
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
) -> pd.DataFrame:
    """Interleave each side's debit and credit rows into one frame, in leg order."""
    rows = np.concatenate([np.repeat(p[0], 2) for p in parts])
    side = np.concatenate([np.full(2 * len(p[0]), i) for i, p in enumerate(parts)])
    sign = np.tile(np.array([1, -1], dtype=np.int64), len(rows) // 2)
    account = np.empty(len(rows), dtype=object)
    holds = np.zeros(len(rows), dtype=bool)
    book = np.empty(len(rows), dtype=np.int64)
    start = 0
    for p in parts:
        size = len(p[0])
        account[start : start + 2 * size : 2] = p[2]
        account[start + 1 : start + 2 * size : 2] = p[3]
        holds[start : start + 2 * size : 2] = p[4]
        book[start : start + 2 * size] = np.repeat(p[1], 2)
        start += 2 * size
    order = np.lexsort((np.arange(len(rows)), side, rows))
    rows, account, holds, book, sign = (
        rows[order],
        account[order],
        holds[order],
        book[order],
        sign[order],
    )
    units = frame["units"].astype(str).to_numpy()[rows]
    commodity = frame["commodity"].astype(str).to_numpy()[rows]
    return pd.DataFrame(
        {
            "deal": frame["deal"].astype(str).to_numpy()[rows],
            "leg": frame["leg"].to_numpy()[rows].astype(np.int64),
            "book": names[book],
            "account": account,
            "amount_cents": frame["cents"].to_numpy()[rows].astype(np.int64) * sign,
            "currency": frame["currency"].astype(str).to_numpy()[rows],
            "units": np.where(holds, units, None),
            "commodity": np.where(holds, commodity, None),
        }
    )
