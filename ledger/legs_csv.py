"""The flat legs CSV: one leg per row, read into :class:`~ledger.model.Leg` records or a frame.

In: a CSV whose header names at least the columns ``date,deal,payer,payee,kind,amount,currency,
status`` (in any order), optionally ``leg,estimate,note,source,units,commodity,capex``. Out: a
tuple of
legs and the list of problems found (:class:`~ledger.model.LedgerError`, ``file:line: message
[deal id]``), all collected at once; the legs are only meant to be used when that list is empty.

    date,deal,payer,payee,kind,amount,currency,status
    2025-09-22,nv-oai-equity,Nvidia,OpenAI,equity,100.00,USD,realized
    2025-10-15,oai-nv-systems,OpenAI,Nvidia,sale,70.00,USD,realized

reads as two legs, ``nv-oai-equity`` #1 (line 2) and ``oai-nv-systems`` #1 (line 3).

Rules of the format:

- ``lineno`` is the physical line of the row (the header is line 1; blank lines count).
- ``leg`` missing: legs are numbered 1..n per deal in file order. Present: a whole number >= 1.
- ``date`` is ``YYYY-MM-DD``; ``kind`` and ``status`` are the values of
  :class:`~ledger.model.Kind` and :class:`~ledger.model.Status` (case-insensitive).
- ``amount`` is a plain decimal (``1234.5``, ``70.00``) > 0 with at most 2 decimals: no
  thousands separators, no exponent, no currency sign.
- ``currency`` and ``commodity`` are beancount commodities (``USD``, ``AMDW``); one currency per
  file, since a CSV carries no prices to convert between currencies.
- ``estimate`` is TRUE/FALSE, true/false, 1/0, yes/no or empty (= false).
- ``units`` (a positive decimal) and ``commodity`` go together (a non-cash grant).
- ``capex`` (a flag like ``estimate``) marks a ``sale`` the buyer capitalises as equipment.
- Each deal's rows are in date order; a (deal, leg) pair, or an identical row, appears once.
- Cells are stripped of surrounding spaces; unknown or duplicate columns are errors.

:func:`write_legs_csv` writes the same format, always with every column, amounts with exactly two
decimals, rows sorted by (date, deal, leg): ``read_legs_csv(write_legs_csv(legs))`` gives the
legs back.

:func:`read_legs_csv` reads row by row into records; it is the reference that the columnar
reader every verb uses (:mod:`ledger.legs_table`, also behind :func:`read_legs_frame`) is held
to: the same legs, the same errors in the same order (``tests/test_legs_table.py``).
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, TypeVar

import pandas as pd

from ledger.limits import MAX_DATE, MAX_LEG_AMOUNT, MAX_LEG_NUMBER, MAX_NAME_CHARS, MIN_DATE
from ledger.model import (
    Kind,
    LedgerError,
    Leg,
    Status,
    account_component,
    from_cents,
    to_cents,
)
from ledger.validate import amount_limit_message, date_limit_message, name_limit_message

__all__ = [
    "CSV_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "read_legs_csv",
    "read_legs_frame",
    "write_legs_csv",
]

#: Columns every legs CSV must have.
REQUIRED_COLUMNS = ("date", "deal", "payer", "payee", "kind", "amount", "currency", "status")
#: Columns a legs CSV may have.
OPTIONAL_COLUMNS = ("leg", "estimate", "note", "source", "units", "commodity", "capex")
#: The columns :func:`write_legs_csv` writes, in this order.
CSV_COLUMNS = (
    "date",
    "deal",
    "leg",
    "payer",
    "payee",
    "kind",
    "amount",
    "currency",
    "status",
    "estimate",
    "note",
    "source",
    "units",
    "commodity",
    "capex",
)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_DEAL = re.compile(r"[A-Za-z0-9_./-]+")
_COMMODITY = re.compile(r"[A-Z](?:[A-Z0-9'._-]*[A-Z0-9])?")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "", "no"})
_KINDS = ", ".join(kind.value for kind in Kind)
_STATUSES = ", ".join(status.value for status in Status)
#: How many offending lines a frame error names before it just counts them.
_SHOWN_LINES = 5
#: Longest amount the vectorised parser takes; longer ones go through Decimal (and would
#: overflow int64 cents anyway).
_FAST_DIGITS = 16

T = TypeVar("T")


class _Bad(ValueError):
    """One cell that does not parse; the message is the user's."""


# -- cells -------------------------------------------------------------------------------------


def _parse_date(text: str) -> date:
    """A strict ``YYYY-MM-DD`` date (``date.fromisoformat`` alone would take ``20250922``)."""
    day = None
    try:
        if _DATE.fullmatch(text):
            day = date.fromisoformat(text)
    except ValueError:
        pass
    if day is None:
        raise _Bad(f"bad date {text!r}: expected YYYY-MM-DD")
    if not MIN_DATE <= day <= MAX_DATE:
        raise _Bad(date_limit_message(day))
    return day


