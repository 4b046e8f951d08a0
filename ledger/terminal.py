"""Sheets -> the terminal: tables that fit the width without ever cutting a name or a figure.

In: a :class:`~ledger.render.Sheet` and a unit. Out: a rich renderable (:class:`SheetView`)
that lays itself out at the width it is printed at. The rules, in order:

1. Names stay whole. A column of names (:data:`NAME_COLUMNS`: ``company``, ``payer``,
   ``parties``…) never breaks inside a name: a list of names breaks only after a comma, and a
   name with a space in it is kept on one line wherever it appears (a cycle, a note).
2. Figures stay whole: a number never wraps; text in a numeric column (``n/a: no revenue
   booked``) wraps between words.
3. Figures adapt. With ``auto`` (no ``--unit``) the amounts are shown exactly if the table
   fits, else in K, M or B, the first that fits, and a note says so; when none fits, the unit
   that needs the fewest panels (item 4), the smaller on a tie; a unit the user gave is kept.
   Amounts are rounded so that printed parts add up to printed totals
   (:func:`ledger.render.display_sheet`).
4. A table still too wide is split into panels of columns, each repeating the leading name
   columns (like a wide data frame printed in a terminal).
5. Notes are wrapped at the width, between words, never cut.

Example: ``company | gross | … | paper gains`` with amounts up to 676,000,000,000.00 needs
about 150 columns exactly; at 100 columns it shows in billions (``676.00``) with the note
"Amounts in billions … chosen to fit the width".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.table import Table
from rich.text import Text

from ledger.render import Sheet, display_sheet, unit_note
from ledger.units import FIXED_UNITS, Unit

__all__ = ["NAME_COLUMNS", "SheetView", "SheetsView", "sheet_names", "wrap"]

#: Columns that hold names (of companies, deals): never broken inside a name.
NAME_COLUMNS = frozenset(
    {
        "company",
        "companies",
        "counterparty",
        "buyer",
        "customer",
        "payer",
        "payee",
        "holder",
        "from",
        "deal",
        "deal/leg",
        "parties",
    }
)

#: Prose columns never get narrower than this (unless the table has nothing else).
_PROSE_MIN = 16
#: A word longer than this in a prose column may be folded.
_PROSE_WORD_MAX = 30
#: Width taken by the table's frame around n columns (rich's SIMPLE_HEAD box without edges,
#: one space of padding on the right of each cell): a padding and a divider per column, less one.
_BORDER, _EDGE = 2, -1
#: rich's SIMPLE_HEAD box with a rule for row sections (drawn above a total row).
_BOX = box.Box("    \n    \n ── \n    \n ── \n    \n    \n    \n")
#: At most this many leading name columns are repeated on every panel of a split table.
_KEYS_MAX = 3


def sheet_names(sheets: Iterable[Sheet]) -> frozenset[str]:
    """The names in the sheets' name columns (``AMD *`` -> ``AMD``; lists split at commas)."""
    names: set[str] = set()
    for sheet in sheets:
        for c, column in enumerate(sheet.columns):
            if column not in NAME_COLUMNS or column in sheet.numeric:
                continue
            for row in sheet.rows:
                for name in str(row[c]).split(", "):
                    name = name.removesuffix(" *").strip()
                    if name and not name.lower().startswith("total"):
                        names.add(name)
    return frozenset(names)


@functools.lru_cache(maxsize=64)
def _spaced(names: frozenset[str]) -> list[list[str]]:
    """The names that hold a space, as word lists, longest first (computed once per set)."""
    return sorted((n.split(" ") for n in names if " " in n), key=len, reverse=True)


def _tokens(text: str, names: frozenset[str], *, commas_only: bool = False) -> list[str]:
    """The unbreakable pieces of a text: words, with every name that holds a space glued."""
    if commas_only:
        return [t for t in re.split(r"(?<=,) ", text) if t]
    words = text.split(" ")
    spaced = _spaced(names)
    if not spaced:
        return [w for w in words if w]
    out: list[str] = []
    i = 0
    while i < len(words):
        for parts in spaced:
            k = len(parts)
            window = words[i : i + k]
            # A name may end in punctuation in prose ("xAI SPV." or "(xAI SPV)").
            if k > 1 and [w.strip("(),.;:") for w in window] == parts:
                out.append(" ".join(window))
                i += k
                break
        else:
            out.append(words[i])
            i += 1
    return [t for t in out if t]


