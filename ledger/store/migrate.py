"""Migration 2: a schema-1 store taken forward to schema 2, in the migration's transaction.

What changes, and what a schema-1 store gives for it:

- amounts ``amount``/``gross``/... (cents on SQLite, ``NUMERIC(20,2)`` on PostgreSQL) become
  ``*_cents`` BIGINT; ``circular_share`` (decimal text on SQLite) becomes the integer
  ``circular_share_bp``; a price's ``amount`` becomes ``unit_price``;
- legs lose their provenance (file, line) and gain ``capex`` (false: schema 1 did not keep it,
  so a capitalised sale loaded by schema 1 is booked as a purchase until its books are loaded
  again) and a content ``digest``; the ``posting`` table becomes a view over the legs, by the
  rules of :mod:`ledger.accounts` (schema 1 also posted undrawn backstops, which post nothing);
- runs keep their id, figures and split rule; what schema 1 did not record stays empty:
  ``created`` (schema 1 stored the newest leg's date there, not a time), ``source``, paper
  gains, bounds, cycles; ``graph_hash`` is ``v1:`` and schema 1's hash of the legs netted.

The data is read whole, the schema-1 tables dropped, schema 2 created and the data written
through the loader (:func:`ledger.store.load.load_on`), so migrated legs obey every rule a load
does.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from ledger.model import Kind, Leg, Price, Status

__all__ = ["to_v2"]

_V1_TABLES = ("netting_result", "netting_run", "price", "posting", "leg", "deal", "company")


def _rows(connection: Connection, sql: str) -> list[dict[str, Any]]:
    return [dict(row) for row in connection.exec_driver_sql(sql).mappings()]


def _cents(value: Any, sqlite: bool) -> int:
    """A schema-1 amount in cents: already cents on SQLite, a two-decimal NUMERIC elsewhere."""
    return int(value) if sqlite else int(Decimal(value) * 100)


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def to_v2(connection: Connection) -> None:
    """Migration 2 (see the module doc)."""
    from ledger.legs_frame import frame_of_legs
    from ledger.store.load import load_on
    from ledger.store.schema import RESULT, RUN, TABLES, create_views

    sqlite = connection.dialect.name == "sqlite"
    companies = _rows(connection, "SELECT name FROM company")
    deals = {row["id"]: row["title"] for row in _rows(connection, "SELECT id, title FROM deal")}
    legs = tuple(
        Leg(
            _date(row["date"]),
            row["deal"],
            int(row["leg"]),
            row["payer"],
            row["payee"],
            Kind(row["kind"]),
            Decimal(_cents(row["amount"], sqlite)) / 100,
            row["currency"],
            Status(row["status"]),
            bool(row["estimate"]),
            row["note"],
            row["source"],
            None if row["units"] is None else Decimal(row["units"]),
            row["commodity"],
        )
        for row in _rows(connection, "SELECT * FROM leg ORDER BY deal, leg")
    )
    prices = tuple(
        Price(_date(row["date"]), row["commodity"], Decimal(row["amount"]), row["currency"])
        for row in _rows(connection, "SELECT * FROM price")
    )
    runs = _rows(connection, "SELECT * FROM netting_run")
    results = _rows(connection, "SELECT * FROM netting_result")
    for table in _V1_TABLES:
        connection.exec_driver_sql(f"DROP TABLE {table}")
    SQLModel.metadata.create_all(connection, tables=list(TABLES))
    create_views(connection)
    if legs or companies:
        titles = {deal: title for deal, title in deals.items() if title}
        load_on(
            connection,
            frame_of_legs(legs),
            prices,
            [row["name"] for row in companies],
            titles=titles,
            where="<schema 1 store>",
        )
    if runs:
        connection.execute(insert(RUN), [_run(row, sqlite) for row in runs])
    if results:
        connection.execute(insert(RESULT), [_result(row, sqlite) for row in results])


def _run(row: dict[str, Any], sqlite: bool) -> dict[str, Any]:
    return {
        "id": row["id"],
        "created": None,
        "source": "",
        "method": row["method"],
        "basis": row["basis"],
        "period_start": None if row["period_start"] is None else _date(row["period_start"]),
        "period_end": None if row["period_end"] is None else _date(row["period_end"]),
        "total_circular_cents": _cents(row["total_circular"], sqlite),
        "split_rule": row["split_rule"],
        "graph_hash": f"v1:{row['legs_hash']}",
        "exact": True,
        "bounds": False,
        "cycle_count": None,
    }


def _result(row: dict[str, Any], sqlite: bool) -> dict[str, Any]:
    share = row["circular_share"]
    return {
        "run_id": row["run_id"],
        "company": row["company"],
        **{
            f"{name}_cents": _cents(row[name], sqlite)
            for name in ("gross", "external", "web", "circular", "organic")
        },
        "circular_share_bp": 0 if share is None else int(Decimal(share) * 10000),
        "estimated": bool(row["estimated"]),
        "paper_gains_cents": None,
        "circular_min_cents": None,
        "circular_max_cents": None,
    }
