"""The JSON Schemas and ``docs/outputs.md``, from the models.

Run ``python -m ledger.schemas.generate`` after changing :mod:`ledger.schemas.models`.

Both are committed; ``tests/test_schemas.py`` checks they are what this module makes now.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ledger.records import layout
from ledger.schemas.models import DOCUMENTS

__all__ = ["docs_text", "schema_texts", "main"]

HERE = Path(__file__).parent
DOCS = HERE.parent.parent / "docs" / "outputs.md"


def _schema(name: str) -> dict[str, Any]:
    model, command = DOCUMENTS[name]
    schema = model.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"roundtrip/{name}.schema.json",
        "description": f"{schema.pop('description', '')} Written by `{command}`.".strip(),
        **schema,
    }


def schema_texts() -> dict[str, str]:
    """``{file name: text}`` of every shipped schema."""
    return {
        f"{name}.schema.json": json.dumps(_schema(name), indent=2, ensure_ascii=False) + "\n"
        for name in DOCUMENTS
    }


def _type(root: dict[str, Any], node: dict[str, Any]) -> str:
    """A schema node as words for the docs."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if o.get("type") != "null"]
        text = " or ".join(_type(root, o) for o in options)
        return f"{text} or null" if len(options) < len(node["anyOf"]) else text
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if node.get("type") == "array":
        return f"list of {_type(root, node['items'])}"
    kind = node.get("x-type")
    if kind:
        return kind
    if node.get("pattern", "").startswith("^[0-9]{4}-"):
        return "date"
    return node.get("type", "any")


def _fields(root: dict[str, Any], node: dict[str, Any]) -> list[str]:
    lines = ["| field | type | meaning |", "|---|---|---|"]
    for field, raw in node["properties"].items():
        meaning = raw.get("description", "")
        if not meaning and "anyOf" in raw:
            described = (o["description"] for o in raw["anyOf"] if "description" in o)
            meaning = next(described, "")
        lines.append(f"| `{field}` | {_type(root, raw)} | {meaning} |")
    return lines


def _document(name: str) -> list[str]:
    schema = _schema(name)
    model, command = DOCUMENTS[name]
    lines = [f"## {name}", "", f"`{command}` — schema `ledger/schemas/{name}.schema.json`.", ""]
    lines += [model.__doc__ or "", "", f"### {model.__name__}", ""]
    lines += _fields(schema, schema)
    for ref, node in schema.get("$defs", {}).items():
        lines += ["", f"### {ref}", "", node.get("description", ""), ""]
        lines += _fields(schema, node)
    if name == "show-legs":
        lines += ["", "`--format csv`: the [legs CSV](legs-csv.md) itself, readable back.", ""]
        return lines
    lines += ["", f"### CSV tables of {name}", "", "| table | columns |", "|---|---|"]
    for table in layout(name):
        lines.append(f"| `{table.name}` | {', '.join(f'`{c}`' for c in table.names)} |")
    lines.append("")
    return lines


_INTRO = """# Machine outputs: JSON and CSV

Generated from `ledger/schemas/models.py` by `python -m ledger.schemas.generate`;
`tests/test_schemas.py` checks this page and the schemas are current, and validates every
verb's output on the shipped books and on a fixture against its schema.

Every `--format json` is one object with `schema_version` (`MAJOR.MINOR`, now `{version}`): a
new field bumps the minor part, a renamed or removed one the major part. Objects are closed:
every field is listed here. Values are raw:

- **money**: an exact decimal string with two decimals, no separators (`"35800000000.00"`);
- **ratio**: a share or multiple as a decimal string with four decimals (`"0.2793"` is 27.93%);
- **decimal**: an exact decimal string (units, prices);
- **date**: ISO `YYYY-MM-DD`; flags are booleans; company names are as booked.

Every `--format csv` (but `show legs`, which writes the [legs CSV](legs-csv.md)) is its JSON
document laid flat in **one long-format CSV** (`ledger/records.py`):

- a leading `table` column names the table of each row; the other columns are the union of
  all tables' columns (fixed per verb, whatever ran); a row leaves other tables' columns empty;
- the document's top-level fields are one row of the table named after it (`net`, `audit`,
  …); nested objects are flattened into their row with a prefix (`period_start`,
  `velocity_rounds`), except a part that may be null (`exposure`, `contagion`, `ranking`), a
  one-row table of its own;
- each list is a table named by its JSON path (`companies`, `cycles.path`,
  `exposure.companies.paper`); rows of a list inside a list item start with that item's
  `company` (or `deal`), else its position (`cycles_index`, from 0); a list of plain values
  has the columns `<name>_index` and `value`;
- rows come in document order, each followed by the rows nested in it (so a CSV streams as
  the JSON does);
- cells are the JSON values: the same field names, decimal strings, `true`/`false`, empty for
  null.

`--table NAME` (with `--format csv`) writes one table alone, a plain rectangular CSV: its
rows, under its own columns (those listed below), without the `table` column — e.g.
`roundtrip audit books/ -f csv --table exposure.companies`.

With pandas: `df = pd.read_csv(path, dtype=str)`, then `df[df.table == "companies"]`, or
`--table companies`; or use the [Python API](../README.md#python-api), whose `.to_frame()`
gives typed columns.

"""


def docs_text() -> str:
    """The text of ``docs/outputs.md``."""
    from ledger.schemas import SCHEMA_VERSION

    lines = [_INTRO.format(version=SCHEMA_VERSION).rstrip("\n"), ""]
    lines += ["Documents: " + ", ".join(f"[{n}](#{n})" for n in DOCUMENTS) + ".", ""]
    for name in DOCUMENTS:
        lines += _document(name)
    return "\n".join(line.rstrip() for line in lines).rstrip("\n") + "\n"


def main() -> None:
    """Write every schema beside this module and ``docs/outputs.md``."""
    for name, text in schema_texts().items():
        (HERE / name).write_text(text, encoding="utf-8")
    DOCS.write_text(docs_text(), encoding="utf-8")
    sys.stdout.write(f"wrote {len(DOCUMENTS)} schemas and {DOCS}\n")


if __name__ == "__main__":
    main()
