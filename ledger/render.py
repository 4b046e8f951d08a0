"""Results -> text: rich tables, CSV, JSON, Markdown and HTML.

The last pass of the pipeline. Every renderer takes plain data (a :class:`Sheet`, or a result's
``to_json_dict()``) and returns a string or a rich renderable; nothing here prints, computes a
figure, or reads a file. The CLI and the report generator choose where the text goes.

A :class:`Sheet` is the one tabular shape every report is made of: a title, column names, rows of
already formatted cells, and notes (how a figure was made, which figures rest on estimates).
Money cells are :class:`~ledger.units.Amount` strings that keep their exact value, so every
renderer shows them in the unit it was asked for (``auto``: Markdown and HTML choose one per
report by magnitude, the terminal the smallest that fits) and rounds them so that printed parts
add up to printed totals (:func:`display_sheet`). The terminal renderer lives in
:mod:`ledger.terminal`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from ledger.units import (
    Amount,
    Unit,
    controlled_rounding,
    format_quanta,
    money,
    quanta,
    readable_unit,
    share,
)

__all__ = [
    "Amount",
    "Format",
    "Sheet",
    "Unit",
    "display_sheet",
    "money",
    "page_unit",
    "render_html_page",
    "render_json",
    "render_markdown",
    "rich_table",
    "sheet_html",
    "share",
    "unit_note",
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
    """A titled table of formatted cells; ``numeric`` columns are right-aligned.

    Money cells are :class:`~ledger.units.Amount` (see :func:`ledger.units.money`). Which
    printed figures must add up is found, not declared, where it can be checked: a row whose
    first cell begins with ``total`` sums, column by column, the rows above it (back to the
    previous total row; with that total row; or all but one of them, whichever holds exactly).
    ``sums`` declares sums across columns, ``("gross", ("circular", "organic"))``: in every
    row where the exact figures satisfy it, the printed ones do too. ``currency`` names the
    currency in the note that states the display unit.
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()
    sums: tuple[tuple[str, tuple[str, ...]], ...] = ()
    currency: str | None = None

    def amounts(self) -> list[Decimal]:
        """The exact amounts of the sheet's money cells."""
        return [
            cell.exact
            for row in self.rows
            for cell in row
            if isinstance(cell, Amount) and cell.exact is not None
        ]


# --------------------------------------------------------------------------------------------
# Display units


def page_unit(sheets: Sequence[Sheet], unit: Unit = Unit.AUTO) -> Unit:
    """The one unit of a report.

    ``unit`` as given, or for ``auto`` the readable unit of all its amounts
    (:func:`ledger.units.readable_unit`).
    """
    if unit is not Unit.AUTO:
        return unit
    return readable_unit(a for sheet in sheets for a in sheet.amounts())


def unit_note(unit: Unit, currency: str | None = None, *, fitted: bool = False) -> str:
    """The note that says which unit a table's amounts are in; "" for exact amounts."""
    if unit in (Unit.ONE, Unit.AUTO):
        return ""
    of = f" of {currency}" if currency else ""
    why = ", chosen to fit the width" if fitted else ""
    return (
        f"Amounts in {unit.words}{of} ({unit.value}){why}, rounded so that printed parts add up "
        "to printed totals; --format json gives exact cents."
    )


def _is_total(row: tuple[str, ...]) -> bool:
    return bool(row) and str(row[0]).strip().lower().startswith("total")


def _exact(cell: str) -> Decimal | None:
    """A cell's exact amount: an Amount's, 0 for an empty cell, None for any other text."""
    if isinstance(cell, Amount):
        return cell.exact if cell.exact is not None else Decimal(0)
    return Decimal(0) if cell == "" else None


def _total_sums(sheet: Sheet) -> list[tuple[tuple[int, int], list[tuple[int, int]]]]:
    """The column sums that total rows satisfy exactly (see :class:`Sheet`)."""
    sums: list[tuple[tuple[int, int], list[tuple[int, int]]]] = []
    rows = sheet.rows
    start, previous = 0, None
    for t, row in enumerate(rows):
        if not _is_total(row):
            continue
        block = [r for r in range(start, t) if not _is_total(rows[r])]
        for c, cell in enumerate(row):
            if not (isinstance(cell, Amount) and cell.exact is not None):
                continue
            around = [*block, *([] if previous is None else [previous])]
            values = {r: _exact(rows[r][c]) for r in around}
            if None in (values[r] for r in block):
                continue
            whole = sum((values[r] for r in block), Decimal(0))
            parts: list[int] | None = None
            if block and whole == cell.exact:
                parts = block
            elif (
                previous is not None
                and values[previous] is not None
                and whole + values[previous] == cell.exact
            ):
                parts = [*block, previous]
            if parts is None:
                # All but one row: the one left out is worth exactly the difference.
                out = next((r for r in block if whole - values[r] == cell.exact), None)
                parts = None if out is None else [r for r in block if r != out]
            if parts:
                sums.append(((t, c), [(r, c) for r in parts if isinstance(rows[r][c], Amount)]))
        start, previous = t + 1, t
    return sums


