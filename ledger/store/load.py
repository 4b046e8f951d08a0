"""``roundtrip load``: make the store equal to its input for the companies the input covers.

In: a legs frame (:mod:`ledger.legs_frame`; every reader gives one), price marks and the
companies the input declares. Out: rows in ``company``, ``deal_title``, ``leg`` and ``price``,
and a :class:`LoadSummary` of what changed (deals are a view over the legs). The design
(docs/store.md, "Loading"):

* **The input owns its companies.** The companies an input covers are those it names or declares
  (``External`` aside). After a load, the store's legs that touch a covered company are exactly
  the input's legs: new ones are inserted, changed ones replaced, and the ones the input no
  longer has are removed (a deal is a view over its legs: one left without legs is gone).
  Legs between companies the input does not cover are left alone, so webs of different
  companies can share one store.
* **Identity is content, not path.** Each leg carries a 64-bit digest of its content (every
  field but the file and line it was read from); a load compares digests by ``(deal, leg)``, so
  the same legs read from a CSV, its Parquet twin or the books written from it change nothing.
* **Lean and atomic.** The frame is never turned into one object per leg: rows go to the
  database as tuples, a chunk at a time (``executemany`` on SQLite, ``COPY`` on PostgreSQL);
  postings are a view over the legs (:mod:`ledger.store.postings`), never written. All in one
  transaction under the store's write lock (:func:`~ledger.store.schema.write_transaction`):
  two loads at once run one after the other, and a load that fails or is killed leaves the
  store as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from ledger.model import EXTERNAL, BadInput, Company, LedgerError, Leg, Price, account_component
from ledger.store.schema import (
    COMPANY,
    canonical_decimal,
    require_schema,
    write_transaction,
)

__all__ = [
    "LEG_COLUMNS",
    "LoadSummary",
    "TableCounts",
    "content_digests",
    "LegRows",
    "leg_rows",
    "load_frame",
    "load_legs",
    "load_on",
    "load_web",
]

#: The leg table's columns, in the order rows are written.
LEG_COLUMNS = (
    "deal",
    "leg",
    "date",
    "payer",
    "payee",
    "kind",
    "amount_cents",
    "currency",
    "status",
    "estimate",
    "capex",
    "note",
    "source",
    "units",
    "commodity",
    "digest",
)
#: The leg columns that are content (the digest hashes them; provenance is not stored).
_CONTENT = LEG_COLUMNS[:-1]

#: Rows per batch written (bounds the tuples alive at once).
CHUNK = 100_000

Progress = Callable[[int, int], None]


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
    """What a load did, table by table."""

    company: TableCounts = TableCounts()
    deal_title: TableCounts = TableCounts()
    leg: TableCounts = TableCounts()
    price: TableCounts = TableCounts()

    @property
    def changed(self) -> bool:
        """Whether the load wrote anything at all (False when the same legs are loaded again)."""
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


# --------------------------------------------------------------------------------------------
# The rows of a frame
# --------------------------------------------------------------------------------------------


def _category(series: pd.Series) -> pd.Categorical:
    """A text column as a categorical of str (one copy of each distinct value)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.rename_categories([str(c) for c in series.cat.categories]).array
    return pd.Categorical(series.astype(str))


def _canonical_units(series: pd.Series) -> pd.Categorical:
    """Units as canonical decimal text (``1.6E8`` and ``160000000`` alike), "" if absent."""
    units = _category(series)
    canonical = [canonical_decimal(Decimal(t)) if t else "" for t in units.categories]
    return pd.Categorical(np.asarray(canonical, dtype=object)[units.codes])


def _values(category: pd.Categorical, empty_is_none: bool = False) -> np.ndarray:
    """A categorical's values as an object array of str (None for "" if asked)."""
    categories = np.asarray(list(category.categories), dtype=object)
    if empty_is_none:
        categories[categories == ""] = None
    return categories[category.codes]


_TEXT = ("deal", "payer", "payee", "kind", "currency", "status", "note", "source", "commodity")


