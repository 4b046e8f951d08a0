"""Legs tables — a legs CSV, a Parquet file or a folder of Parquet files — read into columns.

In: a path. Out: a legs frame (:mod:`ledger.legs_frame`) and every problem found, as
:class:`~ledger.model.LedgerError` records ``file:line: message [deal]`` — the same records,
in the same order, as the row-by-row reader :func:`ledger.legs_csv.read_legs_csv` gives (a test
holds the two to it), plus the checks every web gets (:func:`ledger.validate.web_checks`).

How: the file is split into cells by Arrow's CSV reader (multi-threaded; the csv module when
the file has quotes, carriage returns or rows Arrow cannot split, so that line numbers and
messages stay those of a row-by-row read), every cell kept as text. Each column is then parsed
once per distinct value (a million rows hold a few hundred dates and ten thousand names), deal
ids, amounts and leg numbers by vectorised patterns, the rest by the cell parsers of
:mod:`ledger.legs_csv`; amounts become integer cents from their digits, never through a float.
Nothing is built per row but the error records.

Parquet files have the same columns as the CSV. Text, dictionary, integer, decimal, boolean and
date columns are read as the text they hold; floating-point columns are refused (an amount in
a float is not exact). A Parquet "line" is the row number, the first row being row 1.

:func:`read_legs_frame` is the strict form: the frame, or :class:`~ledger.model.BadInput`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ledger.legs_csv import (
    CAPEX_NOT_SALE,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    _Bad,
    _blank,
    _check_header,
    _empty_file,
    _parse_amount,
    _parse_capex,
    _parse_company,
    _parse_currency,
    _parse_date,
    _parse_deal,
    _parse_estimate,
    _parse_kind,
    _parse_leg,
    _parse_status,
    _parse_units,
)
from ledger.legs_frame import LEG_COLUMNS, PROVENANCE_COLUMNS
from ledger.model import BadInput, Kind, LedgerError, to_cents
from ledger.validate import row_checks, web_checks

__all__ = [
    "PARQUET_SUFFIXES",
    "is_parquet_folder",
    "read_legs",
    "read_legs_frame",
    "write_legs_parquet",
]

PARQUET_SUFFIXES = (".parquet", ".pq")

_DEAL_CLEAN = r"^[A-Za-z0-9_./-]+$"
_AMOUNT_CLEAN = r"^[0-9]{1,13}(\.[0-9]{0,2})?$"
_LEG_CLEAN = r"^[1-9][0-9]{0,8}$"
#: The order in which a row's cell errors are listed (the row reader's order).
_CELL_ORDER = (
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
    "units",
    "commodity",
    "capex",
)


@dataclass
class _Cells:
    """A table's cells as text columns (Arrow arrays), with each row's file and line."""

    filename: str
    header: list[str]
    columns: dict[str, Any]
    lines: np.ndarray
    files: list[str] = field(default_factory=list)
    file_codes: np.ndarray | None = None


def is_parquet_folder(path: Path) -> bool:
    """A folder that holds Parquet files (and no beancount books)."""
    if not path.is_dir():
        return False
    return any(p.suffix in PARQUET_SUFFIXES for p in path.iterdir())


# -- reading cells -----------------------------------------------------------------------------


def _csv_cells(path: Path) -> tuple[_Cells | None, list[LedgerError]]:
    filename = str(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [LedgerError(filename, 0, f"cannot read legs CSV: {exc}")]
    data = raw.removeprefix(b"\xef\xbb\xbf")
    simple = b'"' not in data and b"\r" not in data
    if simple:
        cells = _arrow_cells(data, filename)
        if cells is not None:
            return cells, []
    return _python_cells(text, filename)


def _arrow_cells(data: bytes, filename: str) -> _Cells | None:
    """Cells by Arrow's CSV reader, or None when it cannot split the file the csv module's way."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).decode("utf-8")
    header = [c.strip() for c in next(csv.reader([first]), [])]
    if not header or _check_header(header, filename):
        return None
    names = [f"c{i}" for i in range(len(header))]
    # Columns of few distinct values are dictionary-encoded by the reader itself, block by
    # block on every core, so each distinct cell is parsed once without a pass to encode them.
    encoded = pa.dictionary(pa.int32(), pa.string())
    types = {
        n: encoded if h in _FEW_VALUES else pa.string() for h, n in zip(header, names, strict=True)
    }
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(quote_char=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
        ).unify_dictionaries()
    except (pa.ArrowInvalid, ValueError):
        return None
    rows = table.num_rows
    lines = _physical_lines(data, rows)
    if lines is None:
        return None
    columns = {h: table.column(n).combine_chunks() for h, n in zip(header, names, strict=True)}
    return _Cells(filename, header, columns, lines)


