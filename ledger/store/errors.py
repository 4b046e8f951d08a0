"""Store problems as one line each: what to fix, and whether it is the user's input or the machine.

A ``--db`` value that cannot name a store — a folder, a file in a folder that does not exist, a
file that is not a SQLite database, a URL that is not one — is bad input (exit 2, like any bad
path). A store that cannot be reached — no server at that port, an unknown host, a database or
role the server does not have — is the environment's problem (exit 1). Both reach the user as
one line (:class:`StoreError`), never a traceback.

:func:`opened` wraps every use of a store: it refuses bad SQLite paths before anything touches
the disk, turns driver errors into :class:`StoreError`, and removes a SQLite file it created
when the work inside fails, so that a refused load leaves no ``roundtrip.db`` behind.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from ledger.model import RoundtripError
from ledger.store.schema import normalise_url

__all__ = [
    "EXIT_ENVIRONMENT",
    "EXIT_INPUT",
    "DamagedStore",
    "StoreError",
    "damaged",
    "opened",
    "sqlite_path",
]

EXIT_INPUT = 2
EXIT_ENVIRONMENT = 1


class StoreError(RoundtripError):
    """A store that cannot be opened or used; ``exit_code`` 2 (bad input) or 1 (environment)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _url(db: str | None) -> URL:
    text = normalise_url(db)
    try:
        return make_url(text)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises ArgumentError and ValueError alike
        raise StoreError(
            f"--db {db!r} is not a database URL (sqlite:///file.db, a file path, or "
            "postgresql+psycopg://user@host:port/database)",
            EXIT_INPUT,
        ) from None


class DamagedStore(StoreError):
    """A store whose file or rows are damaged; ``where`` is None until :func:`opened` names it."""

    def __init__(self, damage: str, where: str | None) -> None:
        super().__init__(
            f"cannot use {where or 'the store'}: it is damaged: {damage}; load the input again "
            "into a new store",
            EXIT_ENVIRONMENT,
        )
        self.damage, self.where = damage, where


def damaged(what: str, where: str | None = None) -> DamagedStore:
    """A store whose file or rows are damaged: one line, exit 1 (like SQLite's "malformed")."""
    return DamagedStore(what, where)


def sqlite_path(db: str | None) -> Path | None:
    """The file of a SQLite ``--db`` (None for PostgreSQL or an in-memory database)."""
    url = _url(db)
    if not url.drivername.startswith("sqlite"):
        return None
    return Path(url.database) if url.database and url.database != ":memory:" else None


def _shown(db: str | None) -> str:
    return _url(db).render_as_string(hide_password=True)


#: The databases a store can live in, by SQLAlchemy dialect, and the driver each must use.
SUPPORTED_DRIVERS = {"sqlite": ("pysqlite",), "postgresql": ("psycopg",)}


def _check_dialect(db: str | None) -> None:
    """Refuse a URL of a database or driver the store does not support, before connecting.

    Without this, a ``mysql://`` or ``postgresql+asyncpg://`` URL reached the driver's import
    and ended as an internal error (``ModuleNotFoundError``) instead of a bad ``--db``.
    """
    url = _url(db)
    backend, _, driver = url.drivername.partition("+")
    if driver in SUPPORTED_DRIVERS.get(backend, ()) or (
        backend in SUPPORTED_DRIVERS and not driver
    ):
        if backend == "sqlite" and url.query:
            # pysqlite ignores them with a SAWarning (printed as Python source) unless uri=true,
            # and with uri=true it opens another file than the path checked here.
            raise StoreError(
                f"--db {_shown(db)}: a SQLite store takes no options after '?' "
                f"({', '.join(sorted(url.query))}); give the file's path alone",
                EXIT_INPUT,
            )
        return
    raise StoreError(
        f"--db {_shown(db)}: not a database URL roundtrip can open: a store lives in SQLite or "
        "PostgreSQL through psycopg (sqlite:///file.db, a file path, or "
        f"postgresql+psycopg://user@host:port/database), not {url.drivername}",
        EXIT_INPUT,
    )