class LegRows(dict[str, np.ndarray]):
    """The leg table's rows as one array per column (:data:`LEG_COLUMNS`).

    Plain arrays rather than a DataFrame: a frame would copy a million-row text column block
    on construction, for nothing, since rows only leave as tuples.
    """

    @property
    def size(self) -> int:
        """How many rows."""
        return len(self["digest"])

    def tuples(self, positions: np.ndarray, columns: Sequence[str] = LEG_COLUMNS) -> list[Any]:
        """The rows at ``positions`` as tuples of plain Python values (what drivers bind)."""
        lists = [self[column][positions].tolist() for column in columns]
        return list(zip(*lists, strict=True))


def leg_rows(frame: pd.DataFrame, capex: np.ndarray | None = None) -> LegRows:
    """The leg table's rows for a legs frame (:data:`LEG_COLUMNS`, digest included)."""
    n = len(frame)
    days = frame["date"].to_numpy().astype("datetime64[D]")
    distinct, inverse = np.unique(days, return_inverse=True)
    content: dict[str, Any] = {
        "date": pd.Categorical.from_codes(inverse, [str(d) for d in distinct]),
        "leg": frame["leg"].to_numpy().astype(np.int64),
        "amount_cents": frame["cents"].to_numpy().astype(np.int64),
        "estimate": frame["estimate"].to_numpy().astype(bool),
        "capex": np.zeros(n, bool) if capex is None else np.asarray(capex, dtype=bool),
        "units": _canonical_units(frame["units"]),
        **{column: _category(frame[column]) for column in _TEXT},
    }
    digests = content_digests(pd.DataFrame({c: content[c] for c in _CONTENT}))
    rows = {
        column: _values(value, column in ("units", "commodity"))
        if isinstance(value, pd.Categorical)
        else value
        for column, value in content.items()
    }
    return LegRows({**{c: rows[c] for c in _CONTENT}, "digest": digests})


def content_digests(content: pd.DataFrame) -> np.ndarray:
    """A 64-bit digest of each leg's content (as signed int64, what BIGINT holds).

    pandas' ``hash_pandas_object`` with its fixed key, over the content columns in canonical
    form (ISO dates, canonical units, "" for no units or commodity): the same legs give the
    same digests from any source. Text columns may be categorical or not: pandas hashes a
    categorical by its values, so the digest is the same.
    """
    hashed = pd.util.hash_pandas_object(content, index=False).to_numpy()
    return hashed.view(np.int64)


# --------------------------------------------------------------------------------------------
# Checks that need the store
# --------------------------------------------------------------------------------------------


def _company_errors(
    named: Iterable[Company], stored: Mapping[Company, str], where: str
) -> list[LedgerError]:
    """Names that give no account component, or the same one as another company."""
    errors: list[LedgerError] = []
    owner = {account: name for name, account in stored.items()}
    for name in sorted(named):
        try:
            account = account_component(name)
        except ValueError as exc:
            errors.append(LedgerError(where, 0, str(exc)))
            continue
        other = owner.setdefault(account, name)
        if other != name:
            message = (
                f"company {name!r} would share account component {account!r} with {other!r}, "
                "already in the store"
            )
            errors.append(LedgerError(where, 0, message))
    return errors


def _price_errors(prices: Sequence[Price]) -> list[LedgerError]:
    errors: list[LedgerError] = []
    first: dict[tuple[Any, str], Price] = {}
    for price in prices:
        seen = first.setdefault((price.date, price.commodity), price)
        if seen is not price and (seen.amount, seen.currency) != (price.amount, price.currency):
            message = (
                f"price of {price.commodity} on {price.date} contradicts "
                f"{seen.filename}:{seen.lineno} ({seen.amount} {seen.currency})"
            )
            errors.append(LedgerError(price.filename, price.lineno, message))
    return errors


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def load_legs(
    engine: Engine,
    legs: Iterable[Leg],
    prices: Iterable[Price] = (),
    companies: Iterable[Company] = (),
    *,
    progress: Progress | None = None,
) -> LoadSummary:
    """:func:`load_frame` for Leg records (checked by :func:`ledger.validate.web_checks` first).

    Raises:
        BadInput: every problem of the legs (limits, names, a repeated key), nothing written.
    """
    from ledger.legs_frame import frame_of_legs
    from ledger.validate import row_checks, web_checks

    legs = tuple(legs)
    frame = frame_of_legs(legs)
    errors = row_checks(frame, numbered=True) + web_checks(frame)
    if errors:
        raise BadInput(errors)
    capex = np.asarray([leg.capex for leg in legs], dtype=bool)
    titles = {leg.deal: leg.title for leg in legs if leg.title}
    return load_frame(
        engine, frame, prices, companies, capex=capex, titles=titles, progress=progress
    )