def _column_sums(sheet: Sheet) -> list[tuple[tuple[int, int], list[tuple[int, int]]]]:
    """The declared sums across columns, in every row where they hold exactly."""
    where = {name: i for i, name in enumerate(sheet.columns)}
    sums = []
    for target, parts in sheet.sums:
        if target not in where or any(p not in where for p in parts):
            continue
        cols = [where[p] for p in parts]
        for r, row in enumerate(sheet.rows):
            cells = [row[where[target]], *(row[c] for c in cols)]
            if not all(isinstance(x, Amount) and x.exact is not None for x in cells):
                continue
            if sum((row[c].exact for c in cols), Decimal(0)) == row[where[target]].exact:
                sums.append(((r, where[target]), [(r, c) for c in cols]))
    return sums


def display_sheet(sheet: Sheet, unit: Unit) -> Sheet:
    """The sheet with its money cells shown in ``unit`` (K, M, B or 1), still as Amounts.

    In a unit other than 1 the figures are rounded by :func:`ledger.units.controlled_rounding`
    over the sums the sheet holds (total rows, ``sums``), so that what is printed adds up.
    """
    if unit is Unit.AUTO:
        raise ValueError("choose a unit before displaying a sheet")
    keys = {
        (r, c): quanta(cell.exact, unit)
        for r, row in enumerate(sheet.rows)
        for c, cell in enumerate(row)
        if isinstance(cell, Amount) and cell.exact is not None
    }
    if not keys:
        return sheet
    sums = [] if unit is Unit.ONE else _total_sums(sheet) + _column_sums(sheet)
    values: dict[tuple[int, int], Fraction] = keys
    rounded = controlled_rounding(values, [(t, tuple(p)) for t, p in sums])
    rows = tuple(
        tuple(
            Amount(format_quanta(rounded[(r, c)]), cell.exact) if (r, c) in rounded else cell
            for c, cell in enumerate(row)
        )
        for r, row in enumerate(sheet.rows)
    )
    return replace(sheet, rows=rows)


def rich_table(sheet: Sheet, unit: Unit = Unit.AUTO) -> Any:
    """The sheet for the terminal, fitted to its width (:class:`ledger.terminal.SheetView`)."""
    from ledger.terminal import SheetView

    return SheetView(sheet, unit)


# --------------------------------------------------------------------------------------------
# Files


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _shown(sheets: Iterable[Sheet], unit: Unit) -> list[Sheet]:
    """Sheets in the report's unit, each with the note that says which unit it is."""
    sheets = list(sheets)
    chosen = page_unit(sheets, unit)
    shown = []
    for sheet in sheets:
        note = unit_note(chosen, sheet.currency) if sheet.amounts() else ""
        shown.append(
            replace(display_sheet(sheet, chosen), notes=(*sheet.notes, *([note] if note else [])))
        )
    return shown


def render_markdown(
    sheets: Iterable[Sheet], heading: str | None = None, unit: Unit = Unit.AUTO
) -> str:
    """Sheets as GitHub-flavoured Markdown tables, each under its title, notes below.

    Amounts are shown in ``unit`` (``auto``: one readable unit for the whole report, said in a
    note under each table); the JSON output keeps the exact cents.
    """
    parts: list[str] = [f"# {heading}\n"] if heading else []
    for sheet in _shown(sheets, unit):
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
    """Stable JSON: sorted keys are NOT used, so the contract's field order is kept.

    The text of ``json.dumps(data, indent=2, ensure_ascii=False)``, written by
    :mod:`ledger.jsonout` (the standard encoder is pure Python once it indents).
    """
    from ledger.jsonout import dumps

    return dumps(data)


# --------------------------------------------------------------------------------------------
# HTML


def _slug(text: str, taken: set[str]) -> str:
    """An id for an anchor, unique on the page."""
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, k = base, 2
    while slug in taken:
        slug, k = f"{base}-{k}", k + 1
    taken.add(slug)
    return slug


def _td(cell: str, numeric: bool) -> str:
    esc = html.escape
    classes = "num" if numeric else ""
    if isinstance(cell, Amount) and cell.exact is not None:
        exact = esc(str(money(cell.exact)))
        return f'<td class="{classes}" title="{exact}">{esc(cell)}</td>'
    return f'<td class="{classes}">{esc(cell)}</td>'


def sheet_html(sheet: Sheet, anchor: str | None = None) -> str:
    """One sheet as an HTML table with its title and notes.

    The table sits in a box that scrolls sideways when it is wider than the page. Money cells
    carry their exact amount in ``title``.
    """
    esc = html.escape
    head = "".join(
        f'<th class="{"num" if c in sheet.numeric else ""}">{esc(c)}</th>' for c in sheet.columns
    )
    body = "\n".join(
        "<tr>"
        + "".join(_td(cell, c in sheet.numeric) for c, cell in zip(sheet.columns, row, strict=True))
        + "</tr>"
        for row in sheet.rows
    )
    notes = "".join(f"<li>{esc(note)}</li>" for note in sheet.notes)
    notes_html = f"<ul class='notes'>{notes}</ul>" if notes else ""
    ident = f' id="{anchor}"' if anchor else ""
    return (
        f"<section{ident}>\n<h2>{esc(sheet.title)}</h2>\n<div class='scroll'><table>\n"
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table></div>\n"
        f"{notes_html}</section>"
    )


