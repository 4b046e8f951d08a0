"""Reading the store: legs, prices, companies, deals, and what a netting needs, in SQL.

:func:`netting_input` is how ``net --db`` and ``audit --db`` read a store far bigger than
memory: the selection by period and basis and the aggregation of legs into edges (one row per
payer, payee, kind and currency) are done by the database in one ``GROUP BY``, so only edges
travel. The few non-cash legs (warrants, undrawn backstops) come as rows, since the reports
list them, and so do the legs that carry units (paper gains are computed from them). Because it
is plain SQL, any SQL engine that speaks it (a distributed PostgreSQL such as Citus included)
serves unchanged (docs/scale.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine

from ledger.model import (
    BadInput,
    Basis,
    Company,
    DealId,
    FlowClass,
    Kind,
    LedgerError,
    Leg,
    Period,
    Price,
    Status,
    flow_class,
    from_cents,
    included_in_basis,
)
from ledger.store.schema import COMPANY, PRICE, require_schema

__all__ = [
    "NettingInput",
    "StoredCompany",
    "StoredDeal",
    "netting_input",
    "query_companies",
    "query_deals",
    "query_legs",
    "query_prices",
    "stored_web",
]


@dataclass(frozen=True, slots=True)
class StoredCompany:
    """A company row, for ``roundtrip show``."""

    name: Company
    account: str
    has_book: bool


@dataclass(frozen=True, slots=True)
class StoredDeal:
    """A deal row and how many legs it has, for ``roundtrip show``."""

    id: DealId
    title: str | None
    first_date: dt.date
    last_date: dt.date
    source: str
    legs: int


_LEG_FIELDS = (
    "date, deal, leg, payer, payee, kind, amount_cents, currency, status, estimate, note, "
    "source, units, commodity, capex"
)


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@contextmanager
def _rows_roundtrip_wrote() -> Iterator[None]:
    """Read leg rows; a row no load could have written (hand-edited, damaged) is a damaged store.

    Such a row fails in conversion (ValueError, TypeError, ArithmeticError), which would
    otherwise surface as an internal error.
    """
    try:
        yield
    except (ValueError, TypeError, ArithmeticError) as error:
        from ledger.store.errors import damaged

        raise damaged(f"a leg row is not one roundtrip wrote ({error})") from None


def _leg(row: Any) -> Leg:
    (day, deal, number, payer, payee, kind, cents, currency, status, estimate, note, source,
     units, commodity, capex) = row  # fmt: skip
    return Leg(
        _day(day),
        deal,
        int(number),
        payer,
        payee,
        Kind(kind),
        from_cents(int(cents)),
        currency,
        Status(status),
        bool(estimate),
        note,
        source,
        None if units is None else Decimal(units),
        commodity,
        "<store>",
        0,
        capex=bool(capex),
    )


#: What netting or auditing a store without legs is told.
EMPTY_STORE = "no legs: the store holds none (an empty web; roundtrip load puts one in it)"


def _require_legs(connection: Connection) -> None:
    """Refuse a store without a single leg, as every reader refuses an empty web.

    Raises:
        BadInput: the store holds no leg.
    """
    if connection.execute(text("SELECT 1 FROM leg LIMIT 1")).first() is None:
        where = connection.engine.url.render_as_string(hide_password=True)
        raise BadInput([LedgerError(where, 0, EMPTY_STORE)])


def _legs(
    connection: Connection, where: str = "", params: dict[str, Any] | None = None
) -> tuple[Leg, ...]:
    sql = f"SELECT {_LEG_FIELDS} FROM leg {where} ORDER BY date, deal, leg"
    with _rows_roundtrip_wrote():
        return tuple(_leg(row) for row in connection.execute(text(sql), params or {}))


def query_legs(engine: Engine) -> tuple[Leg, ...]:
    """Every stored leg, as :class:`~ledger.model.Leg`, ordered by date, deal, leg.

    The store keeps no provenance: each leg reads as from ``<store>``, line 0.
    """
    with engine.connect() as connection:
        require_schema(connection)
        return _legs(connection)


def query_prices(engine: Engine) -> tuple[Price, ...]:
    """Every stored price mark, ordered by date and commodity (provenance is not stored)."""
    statement = select(PRICE).order_by(PRICE.c.date, PRICE.c.commodity)
    with engine.connect() as connection:
        require_schema(connection)
        return _prices(connection, statement)


def _prices(connection: Connection, statement: Any) -> tuple[Price, ...]:
    return tuple(
        Price(row["date"], row["commodity"], row["unit_price"], row["currency"], "<store>", 0)
        for row in connection.execute(statement).mappings()
    )


def query_companies(engine: Engine) -> tuple[StoredCompany, ...]:
    """Every stored company, ``External`` included, ordered by name."""
    statement = select(COMPANY).order_by(COMPANY.c.name)
    with engine.connect() as connection:
        require_schema(connection)
        return tuple(
            StoredCompany(row["name"], row["account"], bool(row["has_book"]))
            for row in connection.execute(statement).mappings()
        )


def query_deals(engine: Engine) -> tuple[StoredDeal, ...]:
    """Every stored deal with its number of legs, ordered by first date and id."""
    statement = text(
        "SELECT id, title, first_date, last_date, source, legs FROM deal ORDER BY first_date, id"
    )
    with engine.connect() as connection:
        require_schema(connection)
        return tuple(
            StoredDeal(row[0], row[1], _day(row[2]), _day(row[3]), row[4], int(row[5]))
            for row in connection.execute(statement)
        )


# --------------------------------------------------------------------------------------------
# What a netting needs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NettingInput:
    """What ``net --db`` nets: an edges frame, the legs with units, the prices, the companies.

    ``frame`` is a legs frame (:mod:`ledger.legs_frame` columns) with one row per money edge
    (payer, payee, kind, currency; amounts summed in SQL, ``estimate`` if any leg is one,
    dated on the edge's first leg) plus one row per non-cash leg: building the flow graph from
    it gives the graph of the legs themselves. ``n_legs`` counts the store's legs, so that a
    caller can size work that needs the legs themselves (the sensitivity of the headline)
    without pulling them.
    """

    frame: pd.DataFrame
    grants: tuple[Leg, ...]
    prices: tuple[Price, ...]
    companies: tuple[Company, ...]
    n_legs: int = 0


def _selection(period: Period, basis: Basis) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of a period and a basis, with its parameters."""
    statuses = [s.value for s in Status if included_in_basis(s, basis)]
    marks = ", ".join(f":s{i}" for i in range(len(statuses)))
    params: dict[str, Any] = {f"s{i}": s for i, s in enumerate(statuses)}
    clauses = [f"status IN ({marks})"]
    if period.start is not None:
        clauses.append("date >= :start")
        params["start"] = period.start
    if period.end is not None:
        clauses.append("date < :end")
        params["end"] = period.end
    return " AND ".join(clauses), params


def _noncash() -> str:
    """SQL true for the (kind, status) pairs that move no money (``flow_class`` NONCASH)."""
    pairs = [
        f"(kind = '{k.value}' AND status = '{s.value}')"
        for k in Kind
        for s in Status
        if flow_class(k, s) is FlowClass.NONCASH
    ]
    return "(" + " OR ".join(pairs) + ")"


def netting_input(engine: Engine, period: Period | None, basis: Basis) -> NettingInput:
    """The edges, non-cash legs, unit-carrying legs and prices of the store (module doc).

    Raises:
        StoreMissing: the schema is absent or older.
        BadInput: the store holds no leg.
    """
    period = period or Period()
    where, params = _selection(period, basis)
    noncash = _noncash()
    edges_sql = (
        "SELECT payer, payee, kind, currency, SUM(amount_cents) AS cents, "
        "MAX(CASE WHEN estimate THEN 1 ELSE 0 END) AS estimate, MIN(date) AS first "
        f"FROM leg WHERE {where} AND NOT {noncash} "
        "GROUP BY payer, payee, kind, currency ORDER BY payer, payee, kind, currency"
    )
    with engine.connect() as connection:
        require_schema(connection)
        _require_legs(connection)
        edges = connection.execute(text(edges_sql), params).all()
        paper = _legs(connection, f"WHERE {where} AND {noncash}", params)
        grants = _legs(connection, "WHERE units IS NOT NULL")
        prices = _prices(connection, select(PRICE).order_by(PRICE.c.date, PRICE.c.commodity))
        names = connection.execute(
            select(COMPANY.c.name).where(COMPANY.c.has_book).order_by(COMPANY.c.name)
        ).scalars()
        companies = tuple(names)
        n_legs = connection.execute(text("SELECT COUNT(*) FROM leg")).scalar_one()
    return NettingInput(_checked_edges_frame(edges, paper), grants, prices, companies, n_legs)


def _checked_edges_frame(edges: list[Any], paper: tuple[Leg, ...]) -> pd.DataFrame:
    """:func:`_edges_frame`, refusing rows no load could have written in one line.

    A hand-edited or damaged store can hold an unknown kind, a date that is none or a sum
    beyond 64 bits; each was an internal error (KeyError, ValueError) before.
    """
    from ledger.store.errors import damaged

    kinds = {kind.value for kind in Kind}
    unknown = sorted({str(row[2]) for row in edges} - kinds)
    if unknown:
        raise damaged(f"legs of kind {', '.join(map(repr, unknown))}, which no load writes")
    with _rows_roundtrip_wrote():
        return _edges_frame(edges, paper)


def _edges_frame(edges: list[Any], paper: tuple[Leg, ...]) -> pd.DataFrame:
    """Edge rows (as realized legs) and non-cash legs, as one legs frame."""
    from ledger.legs_frame import frame_of_legs, with_defaults

    n = len(edges)
    columns = list(zip(*edges, strict=True)) if n else [[] for _ in range(7)]
    payer, payee, kind, currency, cents, estimate, first = columns
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(np.array([_day(d) for d in first], dtype="datetime64[D]")),
            "deal": pd.Categorical([f"edge-{i}" for i in range(n)]),
            "leg": np.ones(n, dtype=np.int64),
            "payer": pd.Categorical(list(payer)),
            "payee": pd.Categorical(list(payee)),
            "kind": pd.Categorical(list(kind)),
            "cents": np.array([int(c) for c in cents], dtype=np.int64),
            "currency": pd.Categorical(list(currency)),
            "status": pd.Categorical([Status.REALIZED.value] * n),
            "estimate": np.array([bool(e) for e in estimate], dtype=bool),
        }
    )
    frame["date"] = frame["date"].astype("datetime64[ns]")
    frame = with_defaults(frame, "<store>")
    if paper:
        frame = pd.concat([frame, frame_of_legs(paper)], ignore_index=True)
        for column in frame.columns:
            if frame[column].dtype == object:
                frame[column] = pd.Categorical(frame[column].astype(str))
    return frame


def stored_web(engine: Engine, where: str) -> Any:
    """Every stored leg, price and company as a :class:`ledger.inputs.Web` (``audit --db``).

    The audit's scenarios read legs one by one, so they are pulled whole (not as edges).
    """
    from pathlib import Path

    from ledger.inputs import Web

    with engine.connect() as connection:
        require_schema(connection)
        _require_legs(connection)
        legs = _legs(connection)
        prices = _prices(connection, select(PRICE).order_by(PRICE.c.date, PRICE.c.commodity))
        companies = tuple(
            connection.execute(
                select(COMPANY.c.name).where(COMPANY.c.has_book).order_by(COMPANY.c.name)
            ).scalars()
        )
    return Web(Path(where), legs, prices, companies, (), "store")
