"""JSON documents -> flat tables: the CSV outputs and the pandas frames of every verb.

Every ``--format csv`` is its JSON document laid flat, so the two always agree and carry the
same field names. The layout is read from the document's JSON Schema (:mod:`ledger.schemas`),
never from the data, so a verb's CSV header is the same on every run:

- the document's top-level fields make one row of the table named after the document (``net``,
  ``audit``, ``show-deals``…); a nested object is flattened into its row, its fields prefixed
  (``period_start``, ``velocity_rounds``), except a part that may be ``null`` (the audit's
  ``exposure``, ``contagion``, ``ranking``), which is a one-row table of its own;
- every list makes a table named by its JSON path (``companies``, ``cycles.path``,
  ``exposure.companies.paper``), one row per item;
- a row of a list inside a list item starts with that item's key: its ``company`` (or
  ``deal``) when it has one, else its position (``cycles_index``, from 0); a list of plain
  values has the columns ``<name>_index`` and ``value``;
- one CSV holds all tables: a leading ``table`` column, then the union of every table's
  columns in schema order; a row fills its own table's columns, leaves the others empty;
  rows come in document order, each followed by the rows nested in it, so a streamed
  ``cycles`` is written as it comes;
- ``--table NAME`` writes one table alone: its own columns, no ``table`` column.

Cells are raw: amounts as exact decimal strings (``1234.50``), shares as 4-decimal strings,
ISO dates, ``true``/``false``, empty for null. :func:`frame` gives one table as a pandas frame
with numeric columns (money in int64 cents, or float64 in a unit).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from ledger.schemas import schema

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Table", "frame", "layout", "rows", "table_names", "write_csv", "csv_text"]

#: Fields that key the rows of a list inside a list item, in order of preference.
_KEYS = ("company", "deal")
#: The schema of a position column (``cycles_index``).
_INDEX: dict[str, Any] = {"type": "integer", "description": "position in its list, from 0"}


@dataclass(frozen=True, slots=True)
class Table:
    """One table of a document: its name and its columns with their (leaf) JSON Schemas."""

    name: str
    columns: tuple[tuple[str, dict[str, Any]], ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The column names."""
        return tuple(name for name, _ in self.columns)


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """A schema node without ``$ref`` and ``null`` alternatives, and whether it is nullable."""
    nullable = False
    while True:
        if "$ref" in node:
            node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
        elif "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            nullable = nullable or len(options) < len(node["anyOf"])
            if len(options) != 1:
                raise ValueError(f"a schema node with {len(options)} alternatives: {node}")
            node = options[0]
        else:
            return node, nullable


def _is_object(node: dict[str, Any]) -> bool:
    return "properties" in node


def _is_list(node: dict[str, Any]) -> bool:
    return node.get("type") == "array"


def _nests(root: dict[str, Any], node: dict[str, Any]) -> bool:
    """Whether an object's schema holds a list (or a nullable part): rows nested in its row."""
    for raw in node["properties"].values():
        child, nullable = _resolve(root, raw)
        if _is_list(child) or (_is_object(child) and (nullable or _nests(root, child))):
            return True
    return False


def _own_key(root: dict[str, Any], item: dict[str, Any], segment: str) -> str | None:
    """The column that keys a list item's nested rows: a key field, else its position.

    None when the item has no rows nested in it (its position would key nothing).
    """
    if not _nests(root, item):
        return None
    return next((k for k in _KEYS if k in item["properties"]), f"{segment}_index")


def _row_key(node: dict[str, Any], keys: dict[str, Any]) -> str | None:
    """The key field this object adds for the rows nested in it (none if it has none)."""
    return next((k for k in _KEYS if k in node["properties"] and k not in keys), None)


#: Stands for the data when a walk lays out the tables from the schema alone: every list then
#: has one item, every nullable part is there, every value is None.
_SCHEMA_ONLY: Any = object()

#: A walked row: ``{column: (its leaf schema, its value)}``.
Cells = dict[str, tuple[dict[str, Any], Any]]
Row = tuple[str, Cells]


