"""The store: companies, deals, legs, their postings, price marks and netting runs in SQL.

In: :class:`~ledger.model.Leg` records (and optionally :class:`~ledger.model.Price` marks and
declared company names). Out: rows in seven SQLModel tables, a :class:`LoadSummary` of what
changed, and the legs back, exactly, with :func:`query_legs`. SQLite file by default (no set-up);
PostgreSQL by URL. Both behave the same (SPEC §5, STYLE "The store is idempotent"):

* **Keys derive from content.** A leg is keyed by ``(deal, leg)``, its postings by
  ``(book, deal, leg, account)``, a netting run by a hash of what was netted. Loading the same
  books twice therefore changes nothing: the second :func:`load_legs` inserts and updates no row.
  A leg whose key exists with other content is updated in place (counted as ``updated``).
* **Loads are atomic.** Every input record is checked first and every problem is returned at
  once as :class:`~ledger.model.LedgerError` records inside :class:`~ledger.model.BadInput`;
  then one transaction writes everything or, on any failure, nothing.
* **Money is exact.** Amounts are ``NUMERIC(20,2)`` on PostgreSQL and integer cents on SQLite
  (whose ``NUMERIC`` is a float); other decimals (units, prices, shares) are unconstrained
  ``NUMERIC`` on PostgreSQL and decimal text on SQLite. Never a float on either.
* **Schema changes are explicit, ordered and transactional.** :func:`create_schema` applies the
  numbered migrations not yet recorded in ``schema_version``, each in one transaction. SQLite
  connections are opened so that DDL is transactional there too. Every other function raises
  :class:`StoreMissing` on a database whose schema is absent or older.

=================  ======================================  ===================================
table              key                                     holds
=================  ======================================  ===================================
company            name                                    account component, has_book
deal               id                                      title, first/last date, source
leg                deal, leg                               every field of a Leg
posting            book, deal, leg, account                signed amount, currency
price              date, commodity                         amount, currency
netting_run        id (hash of method, basis, period,      totals, split rule, legs hash,
                   legs)                                   ``created`` (date of newest leg)
netting_result     run_id, company                         the per-company figures
=================  ======================================  ===================================

Postings come from :mod:`ledger.accounts`: in the payee's book ``+amount`` on the debit account
and ``-amount`` on the credit account of :func:`~ledger.accounts.payee_accounts`, in the payer's
book likewise with :func:`~ledger.accounts.payer_accounts`; ``External`` keeps no book.

Example::

    >>> from datetime import date
    >>> engine = engine_for("sqlite://")
    >>> create_schema(engine)
    1
    >>> leg = Leg(date(2025, 9, 22), "nv-oai", 1, "Nvidia", "OpenAI", Kind.EQUITY,
    ...           Decimal("100.00"))
    >>> load_legs(engine, [leg]).leg.inserted
    1
    >>> load_legs(engine, [leg]).changed      # the same legs again: nothing to do
    False
    >>> query_legs(engine) == (leg,)
    True

The Nvidia → OpenAI equity leg above becomes four postings: ``Assets:Receivable:Nvidia 100`` and
``Equity:Issued:Nvidia -100`` in OpenAI's book, ``Assets:Investments:OpenAI 100`` and
``Liabilities:Payable:OpenAI -100`` in Nvidia's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from functools import cache
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    Table,
    and_,
    bindparam,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel, create_engine

from ledger.accounts import payee_accounts, payer_accounts
from ledger.model import (
    CENT,
    EXTERNAL,
    BadInput,
    Company,
    DealId,
    Kind,
    LedgerError,
    Leg,
    Price,
    RoundtripError,
    Status,
    account_component,
    to_cents,
)

__all__ = [
    "DEFAULT_URL",
    "SCHEMA_VERSION",
    "CompanyTable",
    "DealTable",
    "ExactDecimal",
    "LegTable",
    "LoadSummary",
    "Money",
    "NettingResultTable",
    "NettingRunTable",
    "NettingSaved",
    "PostingRow",
    "PostingTable",
    "PriceTable",
    "SchemaVersionTable",
    "StoreMissing",
    "StoredCompany",
    "StoredDeal",
    "TableCounts",
    "create_schema",
    "engine_for",
    "leg_postings",
    "legs_digest",
    "load_legs",
    "query_companies",
    "query_deals",
    "query_legs",
    "query_prices",
    "save_netting",
    "schema_version",
]

#: Where the store lives when no URL is given: a SQLite file in the working directory.
DEFAULT_URL = "sqlite:///roundtrip.db"

#: The largest amount (exclusive) a leg may carry: it must fit as integer cents in 64 bits on
#: SQLite, and the same limit holds on PostgreSQL so that both accept the same books.
MAX_AMOUNT = Decimal(10) ** 16

_KINDS = frozenset(Kind)
_STATUSES = frozenset(Status)

# From how many rows an insert on PostgreSQL uses COPY instead of INSERT.
_COPY_MIN = 1000

# How many keys go into one ``IN (...)`` list when reading existing rows.
_CHUNK = 2000


# --------------------------------------------------------------------------------------------
# Column types: exact decimals on both backends
# --------------------------------------------------------------------------------------------


class Money(TypeDecorator[Decimal]):
    """A two-decimal amount: ``NUMERIC(20,2)`` on PostgreSQL, integer cents on SQLite.

    SQLite has no decimal type (its ``NUMERIC`` rounds through a float past 15 digits), so cents
    are stored there as 64-bit integers, which also keeps ``SUM`` exact. A value with more than
    two decimals is refused rather than rounded on either backend.
    """

    impl = Numeric(20, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """Integer cents on SQLite, the exact NUMERIC elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(20, 2, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Decimal (or int) -> cents on SQLite, checked Decimal elsewhere.

        Raises:
            TypeError: a float or other non-decimal value (never store floats).
            ValueError: more than two decimals.
        """
        if value is None:
            return None
        amount = _as_decimal(value)
        cents = to_cents(amount)
        return cents if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Back to a two-decimal Decimal."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(CENT)
        return Decimal(value).quantize(CENT)


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal of any scale: unconstrained ``NUMERIC`` on PostgreSQL, text on SQLite."""

    impl = Numeric()
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """Decimal text on SQLite, the exact NUMERIC elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Decimal (or int) -> text on SQLite, Decimal elsewhere.

        Raises:
            TypeError: a float or other non-decimal value.
        """
        if value is None:
            return None
        number = _as_decimal(value)
        return str(number) if dialect.name == "sqlite" else number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Back to a Decimal of the stored value."""
        return None if value is None else Decimal(value)


def _as_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"expected a Decimal, got {type(value).__name__}: {value!r}")
    return Decimal(value)


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def _in(column: str, values: Iterable[str]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class SchemaVersionTable(SQLModel, table=True):
    """One row per migration applied, so that :func:`create_schema` knows what is left."""

    __tablename__ = "schema_version"

    version: int = Field(primary_key=True)
    description: str


class CompanyTable(SQLModel, table=True):
    """A company by display name; ``External`` is one too, the only one without a book."""

    __tablename__ = "company"

    name: str = Field(primary_key=True)
    account: str = Field(unique=True)
    has_book: bool


class DealTable(SQLModel, table=True):
    """A deal: the span of its legs' dates and the sources they cite."""

    __tablename__ = "deal"

    id: str = Field(primary_key=True)
    title: str | None = Field(default=None, nullable=True)
    first_date: dt.date
    last_date: dt.date
    source: str = ""


class LegTable(SQLModel, table=True):
    """Every field of a :class:`~ledger.model.Leg`, keyed by ``(deal, leg)``."""

    __tablename__ = "leg"
    __table_args__ = (
        CheckConstraint("leg >= 1", name="leg_number_positive"),
        CheckConstraint("amount >= 0", name="leg_amount_not_negative"),
        CheckConstraint("payer <> payee", name="leg_two_parties"),
        CheckConstraint(_in("kind", (k.value for k in Kind)), name="leg_kind_known"),
        CheckConstraint(_in("status", (s.value for s in Status)), name="leg_status_known"),
    )

    deal: str = Field(primary_key=True, foreign_key="deal.id")
    leg: int = Field(primary_key=True)
    date: dt.date = Field(index=True)
    payer: str = Field(foreign_key="company.name")
    payee: str = Field(foreign_key="company.name")
    kind: str
    amount: Decimal = Field(sa_column=Column(Money(), nullable=False))
    currency: str
    status: str
    estimate: bool
    note: str
    source: str
    units: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    commodity: str | None = Field(default=None, nullable=True)
    filename: str
    lineno: int


class PostingTable(SQLModel, table=True):
    """One posting of one leg's transaction in one company's book."""

    __tablename__ = "posting"
    __table_args__ = (
        ForeignKeyConstraint(["deal", "leg"], ["leg.deal", "leg.leg"], name="posting_leg"),
        Index("ix_posting_deal_leg", "deal", "leg"),
    )

    book: str = Field(primary_key=True, foreign_key="company.name")
    deal: str = Field(primary_key=True)
    leg: int = Field(primary_key=True)
    account: str = Field(primary_key=True)
    amount: Decimal = Field(sa_column=Column(Money(), nullable=False))
    currency: str


class PriceTable(SQLModel, table=True):
    """A mark: one unit of ``commodity`` is worth ``amount`` ``currency`` on ``date``."""

    __tablename__ = "price"

    date: dt.date = Field(primary_key=True)
    commodity: str = Field(primary_key=True)
    amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    currency: str


class NettingRunTable(SQLModel, table=True):
    """One netting of one set of legs, keyed by a hash of what was netted.

    ``created`` is the date of the newest leg netted, not the wall-clock time, so that netting
    the same legs again writes the same row.
    """

    __tablename__ = "netting_run"

    id: str = Field(primary_key=True)
    method: str
    basis: str
    period_start: dt.date | None = Field(default=None, nullable=True)
    period_end: dt.date | None = Field(default=None, nullable=True)
    total_circular: Decimal = Field(sa_column=Column(Money(), nullable=False))
    split_rule: str
    legs_hash: str
    created: dt.date | None = Field(default=None, nullable=True)


class NettingResultTable(SQLModel, table=True):
    """The figures of one company in one netting run."""

    __tablename__ = "netting_result"

    run_id: str = Field(primary_key=True, foreign_key="netting_run.id")
    company: str = Field(primary_key=True, foreign_key="company.name")
    gross: Decimal = Field(sa_column=Column(Money(), nullable=False))
    external: Decimal = Field(sa_column=Column(Money(), nullable=False))
    web: Decimal = Field(sa_column=Column(Money(), nullable=False))
    circular: Decimal = Field(sa_column=Column(Money(), nullable=False))
    organic: Decimal = Field(sa_column=Column(Money(), nullable=False))
    circular_share: Decimal | None = Field(
        default=None, sa_column=Column(ExactDecimal(), nullable=True)
    )
    estimated: bool


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


_COMPANY = _table(CompanyTable)
_DEAL = _table(DealTable)
_LEG = _table(LegTable)
_POSTING = _table(PostingTable)
_PRICE = _table(PriceTable)
_RUN = _table(NettingRunTable)
_RESULT = _table(NettingResultTable)
_VERSION = _table(SchemaVersionTable)

#: Tables in dependency order (referenced tables first).
_STORE_TABLES: tuple[Table, ...] = (_COMPANY, _DEAL, _LEG, _POSTING, _PRICE, _RUN, _RESULT)


# --------------------------------------------------------------------------------------------
# Engine and schema
# --------------------------------------------------------------------------------------------


def engine_for(url: str | None = None, **engine_kwargs: Any) -> Engine:
    """An engine for a store URL: ``None`` is :data:`DEFAULT_URL`, a bare path a SQLite file.

    ``postgresql://`` and ``postgres://`` URLs use psycopg 3. SQLite connections enforce
    foreign keys and run every transaction, DDL included, inside an explicit ``BEGIN``, so that
    loads and migrations are as atomic there as on PostgreSQL.

    Args:
        url: ``sqlite:///path.db``, ``sqlite://`` (in memory), ``postgresql+psycopg://...``,
            or a file path.
        **engine_kwargs: passed to :func:`sqlalchemy.create_engine` (e.g. ``connect_args``).
    """
    text = url or DEFAULT_URL
    if "://" not in text:
        text = f"sqlite:///{text}"
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            text = "postgresql+psycopg://" + text[len(prefix) :]
    engine = create_engine(make_url(text), **engine_kwargs)
    if engine.dialect.name == "sqlite":
        _make_sqlite_transactional(engine)
    return engine


def _make_sqlite_transactional(engine: Engine) -> None:
    """The SQLAlchemy recipe for real SQLite transactions (pysqlite's own skip DDL)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def _create_v1(connection: Connection) -> None:
    SQLModel.metadata.create_all(connection, tables=list(_STORE_TABLES))


class _Migration(NamedTuple):
    version: int
    description: str
    apply: Callable[[Connection], None]


#: The ordered migrations; append, never edit one that has shipped.
_MIGRATIONS: tuple[_Migration, ...] = (
    _Migration(1, "company, deal, leg, posting, price, netting_run, netting_result", _create_v1),
)

#: The version :func:`create_schema` brings a store to.
SCHEMA_VERSION = _MIGRATIONS[-1].version


class StoreMissing(RoundtripError):
    """The database has no roundtrip store, or an older one: run :func:`create_schema`."""


def schema_version(engine: Engine) -> int:
    """The migration a store is at: 0 for an empty database."""
    with engine.connect() as connection:
        return _version(connection)


def _version(connection: Connection) -> int:
    if not inspect(connection).has_table(_VERSION.name):
        return 0
    return int(connection.execute(select(func.max(_VERSION.c.version))).scalar() or 0)


def _require_schema(connection: Connection) -> None:
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


def create_schema(engine: Engine) -> int:
    """Apply, in order, each migration the store has not recorded; each in one transaction.

    Running it again does nothing. A migration that fails leaves the store at the version before
    it, on SQLite as on PostgreSQL.

    Returns:
        The schema version the store is at now.
    """
    with engine.begin() as connection:
        SQLModel.metadata.create_all(connection, tables=[_VERSION])
    current = schema_version(engine)
    for migration in _MIGRATIONS:
        if migration.version <= current:
            continue
        with engine.begin() as connection:
            migration.apply(connection)
            connection.execute(
                insert(_VERSION).values(
                    version=migration.version, description=migration.description
                )
            )
        current = migration.version
    return current


# --------------------------------------------------------------------------------------------
# Summaries and query records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableCounts:
    """What one write did to one table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    @property
    def changed(self) -> bool:
        """Whether any row was written or removed."""
        return bool(self.inserted or self.updated or self.deleted)


@dataclass(frozen=True, slots=True)
class LoadSummary:
    """What :func:`load_legs` did, table by table."""

    company: TableCounts = TableCounts()
    deal: TableCounts = TableCounts()
    leg: TableCounts = TableCounts()
    posting: TableCounts = TableCounts()
    price: TableCounts = TableCounts()

    @property
    def changed(self) -> bool:
        """Whether the load wrote anything at all (False when the same books are loaded again)."""
        return any(getattr(self, f.name).changed for f in fields(self))

    def as_dict(self) -> dict[str, dict[str, int]]:
        """The counts as plain data, for JSON output."""
        return {
            f.name: {
                "inserted": getattr(self, f.name).inserted,
                "updated": getattr(self, f.name).updated,
                "unchanged": getattr(self, f.name).unchanged,
                "deleted": getattr(self, f.name).deleted,
            }
            for f in fields(self)
        }


@dataclass(frozen=True, slots=True)
class NettingSaved:
    """What :func:`save_netting` did: the run's content-derived id and the rows it touched."""

    run_id: str
    company: TableCounts
    run: TableCounts
    results: TableCounts

    @property
    def changed(self) -> bool:
        """Whether anything was written (False when the same result is saved again)."""
        return self.company.changed or self.run.changed or self.results.changed


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


class PostingRow(NamedTuple):
    """One posting of a leg's transaction in one book (amount signed: debit positive)."""

    book: Company
    deal: DealId
    leg: int
    account: str
    amount: Decimal
    currency: str


# --------------------------------------------------------------------------------------------
# Pure helpers: postings, row shapes, digests
# --------------------------------------------------------------------------------------------


# The chart of accounts is pure: remember it per (kind, counterparty) for big loads.
_payee_accounts = cache(payee_accounts)
_payer_accounts = cache(payer_accounts)


def leg_postings(leg: Leg) -> tuple[PostingRow, ...]:
    """The postings of a leg's transaction in each book that keeps one (not ``External``'s).

    Each book's two postings sum to zero: ``+amount`` debit, ``-amount`` credit.
    """
    rows: list[PostingRow] = []
    kind = Kind(leg.kind)
    if leg.payee != EXTERNAL:
        debit, credit = _payee_accounts(kind, leg.payer)
        rows.append(PostingRow(leg.payee, leg.deal, leg.leg, debit, leg.amount, leg.currency))
        rows.append(PostingRow(leg.payee, leg.deal, leg.leg, credit, -leg.amount, leg.currency))
    if leg.payer != EXTERNAL:
        debit, credit = _payer_accounts(kind, leg.payee)
        rows.append(PostingRow(leg.payer, leg.deal, leg.leg, debit, leg.amount, leg.currency))
        rows.append(PostingRow(leg.payer, leg.deal, leg.leg, credit, -leg.amount, leg.currency))
    return tuple(rows)


def _canonical(number: Decimal | None) -> str | None:
    """One text per value: ``100``, ``100.0`` and ``1E+2`` all give ``100``."""
    return None if number is None else format(number.normalize(), "f")


def _leg_content(leg: Leg) -> list[Any]:
    """Everything a leg says, except where it was read from, in a hashable canonical form."""
    return [
        leg.date.isoformat(),
        leg.deal,
        leg.leg,
        leg.payer,
        leg.payee,
        Kind(leg.kind).value,
        _canonical(leg.amount),
        leg.currency,
        Status(leg.status).value,
        bool(leg.estimate),
        leg.note,
        leg.source,
        _canonical(leg.units),
        leg.commodity,
    ]


def legs_digest(legs: Iterable[Leg]) -> str:
    """A SHA-256 of the legs' content, independent of their order and of file/line provenance.

    Two inputs that book the same legs (reordered, reformatted, moved to other lines) have the
    same digest, so netting them gives the same run id.
    """
    digest = hashlib.sha256()
    for leg in sorted(legs, key=lambda leg: (leg.deal, leg.leg)):
        digest.update(json.dumps(_leg_content(leg), separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _leg_row(leg: Leg) -> dict[str, Any]:
    return {
        "deal": leg.deal,
        "leg": leg.leg,
        "date": leg.date,
        "payer": leg.payer,
        "payee": leg.payee,
        "kind": Kind(leg.kind).value,
        "amount": leg.amount,
        "currency": leg.currency,
        "status": Status(leg.status).value,
        "estimate": bool(leg.estimate),
        "note": leg.note,
        "source": leg.source,
        "units": leg.units,
        "commodity": leg.commodity,
        "filename": leg.filename,
        "lineno": leg.lineno,
    }


def _row_leg(row: Mapping[str, Any]) -> Leg:
    return Leg(
        date=row["date"],
        deal=row["deal"],
        leg=row["leg"],
        payer=row["payer"],
        payee=row["payee"],
        kind=Kind(row["kind"]),
        amount=row["amount"],
        currency=row["currency"],
        status=Status(row["status"]),
        estimate=bool(row["estimate"]),
        note=row["note"],
        source=row["source"],
        units=row["units"],
        commodity=row["commodity"],
        filename=row["filename"],
        lineno=row["lineno"],
    )


def _price_row(price: Price) -> dict[str, Any]:
    return {
        "date": price.date,
        "commodity": price.commodity,
        "amount": price.amount,
        "currency": price.currency,
    }


def _company_row(name: Company) -> dict[str, Any]:
    return {"name": name, "account": account_component(name), "has_book": name != EXTERNAL}


# --------------------------------------------------------------------------------------------
# Validation: every problem of the input, before anything is written
# --------------------------------------------------------------------------------------------


def _leg_problems(leg: Leg) -> list[str]:
    """What would make this leg's row invalid (empty when it is fine)."""
    problems: list[str] = []
    if not isinstance(leg.date, dt.date) or isinstance(leg.date, dt.datetime):
        problems.append(f"date {leg.date!r} is not a date")
    for name in ("deal", "payer", "payee", "currency"):
        value = getattr(leg, name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name} is empty")
    if isinstance(leg.leg, bool) or not isinstance(leg.leg, int) or leg.leg < 1:
        problems.append(f"leg number {leg.leg!r} is not a positive integer")
    if leg.payer == leg.payee:
        problems.append(f"payer and payee are both {leg.payer!r}")
    if leg.kind not in _KINDS:
        problems.append(f"unknown kind {leg.kind!r}")
    if leg.status not in _STATUSES:
        problems.append(f"unknown status {leg.status!r}")
    problems.extend(_amount_problems(leg.amount))
    if leg.units is not None and not (isinstance(leg.units, Decimal) and leg.units.is_finite()):
        problems.append(f"units {leg.units!r} is not a finite decimal")
    for name in ("note", "source", "filename"):
        if not isinstance(getattr(leg, name), str):
            problems.append(f"{name} is not text")
    return problems


def _amount_problems(amount: Any) -> list[str]:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        return [f"amount {amount!r} is not a finite decimal"]
    if amount < 0:
        return [f"amount {amount} is negative"]
    if amount >= MAX_AMOUNT:
        return [f"amount {amount} is too large (the store holds less than {MAX_AMOUNT:,})"]
    if amount != amount.quantize(CENT):
        return [f"amount {amount} has more than 2 decimals"]
    return []


def _where(record: Leg | Price) -> tuple[str, int]:
    return (record.filename, record.lineno)


def _validate_legs(legs: Sequence[Leg]) -> list[LedgerError]:
    errors: list[LedgerError] = []
    first: dict[tuple[DealId, int], Leg] = {}
    for leg in legs:
        errors.extend(
            LedgerError(*_where(leg), f"leg {leg.leg}: {problem}", leg.deal)
            for problem in _leg_problems(leg)
        )
        if leg.key in first:
            seen = first[leg.key]
            message = (
                f"leg {leg.leg} of deal {leg.deal} is defined twice "
                f"(first at {seen.filename}:{seen.lineno})"
            )
            errors.append(LedgerError(*_where(leg), message, leg.deal))
        else:
            first[leg.key] = leg
    return errors


def _validate_prices(prices: Sequence[Price]) -> list[LedgerError]:
    errors: list[LedgerError] = []
    first: dict[tuple[dt.date, str], Price] = {}
    for price in prices:
        if not isinstance(price.amount, Decimal) or not price.amount.is_finite():
            message = f"price of {price.commodity}: {price.amount!r} is not a finite decimal"
            errors.append(LedgerError(*_where(price), message))
        if not price.commodity or not price.currency:
            errors.append(LedgerError(*_where(price), "price without commodity or currency"))
        key = (price.date, price.commodity)
        seen = first.setdefault(key, price)
        if seen is not price and (seen.amount, seen.currency) != (price.amount, price.currency):
            message = (
                f"price of {price.commodity} on {price.date} contradicts "
                f"{seen.filename}:{seen.lineno} ({seen.amount} {seen.currency})"
            )
            errors.append(LedgerError(*_where(price), message))
    return errors


def _named_companies(
    legs: Sequence[Leg], declared: Iterable[Company]
) -> dict[Company, LedgerError]:
    """Every company the input names, with where it is first named (for error messages)."""
    where: dict[Company, LedgerError] = {}
    for name in declared:
        where.setdefault(name, LedgerError("<companies>", 0, "", None))
    for leg in legs:
        for name in (leg.payer, leg.payee):
            where.setdefault(name, LedgerError(leg.filename, leg.lineno, "", leg.deal))
    return where


def _company_errors(
    named: Mapping[Company, LedgerError], existing: Mapping[Company, Mapping[str, Any]]
) -> list[LedgerError]:
    """Names that give no account component, or the same one as another company."""
    errors: list[LedgerError] = []
    owner = {row["account"]: name for name, row in existing.items()}
    for name, at in named.items():
        if not isinstance(name, str):
            errors.append(at._replace(message=f"company {name!r} is not a name"))
            continue
        try:
            account = account_component(name)
        except ValueError as exc:
            errors.append(at._replace(message=str(exc)))
            continue
        other = owner.setdefault(account, name)
        if other != name:
            message = f"companies {other!r} and {name!r} both map to account component {account!r}"
            errors.append(at._replace(message=message))
    return errors


# --------------------------------------------------------------------------------------------
# Writing: read what exists, diff by key, write the difference in bulk
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    """The writes that bring one table from what exists to what is wanted."""

    table: Table
    inserts: tuple[dict[str, Any], ...]
    updates: tuple[dict[str, Any], ...]
    deletes: tuple[dict[str, Any], ...]
    unchanged: int

    @property
    def counts(self) -> TableCounts:
        return TableCounts(len(self.inserts), len(self.updates), self.unchanged, len(self.deletes))


@cache
def _key_columns(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.primary_key.columns)


@cache
def _keyer(table: Table) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A fast ``row -> key tuple`` for one table (loads diff millions of rows)."""
    names = _key_columns(table)
    if len(names) == 1:
        (name,) = names
        return lambda row: (row[name],)
    return itemgetter(*names)  # type: ignore[return-value]


def _key(table: Table, row: Mapping[str, Any]) -> tuple[Any, ...]:
    return _keyer(table)(row)


def _plan(
    table: Table,
    wanted: Iterable[Mapping[str, Any]],
    existing: Mapping[tuple[Any, ...], Mapping[str, Any]],
    stale: Iterable[tuple[Any, ...]] = (),
) -> _Plan:
    """Diff wanted rows against existing rows of the same keys; ``stale`` keys get deleted."""
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    key = _keyer(table)
    for row in wanted:
        old = existing.get(key(row))
        if old is None:
            inserts.append(dict(row))
        elif any(old[name] != value for name, value in row.items()):
            updates.append(dict(row))
        else:
            unchanged += 1
    names = _key_columns(table)
    deletes = tuple(dict(zip(names, key, strict=True)) for key in sorted(stale))
    return _Plan(table, tuple(inserts), tuple(updates), deletes, unchanged)


def _match_key(table: Table) -> Any:
    """``WHERE key = :k_key ...`` for executemany updates and deletes."""
    return and_(*(table.c[name] == bindparam(f"k_{name}") for name in _key_columns(table)))


def _apply_plan(connection: Connection, plan: _Plan) -> None:
    """Run one table's deletes, updates and inserts, each as one executemany."""
    table = plan.table
    names = _key_columns(table)
    if plan.deletes:
        connection.execute(
            delete(table).where(_match_key(table)),
            [{f"k_{n}": row[n] for n in names} for row in plan.deletes],
        )
    if plan.updates:
        rows = [_update_params(row, names) for row in plan.updates]
        connection.execute(update(table).where(_match_key(table)), rows)
    if plan.inserts:
        _insert_many(connection, table, plan.inserts)


def _insert_many(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows; on PostgreSQL (psycopg) big batches go through ``COPY``, 4x faster.

    ``COPY`` runs on the same connection, inside the same transaction, so it rolls back with
    everything else. Values pass through each column's bind processing first, so ``Money``
    checks its amounts exactly as an ``INSERT`` would.
    """
    dialect = connection.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg" or len(rows) < _COPY_MIN:
        connection.execute(insert(table), list(rows))
        return
    names = tuple(rows[0])
    # dialect_impl first: a TypeDecorator's own bind_processor would chain the generic
    # Numeric's, which turns Decimals into floats.
    processors = tuple(
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    target = dialect.identifier_preparer.format_table(table)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    tuple(
                        value if process is None else process(value)
                        for value, process in zip(
                            (row[name] for name in names), processors, strict=True
                        )
                    )
                )
    finally:
        cursor.close()


def _update_params(row: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The SET values (non-key columns) and the ``k_`` key values of one update."""
    params = {name: value for name, value in row.items() if name not in names}
    params.update({f"k_{name}": row[name] for name in names})
    return params


def _existing_where_in(
    connection: Connection, table: Table, column: str, values: Iterable[Any]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The rows whose ``column`` is one of ``values``, by key, read in chunks."""
    wanted = sorted(set(values))
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    key = _keyer(table)
    names = tuple(table.columns.keys())
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        result = connection.execute(select(table).where(table.c[column].in_(chunk)))
        for values_ in result.all():
            row = dict(zip(names, values_, strict=True))
            rows[key(row)] = row
    return rows


def _deal_rows(
    legs: Sequence[Leg],
    existing_legs: Mapping[tuple[Any, ...], Mapping[str, Any]],
    existing_deals: Mapping[tuple[Any, ...], Mapping[str, Any]],
    titles: Mapping[DealId, str],
) -> list[dict[str, Any]]:
    """Each touched deal as it will be once the input's legs replace the stored ones."""
    merged: dict[DealId, dict[int, tuple[dt.date, str]]] = defaultdict(dict)
    for row in existing_legs.values():
        merged[row["deal"]][row["leg"]] = (row["date"], row["source"])
    for leg in legs:
        merged[leg.deal][leg.leg] = (leg.date, leg.source)
    rows = []
    for deal in sorted({leg.deal for leg in legs}):
        by_number = merged[deal]
        dates = [day for day, _ in by_number.values()]
        sources = [by_number[n][1] for n in sorted(by_number) if by_number[n][1]]
        old = existing_deals.get((deal,), {})
        rows.append(
            {
                "id": deal,
                "title": titles.get(deal, old.get("title")),
                "first_date": min(dates),
                "last_date": max(dates),
                "source": "; ".join(dict.fromkeys(sources)),
            }
        )
    return rows


def _posting_plan(
    legs: Sequence[Leg], existing: Mapping[tuple[Any, ...], Mapping[str, Any]]
) -> _Plan:
    """Postings wanted for the input's legs; stored postings of those legs that no longer fit go."""
    keys = {leg.key for leg in legs}
    wanted = [row._asdict() for leg in legs for row in leg_postings(leg)]
    key = _keyer(_POSTING)
    wanted_keys = {key(row) for row in wanted}
    mine = {k: row for k, row in existing.items() if (row["deal"], row["leg"]) in keys}
    stale = [k for k in mine if k not in wanted_keys]
    return _plan(_POSTING, wanted, mine, stale)


def load_legs(
    engine: Engine,
    legs: Iterable[Leg],
    prices: Iterable[Price] = (),
    companies: Iterable[Company] = (),
    *,
    titles: Mapping[DealId, str] | None = None,
) -> LoadSummary:
    """Store legs, their deals, companies and postings, and price marks, in one transaction.

    Idempotent: loading the same input again inserts and updates nothing. A stored leg whose key
    comes back with other content is updated, and its postings follow. Legs already stored but
    absent from the input are kept. Atomic: on any error nothing is written.

    Args:
        engine: from :func:`engine_for`, with :func:`create_schema` applied.
        legs: the legs; ``(deal, leg)`` must be unique among them.
        prices: price marks; a repeated ``(date, commodity)`` must repeat the same price.
        companies: companies to record even if no leg names them.
        titles: optional deal titles; a deal without one keeps the title it has.

    Raises:
        BadInput: every problem of the input (file, line, deal), before anything is written;
            also names that clash with stored companies' account components.
        StoreMissing: :func:`create_schema` has not been run on this database.
    """
    legs = tuple(legs)
    prices = tuple(prices)
    named = _named_companies(legs, companies)
    errors = _validate_legs(legs) + _validate_prices(prices)
    if errors:
        raise BadInput(errors)
    with engine.begin() as connection:
        _require_schema(connection)
        stored_companies = {
            row["name"]: dict(row) for row in connection.execute(select(_COMPANY)).mappings()
        }
        errors = _company_errors(named, stored_companies)
        if errors:
            raise BadInput(errors)
        return _write(connection, legs, prices, named, stored_companies, titles or {})


def _write(
    connection: Connection,
    legs: Sequence[Leg],
    prices: Sequence[Price],
    named: Mapping[Company, LedgerError],
    stored_companies: Mapping[Company, Mapping[str, Any]],
    titles: Mapping[DealId, str],
) -> LoadSummary:
    deal_ids = {leg.deal for leg in legs}
    stored_legs = _existing_where_in(connection, _LEG, "deal", deal_ids)
    stored_deals = _existing_where_in(connection, _DEAL, "id", deal_ids)
    stored_postings = _existing_where_in(connection, _POSTING, "deal", deal_ids)
    commodities = {price.commodity for price in prices}
    stored_prices = _existing_where_in(connection, _PRICE, "commodity", commodities)
    unique_prices = {(price.date, price.commodity): price for price in prices}
    plans = (
        _plan(
            _COMPANY,
            [_company_row(name) for name in sorted(named)],
            {(name,): row for name, row in stored_companies.items()},
        ),
        _plan(_DEAL, _deal_rows(legs, stored_legs, stored_deals, titles), stored_deals),
        _plan(_LEG, [_leg_row(leg) for leg in legs], stored_legs),
        _posting_plan(legs, stored_postings),
        _plan(
            _PRICE,
            [_price_row(price) for price in unique_prices.values()],
            stored_prices,
        ),
    )
    for plan in plans:
        _apply_plan(connection, plan)
    return LoadSummary(*(plan.counts for plan in plans))


# --------------------------------------------------------------------------------------------
# Netting runs
# --------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """An enum's value or a string as it is."""
    return str(getattr(value, "value", value))


def save_netting(engine: Engine, result: Any, legs: Iterable[Leg] | None = None) -> NettingSaved:
    """Store a netting result under an id derived from what was netted; idempotent.

    ``result`` is anything with the attributes of ``ledger.netting.NettingResult``: ``method``,
    ``graph.basis``, ``graph.period`` (``.start``/``.end``), ``total_circular``, ``split_rule``
    and ``companies`` (each with ``company``, ``gross``, ``external``, ``web``, ``circular``,
    ``organic``, ``circular_share``, ``estimated``). The run id hashes the method, basis, period
    and :func:`legs_digest` of the legs netted — ``legs`` if given, else the legs in the store —
    so saving the same netting again changes nothing, and a changed figure of the same run
    replaces the stored one.

    Returns:
        The run id and the rows written.

    Raises:
        StoreMissing: :func:`create_schema` has not been run on this database.
    """
    graph = result.graph
    period = getattr(graph, "period", None)
    start = getattr(period, "start", None)
    end = getattr(period, "end", None)
    with engine.begin() as connection:
        _require_schema(connection)
        if legs is None:
            rows = connection.execute(select(_LEG)).mappings()
            netted = tuple(_row_leg(row) for row in rows)
        else:
            netted = tuple(legs)
        legs_hash = legs_digest(netted)
        method, basis = _text(result.method), _text(graph.basis)
        identity = [method, basis, _iso(start), _iso(end), legs_hash]
        run_id = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:32]
        run = {
            "id": run_id,
            "method": method,
            "basis": basis,
            "period_start": start,
            "period_end": end,
            "total_circular": result.total_circular,
            "split_rule": _text(result.split_rule),
            "legs_hash": legs_hash,
            "created": max((leg.date for leg in netted), default=None),
        }
        results = [_result_row(run_id, figures) for figures in result.companies]
        names = {row["company"] for row in results}
        stored_companies = _existing_where_in(connection, _COMPANY, "name", names)
        stored_results = _existing_where_in(connection, _RESULT, "run_id", [run_id])
        wanted_keys = {_key(_RESULT, row) for row in results}
        plans = (
            _plan(_COMPANY, [_company_row(name) for name in sorted(names)], stored_companies),
            _plan(_RUN, [run], _existing_where_in(connection, _RUN, "id", [run_id])),
            _plan(_RESULT, results, stored_results, set(stored_results) - wanted_keys),
        )
        for plan in plans:
            _apply_plan(connection, plan)
    return NettingSaved(run_id, *(plan.counts for plan in plans))


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _result_row(run_id: str, figures: Any) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "company": figures.company,
        "gross": figures.gross,
        "external": figures.external,
        "web": figures.web,
        "circular": figures.circular,
        "organic": figures.organic,
        "circular_share": figures.circular_share,
        "estimated": bool(figures.estimated),
    }


# --------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------


def query_legs(engine: Engine) -> tuple[Leg, ...]:
    """Every stored leg, as :class:`~ledger.model.Leg`, ordered by date, deal, leg."""
    statement = select(_LEG).order_by(_LEG.c.date, _LEG.c.deal, _LEG.c.leg)
    with engine.connect() as connection:
        _require_schema(connection)
        return tuple(_row_leg(row) for row in connection.execute(statement).mappings())


def query_prices(engine: Engine) -> tuple[Price, ...]:
    """Every stored price mark, ordered by date and commodity (provenance is not stored)."""
    statement = select(_PRICE).order_by(_PRICE.c.date, _PRICE.c.commodity)
    with engine.connect() as connection:
        _require_schema(connection)
        return tuple(
            Price(row["date"], row["commodity"], row["amount"], row["currency"], "<store>", 0)
            for row in connection.execute(statement).mappings()
        )


def query_companies(engine: Engine) -> tuple[StoredCompany, ...]:
    """Every stored company, ``External`` included, ordered by name."""
    statement = select(_COMPANY).order_by(_COMPANY.c.name)
    with engine.connect() as connection:
        _require_schema(connection)
        return tuple(
            StoredCompany(row["name"], row["account"], bool(row["has_book"]))
            for row in connection.execute(statement).mappings()
        )


def query_deals(engine: Engine) -> tuple[StoredDeal, ...]:
    """Every stored deal with its number of legs, ordered by first date and id."""
    counts = (
        select(_LEG.c.deal, func.count().label("legs")).group_by(_LEG.c.deal).subquery("counts")
    )
    statement = (
        select(_DEAL, func.coalesce(counts.c.legs, 0).label("legs"))
        .select_from(_DEAL.outerjoin(counts, counts.c.deal == _DEAL.c.id))
        .order_by(_DEAL.c.first_date, _DEAL.c.id)
    )
    with engine.connect() as connection:
        _require_schema(connection)
        return tuple(
            StoredDeal(
                row["id"],
                row["title"],
                row["first_date"],
                row["last_date"],
                row["source"],
                int(row["legs"]),
            )
            for row in connection.execute(statement).mappings()
        )