#: Columns whose cells repeat (dates, names, kinds...): read as dictionaries. ``deal``,
#: ``leg`` and ``amount`` are nearly all distinct, so a dictionary would only add work.
_FEW_VALUES = frozenset(
    ("date", "payer", "payee", "kind", "currency", "status", "estimate", "note", "source")
    + ("units", "commodity", "capex")
)


def _physical_lines(data: bytes, rows: int) -> np.ndarray | None:
    """Each record's line, when the file has no blank lines (else None: let Python count)."""
    newlines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if newlines == rows + 1:
        return np.arange(2, rows + 2, dtype=np.int64)
    return None


def _python_cells(text: str, filename: str) -> tuple[_Cells | None, list[LedgerError]]:
    """Cells by the csv module, the row reader's way: its structural errors, its lines."""
    import pyarrow as pa

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return None, [LedgerError(filename, 1, f"malformed CSV: {exc}")]
    if not header:
        return None, [_empty_file(filename)]
    header = [column.strip() for column in header]
    if errors := _check_header(header, filename):
        return None, errors
    errors: list[LedgerError] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    start = reader.line_num + 1
    deal_at = header.index("deal")
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
                deal = cells[deal_at].strip() or None if deal_at < len(cells) else None
                message = f"row has {len(cells)} fields but the header has {len(header)}"
                errors.append(LedgerError(filename, start, message, deal))
            else:
                rows.append(cells)
                lines.append(start)
        start = reader.line_num + 1
    columns = {
        name: pa.array([row[i] for row in rows], type=pa.string()) for i, name in enumerate(header)
    }
    return _Cells(filename, header, columns, np.asarray(lines, dtype=np.int64)), errors