def layout(document: str) -> tuple[Table, ...]:
    """Every table of a document, in schema order (:mod:`ledger.schemas`)."""
    root = schema(document)
    tables: dict[str, Table] = {}
    for name, row in _walk(root, root, document, "", {}, _SCHEMA_ONLY):
        tables.setdefault(name, Table(name, tuple((c, leaf) for c, (leaf, _) in row.items())))
    return tuple(tables.values())


def header(document: str) -> tuple[str, ...]:
    """The CSV header: ``table``, then the union of all tables' columns, in schema order."""
    seen: dict[str, None] = {"table": None}
    for table in layout(document):
        seen.update(dict.fromkeys(table.names))
    return tuple(seen)


def rows(document: str, data: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(table, {column: value})`` for every row of a document, depth first.

    Values are the document's own (strings, numbers, booleans, None); lists may be iterators
    (a streamed ``cycles``), consumed once.
    """
    root = schema(document)
    for name, row in _walk(root, root, document, "", {}, data):
        yield name, {column: value for column, (_, value) in row.items()}


def _get(data: Any, field: str) -> Any:
    return _SCHEMA_ONLY if data is _SCHEMA_ONLY else data.get(field)


def _walk(
    root: dict[str, Any],
    node: dict[str, Any],
    name: str,
    path: str,
    keys: Cells,
    data: Any,
) -> Iterator[Row]:
    """One object's row of table ``name``, then (depth first) the rows nested in it.

    ``path`` is the JSON path its lists' table names start with ("" at the top); ``keys`` are
    the key cells its row starts with.
    """
    added = _row_key(node, keys)
    inner = keys
    if added:
        value = _get(data, added)
        inner = {**keys, added: (node["properties"][added], _value(value))}
    row = dict(keys)
    later: list[Iterator[Row]] = []
    _fill(root, node, "", path, inner, data, row, later)
    yield name, row
    for part in later:
        yield from part


def _value(value: Any) -> Any:
    return None if value is _SCHEMA_ONLY else value


def _fill(
    root: dict[str, Any],
    node: dict[str, Any],
    prefix: str,
    path: str,
    keys: Cells,
    data: Any,
    row: Cells,
    later: list[Iterator[Row]],
) -> None:
    """Put an object's leaf fields in ``row``; its lists and nullable parts go ``later``."""
    for field, raw in node["properties"].items():
        child, nullable = _resolve(root, raw)
        child_path = f"{path}.{field}" if path else field
        value = _get(data, field)
        if _is_object(child) and nullable:
            if value is not None:
                later.append(_walk(root, child, child_path, child_path, keys, value))
        elif _is_object(child):
            _fill(root, child, f"{prefix}{field}_", child_path, keys, value, row, later)
        elif _is_list(child):
            later.append(_list_rows(root, child, field, child_path, keys, value))
        else:
            row[f"{prefix}{field}"] = (raw, _value(value))


def _list_rows(
    root: dict[str, Any],
    child: dict[str, Any],
    field: str,
    path: str,
    keys: Cells,
    values: Iterable[Any],
) -> Iterator[Row]:
    """The rows of one list, in order.

    A nullable list that is null (``baseline_defaults`` under ``--baseline given``) has no
    rows, like an empty one.
    """
    item, _ = _resolve(root, child["items"])
    items = [_SCHEMA_ONLY] if values is _SCHEMA_ONLY else (values or [])
    if not _is_object(item):
        for i, value in enumerate(items):
            yield path, {**keys, f"{field}_index": (_INDEX, i), "value": (item, _value(value))}
        return
    own = _own_key(root, item, field)
    for i, value in enumerate(items):
        item_keys = keys if own in (None, *item["properties"]) else {**keys, own: (_INDEX, i)}
        yield from _walk(root, item, path, path, item_keys, value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def write_csv(
    document: str, data: Mapping[str, Any], stream: IO[str], table: str | None = None
) -> None:
    """Write a document as one long-format CSV (see the module docstring).

    With ``table``, only that table's rows, under its own columns and without the ``table``
    column: a plain rectangular CSV for a reader that wants one table.

    Raises:
        KeyError: ``table`` is no table of the document (:func:`table_names` lists them).
    """
    writer = csv.writer(stream, lineterminator="\n")
    if table is not None:
        columns = _own_columns(document, table)
        writer.writerow(columns)
        for name, row in rows(document, data):
            if name == table:
                writer.writerow([_cell(row.get(c)) for c in columns])
        return
    columns = header(document)
    writer.writerow(columns)
    for name, row in rows(document, data):
        writer.writerow([name, *(_cell(row.get(c)) for c in columns[1:])])


def table_names(document: str) -> tuple[str, ...]:
    """The tables of a document's CSV, in schema order (the values of ``--table``)."""
    return tuple(table.name for table in layout(document))


def _own_columns(document: str, table: str) -> tuple[str, ...]:
    found = {t.name: t for t in layout(document)}
    if table not in found:
        raise KeyError(f"no table {table!r} in {document}; tables: {', '.join(found)}")
    return found[table].names


def csv_text(document: str, data: Mapping[str, Any]) -> str:
    """The text :func:`write_csv` writes."""
    out = io.StringIO()
    write_csv(document, data, out)
    return out.getvalue()


#: Units a frame's money columns can be given in: cents (exact, int64) or a float64 unit.
FRAME_UNITS = {"cents": None, "1": 1, "K": 10**3, "M": 10**6, "B": 10**9}


def frame(document: str, data: Mapping[str, Any], table: str, unit: str = "cents") -> pd.DataFrame:
    """One table of a document as a pandas frame with typed columns.

    Money: int64 cents for ``unit="cents"`` (exact; ``Int64`` where it can be null), else
    float64 in that unit (``"1"``, ``"K"``, ``"M"``, ``"B"``); shares and other decimals:
    float64; integers: int64 (``Int64`` when nullable); flags: bool (``boolean`` when nullable);
    dates: datetime64. ``frame.attrs["unit"]`` says the unit of the money columns.

    Raises:
        KeyError: no such table in the document, or an unknown unit.
    """
    import pandas as pd

    if unit not in FRAME_UNITS:
        raise KeyError(f"unit {unit!r}: one of {', '.join(FRAME_UNITS)}")
    found = {t.name: t for t in layout(document)}
    if table not in found:
        raise KeyError(f"no table {table!r} in {document}; tables: {', '.join(found)}")
    spec = found[table]
    root = schema(document)
    records = [r for name, r in rows(document, data) if name == table]
    columns = {}
    for name, raw in spec.columns:
        leaf, nullable = _resolve(root, raw)
        values = [r.get(name) for r in records]
        columns[name] = _typed(values, leaf, nullable, FRAME_UNITS[unit])
    result = pd.DataFrame(columns, index=pd.RangeIndex(len(records)))
    result.attrs["unit"] = unit
    return result


def _typed(values: list[Any], leaf: dict[str, Any], nullable: bool, factor: int | None) -> Any:
    """One column as a typed pandas Series (see :func:`frame`)."""
    import pandas as pd

    kind = leaf.get("x-type")
    has_null = any(v is None for v in values)
    if kind == "money":
        cents = [None if v is None else int(Decimal(v) * 100) for v in values]
        if factor is None:
            return pd.Series(cents, dtype="Int64" if has_null else "int64")
        return pd.Series([float("nan") if c is None else c / (100 * factor) for c in cents])
    if kind in ("ratio", "decimal"):
        return pd.Series([float("nan") if v is None else float(v) for v in values], dtype="float64")
    if leaf.get("type") == "integer":
        return pd.Series(values, dtype="Int64" if has_null else "int64")
    if leaf.get("type") == "boolean":
        return pd.Series(values, dtype="boolean" if has_null else "bool")
    if leaf.get("format") == "date" or leaf.get("pattern", "").startswith("^[0-9]{4}-"):
        return pd.to_datetime(pd.Series(values, dtype="object"))
    return pd.Series(values, dtype="object")