def _check_sqlite(path: Path, must_exist: bool) -> None:
    """Refuse a SQLite path that cannot be a store file, before touching the disk."""
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, not a database file", EXIT_INPUT)
    if not path.parent.is_dir():
        raise StoreError(
            f"{path}: the folder {path.parent} does not exist; create it or choose another --db",
            EXIT_INPUT,
        )
    if must_exist and not path.exists():
        raise StoreError(
            f"{path}: no store here (roundtrip load creates one); check --db", EXIT_INPUT
        )
    if path.exists() and path.stat().st_size and not _looks_like_sqlite(path):
        raise StoreError(f"{path}: is not a SQLite database (a file of another kind)", EXIT_INPUT)


def _looks_like_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            return stream.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _driver_message(error: BaseException) -> str:
    """The driver's own words, on one line."""
    original = getattr(error, "orig", None) or error
    words = " ".join(str(original).split())
    return words.removeprefix("connection failed: ")


def classify(error: BaseException, db: str | None) -> StoreError:
    """The one line (and exit code) for a driver or SQLAlchemy error on store ``db``."""
    from sqlalchemy.exc import ArgumentError

    words = _driver_message(error)
    where = _shown(db)
    lowered = words.lower()
    if isinstance(error, ArgumentError):
        return StoreError(
            f"--db {where}: not a database URL roundtrip can open ({words})", EXIT_INPUT
        )
    if "file is not a database" in lowered or "not a database" in lowered:
        return StoreError(f"{where}: is not a SQLite database ({words})", EXIT_INPUT)
    if "unable to open database file" in lowered or "readonly database" in lowered:
        return StoreError(f"{where}: cannot open or write the file ({words})", EXIT_INPUT)
    if "database is locked" in lowered:
        return StoreError(
            f"{where}: another process kept the database locked too long ({words})",
            EXIT_ENVIRONMENT,
        )
    return StoreError(f"cannot use the store at {where}: {words}", EXIT_ENVIRONMENT)


@contextmanager
def opened(db: str | None, *, must_exist: bool = False) -> Iterator[str]:
    """Guard the work on store ``db``: one-line errors, and no SQLite file left by a failure.

    Args:
        db: the ``--db`` value (None: the default SQLite file).
        must_exist: a SQLite file must already be there (verbs that only read).

    Yields:
        The normalised URL to open.

    Raises:
        StoreError: a bad ``--db`` or a store that cannot be reached or used.
    """
    from sqlalchemy.exc import SQLAlchemyError

    url = normalise_url(db)
    _check_dialect(db)
    path = sqlite_path(db)
    created: list[Path] = []
    if path is not None:
        _check_sqlite(path, must_exist)
        if not path.exists():
            created = [path, *(Path(f"{path}{tail}") for tail in ("-journal", "-wal", "-shm"))]
    try:
        yield url
    except BaseException as error:
        _remove(created)
        if isinstance(error, SQLAlchemyError | sqlite3.Error | _psycopg_error()):
            raise classify(error, db) from None
        if isinstance(error, DamagedStore) and error.where is None:
            raise damaged(error.damage, f"the store at {_shown(db)}") from None
        if path is not None and isinstance(error, UnicodeDecodeError):
            # sqlite3 decodes the schema and every text value as UTF-8 and raises this, not
            # one of its own errors, on a file whose bytes are damaged.
            raise damaged(
                f"text that is not UTF-8 ({error.reason})", f"the store at {_shown(db)}"
            ) from None
        raise


def _psycopg_error() -> type[BaseException]:
    """Psycopg's base error (the loader talks to the driver's cursor directly)."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return sqlite3.Error
    return psycopg.Error


def _remove(paths: list[Path]) -> None:
    for path in paths:
        if path.exists():
            os.unlink(path)