def _parquet_cells(path: Path) -> tuple[_Cells | None, list[LedgerError]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = (
        sorted(p for p in path.iterdir() if p.suffix in PARQUET_SUFFIXES)
        if path.is_dir()
        else [path]
    )
    errors: list[LedgerError] = []
    parts: list[dict[str, Any]] = []
    header: list[str] = []
    for file in files:
        try:
            table = pq.read_table(file)
        except (OSError, pa.ArrowException) as exc:
            errors.append(LedgerError(str(file), 0, f"cannot read Parquet file: {exc}"))
            continue
        names = [name.strip() for name in table.column_names]
        if problems := _check_header(names, str(file)):
            errors += [e._replace(lineno=0) for e in problems]
            continue
        if header and set(names) != set(header):
            message = f"columns {','.join(names)} differ from {files[0].name}'s {','.join(header)}"
            errors.append(LedgerError(str(file), 0, message))
            continue
        header = header or names
        columns = {}
        for name, column in zip(names, table.columns, strict=True):
            text, problem = _as_text(column, name)
            if problem:
                errors.append(LedgerError(str(file), 0, problem))
            columns[name] = text
        parts.append(columns)
    if errors or not parts:
        return None, errors or [LedgerError(str(path), 0, "no Parquet files in this folder")]
    sizes = [len(next(iter(p.values()))) for p in parts]
    columns = {name: pa.concat_arrays([p[name] for p in parts]) for name in header}
    lines = np.concatenate([np.arange(1, s + 1, dtype=np.int64) for s in sizes])
    codes = np.repeat(np.arange(len(parts)), sizes)
    return (
        _Cells(str(path), header, columns, lines, [str(f) for f in files], codes),
        [],
    )


def _as_text(column: Any, name: str) -> tuple[Any, str | None]:
    """A Parquet column as text cells (nulls as empty cells), or why it cannot be."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.cast(kind.value_type)
        kind = array.type
    if pa.types.is_floating(kind):
        message = (
            f"column {name} is floating point ({kind}): store it as text, decimal or "
            "integer, so that amounts stay exact to the cent"
        )
        return pa.array([""] * len(array), pa.string()), message
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        array = pc.strftime(array, format="%Y-%m-%d")
    elif pa.types.is_boolean(kind):
        array = pc.if_else(array, "TRUE", "FALSE")
    elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        array = array.cast(pa.string())
    return pc.fill_null(array.cast(pa.string()), ""), None


# -- parsing columns ---------------------------------------------------------------------------


@dataclass
class _Parsed:
    """A column parsed once per distinct cell: ``codes`` index ``values`` and ``messages``.

    ``dictionary`` (Arrow) holds the distinct cells; ``values`` is None when every cell was
    already clean (the value is the cell), so a million distinct deal ids make no Python string.
    """

    codes: np.ndarray
    dictionary: Any
    values: list[Any] | None
    messages: dict[int, str]

    def bad(self) -> np.ndarray:
        flags = np.zeros(len(self.dictionary) + 1, dtype=bool)
        flags[list(self.messages)] = True
        return flags[self.codes]

    def value_list(self) -> list[Any]:
        return self.dictionary.to_pylist() if self.values is None else self.values

    def flags(self, test: Callable[[Any], bool]) -> np.ndarray:
        """``test`` of each row's value, run once per distinct value."""
        table = np.array([bool(test(v)) for v in self.value_list()] + [False], dtype=bool)
        return table[self.codes]


def _by_distinct(array: Any, parse: Callable[[str], Any], clean: str | None = None) -> _Parsed:
    """Parse each distinct cell once (stripped); cells matching ``clean`` are taken as they are."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(array)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    dictionary = encoded.dictionary
    messages: dict[int, str] = {}
    if clean is not None:
        ok = pc.match_substring_regex(dictionary, clean).to_numpy(zero_copy_only=False)
        todo = np.flatnonzero(~ok).tolist()
        if not todo:
            return _Parsed(codes, dictionary, None, messages)
    texts = dictionary.to_pylist()
    values: list[Any] = list(texts) if clean is not None else [None] * len(texts)
    for i in todo if clean is not None else range(len(texts)):
        try:
            values[i] = parse(texts[i].strip())
        except _Bad as exc:
            values[i] = None
            messages[i] = str(exc)
    return _Parsed(codes, dictionary, values, messages)


def _amounts(array: Any) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Integer cents per row and the (row, message) of every bad amount."""
    import pyarrow as pa
    import pyarrow.compute as pc

    clean = pc.match_substring_regex(array, _AMOUNT_CLEAN).to_numpy(zero_copy_only=False)
    parts = pc.extract_regex(
        pc.if_else(clean, array, "0"), r"^(?P<whole>[0-9]+)(?:\.(?P<part>[0-9]*))?$"
    )
    whole = pc.cast(parts.field("whole"), pa.int64()).to_numpy(zero_copy_only=False)
    fraction = pc.utf8_rpad(pc.fill_null(parts.field("part"), ""), width=2, padding="0")
    cents = whole * 100 + pc.cast(fraction, pa.int64()).to_numpy(zero_copy_only=False)
    bad: list[tuple[int, str]] = []
    texts = None
    for row in np.flatnonzero(~clean | (cents <= 0)).tolist():
        texts = texts if texts is not None else array
        text = texts[row].as_py().strip()
        try:
            cents[row] = to_cents(_parse_amount(text))
        except _Bad as exc:
            cents[row] = 0
            bad.append((row, str(exc)))
    return cents.astype(np.int64), bad


def _leg_numbers(array: Any) -> tuple[np.ndarray, list[tuple[int, str]]]:
    import pyarrow as pa
    import pyarrow.compute as pc

    clean = pc.match_substring_regex(array, _LEG_CLEAN).to_numpy(zero_copy_only=False)
    numbers = pc.cast(pc.if_else(clean, array, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    numbers = numbers.copy()
    bad = []
    for row in np.flatnonzero(~clean).tolist():
        text = array[row].as_py().strip()
        try:
            numbers[row] = _parse_leg(text)
        except _Bad as exc:
            bad.append((row, str(exc)))
    return numbers.astype(np.int64), bad


def _category(parsed: _Parsed, keep: np.ndarray) -> pd.Categorical:
    """A parsed column (its kept rows) as a categorical of the parsed values."""
    codes = parsed.codes if keep.all() else parsed.codes[keep]
    if parsed.values is None:  # every cell clean: the dictionary is the categories
        categories = pd.Index(parsed.dictionary.to_numpy(zero_copy_only=False), dtype=object)
        return pd.Categorical.from_codes(codes, dtype=_unique_categories(categories))
    values = ["" if v is None else str(v) for v in parsed.values]
    new_codes, uniques = pd.factorize(pd.Series(values, dtype=object), sort=False)
    table = np.append(new_codes, -1)
    dtype = _unique_categories(pd.Index(uniques, dtype=object))
    return pd.Categorical.from_codes(table[codes], dtype=dtype)


def _unique_categories(categories: pd.Index) -> pd.CategoricalDtype:
    """The categorical type of categories known to be distinct (an Arrow dictionary, factorize).

    pandas checks that categories are unique by hashing them all, 0.1 s for the million deal
    ids of a million-leg web; its fast path skips the check we do not need. Where a pandas
    release lacks that path, the public constructor checks as before.
    """
    fast = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    if fast is None:  # pragma: no cover - pandas 2.1 to 2.3 all have it
        return pd.CategoricalDtype(categories, ordered=False)
    return fast(categories, False)


class _Errors:
    """Cell errors as (line, order, record), sorted at the end like the row reader's."""

    def __init__(self, cells: _Cells, deals: Any) -> None:
        self.cells = cells
        self.deals = deals
        self.items: list[tuple[int, int, LedgerError]] = []

    def filename(self, row: int) -> str:
        if self.cells.file_codes is None:
            return self.cells.filename
        return self.cells.files[int(self.cells.file_codes[row])]

    def add(self, row: int, order: int, message: str) -> None:
        deal = self.deals[row].as_py().strip() or None
        line = int(self.cells.lines[row])
        self.items.append((line, order, LedgerError(self.filename(row), line, message, deal)))


def _frame(cells: _Cells) -> tuple[pd.DataFrame, list[LedgerError]]:
    """Parse every column; the frame of the rows whose cells all parsed, and the cell errors."""
    import pyarrow as pa

    size = len(cells.lines)
    blank = pa.array([""] * size, pa.string()) if size else pa.array([], pa.string())
    column = {
        name: cells.columns.get(name, blank) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    }
    errors = _Errors(cells, column["deal"])
    bad = np.zeros(size, dtype=bool)
    parsed: dict[str, _Parsed] = {}

    def take(name: str, parse: Callable[[str], Any], clean: str | None = None) -> None:
        result = _by_distinct(column[name], parse, clean)
        parsed[name] = result
        flags = result.bad()
        for row in np.flatnonzero(flags).tolist():
            errors.add(row, _CELL_ORDER.index(name), result.messages[int(result.codes[row])])
        bad[flags] = True

    take("date", _parse_date)
    take("deal", _parse_deal, _DEAL_CLEAN)
    numbered = "leg" in cells.columns
    if numbered:
        legs, leg_errors = _leg_numbers(column["leg"])
        for row, message in leg_errors:
            errors.add(row, _CELL_ORDER.index("leg"), message)
            bad[row] = True
    else:
        legs = _numbers_per_deal(parsed["deal"], column["deal"])
    take("payer", lambda text: _parse_company(text, "payer"))
    take("payee", lambda text: _parse_company(text, "payee"))
    take("kind", lambda text: _parse_kind(text).value)
    cents, amount_errors = _amounts(column["amount"])
    for row, message in amount_errors:
        errors.add(row, _CELL_ORDER.index("amount"), message)
        bad[row] = True
    take("currency", _parse_currency)
    take("status", lambda text: _parse_status(text).value)
    take("estimate", _parse_estimate)
    take("units", lambda text: "" if _parse_units(text) is None else text)
    take("commodity", lambda text: _parse_currency(text, "commodity") if text else "")
    take("capex", _parse_capex)
    parsed["note"] = _by_distinct(column["note"], lambda text: text)
    parsed["source"] = _by_distinct(column["source"], lambda text: text)
    _row_rules(parsed, bad, errors)
    keep = ~bad
    frame = _assemble(cells, parsed, legs, cents, keep)
    ordered = sorted(errors.items, key=lambda item: (item[0], item[1]))
    return frame, [error for _, _, error in ordered]


def _numbers_per_deal(deals: _Parsed, raw: Any) -> np.ndarray:
    """Legs numbered 1..n per deal (by its stripped text) in file order."""
    if deals.values is None:
        codes = deals.codes
    else:
        texts = [t.strip() for t in deals.dictionary.to_pylist()]
        codes = pd.factorize(pd.Series(texts, dtype=object))[0][deals.codes]
    return pd.Series(codes).groupby(codes, sort=False).cumcount().to_numpy() + 1


def _row_rules(parsed: dict[str, _Parsed], bad: np.ndarray, errors: _Errors) -> None:
    """Units with commodity, and payer != payee, for rows whose cells all parsed.

    Each test runs once per distinct value and reaches the rows through their codes: a million
    rows cost a few integer comparisons, not a million string comparisons.
    """
    ok = ~bad
    no_units = parsed["units"].flags(lambda v: v == "")
    lonely = ok & (no_units != parsed["commodity"].flags(lambda v: v == ""))
    for row in np.flatnonzero(lonely).tolist():
        errors.add(row, len(_CELL_ORDER), "units and commodity go together: give both or neither")
    payers, payees = parsed["payer"], parsed["payee"]
    names = payers.value_list()
    common = pd.factorize(pd.Series([*names, *payees.value_list()], dtype=object))[0]
    own = ok & (common[: len(names)][payers.codes] == common[len(names) :][payees.codes])
    for row in np.flatnonzero(own).tolist():
        payer = names[int(payers.codes[row])]
        message = f"payer and payee are both {payer!r}: a leg must go between two companies"
        errors.add(row, len(_CELL_ORDER) + 1, message)
    capex = parsed["capex"].flags(bool) & parsed["kind"].flags(lambda v: v != Kind.SALE.value)
    capex &= ok
    for row in np.flatnonzero(capex).tolist():
        errors.add(row, len(_CELL_ORDER) + 2, CAPEX_NOT_SALE)
    bad |= lonely | own | capex


def _assemble(
    cells: _Cells,
    parsed: dict[str, _Parsed],
    legs: np.ndarray,
    cents: np.ndarray,
    keep: np.ndarray,
) -> pd.DataFrame:
    dates = parsed["date"]
    day_values = np.array(
        [
            np.datetime64(v, "D") if v is not None else np.datetime64("NaT")
            for v in dates.value_list()
        ]
        + [np.datetime64("NaT")],
        dtype="datetime64[D]",
    )
    estimates = np.array([bool(v) for v in parsed["estimate"].value_list()] + [False], bool)
    capex = np.array([bool(v) for v in parsed["capex"].value_list()] + [False], bool)
    if cells.file_codes is None:
        files = pd.Categorical.from_codes(np.zeros(int(keep.sum()), np.int8), [cells.filename])
    else:
        files = pd.Categorical.from_codes(cells.file_codes[keep], cells.files)
    columns: dict[str, Any] = {
        "date": day_values[dates.codes[keep]].astype("datetime64[ns]"),
        "deal": _category(parsed["deal"], keep),
        "leg": np.asarray(legs, dtype=np.int64)[keep],
        "payer": _category(parsed["payer"], keep),
        "payee": _category(parsed["payee"], keep),
        "kind": _category(parsed["kind"], keep),
        "cents": cents[keep],
        "currency": _category(parsed["currency"], keep),
        "status": _category(parsed["status"], keep),
        "estimate": estimates[parsed["estimate"].codes[keep]],
        "note": _category(parsed["note"], keep),
        "source": _category(parsed["source"], keep),
        "units": _category(parsed["units"], keep),
        "commodity": _category(parsed["commodity"], keep),
        "capex": capex[parsed["capex"].codes[keep]],
        "file": files,
        "lineno": cells.lines[keep],
    }
    return pd.DataFrame(columns, columns=[*LEG_COLUMNS, *PROVENANCE_COLUMNS], copy=False)


# -- the readers -------------------------------------------------------------------------------


def _empty_web(cells: _Cells) -> LedgerError:
    if cells.file_codes is not None:
        return LedgerError(cells.filename, 0, "no legs: the Parquet files have no rows")
    return LedgerError(
        cells.filename, 1, "no legs: the file has a header line but no rows (an empty web)"
    )


def read_legs(path: Path) -> tuple[pd.DataFrame, list[LedgerError]]:
    """Read a legs CSV, a Parquet file or a folder of Parquet files (see the module doc).

    Returns:
        The frame of the rows that passed every check, and every problem found (file order).
        Use the frame only when there are no problems.
    """
    path = Path(path)
    parquet = path.suffix in PARQUET_SUFFIXES or path.is_dir()
    cells, errors = _parquet_cells(path) if parquet else _csv_cells(path)
    if cells is None:
        return pd.DataFrame(columns=[*LEG_COLUMNS, *PROVENANCE_COLUMNS]), errors
    frame, cell_errors = _frame(cells)
    errors = errors + cell_errors
    errors += row_checks(frame, numbered="leg" in cells.columns)
    rank = {name: i for i, name in enumerate(cells.files)}
    errors.sort(key=lambda error: (rank.get(error.filename, -1), error.lineno))
    if not len(cells.lines) and not errors:
        return frame, [_empty_web(cells)]
    errors += web_checks(frame)
    return frame, errors


def read_legs_frame(path: Path) -> pd.DataFrame:
    """The legs frame of a legs CSV or Parquet input.

    Raises:
        BadInput: the input has problems (all of them, as :func:`read_legs` gives them).
    """
    frame, errors = read_legs(path)
    if errors:
        raise BadInput(errors)
    return frame


def write_legs_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a legs frame (at least :data:`~ledger.flows.FRAME_COLUMNS`) as a Parquet file.

    Typed columns: ``date`` a date, ``amount`` a decimal(17, 2) (exact cents), ``leg`` an
    integer, ``estimate`` and ``capex`` booleans, the rest text. Written to a temporary file,
    then renamed.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ledger.legs_frame import with_defaults

    full = with_defaults(frame)
    cents = full["cents"].to_numpy().astype(np.int64)
    amounts = [f"{c // 100}.{c % 100:02d}" for c in cents.tolist()]
    columns = {
        "date": pa.array(pd.to_datetime(full["date"]).dt.date, pa.date32()),
        "deal": pa.array(full["deal"].astype(str), pa.string()),
        "leg": pa.array(full["leg"].to_numpy().astype(np.int64)),
        "payer": pa.array(full["payer"].astype(str), pa.string()),
        "payee": pa.array(full["payee"].astype(str), pa.string()),
        "kind": pa.array(full["kind"].astype(str), pa.string()),
        "amount": pa.array(amounts, pa.string()).cast(pa.decimal128(17, 2)),
        "currency": pa.array(full["currency"].astype(str), pa.string()),
        "status": pa.array(full["status"].astype(str), pa.string()),
        "estimate": pa.array(full["estimate"].to_numpy().astype(bool)),
    }
    for name in ("note", "source", "units", "commodity"):
        columns[name] = pa.array(full[name].astype(str), pa.string())
    columns["capex"] = pa.array(full["capex"].to_numpy().astype(bool))
    path = Path(path)
    from ledger.output_set import replace_file

    replace_file(path, lambda tmp: pq.write_table(pa.table(columns), tmp))