def load_frame(
    engine: Engine,
    frame: pd.DataFrame,
    prices: Iterable[Price] = (),
    companies: Iterable[Company] = (),
    *,
    capex: np.ndarray | None = None,
    titles: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    where: str = "<input>",
) -> LoadSummary:
    """Make the store hold exactly the frame's legs for the companies it covers (module doc).

    Args:
        engine: from :func:`~ledger.store.schema.engine_for`, with the schema created.
        frame: a validated legs frame (the readers of :mod:`ledger.inputs` give one).
        prices: price marks; a repeated ``(date, commodity)`` must repeat the same price.
        companies: companies the input declares (covered even if no leg names them).
        capex: per row, whether the buyer capitalises a sale (books and deals files say it).
        titles: deal titles, by deal; a deal without one keeps the title it has.
        progress: called as ``progress(rows_written, rows_to_write)``.
        where: what to name in error messages (the input's path).

    Raises:
        BadInput: a name clashing with a stored company, contradicting prices; nothing written.
        StoreMissing: the schema is absent or older (:func:`~ledger.store.schema.create_schema`).
    """
    with write_transaction(engine) as connection:
        require_schema(connection)
        return load_on(
            connection,
            frame,
            prices,
            companies,
            capex=capex,
            titles=titles,
            progress=progress,
            where=where,
        )


def load_on(
    connection: Connection,
    frame: pd.DataFrame,
    prices: Iterable[Price] = (),
    companies: Iterable[Company] = (),
    *,
    capex: np.ndarray | None = None,
    titles: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    where: str = "<input>",
) -> LoadSummary:
    """:func:`load_frame` on a connection already in a locked transaction (migrations use it)."""
    prices = tuple(prices)
    errors = _price_errors(prices)
    if errors:
        raise BadInput(errors)
    rows = leg_rows(frame, capex)
    named = set(rows["payer"]) | set(rows["payee"]) | set(companies)
    covered = named - {EXTERNAL}
    writer = _Writer(connection, progress)
    stored_companies = writer.companies()
    errors = _company_errors(named, stored_companies, where)
    if errors:
        raise BadInput(errors)
    company = writer.add_companies(sorted(named - set(stored_companies)), len(named))
    plan = writer.plan(rows, covered)
    deal = writer.write_titles(titles or {})
    leg = writer.write_legs(rows, plan)
    price = writer.write_prices(prices)
    return LoadSummary(company, deal, leg, price)


@dataclass(frozen=True)
class _Plan:
    """Which input rows to write and which stored legs to remove, by ``(deal, leg)``."""

    write: np.ndarray  # positions in the input rows: new or changed legs
    remove: pd.DataFrame  # stored (deal, leg) to delete: changed or no longer in the input
    inserted: int
    updated: int
    unchanged: int
    deleted: int