def wrap(
    text: str, width: int, names: frozenset[str] = frozenset(), *, commas_only: bool = False
) -> list[str]:
    """Lines of at most ``width`` characters.

    Broken between words (or only after commas), never inside a name; a single word longer
    than the width is folded.
    """
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for token in _tokens(paragraph, names, commas_only=commas_only):
            # Folding is the last resort, for single words only: a name (with its spaces) is
            # never cut, even if it is wider than the terminal.
            while cell_len(token) > width and " " not in token:
                if line:
                    lines.append(line)
                    line = ""
                lines.append(token[:width])
                token = token[width:]
            if not line:
                line = token
            elif cell_len(line) + 1 + cell_len(token) <= width:
                line = f"{line} {token}"
            else:
                lines.append(line)
                line = token
        lines.append(line)
    return lines


@dataclass
class _Column:
    header: str
    cells: list[str]
    numeric: bool
    names: bool
    low: int = 0
    high: int = 0
    width: int = 0

    def pieces(self, cell: str, names: frozenset[str]) -> list[str]:
        return _tokens(cell, names, commas_only=self.names)


def _columns(sheet: Sheet, names: frozenset[str]) -> list[_Column]:
    columns = []
    for c, header in enumerate(sheet.columns):
        numeric = header in sheet.numeric
        column = _Column(
            header,
            [str(row[c]) for row in sheet.rows],
            numeric,
            not numeric and header in NAME_COLUMNS,
        )
        head_word = max((cell_len(w) for w in header.split(" ")), default=0)
        longest = max(
            (cell_len(t) for cell in column.cells for t in column.pieces(cell, names)), default=0
        )
        widest = max((cell_len(cell) for cell in column.cells), default=0)
        if numeric or column.names:
            column.low = max(longest, head_word)
        else:
            column.low = max(min(longest, _PROSE_WORD_MAX), head_word, min(widest, _PROSE_MIN))
        column.high = max(widest, cell_len(header), column.low)
        columns.append(column)
    return columns


def _overhead(n: int) -> int:
    return _BORDER * n + _EDGE


def _allocate(columns: list[_Column], width: int) -> bool:
    """Give each column a width; False when even the narrowest layout is wider than ``width``.

    Names and figures get their full width first (so a name is not wrapped when there is room,
    and headers stay on one line), then prose columns share the rest in proportion to need.
    """
    room = width - _overhead(len(columns))
    if sum(c.low for c in columns) > room:
        return False
    for column in columns:
        column.width = column.low
    spare = room - sum(c.low for c in columns)
    for group in (
        [c for c in columns if c.names or c.numeric],
        [c for c in columns if not (c.names or c.numeric)],
    ):
        need = sum(c.high - c.width for c in group)
        if need <= spare:
            for column in group:
                column.width = column.high
            spare -= need
            continue
        given = 0
        for column in group:
            extra = (column.high - column.width) * spare // need if need else 0
            column.width += extra
            given += extra
        spare -= given
        for column in sorted(group, key=lambda c: c.width - c.high):
            if spare and column.width < column.high:
                column.width += 1
                spare -= 1
        break
    return True


def _table(title: str, columns: Sequence[_Column], names: frozenset[str]) -> Table:
    table = Table(
        title=title,
        box=_BOX,
        show_edge=False,
        padding=(0, 1, 0, 0),
        expand=False,
        title_justify="left",
    )
    for column in columns:
        table.add_column(
            "\n".join(wrap(column.header, column.width)),
            justify="right" if column.numeric else "left",
            no_wrap=True,
            width=column.width,
        )
    count = len(columns[0].cells) if columns else 0
    for r in range(count):
        # A rule above each total row, as on paper.
        above_total = r + 1 < count and columns[0].cells[r + 1].lower().startswith("total")
        table.add_row(
            *("\n".join(wrap(c.cells[r], c.width, names, commas_only=c.names)) for c in columns),
            end_section=above_total,
        )
    return table


