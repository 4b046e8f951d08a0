"""Read one table back out of a long-format CSV output (docs/outputs.md)."""

from __future__ import annotations

import csv
import io

from ledger.records import layout


def table_rows(text: str, document: str, table: str) -> list[dict[str, str]]:
    """The rows of ``table`` in a CSV of ``document``, with that table's columns only."""
    columns = next(t.names for t in layout(document) if t.name == table)
    return [
        {c: row[c] for c in columns}
        for row in csv.DictReader(io.StringIO(text))
        if row["table"] == table
    ]
