"""The two store backends for tests: a SQLite file and a PostgreSQL schema of its own.

PostgreSQL comes from ``ROUNDTRIP_TEST_PG_URL`` (default
``postgresql+psycopg://root@127.0.0.1:5432/test``); its tests are skipped only when no server
answers at that address, and fail instead when ``CI=true``.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from ledger.store import create_schema, engine_for
from ledger.store.schema import TABLES, VERSION

PG_URL = os.environ.get("ROUNDTRIP_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
BOOKS = Path(__file__).resolve().parent.parent / "books"


def pg_unreachable() -> str | None:
    """Why the PostgreSQL tests cannot run, or None when a server answers."""
    url = make_url(PG_URL)
    host, port = url.host or "127.0.0.1", url.port or 5432
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        return f"no PostgreSQL server answers at {host}:{port} ({exc}); set ROUNDTRIP_TEST_PG_URL"
    return None


def require_pg() -> None:
    """Skip (or fail, with ``CI=true``) when no PostgreSQL server answers."""
    reason = pg_unreachable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)


def pg_schema_url(schema: str) -> str:
    """The test URL with its search path set to ``schema`` (what a ``--db`` can carry)."""
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options=-csearch_path%3D{schema}"


def pg_engine(_tmp_path: Path | None = None, *, create: bool = True) -> Iterator[Engine]:
    """An engine on a fresh PostgreSQL schema of its own, dropped afterwards."""
    with pg_schema() as schema:
        engine = engine_for(pg_schema_url(schema))
        try:
            if create:
                create_schema(engine)
            yield engine
        finally:
            engine.dispose()


class pg_schema:  # noqa: N801 - used as a context manager, like contextlib's
    """A fresh PostgreSQL schema, dropped on exit; the value is its name."""

    def __enter__(self) -> str:
        require_pg()
        self.name = f"rt_store_{uuid.uuid4().hex[:12]}"
        self.admin = engine_for(PG_URL, poolclass=NullPool)
        with self.admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.name}"'))
        return self.name

    def __exit__(self, *exc: Any) -> None:
        with self.admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{self.name}" CASCADE'))
        self.admin.dispose()


def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh SQLite file with the schema."""
    engine = engine_for(f"sqlite:///{tmp_path / 'store.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


def empty_store() -> Engine:
    """An in-memory SQLite store with the schema (one connection: the memory is per connection)."""
    from sqlalchemy.pool import StaticPool

    engine = engine_for("sqlite://", poolclass=StaticPool)
    create_schema(engine)
    return engine


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every store table, in key order, with values as exact text."""
    out = {}
    with engine.connect() as connection:
        for table in (VERSION, *TABLES):
            rows = connection.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(map(repr, row)) for row in rows]
    return out