def _panels(columns: list[_Column], width: int) -> list[list[_Column]]:
    """Columns split into panels that fit, each starting with the columns that say what a row is.

    Those are the leading text columns up to the leading run of name columns (``date, deal``;
    ``payer, payee``), at most :data:`_KEYS_MAX` and half the width.
    """
    keys: list[_Column] = []
    for column in columns[:_KEYS_MAX]:
        named = any(c.names for c in keys)
        if column.numeric or (named and not column.names):
            break
        if sum(c.low for c in keys) + column.low > width // 2:
            break
        keys.append(column)
    rest = columns[len(keys) :]
    panels: list[list[_Column]] = []
    current: list[_Column] = []
    for column in rest:
        trial = [*keys, *current, column]
        if current and sum(c.low for c in trial) + _overhead(len(trial)) > width:
            panels.append([*keys, *current])
            current = []
        current.append(column)
    if current or not panels:
        panels.append([*keys, *current])
    # As many panels as packing needs, but with the columns shared out evenly when they fit.
    k = len(panels)
    size = -(-len(rest) // k) if k else 0
    even = [[*keys, *rest[i : i + size]] for i in range(0, len(rest), size)] if size else []
    if len(even) == k and all(sum(c.low for c in p) + _overhead(len(p)) <= width for p in even):
        return even
    return panels


class SheetView:
    """A sheet laid out at the width it is printed at (see the module doc for the rules)."""

    def __init__(
        self, sheet: Sheet, unit: Unit = Unit.AUTO, names: frozenset[str] | None = None
    ) -> None:
        self.sheet = sheet
        self.unit = unit
        self.names = sheet_names([sheet]) if names is None else names
        self._layouts: dict[tuple[int, Unit | None], tuple[list[Table], list[str], Unit]] = {}
        self._shown: dict[Unit, Sheet] = {}

    def fitting_unit(self, width: int) -> Unit:
        """The unit the sheet is shown in at ``width``.

        The given one, or with ``auto`` the smallest that fits (when none does, the one that
        needs the fewest panels, the smaller on a tie).
        """
        return self.layout(width)[2]

    def layout(self, width: int, unit: Unit | None = None) -> tuple[list[Table], list[str], Unit]:
        """The tables (one, or panels), the wrapped note lines, and the unit chosen.

        ``unit`` overrides the view's own (a group of sheets shown in one unit).
        """
        key = (width, unit)
        if key not in self._layouts:
            self._layouts[key] = self._layout(width, unit)
        return self._layouts[key]

    def _layout(self, width: int, unit: Unit | None) -> tuple[list[Table], list[str], Unit]:
        asked = self.unit if unit is None else unit
        units = list(FIXED_UNITS) if asked is Unit.AUTO else [asked]
        has_amounts = bool(self.sheet.amounts())
        if not has_amounts:
            units = [units[0] if asked is not Unit.AUTO else Unit.ONE]
        chosen, columns, fits = units[-1], [], False
        # When no unit fits, the one that needs the fewest panels, the smaller on a tie: a larger
        # unit that saves no panel would only round small figures away (149.21 -> 0.00 B).
        narrowest: tuple[int, Unit, list[_Column]] | None = None
        for unit in units:
            if unit not in self._shown:
                self._shown[unit] = display_sheet(self.sheet, unit)
            shown = self._shown[unit]
            columns = _columns(shown, self.names)
            chosen = unit
            if _allocate(columns, width):
                fits = True
                break
            need = len(_panels(columns, width))
            if narrowest is None or need < narrowest[0]:
                narrowest = (need, unit, columns)
        if not fits and narrowest is not None:
            _, chosen, columns = narrowest
        if fits:
            tables = [_table(self.sheet.title, columns, self.names)]
        else:
            panels = _panels(columns, width)
            tables = []
            for k, panel in enumerate(panels, start=1):
                if not _allocate(panel, width):
                    for column in panel:
                        column.width = column.low
                title = self.sheet.title + (f" ({k}/{len(panels)})" if len(panels) > 1 else "")
                tables.append(_table(title, panel, self.names))
        notes = list(self.sheet.notes)
        note = unit_note(chosen, self.sheet.currency, fitted=self.unit is Unit.AUTO)
        if has_amounts and note:
            notes.insert(0, note)
        lines = [line for n in notes for line in wrap(n, width, self.names)]
        return tables, lines, chosen

    def render(self, width: int, unit: Unit | None = None) -> Iterator[Group | Text]:
        """The renderables of the sheet at ``width``: its tables, then its notes."""
        tables, lines, _ = self.layout(width, unit)
        yield Group(*tables)
        if lines:
            yield Text("\n".join(lines), no_wrap=True, overflow="ignore")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.render(options.max_width)


class SheetsView:
    """The sheets of one command, shown in one unit.

    With ``auto``, the largest of the units each sheet needs to fit (so the figures of two
    tables can be compared as printed).
    """

    def __init__(self, sheets: Sequence[Sheet], unit: Unit = Unit.AUTO) -> None:
        names = sheet_names(sheets)
        self.views = [SheetView(sheet, unit, names) for sheet in sheets]
        self.unit = unit

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        unit = self.unit
        if unit is Unit.AUTO:
            needed = [v.fitting_unit(width) for v in self.views if v.sheet.amounts()]
            unit = max(needed, key=FIXED_UNITS.index, default=Unit.ONE)
        for view in self.views:
            yield from view.render(width, unit)
