"""Results -> text: rich tables, CSV, JSON, Markdown and HTML.

The last pass of the pipeline. Every renderer takes plain data (a :class:`Sheet`, or a result's
``to_json_dict()``) and returns a string or a rich renderable; nothing here prints, computes a
figure, or reads a file. The CLI and the report generator choose where the text goes.

A :class:`Sheet` is the one tabular shape every report is made of: a title, column names, rows of
already formatted cells, and notes (how a figure was made, which figures rest on estimates).
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rich.table import Table

__all__ = [
    "Format",
    "Sheet",
    "Unit",
    "money",
    "render_csv",
    "render_html_page",
    "render_json",
    "render_markdown",
    "render_records_csv",
    "rich_table",
    "sheet_html",
    "share",
]


class Format(StrEnum):
    """Output formats of every report verb."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    MD = "md"
    HTML = "html"


@dataclass(frozen=True, slots=True)
class Sheet:
    """A titled table of formatted cells; ``numeric`` columns are right-aligned."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()


class Unit(StrEnum):
    """The unit amounts are shown in on screen; files for machines always keep exact cents."""

    ONE = "1"
    THOUSANDS = "K"
    MILLIONS = "M"
    BILLIONS = "B"

    @property
    def scale(self) -> Decimal:
        """What one shown unit is worth."""
        return Decimal(10) ** {"1": 0, "K": 3, "M": 6, "B": 9}[self.value]

    @property
    def words(self) -> str:
        """``billions`` etc., for the note under a table."""
        return {"1": "units", "K": "thousands", "M": "millions", "B": "billions"}[self.value]


def money(amount: Decimal | None, *, grouped: bool = True, unit: Unit = Unit.ONE) -> str:
    """A two-decimal amount, with thousands separators for people (``grouped``).

    With a ``unit`` other than ONE the amount is divided and rounded (half to even) for display
    only: ``money(Decimal("12869460223.78"), unit=Unit.BILLIONS) == "12.87"``.
    """
    if amount is None:
        return ""
    if unit is not Unit.ONE:
        amount = amount / unit.scale
    return f"{amount:,.2f}" if grouped else f"{amount:.2f}"


def share(value: Decimal | None) -> str:
    """A share in [0, 1] as a percentage with one decimal."""
    if value is None:
        return ""
    return f"{value * 100:.1f}%"


#: Text cells up to this long are kept on one line; longer ones (cycles, notes) may wrap.
_TEXT_MIN_WIDTH = 24


def rich_table(sheet: Sheet) -> Table:
    """The sheet as a rich table for the terminal.

    Figures never wrap or get cut: on a narrow terminal the text columns give way first.
    """
    table = Table(title=sheet.title, caption="\n".join(sheet.notes) or None, caption_justify="left")
    for i, column in enumerate(sheet.columns):
        widest = max((len(row[i]) for row in sheet.rows), default=0)
        if column in sheet.numeric:
            table.add_column(column, justify="right", no_wrap=True, min_width=widest)
        else:
            table.add_column(column, justify="left", min_width=min(widest, _TEXT_MIN_WIDTH))
    for row in sheet.rows:
        table.add_row(*row)
    return table


def render_csv(sheet: Sheet) -> str:
    """The sheet as CSV (header + rows; notes are left out: CSV is for machines)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(sheet.columns)
    writer.writerows(sheet.rows)
    return out.getvalue()


def render_records_csv(records: Iterable[dict[str, Any]]) -> str:
    """Plain records (JSON-ready dicts) as CSV: raw values, for spreadsheets and scripts.

    Unlike :func:`render_csv` nothing is formatted for the eye: amounts stay ``1234.56``, shares
    stay fractions, None is an empty cell.
    """
    rows = list(records)
    out = io.StringIO()
    if not rows:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return out.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(sheets: Iterable[Sheet], heading: str | None = None) -> str:
    """Sheets as GitHub-flavoured Markdown tables, each under its title, notes below."""
    parts: list[str] = [f"# {heading}\n"] if heading else []
    for sheet in sheets:
        parts.append(f"## {sheet.title}\n")
        parts.append("| " + " | ".join(_md_cell(c) for c in sheet.columns) + " |")
        parts.append(
            "|" + "|".join("---:" if c in sheet.numeric else "---" for c in sheet.columns) + "|"
        )
        parts.extend("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in sheet.rows)
        if sheet.notes:
            parts.append("")
            parts.extend(f"- {note}" for note in sheet.notes)
        parts.append("")
    return "\n".join(parts)


def render_json(data: Any) -> str:
    """Stable JSON: sorted keys are NOT used, so the contract's field order is kept."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def sheet_html(sheet: Sheet) -> str:
    """One sheet as an HTML table with its title and notes."""
    esc = html.escape
    head = "".join(
        f'<th class="{"num" if c in sheet.numeric else ""}">{esc(c)}</th>' for c in sheet.columns
    )
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if c in sheet.numeric else ""}">{esc(cell)}</td>'
            for c, cell in zip(sheet.columns, row, strict=True)
        )
        + "</tr>"
        for row in sheet.rows
    )
    notes = "".join(f"<li>{esc(note)}</li>" for note in sheet.notes)
    notes_html = f"<ul class='notes'>{notes}</ul>" if notes else ""
    return (
        f"<h2>{esc(sheet.title)}</h2>\n<table>\n<thead><tr>{head}</tr></thead>\n"
        f"<tbody>\n{body}\n</tbody>\n</table>\n{notes_html}"
    )


_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #1d2330; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.meta { color: #5b6475; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid #e3e6ec; text-align: left; }
th { background: #f4f6fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.notes { color: #5b6475; font-size: .85rem; }
figure { margin: 1.5rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #5b6475; font-size: .85rem; }
"""


def render_html_page(
    title: str, meta: str, sheets: Sequence[Sheet], figures: Sequence[tuple[str, str]] = ()
) -> str:
    """A self-contained HTML page: title, a meta line, inline SVG figures, then the sheets.

    ``figures`` are ``(svg_text, caption)`` pairs; they are inlined so the page needs no network
    and no other file.
    """
    esc = html.escape
    figs = "\n".join(
        f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>" for svg, caption in figures
    )
    tables = "\n".join(sheet_html(sheet) for sheet in sheets)
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{esc(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n<p class='meta'>{esc(meta)}</p>\n{figs}\n{tables}\n"
        "</body>\n</html>\n"
    )