def _parse_deal(text: str) -> str:
    """A deal id that can become a beancount link ``^deal-<id>``."""
    if not text:
        raise _Bad("empty deal id")
    if not _DEAL.fullmatch(text):
        raise _Bad(f"deal id {text!r} may hold only letters, digits and - _ . /")
    return text


def _parse_company(text: str, role: str) -> str:
    """A company name that maps to a beancount account component."""
    if not text:
        raise _Bad(f"empty {role} company name")
    if len(text) > MAX_NAME_CHARS:
        raise _Bad(name_limit_message(role, text))
    try:
        account_component(text)
    except ValueError:
        raise _Bad(f"{role} {text!r} has no letters or digits") from None
    return text


def _parse_kind(text: str) -> Kind:
    try:
        return Kind(text.lower())
    except ValueError:
        raise _Bad(f"unknown kind {text!r} (expected one of: {_KINDS})") from None


def _parse_status(text: str) -> Status:
    try:
        return Status(text.lower())
    except ValueError:
        raise _Bad(f"unknown status {text!r} (expected one of: {_STATUSES})") from None


def _parse_amount(text: str) -> Decimal:
    """A positive amount with at most two decimals, quantized to cents."""
    if not _NUMBER.fullmatch(text):
        shown = repr(text) if text else "empty"
        raise _Bad(f"amount {shown} is not a number (write e.g. 1234.50)")
    value = Decimal(text)
    if value <= 0:
        raise _Bad(f"amount must be > 0, got {text}")
    if value > MAX_LEG_AMOUNT:
        raise _Bad(amount_limit_message(text))
    try:
        return from_cents(to_cents(value))
    except ValueError:
        raise _Bad(f"amount {text} has more than 2 decimals") from None


def _parse_currency(text: str, what: str = "currency") -> str:
    if not _COMMODITY.fullmatch(text):
        raise _Bad(f"bad {what} {text!r}: expected an upper-case commodity such as USD")
    return text


def _parse_flag(text: str, what: str) -> bool:
    flag = text.lower()
    if flag in _TRUE:
        return True
    if flag in _FALSE:
        return False
    raise _Bad(f"bad {what} flag {text!r} (expected TRUE/FALSE, true/false, 1/0, yes/no or empty)")


def _parse_estimate(text: str) -> bool:
    return _parse_flag(text, "estimate")


def _parse_capex(text: str) -> bool:
    return _parse_flag(text, "capex")


#: A capex flag on a leg that is not a sale (the books refuse it too).
CAPEX_NOT_SALE = "capex (equipment the buyer capitalises) goes with kind sale"


def _parse_leg(text: str) -> int:
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_LEG_NUMBER:
        return int(text)
    raise _Bad(
        f"bad leg number {text[:40]!r}: expected a whole number from 1 to {MAX_LEG_NUMBER:,}"
    )


def _parse_units(text: str) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text) if _NUMBER.fullmatch(text) else None
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        value = None
    if value is None:
        raise _Bad(f"units {text!r} is not a number")
    if value <= 0:
        raise _Bad(f"units must be > 0, got {text}")
    return value


# -- header ------------------------------------------------------------------------------------


def _check_header(header: Sequence[str], filename: str) -> list[LedgerError]:
    """Missing, unknown or repeated columns: all reported on line 1."""
    errors = []
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        errors.append(
            LedgerError(
                filename,
                1,
                f"missing column(s) {', '.join(missing)} "
                f"(a legs CSV needs {','.join(REQUIRED_COLUMNS)})",
            )
        )
    allowed = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    unknown = [column for column in header if column not in allowed]
    if unknown:
        errors.append(
            LedgerError(
                filename,
                1,
                f"unknown column(s) {_some(unknown)} "
                f"(optional columns are {','.join(OPTIONAL_COLUMNS)})",
            )
        )
    repeated = sorted(column for column, n in Counter(header).items() if n > 1)
    if repeated:
        errors.append(LedgerError(filename, 1, f"repeated column(s) {', '.join(repeated)}"))
    return errors


def _some(names: list[str], shown: int = 10) -> str:
    """The first ``shown`` names, quoted, and how many more: one line, whatever the header."""
    text = ", ".join(map(repr, names[:shown]))
    return text + (f" and {len(names) - shown:,} more" if len(names) > shown else "")


def _empty_file(filename: str) -> LedgerError:
    return LedgerError(
        filename, 1, f"empty file: expected a header line {','.join(REQUIRED_COLUMNS)}"
    )


