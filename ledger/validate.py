"""One validation layer for every input: the checks that look at more than one cell.

In: a legs frame (:mod:`ledger.legs_frame`) whose cells already parsed, in file order, with
its provenance (``file``, ``lineno``). Out: the problems as :class:`~ledger.model.LedgerError`
records (``file:line: message [deal]``). Every reader calls it — the legs CSV and Parquet reader
(:mod:`ledger.legs_table`) and, through :mod:`ledger.inputs`, the deals file and the books —
so the same legs are refused by every verb with the same message, or accepted by every verb.

Two groups:

- :func:`row_checks`, the rules of a row format (CSV, Parquet): a (deal, leg) pair or an
  identical row appears once; each deal's rows are in date order; one currency per file. The
  first failing rule of a row is its error and the row is then left out of later comparisons
  (as a reader reading row by row would). Rows are compared column-wise first; only the deals
  where a rule may fail are walked row by row, so a valid million-row file costs a few sorts.
- :func:`web_checks`, the rules of any web (every source): the bounds of
  :mod:`ledger.limits` (amounts, their sum, dates, name length, number of legs), company
  names that would share a book file or an account name (``OpenAI``/``openai``, ``Open AI``/
  ``Open.AI``, ``external``/``External``), and an empty web.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ledger.limits import (
    MAX_DATE,
    MAX_LEG_CENTS,
    MAX_LEGS,
    MAX_NAME_CHARS,
    MAX_TOTAL_CENTS,
    MIN_DATE,
)
from ledger.model import EXTERNAL, LedgerError, account_component, from_cents

__all__ = [
    "amount_limit_message",
    "collision_key",
    "date_limit_message",
    "name_limit_message",
    "row_checks",
    "web_checks",
]

_EPOCH = date(1970, 1, 1)


def amount_limit_message(text: str) -> str:
    """Why an amount above :data:`~ledger.limits.MAX_LEG_CENTS` is refused."""
    return (
        f"amount {text} is above the largest amount of one leg, "
        f"{from_cents(MAX_LEG_CENTS):,} (see ledger/limits.py)"
    )


def date_limit_message(day: date) -> str:
    """Why a date outside MIN_DATE..MAX_DATE is refused."""
    return f"date {day} is outside {MIN_DATE}..{MAX_DATE} (see ledger/limits.py)"


def name_limit_message(role: str, name: str) -> str:
    """Why a company name longer than MAX_NAME_CHARS is refused."""
    return (
        f"{role} name {name[:40]!r}... is {len(name)} characters long; the limit is "
        f"{MAX_NAME_CHARS} (see ledger/limits.py)"
    )


def collision_key(name: str) -> str | None:
    """What two names must not share: the book file and account name they map to."""
    try:
        return account_component(name).lower()
    except ValueError:
        return None


# -- helpers -----------------------------------------------------------------------------------


def _codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy().astype(np.int64), np.asarray(
            series.cat.categories, dtype=object
        )
    codes, uniques = pd.factorize(series, sort=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _days(frame: pd.DataFrame) -> np.ndarray:
    """Days since 1970 per row (int64)."""
    series = frame["date"]
    if not pd.api.types.is_datetime64_any_dtype(series):
        series = pd.to_datetime(series)
    return series.to_numpy().astype("datetime64[D]").astype(np.int64)


def _day(days: int) -> date:
    return _EPOCH + timedelta(days=int(days))


def _deal_text(deals: np.ndarray, row: int) -> str | None:
    text = str(deals[row])
    return text or None


class _Where:
    """Provenance of rows: file, line and deal, for the error records."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.file_codes, self.files = _codes(frame["file"])
        self.lines = frame["lineno"].to_numpy()
        self.deal_codes, self.deals = _codes(frame["deal"])

    def error(self, row: int, message: str) -> LedgerError:
        deal = str(self.deals[self.deal_codes[row]]) or None
        filename = str(self.files[self.file_codes[row]])
        return LedgerError(filename, int(self.lines[row]), message, deal)


# -- row formats -------------------------------------------------------------------------------


