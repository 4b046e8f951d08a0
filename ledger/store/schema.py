"""The store's tables (schema 2), its read-only views, the engine, and the ordered migrations.

Every amount is integer cents in a ``*_cents`` BIGINT column on both backends (exact, and
``SUM`` stays exact); decimals of unbounded scale (units of a grant, a price per unit) are
``NUMERIC`` on PostgreSQL and exact decimal text on SQLite (whose ``NUMERIC`` would round them
through a float); a circular share, which the netting rounds to four decimals, is the integer
``circular_share_bp`` (ten-thousandths, i.e. basis points) on both. The views (``*_dollars``)
give the same figures in dollars for people at a SQL prompt or in datasette. docs/store.md
documents every column.

Migrations are numbered, applied in order, each in one transaction under the store's write lock
(two processes opening a new store at once apply each migration once), and never edited once
shipped: migration 1 is the frozen DDL of schema 1 (:mod:`ledger.store.schema_v1`), migration 2
takes a schema-1 store forward (:mod:`ledger.store.migrate`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    Numeric,
    String,
    Table,
    event,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel, create_engine

from ledger.model import RoundtripError

__all__ = [
    "DEFAULT_URL",
    "SCHEMA_VERSION",
    "VIEWS",
    "CompanyTable",
    "CycleTable",
    "DealTitleTable",
    "ExactDecimal",
    "LegTable",
    "NettingResultTable",
    "NettingRunTable",
    "PriceTable",
    "SchemaVersionTable",
    "StoreMissing",
    "create_schema",
    "engine_for",
    "require_schema",
    "schema_version",
    "write_transaction",
]

#: Where the store lives when no URL is given: a SQLite file in the working directory.
DEFAULT_URL = "sqlite:///roundtrip.db"

#: How long a SQLite writer waits for another one to finish before giving up (milliseconds).
SQLITE_BUSY_MS = 120_000
#: SQLite's page cache per connection (KiB): a bulk load's b-trees stay in memory.
SQLITE_CACHE_KIB = 256 * 1024
#: The PostgreSQL advisory lock every writer holds for its transaction (any constant will do:
#: "rt" in ASCII).
PG_WRITE_LOCK = 0x7274


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal of any scale: unconstrained ``NUMERIC`` on PostgreSQL, exact text on SQLite."""

    impl = Numeric()
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """Decimal text on SQLite, the exact NUMERIC elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Decimal (or int) -> canonical text on SQLite, Decimal elsewhere.

        Raises:
            TypeError: a float or other non-decimal value (never store floats).
        """
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"expected a Decimal, got {type(value).__name__}: {value!r}")
        number = Decimal(value)
        return canonical_decimal(number) if dialect.name == "sqlite" else number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Back to a Decimal of the stored value."""
        return None if value is None else Decimal(value)


def canonical_decimal(number: Decimal) -> str:
    """One text per value: ``100``, ``100.0`` and ``1E+2`` all give ``100``."""
    return format(number.normalize(), "f")


class SchemaVersionTable(SQLModel, table=True):
    """One row per migration applied, so that :func:`create_schema` knows what is left."""

    __tablename__ = "schema_version"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    description: str


class CompanyTable(SQLModel, table=True):
    """A company by display name; ``External`` is one too, the only one without a book."""

    __tablename__ = "company"

    name: str = Field(primary_key=True)
    account: str = Field(unique=True)
    has_book: bool


class DealTitleTable(SQLModel, table=True):
    """A deal's own description, for the deals that have one (the ``deal`` view adds the rest).

    A deal's span of dates and the sources it cites follow from its legs, so they are a view
    (``deal``) rather than rows a load would have to write and keep in step.
    """

    __tablename__ = "deal_title"

    id: str = Field(primary_key=True)
    title: str


class LegTable(SQLModel, table=True):
    """Every field of a leg but where it was read from, keyed by ``(deal, leg)``.

    ``digest`` is a 64-bit hash of the content (:func:`ledger.store.load.content_digests`): a
    load compares digests, not files and lines, so the same legs read from another path or
    format change nothing. ``payer`` and ``payee`` name rows of ``company``, which the loader
    writes first in the same transaction; they are not declared as foreign keys because
    checking them per row would double the time of a bulk load on PostgreSQL (docs/store.md).
    """

    __tablename__ = "leg"
    __table_args__ = (
        # Kinds, statuses and two parties are checked before any write, by the one validation
        # layer (ledger/validate.py): as CHECK constraints they doubled SQLite's insert time.
        CheckConstraint("leg >= 1", name="leg_number_positive"),
        CheckConstraint("amount_cents > 0", name="leg_amount_positive"),
        # The key is the table on SQLite: one b-tree per table, not a table and an index.
        {"sqlite_with_rowid": False},
    )

    deal: str = Field(primary_key=True)
    leg: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    date: dt.date
    payer: str
    payee: str
    kind: str
    amount_cents: int = Field(sa_column=Column(BigInteger(), nullable=False))
    currency: str
    status: str
    estimate: bool
    capex: bool
    note: str
    source: str
    units: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    commodity: str | None = Field(default=None, nullable=True)
    digest: int = Field(sa_column=Column(BigInteger(), nullable=False))


class PriceTable(SQLModel, table=True):
    """A mark: one unit of ``commodity`` is worth ``unit_price`` ``currency`` on ``date``."""

    __tablename__ = "price"

    date: dt.date = Field(primary_key=True)
    commodity: str = Field(primary_key=True)
    unit_price: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    currency: str


class NettingRunTable(SQLModel, table=True):
    """One ``net --save``: when, what was netted, how, and the total.

    Every save is a run of its own (``id`` is random, ``created`` the wall-clock time in UTC),
    so two saves at once record two runs; ``graph_hash`` identifies what was netted (the flow
    graph's edges, period and basis), so runs of the same netting can be found by it.
    """

    __tablename__ = "netting_run"

    id: str = Field(primary_key=True)
    created: dt.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    source: str = ""
    method: str
    basis: str
    period_start: dt.date | None = Field(default=None, nullable=True)
    period_end: dt.date | None = Field(default=None, nullable=True)
    total_circular_cents: int = Field(sa_column=Column(BigInteger(), nullable=False))
    split_rule: str
    graph_hash: str
    exact: bool = True
    bounds: bool = False
    cycle_count: int | None = Field(default=None, nullable=True)


class NettingResultTable(SQLModel, table=True):
    """The figures of one company in one netting run, in cents."""

    __tablename__ = "netting_result"

    run_id: str = Field(primary_key=True, foreign_key="netting_run.id")
    company: str = Field(primary_key=True, foreign_key="company.name")
    gross_cents: int = Field(sa_column=Column(BigInteger(), nullable=False))
    external_cents: int = Field(sa_column=Column(BigInteger(), nullable=False))
    web_cents: int = Field(sa_column=Column(BigInteger(), nullable=False))
    circular_cents: int = Field(sa_column=Column(BigInteger(), nullable=False))
    organic_cents: int = Field(sa_column=Column(BigInteger(), nullable=False))
    circular_share_bp: int = Field(sa_column=Column(Integer(), nullable=False))
    estimated: bool
    paper_gains_cents: int | None = Field(
        default=None, sa_column=Column(BigInteger(), nullable=True)
    )
    circular_min_cents: int | None = Field(
        default=None, sa_column=Column(BigInteger(), nullable=True)
    )
    circular_max_cents: int | None = Field(
        default=None, sa_column=Column(BigInteger(), nullable=True)
    )


class CycleTable(SQLModel, table=True):
    """One cycle witness of a run, largest first (``rank`` 1): the money going round ``path``."""

    __tablename__ = "netting_cycle"

    run_id: str = Field(primary_key=True, foreign_key="netting_run.id")
    rank: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    amount_cents: int = Field(sa_column=Column(BigInteger(), nullable=False))
    path: str
    kinds: str


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel class."""
    return model.__table__  # type: ignore[attr-defined,no-any-return]


COMPANY = table_of(CompanyTable)
DEAL_TITLE = table_of(DealTitleTable)
LEG = table_of(LegTable)
PRICE = table_of(PriceTable)
RUN = table_of(NettingRunTable)
RESULT = table_of(NettingResultTable)
CYCLE = table_of(CycleTable)
VERSION = table_of(SchemaVersionTable)

#: The tables of schema 2 in dependency order (referenced tables first).
TABLES: tuple[Table, ...] = (COMPANY, DEAL_TITLE, LEG, PRICE, RUN, RESULT, CYCLE)


# --------------------------------------------------------------------------------------------
# Views: the common questions, in dollars
# --------------------------------------------------------------------------------------------


def _dollars(column: str, dialect: str) -> str:
    """Cents as dollars: exact NUMERIC(22,2) on PostgreSQL, a REAL for display on SQLite."""
    if dialect == "postgresql":
        return f"CAST({column} AS NUMERIC(22, 2)) / 100"
    return f"ROUND({column} / 100.0, 2)"


def _share(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"CAST({column} AS NUMERIC(8, 4)) / 10000"
    return f"ROUND({column} / 10000.0, 4)"


def _deal_view(dialect: str) -> str:
    """Each deal: its title, the span of its legs' dates, the sources they cite in leg order."""
    if dialect == "postgresql":
        joined = "string_agg(source, '; ' ORDER BY first_leg)"
    else:  # SQLite 3.40 has no ORDER BY inside an aggregate: it follows the subquery's order
        joined = "group_concat(source, '; ')"
    return f"""
        SELECT s.deal AS id, t.title, s.first_date, s.last_date,
               COALESCE(c.source, '') AS source, s.legs
        FROM (SELECT deal, MIN(date) AS first_date, MAX(date) AS last_date, COUNT(*) AS legs
              FROM leg GROUP BY deal) s
        LEFT JOIN deal_title t ON t.id = s.deal
        LEFT JOIN (SELECT deal, {joined} AS source
                   FROM (SELECT deal, source, MIN(leg) AS first_leg FROM leg
                         WHERE source <> '' GROUP BY deal, source
                         ORDER BY deal, first_leg) cited
                   GROUP BY deal) c ON c.deal = s.deal"""


def _views(dialect: str) -> dict[str, str]:
    from ledger.store.postings import posting_view_sql

    d = lambda column: _dollars(column, dialect)  # noqa: E731 - a local shorthand
    return {
        "deal": _deal_view(dialect),
        "posting": posting_view_sql(dialect),
        "run_company_dollars": f"""
            SELECT r.run_id, n.created, n.method, n.basis, n.period_start, n.period_end,
                   r.company, {d("r.gross_cents")} AS gross, {d("r.external_cents")} AS external,
                   {d("r.web_cents")} AS web, {d("r.organic_cents")} AS organic,
                   {d("r.circular_cents")} AS circular,
                   {_share("r.circular_share_bp", dialect)} AS circular_share,
                   r.estimated, {d("r.paper_gains_cents")} AS paper_gains,
                   {d("r.circular_min_cents")} AS circular_min,
                   {d("r.circular_max_cents")} AS circular_max
            FROM netting_result r JOIN netting_run n ON n.id = r.run_id""",
        "run_dollars": f"""
            SELECT n.id AS run_id, n.created, n.source, n.method, n.basis, n.period_start,
                   n.period_end, {d("n.total_circular_cents")} AS total_circular,
                   {d("SUM(r.organic_cents)")} AS total_organic,
                   {d("SUM(r.gross_cents)")} AS total_gross, n.cycle_count, n.exact
            FROM netting_run n LEFT JOIN netting_result r ON r.run_id = n.id
            GROUP BY n.id, n.created, n.source, n.method, n.basis, n.period_start,
                     n.period_end, n.total_circular_cents, n.cycle_count, n.exact""",
        "cycle_dollars": f"""
            SELECT c.run_id, c.rank, {d("c.amount_cents")} AS amount, c.path, c.kinds
            FROM netting_cycle c""",
        "leg_dollars": f"""
            SELECT deal, leg, date, payer, payee, kind, {d("amount_cents")} AS amount,
                   currency, status, estimate, capex, note, source, units, commodity
            FROM leg""",
        "book_balance_dollars": f"""
            SELECT book, account, currency, {d("SUM(amount_cents)")} AS balance
            FROM posting GROUP BY book, account, currency""",
        "posting_dollars": f"""
            SELECT deal, leg, book, account, {d("amount_cents")} AS amount, currency, units,
                   commodity
            FROM posting""",
    }


#: The read-only views of schema 2, by name (SQL per dialect: :func:`create_views`);
#: ``posting`` is the postings of every leg, computed by :mod:`ledger.store.postings`.
VIEWS: tuple[str, ...] = tuple(_views("sqlite"))


def create_views(connection: Connection) -> None:
    """(Re)create every view of :data:`VIEWS` for this connection's dialect."""
    views = _views(connection.dialect.name)
    for name in reversed(tuple(views)):
        connection.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
    for name, body in views.items():
        connection.exec_driver_sql(f"CREATE VIEW {name} AS {body}")


# --------------------------------------------------------------------------------------------
# Engine and write lock
# --------------------------------------------------------------------------------------------


def engine_for(url: str | None = None, **engine_kwargs: Any) -> Engine:
    """An engine for a store URL: ``None`` is :data:`DEFAULT_URL`, a bare path a SQLite file.

    ``postgresql://`` and ``postgres://`` URLs use psycopg 3. SQLite connections enforce
    foreign keys, wait :data:`SQLITE_BUSY_MS` for a busy database, and run every transaction,
    DDL included, inside an explicit ``BEGIN`` (``BEGIN IMMEDIATE`` for writers, see
    :func:`write_transaction`), so that loads and migrations are as atomic there as on
    PostgreSQL.

    Raises:
        sqlalchemy.exc.ArgumentError: a URL SQLAlchemy cannot parse (see
            :mod:`ledger.store.errors`).
    """
    engine = create_engine(make_url(normalise_url(url)), **engine_kwargs)
    if engine.dialect.name == "sqlite":
        _make_sqlite_transactional(engine)
    return engine


def normalise_url(url: str | None) -> str:
    """The SQLAlchemy URL of a ``--db`` value (a bare path is a SQLite file)."""
    text_ = url or DEFAULT_URL
    if "://" not in text_:
        text_ = f"sqlite:///{text_}"
    for prefix in ("postgresql://", "postgres://"):
        if text_.startswith(prefix):
            text_ = "postgresql+psycopg://" + text_[len(prefix) :]
    return text_


def _make_sqlite_transactional(engine: Engine) -> None:
    """The SQLAlchemy recipe for real SQLite transactions (pysqlite's own skip DDL)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writer = connection.get_execution_options().get("roundtrip_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def write_transaction(engine: Engine) -> Any:
    """A transaction that holds the store's write lock until it ends.

    SQLite: ``BEGIN IMMEDIATE`` (the database's one writer lock, waited for up to
    :data:`SQLITE_BUSY_MS`). PostgreSQL: ``pg_advisory_xact_lock``, released at commit or
    rollback. Two loads at once therefore run one after the other, each seeing the other's
    rows, instead of racing on the same keys.
    """
    return _Locked(engine)


class _Locked:
    def __init__(self, engine: Engine) -> None:
        self._context = engine.execution_options(roundtrip_write=True).begin()

    def __enter__(self) -> Connection:
        connection = self._context.__enter__()
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_WRITE_LOCK})
        return connection

    def __exit__(self, *exc: Any) -> Any:
        return self._context.__exit__(*exc)


# --------------------------------------------------------------------------------------------
# Versions and migrations
# --------------------------------------------------------------------------------------------


class Migration(NamedTuple):
    """One numbered step of the schema; ``apply`` runs inside the step's transaction."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _migrations() -> tuple[Migration, ...]:
    from ledger.store.migrate import to_v2
    from ledger.store.schema_v1 import create_v1

    return (
        Migration(1, "company, deal, leg, posting, price, netting_run, netting_result", create_v1),
        Migration(2, "cents columns, runs with time, cycles and gains; views", to_v2),
    )


#: The ordered migrations; append, never edit one that has shipped.
MIGRATIONS: tuple[Migration, ...] = _migrations()

#: The version :func:`create_schema` brings a store to.
SCHEMA_VERSION = MIGRATIONS[-1].version


class StoreMissing(RoundtripError):
    """The database has no roundtrip store, or an older one: run :func:`create_schema`."""


def schema_version(engine: Engine) -> int:
    """The migration a store is at: 0 for an empty database."""
    with engine.connect() as connection:
        return _version(connection)


def _version(connection: Connection) -> int:
    if not inspect(connection).has_table(VERSION.name):
        return 0
    return int(connection.execute(select(func.max(VERSION.c.version))).scalar() or 0)


def require_schema(connection: Connection) -> None:
    """Stop before touching a database that :func:`create_schema` has not brought up to date.

    Raises:
        StoreMissing: the store is absent or at an older version.
    """
    version = _version(connection)
    if version < SCHEMA_VERSION:
        url = connection.engine.url.render_as_string(hide_password=True)
        found = "no roundtrip store" if version == 0 else f"a store at version {version}"
        raise StoreMissing(
            f"{url} holds {found}; create the schema (version {SCHEMA_VERSION}) first"
        )


def create_schema(engine: Engine, migrations: tuple[Migration, ...] | None = None) -> int:
    """Apply, in order, each migration the store has not recorded; each in one transaction.

    Running it again does nothing. A migration that fails leaves the store at the version before
    it, on SQLite as on PostgreSQL. Each step takes the write lock and reads the version again
    under it, so two processes creating one store at once apply every step once.

    Args:
        engine: the database.
        migrations: the steps (default :data:`MIGRATIONS`; tests pass others).

    Returns:
        The schema version the store is at now.
    """
    steps = MIGRATIONS if migrations is None else migrations
    if schema_version(engine) >= steps[-1].version:
        return schema_version(engine)
    current = 0
    for migration in steps:
        with write_transaction(engine) as connection:
            SQLModel.metadata.create_all(connection, tables=[VERSION])
            current = _version(connection)
            if migration.version <= current:
                continue
            migration.apply(connection)
            connection.execute(
                insert(VERSION).values(version=migration.version, description=migration.description)
            )
            current = migration.version
    return current