def _read_text(path: Path) -> tuple[str | None, LedgerError | None]:
    """The file's text, or the reason it cannot be read (a user problem, not a crash)."""
    try:
        return path.read_text(encoding="utf-8-sig"), None
    except (OSError, UnicodeDecodeError) as exc:
        return None, LedgerError(str(path), 0, f"cannot read legs CSV: {exc}")


# -- the record reader -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    """One physical record: where it starts and its cells by column name."""

    lineno: int
    cells: dict[str, str]


def _rows(text: str, filename: str) -> tuple[list[str], list[_Row], list[LedgerError]]:
    """Split the CSV into a header and rows with their physical line numbers."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[LedgerError] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return [], [], [LedgerError(filename, 1, f"malformed CSV: {exc}")]
    if not header:
        return [], [], [_empty_file(filename)]
    header = [column.strip() for column in header]
    rows: list[_Row] = []
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(LedgerError(filename, start, f"malformed CSV: {exc}"))
            start = reader.line_num + 1
            continue
        if not _blank(cells):
            if len(cells) != len(header):
                where = header.index("deal") if "deal" in header else len(cells)
                deal = cells[where].strip() or None if where < len(cells) else None
                message = f"row has {len(cells)} fields but the header has {len(header)}"
                errors.append(LedgerError(filename, start, message, deal))
            else:
                stripped = {c: v.strip() for c, v in zip(header, cells, strict=True)}
                rows.append(_Row(start, stripped))
        start = reader.line_num + 1
    return header, rows, errors


def _blank(cells: list[str]) -> bool:
    """A blank line (pandas skips these too, so both readers count rows alike)."""
    return not cells or (len(cells) == 1 and not cells[0].strip())


def _cell(row: _Row, column: str) -> str:
    return row.cells.get(column, "")


def _leg_of_row(row: _Row, number: int, filename: str) -> tuple[Leg | None, list[LedgerError]]:
    """Parse one row into a leg; every bad cell is one error."""
    deal = _cell(row, "deal") or None
    values: dict[str, Any] = {}
    messages: list[str] = []

    def take(name: str, parse: Callable[[], Any]) -> None:
        try:
            values[name] = parse()
        except _Bad as exc:
            messages.append(str(exc))

    take("date", lambda: _parse_date(_cell(row, "date")))
    take("deal", lambda: _parse_deal(_cell(row, "deal")))
    take("leg", lambda: _parse_leg(row.cells["leg"]) if "leg" in row.cells else number)
    take("payer", lambda: _parse_company(_cell(row, "payer"), "payer"))
    take("payee", lambda: _parse_company(_cell(row, "payee"), "payee"))
    take("kind", lambda: _parse_kind(_cell(row, "kind")))
    take("amount", lambda: _parse_amount(_cell(row, "amount")))
    take("currency", lambda: _parse_currency(_cell(row, "currency")))
    take("status", lambda: _parse_status(_cell(row, "status")))
    take("estimate", lambda: _parse_estimate(_cell(row, "estimate")))
    take("units", lambda: _parse_units(_cell(row, "units")))
    take(
        "commodity",
        lambda: (
            _parse_currency(_cell(row, "commodity"), "commodity")
            if _cell(row, "commodity")
            else None
        ),
    )
    take("capex", lambda: _parse_capex(_cell(row, "capex")))
    if not messages:
        if (values["units"] is None) != (values["commodity"] is None):
            messages.append("units and commodity go together: give both or neither")
        if values["capex"] and values["kind"] is not Kind.SALE:
            messages.append(CAPEX_NOT_SALE)
        if values["payer"] == values["payee"]:
            messages.append(
                f"payer and payee are both {values['payer']!r}: a leg must go between two companies"
            )
    errors = [LedgerError(filename, row.lineno, message, deal) for message in messages]
    if errors:
        return None, errors
    leg = Leg(
        note=_cell(row, "note"),
        source=_cell(row, "source"),
        filename=filename,
        lineno=row.lineno,
        **values,
    )
    return leg, []


def _cross_row_errors(
    legs: Iterable[Leg], filename: str, numbered: bool
) -> tuple[list[Leg], list[LedgerError]]:
    """Duplicates, date order within a deal, one currency per file; keeps the good legs.

    ``numbered``: the file has a ``leg`` column. Without one, the numbers were given by the
    reader, so two identical rows differ only in them and count as duplicates.
    """
    errors: list[LedgerError] = []
    kept: list[Leg] = []
    seen_keys: dict[tuple[str, int], int] = {}
    seen_rows: dict[tuple[Any, ...], int] = {}
    latest: dict[str, Leg] = {}
    first_currency: Leg | None = None
    for leg in legs:
        problem = None
        content = _content(leg if numbered else replace(leg, leg=0))
        if leg.key in seen_keys:
            problem = f"duplicate leg {leg.deal} #{leg.leg} (first on line {seen_keys[leg.key]})"
        elif content in seen_rows:
            problem = f"duplicate row (same as line {seen_rows[content]})"
        elif leg.deal in latest and leg.date < latest[leg.deal].date:
            before = latest[leg.deal]
            problem = (
                f"leg dated {leg.date} follows a leg of the same deal dated {before.date} "
                f"(line {before.lineno}): keep each deal's legs in date order"
            )
        elif first_currency is not None and leg.currency != first_currency.currency:
            problem = (
                f"mixed currencies: {leg.currency} here, {first_currency.currency} on line "
                f"{first_currency.lineno}; a legs CSV has no prices to convert them, so keep "
                "one currency per file"
            )
        if problem:
            errors.append(LedgerError(filename, leg.lineno, problem, leg.deal))
            continue
        seen_keys[leg.key] = leg.lineno
        seen_rows[content] = leg.lineno
        if leg.deal not in latest or leg.date >= latest[leg.deal].date:
            latest[leg.deal] = leg
        first_currency = first_currency or leg
        kept.append(leg)
    return kept, errors


def _content(leg: Leg) -> tuple[Any, ...]:
    """What makes two rows identical: everything the row says."""
    return (
        leg.date,
        leg.deal,
        leg.leg,
        leg.payer,
        leg.payee,
        leg.kind,
        leg.amount,
        leg.currency,
        leg.status,
        leg.estimate,
        leg.note,
        leg.source,
        leg.units,
        leg.commodity,
        leg.capex,
    )


def read_legs_csv(path: Path) -> tuple[tuple[Leg, ...], list[LedgerError]]:
    """Read a legs CSV into legs, collecting every problem of the file.

    Without a ``leg`` column two identical rows would get different leg numbers, so identical
    rows are reported as duplicates; with it, a repeated (deal, leg) pair is.

    Args:
        path: the CSV file.

    Returns:
        The legs that passed every check, in file order, and the problems found. Use the legs
        only when there are no problems: a bad row is left out, not repaired.
    """
    path = Path(path)
    filename = str(path)
    text, error = _read_text(path)
    if text is None:
        return (), [error] if error else []
    header, rows, errors = _rows(text, filename)
    if not header:
        return (), errors
    if header_errors := _check_header(header, filename):
        return (), header_errors
    numbers: dict[str, int] = {}
    parsed: list[Leg] = []
    for row in rows:
        deal = _cell(row, "deal")
        numbers[deal] = numbers.get(deal, 0) + 1
        leg, row_errors = _leg_of_row(row, numbers[deal], filename)
        errors.extend(row_errors)
        if leg is not None:
            parsed.append(leg)
    kept, cross = _cross_row_errors(parsed, filename, numbered="leg" in header)
    errors.extend(cross)
    errors.sort(key=lambda e: e.lineno)
    return tuple(kept), errors


# -- the writer --------------------------------------------------------------------------------


def _row_of_leg(leg: Leg) -> list[str]:
    """One leg as CSV cells; amounts with exactly two decimals."""
    return [
        leg.date.isoformat(),
        leg.deal,
        str(leg.leg),
        leg.payer,
        leg.payee,
        leg.kind.value,
        format(from_cents(to_cents(leg.amount)), "f"),
        leg.currency,
        leg.status.value,
        "TRUE" if leg.estimate else "FALSE",
        leg.note,
        leg.source,
        "" if leg.units is None else format(leg.units, "f"),
        leg.commodity or "",
        "TRUE" if leg.capex else "FALSE",
    ]


def _write_rows(legs: Iterable[Leg], stream: IO[str]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for leg in sorted(legs, key=lambda leg: (leg.date, leg.deal, leg.leg)):
        writer.writerow(_row_of_leg(leg))


def write_legs_csv(legs: Iterable[Leg], path_or_stream: Path | str | IO[str]) -> None:
    """Write legs as a legs CSV, sorted by (date, deal, leg), every column present.

    A path is written atomically (a temporary file beside it, then ``os.replace``), so a reader
    never sees half a file and a failure leaves the old file as it was.

    Raises:
        ValueError: a leg's amount has more than two decimals (legs from the readers never do).
    """
    if not isinstance(path_or_stream, str | os.PathLike):
        _write_rows(legs, path_or_stream)
        return
    target = Path(path_or_stream)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            _write_rows(legs, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# -- the columnar reader ----------------------------------------------------------------------


def read_legs_frame(path: Path) -> pd.DataFrame:
    """The legs frame of a legs CSV (or Parquet) input: :func:`ledger.legs_table.read_legs_frame`.

    Raises:
        BadInput: the file has problems (the same records :func:`read_legs_csv` gives).
    """
    from ledger.legs_table import read_legs_frame as read

    return read(path)