_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto;
       max-width: 1240px; color: #1d2330; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.meta { color: #5b6475; margin-top: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid #e3e6ec; text-align: left;
         vertical-align: top; }
th { background: #f4f6fa; }
td:first-child { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.notes { color: #5b6475; font-size: .85rem; overflow-wrap: anywhere; }
figure { margin: 1.5rem 0; overflow-x: auto; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: #5b6475; font-size: .85rem; }
nav.contents ol { columns: 2 18rem; margin: .3rem 0; padding-left: 1.4rem; }
nav.contents h2, .legend h2 { font-size: 1rem; margin: 1rem 0 .2rem; }
.legend ul { list-style: none; padding: 0; margin: .2rem 0; display: flex; flex-wrap: wrap;
             gap: .3rem 1.2rem; font-size: .85rem; }
.swatch { display: inline-block; width: .9rem; height: .9rem; border-radius: 2px;
          vertical-align: -.1rem; margin-right: .35rem; }
"""

#: A page with at least this many sections (figures and tables) gets a list of contents.
_CONTENTS_FROM = 4


#: A figure is drawn at the page's width, but never below this share of its natural size (its
#: text would get too small to read: it scrolls sideways in its box instead) nor above this
#: multiple of it (a small drawing is not blown up).
_FIGURE_MIN, _FIGURE_MAX = 0.8, 1.6


def _sized(svg: str) -> str:
    """The SVG with its width bounds set from its natural width (``width="…pt"``)."""
    found = re.search(r'<svg\b[^>]*?\bwidth="([\d.]+)pt"', svg)
    if not found:
        return svg
    natural = float(found.group(1)) * 4 / 3  # points to CSS pixels
    style = (
        f'style="min-width:{natural * _FIGURE_MIN:.0f}px;max-width:{natural * _FIGURE_MAX:.0f}px" '
    )
    return svg.replace("<svg ", "<svg " + style, 1)


def _figure_html(svg: str, caption: str, anchor: str) -> str:
    return (
        f'<figure id="{anchor}">{_sized(svg)}<figcaption>{html.escape(caption)}</figcaption>'
        "</figure>"
    )


def _legend_html(legend: Sequence[tuple[str, str]]) -> str:
    if not legend:
        return ""
    items = "".join(
        f'<li><span class="swatch" style="background:{html.escape(colour)}"></span>'
        f"{html.escape(meaning)}</li>"
        for colour, meaning in legend
    )
    return (
        "<section class='legend'><h2>Colours (the same on every page)</h2>"
        f"<ul>{items}</ul></section>"
    )


def render_html_page(
    title: str,
    meta: str,
    sheets: Sequence[Sheet],
    figures: Sequence[tuple[str, str] | tuple[str, str, str]] = (),
    *,
    unit: Unit = Unit.AUTO,
    legend: Sequence[tuple[str, str]] = (),
) -> str:
    """A self-contained HTML page.

    Title, a meta line, a colour legend, a list of contents (long pages), inline SVG figures,
    then the sheets.

    ``figures`` are ``(svg_text, caption)`` or ``(svg_text, caption, heading)``; the heading
    (else the caption's first sentence) names the figure in the contents. They are inlined so
    the page needs no network and no other file. Amounts are shown in ``unit`` (``auto``: one
    readable unit for the page) with the exact amount in each cell's ``title``.
    """
    esc = html.escape
    taken: set[str] = set()
    contents: list[tuple[str, str]] = []
    figs = []
    for figure in figures:
        svg, caption = figure[0], figure[1]
        heading = figure[2] if len(figure) > 2 else caption.split(". ")[0].rstrip(".")
        anchor = _slug("figure " + heading, taken)
        contents.append((anchor, heading))
        figs.append(_figure_html(svg, caption, anchor))
    tables = []
    for sheet in _shown(sheets, unit):
        anchor = _slug(sheet.title, taken)
        contents.append((anchor, sheet.title))
        tables.append(sheet_html(sheet, anchor))
    nav = ""
    if len(contents) >= _CONTENTS_FROM:
        items = "".join(f'<li><a href="#{a}">{esc(text)}</a></li>' for a, text in contents)
        nav = f"<nav class='contents'><h2>Contents</h2><ol>{items}</ol></nav>\n"
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{esc(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n<p class='meta'>{esc(meta)}</p>\n{_legend_html(legend)}\n"
        f"{nav}" + "\n".join(figs) + "\n" + "\n".join(tables) + "\n</body>\n</html>\n"
    )