class _Writer:
    """The writes of one load, on one connection, inside its transaction."""

    def __init__(self, connection: Connection, progress: Progress | None) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.progress = progress
        self.cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self.mark = "%s" if self.postgres else "?"

    # -- reading what is stored -----------------------------------------------------------

    def _fetch(self, sql: str, columns: Sequence[str]) -> pd.DataFrame:
        self.cursor.execute(sql)
        data = self.cursor.fetchall()
        return pd.DataFrame(data, columns=list(columns))

    def companies(self) -> dict[Company, str]:
        result = self.connection.execute(select(COMPANY.c.name, COMPANY.c.account))
        return {name: account for name, account in result}

    # -- companies ------------------------------------------------------------------------

    def add_companies(self, new: Sequence[Company], named: int) -> TableCounts:
        """Insert the companies not stored yet (``ON CONFLICT DO NOTHING``)."""
        if new:
            rows = [(name, account_component(name), name != EXTERNAL) for name in new]
            self._executemany(
                "INSERT INTO company (name, account, has_book) VALUES ({}) ON CONFLICT DO NOTHING",
                3,
                rows,
            )
        return TableCounts(inserted=len(new), unchanged=named - len(new))

    # -- the plan -------------------------------------------------------------------------

    def plan(self, rows: LegRows, covered: set[Company]) -> _Plan:
        """Compare the input with the store by content digest (module doc).

        A stored digest found among the input's is an unchanged leg (the digest covers the key
        too). Only the rest are compared by key: a stored leg whose key comes back with other
        content is replaced; one whose key is gone is removed if it touches a covered company.
        """
        stored = self._stored_digests(covered)
        if stored.empty:
            empty = pd.DataFrame({"deal": [], "leg": []})
            write = _key_order(rows, np.arange(rows.size))
            return _Plan(write, empty, rows.size, 0, 0, 0)
        digests = rows["digest"]
        kept = np.isin(stored["digest"].to_numpy(), digests)
        unchanged_input = np.isin(digests, stored["digest"].to_numpy()[kept])
        write = np.flatnonzero(~unchanged_input)
        others = stored[~kept]
        written_keys = pd.DataFrame({"deal": rows["deal"][write], "leg": rows["leg"][write]})
        replaced = others.merge(written_keys, on=["deal", "leg"], how="left", indicator=True)
        is_replaced = (replaced["_merge"] == "both").to_numpy()
        stale = ~is_replaced & replaced["touches"].astype(bool).to_numpy()
        remove = replaced.loc[is_replaced | stale, ["deal", "leg"]]
        updated = int(is_replaced.sum())
        return _Plan(
            _key_order(rows, write),
            remove,
            len(write) - updated,
            updated,
            int(unchanged_input.sum()),
            int(stale.sum()),
        )

    def _stored_digests(self, covered: set[Company]) -> pd.DataFrame:
        """Every stored leg's key, digest, and whether it touches a covered company."""
        temp = "rt_covered"
        suffix = " ON COMMIT DROP" if self.postgres else ""
        self.cursor.execute(f"CREATE TEMPORARY TABLE {temp} (name VARCHAR PRIMARY KEY){suffix}")
        self._executemany(f"INSERT INTO {temp} (name) VALUES ({{}})", 1, [(n,) for n in covered])
        stored = self._fetch(
            f"SELECT deal, leg, digest, CASE WHEN payer IN (SELECT name FROM {temp}) "
            f"OR payee IN (SELECT name FROM {temp}) THEN 1 ELSE 0 END FROM leg",
            ("deal", "leg", "digest", "touches"),
        )
        if not self.postgres:
            self.cursor.execute(f"DROP TABLE temp.{temp}")
        stored["leg"] = stored["leg"].astype(np.int64)
        stored["digest"] = stored["digest"].astype(np.int64)
        return stored

    # -- deals ------------------------------------------------------------------------------

    def write_titles(self, titles: Mapping[str, str]) -> TableCounts:
        """Insert or update the deal titles the input gives (a deal keeps the title it has)."""
        stored = dict(self._fetch("SELECT id, title FROM deal_title", ("id", "title")).values)
        inserts = [(deal, title) for deal, title in titles.items() if deal not in stored]
        updates = [
            (title, deal)
            for deal, title in titles.items()
            if deal in stored and stored[deal] != title
        ]
        self._insert("deal_title", ("id", "title"), sorted(inserts))
        m = self.mark
        self._executemany(f"UPDATE deal_title SET title = {m} WHERE id = {m}", 0, updates)
        return TableCounts(len(inserts), len(updates), len(titles) - len(inserts) - len(updates))

    # -- legs and postings ----------------------------------------------------------------

    def write_legs(self, rows: LegRows, plan: _Plan) -> TableCounts:
        """Remove the stale and changed legs, then insert the new and changed ones in chunks."""
        removed = _tuples(plan.remove, ("deal", "leg"))
        if removed:
            sql = f"DELETE FROM leg WHERE deal = {self.mark} AND leg = {self.mark}"
            self._executemany(sql, 0, removed)
        total, done = len(plan.write), 0
        for start in range(0, total, CHUNK):
            chosen = plan.write[start : start + CHUNK]
            self._insert("leg", LEG_COLUMNS, rows.tuples(chosen))
            done += len(chosen)
            if self.progress is not None:
                self.progress(done, total)
        return TableCounts(plan.inserted, plan.updated, plan.unchanged, plan.deleted)

    # -- prices -----------------------------------------------------------------------------

    def write_prices(self, prices: Sequence[Price]) -> TableCounts:
        """Upsert the marks by ``(date, commodity)``; marks the input lacks are kept."""
        stored = {
            (_iso(day), commodity): (str(price), currency)
            for day, commodity, price, currency in self._fetch(
                "SELECT date, commodity, unit_price, currency FROM price",
                ("date", "commodity", "unit_price", "currency"),
            ).itertuples(index=False)
        }
        wanted = {
            (price.date.isoformat(), price.commodity): (
                canonical_decimal(price.amount),
                price.currency,
            )
            for price in prices
        }
        inserts = [(*key, *value) for key, value in wanted.items() if key not in stored]
        updates = [
            (*value, *key)
            for key, value in wanted.items()
            if key in stored and not _same_price(stored[key], value)
        ]
        self._executemany(
            "INSERT INTO price (date, commodity, unit_price, currency) VALUES ({})", 4, inserts
        )
        m = self.mark
        self._executemany(
            f"UPDATE price SET unit_price = {m}, currency = {m} "
            f"WHERE date = {m} AND commodity = {m}",
            0,
            updates,
        )
        return TableCounts(len(inserts), len(updates), len(wanted) - len(inserts) - len(updates))

    # -- low-level writes -----------------------------------------------------------------

    def _executemany(self, sql: str, width: int, rows: Sequence[tuple[Any, ...]]) -> None:
        """``executemany`` of tuples; ``{}`` in ``sql`` becomes ``width`` placeholders."""
        if not rows:
            return
        if width:
            sql = sql.format(", ".join([self.mark] * width))
        self.cursor.executemany(sql, rows)

    def _insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Insert tuples: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres:
            with self.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        self._executemany(f"INSERT INTO {table} ({names}) VALUES ({{}})", len(columns), rows)