def _repeats(columns: Sequence[np.ndarray]) -> np.ndarray:
    """Rows that may equal another row in ``columns`` (every member of a possible group).

    One 64-bit hash per row: equal rows share it, so no repeat is missed; the few rows that
    share a hash without being equal are sorted out by the row-by-row walk.
    """
    if not len(columns[0]):
        return np.zeros(0, dtype=bool)
    mixed = np.zeros(len(columns[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i, column in enumerate(columns):
            value = np.asarray(column).astype(np.int64).view(np.uint64)
            mixed = (mixed ^ (value + np.uint64(0x9E3779B97F4A7C15) + np.uint64(i))) * np.uint64(
                0xBF58476D1CE4E5B9
            )
            mixed ^= mixed >> np.uint64(31)
    # Every row whose hash occurs more than once: one pass through a hash table, not a sort.
    return pd.Series(mixed, copy=False).duplicated(keep=False).to_numpy()


def row_checks(frame: pd.DataFrame, numbered: bool) -> list[LedgerError]:
    """Duplicates, date order within a deal and one currency, as a row-by-row reader sees them.

    Args:
        frame: the rows whose cells parsed, in file order.
        numbered: the leg numbers come from the file (a ``leg`` column); without one they were
            given by the reader, so two identical rows count as duplicate rows.
    """
    if not len(frame):
        return []
    where = _Where(frame)
    deal = where.deal_codes
    leg = frame["leg"].to_numpy().astype(np.int64)
    days = _days(frame)
    currency, currencies = _codes(frame["currency"])
    content = [days, deal, leg if numbered else np.zeros_like(leg)]
    for column in ("payer", "payee", "kind", "currency", "status", "note", "source", "commodity"):
        content.append(_codes(frame[column])[0])
    content += [frame["cents"].to_numpy(), frame["estimate"].to_numpy(), _unit_values(frame)]
    suspicious = _repeats([deal, leg]) | _repeats(content) | (currency != currency[0])
    latest = pd.Series(days).groupby(deal, sort=False).cummax()
    previous = latest.groupby(deal, sort=False).shift(1).to_numpy()
    with np.errstate(invalid="ignore"):
        suspicious |= days < previous
    if not suspicious.any():
        return []
    deals = np.unique(deal[suspicious])
    rows = np.flatnonzero(np.isin(deal, deals))
    return _walk(rows, where, deal, leg, days, currency, currencies, content)


def _unit_values(frame: pd.DataFrame) -> np.ndarray:
    """Units by value (``1.0`` and ``1`` are the same units), as codes."""
    from decimal import Decimal

    codes, texts = _codes(frame["units"])
    values = [Decimal(t) if t else None for t in texts.tolist()]
    value_codes, _ = pd.factorize(pd.Series(values, dtype=object), sort=False)
    return np.append(value_codes, -1)[codes]


def _walk(
    rows: np.ndarray,
    where: _Where,
    deal: np.ndarray,
    leg: np.ndarray,
    days: np.ndarray,
    currency: np.ndarray,
    currencies: np.ndarray,
    content: list[np.ndarray],
) -> list[LedgerError]:
    """The rules row by row, for the rows of the deals where one may fail."""
    errors: list[LedgerError] = []
    seen_keys: dict[tuple[int, int], int] = {}
    seen_rows: dict[tuple, int] = {}
    latest: dict[int, int] = {}
    lines = where.lines
    first = 0  # the first row of the frame is always kept: nothing comes before it
    table = np.column_stack(content).tolist()
    for row in rows.tolist():
        key = (int(deal[row]), int(leg[row]))
        whole = tuple(table[row])
        problem = None
        if key in seen_keys:
            name = where.deals[key[0]]
            problem = f"duplicate leg {name} #{key[1]} (first on line {seen_keys[key]})"
        elif whole in seen_rows:
            problem = f"duplicate row (same as line {seen_rows[whole]})"
        elif key[0] in latest and days[row] < days[latest[key[0]]]:
            before = latest[key[0]]
            problem = (
                f"leg dated {_day(days[row])} follows a leg of the same deal dated "
                f"{_day(days[before])} (line {lines[before]}): keep each deal's legs in date order"
            )
        elif currency[row] != currency[first]:
            problem = (
                f"mixed currencies: {currencies[currency[row]]} here, "
                f"{currencies[currency[first]]} on line {lines[first]}; a legs CSV has no prices "
                "to convert them, so keep one currency per file"
            )
        if problem:
            errors.append(where.error(row, problem))
            continue
        seen_keys[key] = int(lines[row])
        seen_rows[whole] = int(lines[row])
        if key[0] not in latest or days[row] >= days[latest[key[0]]]:
            latest[key[0]] = row
    return errors


# -- every web ---------------------------------------------------------------------------------


def web_checks(frame: pd.DataFrame, empty: LedgerError | None = None) -> list[LedgerError]:
    """Limits, colliding company names and an empty web, for legs from any source.

    Args:
        frame: the legs (those that passed the source's own checks), in input order.
        empty: the error to give when there are no legs at all (None: an empty web is fine).
    """
    if not len(frame):
        return [empty] if empty is not None else []
    where = _Where(frame)
    errors: list[LedgerError] = []
    errors += _amount_limits(frame, where)
    errors += _date_limits(frame, where)
    errors += _name_problems(frame, where)
    if len(frame) > MAX_LEGS:
        errors.append(
            where.error(
                MAX_LEGS,
                f"more than {MAX_LEGS:,} legs in one input (see ledger/limits.py): split it",
            )
        )
    return errors


def _amount_limits(frame: pd.DataFrame, where: _Where) -> list[LedgerError]:
    cents = frame["cents"].to_numpy().astype(np.int64)
    errors = [
        where.error(int(row), amount_limit_message(f"{from_cents(int(cents[row])):f}"))
        for row in np.flatnonzero(cents > MAX_LEG_CENTS)
    ]
    if errors:
        return errors
    # Each leg is below 10**15, so the running sum cannot overflow int64 before 9,000 legs
    # past the limit; the first leg that takes it over is reported.
    running = np.cumsum(cents)
    over = np.flatnonzero(running > MAX_TOTAL_CENTS)
    if len(over):
        errors.append(
            where.error(
                int(over[0]),
                f"the legs up to here add up to more than {from_cents(MAX_TOTAL_CENTS):,}, the "
                "largest total one input may hold (see ledger/limits.py): split the input",
            )
        )
    return errors


def _date_limits(frame: pd.DataFrame, where: _Where) -> list[LedgerError]:
    days = _days(frame)
    low = (MIN_DATE - _EPOCH).days
    high = (MAX_DATE - _EPOCH).days
    return [
        where.error(int(row), date_limit_message(_day(days[row])))
        for row in np.flatnonzero((days < low) | (days > high))
    ]


def _name_problems(frame: pd.DataFrame, where: _Where) -> list[LedgerError]:
    """Names too long or unprintable, and names that map to one book file or account."""
    first_row: dict[str, int] = {}
    role: dict[str, str] = {}
    for column in ("payer", "payee"):
        codes, names = _codes(frame[column])
        rows = np.full(len(names), len(frame), dtype=np.int64)
        np.minimum.at(rows, codes, np.arange(len(frame)))
        for name, row in zip(names.tolist(), rows.tolist(), strict=True):
            if row < len(frame) and row < first_row.get(name, len(frame)):
                first_row[name] = row
                role[name] = column
    errors = []
    owners: dict[str, str] = {}
    for name in sorted(first_row, key=first_row.__getitem__):
        row = first_row[name]
        if len(name) > MAX_NAME_CHARS:
            errors.append(where.error(row, name_limit_message(role[name], name)))
            continue
        if any(unicodedata.category(char) == "Cc" for char in name):
            message = (
                f"{role[name]} name {name!r} holds a control character (a tab, a line break, a "
                "NUL): names are printed in reports and books, so write them in printable text"
            )
            errors.append(where.error(row, message))
            continue
        key = collision_key(name)
        if key is None:
            continue
        if key == collision_key(EXTERNAL) and name != EXTERNAL:
            errors.append(
                where.error(
                    row,
                    f"company {name!r} would share the book file and account names of "
                    f"{EXTERNAL}, the outside world: write {EXTERNAL} for it, or rename it",
                )
            )
            continue
        if key in owners:
            other = owners[key]
            line = where.lines[first_row[other]]
            errors.append(
                where.error(
                    row,
                    f"companies {other!r} (line {line}) and {name!r} would share the book file "
                    f"{key}.beancount and their account names: spell each company one way",
                )
            )
            continue
        owners[key] = name
    return errors