def _key_order(rows: LegRows, positions: np.ndarray) -> np.ndarray:
    """``positions`` ordered by ``(deal, leg)``: the key's order, so b-trees grow at their end."""
    codes, _ = pd.factorize(rows["deal"][positions], sort=True)
    numbers = rows["leg"][positions]
    return positions[np.lexsort((numbers, codes))]


def _same_price(stored: tuple[str, str], wanted: tuple[str, str]) -> bool:
    return Decimal(stored[0]) == Decimal(wanted[0]) and stored[1] == wanted[1]


def _iso(value: Any) -> Any:
    """A stored date (a ``date`` on PostgreSQL, text on SQLite) as ISO text."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def _tuples(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """The rows of some columns as tuples of plain Python values (what drivers bind)."""
    if frame.empty:
        return []
    lists = []
    for column in columns:
        values = frame[column].to_numpy()
        lists.append(values.tolist())
    return list(zip(*lists, strict=True))


def load_web(engine: Engine, web: Any, *, progress: Progress | None = None) -> LoadSummary:
    """:func:`load_frame` for what :func:`ledger.inputs.read_web` read (a valid web).

    Books and deals files say which sales the buyer capitalises (``capex``); a legs table does
    not, so its sales are purchases.
    """
    capex = None
    titles: dict[str, str] = {}
    if web.source in ("books", "deals"):
        capex = np.asarray([leg.capex for leg in web.legs], dtype=bool)
        titles = {leg.deal: leg.title for leg in web.legs if leg.title}
    return load_frame(
        engine,
        web.frame,
        web.prices,
        web.companies,
        capex=capex,
        titles=titles,
        progress=progress,
        where=str(web.path),
    )
