"""What every ``roundtrip`` verb shares: reading the input, writing the output, progress, the store.

The verbs in :mod:`ledger.cli` parse their arguments and call the library; the plumbing they
have in common lives here, so that each verb reads, reports problems and writes the same way:
problems as ``file:line: message [deal]`` and exit 2 with nothing written, outputs to stdout or
atomically to a file, progress on stderr only (never in ``--format json/csv`` output).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.console import Console

from ledger.inputs import Web, read_web
from ledger.model import Basis, LedgerError, Period, format_errors
from ledger.render import Format, Sheet, Unit, render_json, render_markdown

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2


def console() -> Console:
    """The console of stdout; off a terminal a fixed width (COLUMNS, else 160): stable output."""
    if sys.stdout.isatty():
        return Console(highlight=False)
    columns = os.environ.get("COLUMNS", "")
    return Console(width=int(columns) if columns.isdigit() else 160, highlight=False)


def print_view(renderable: Any) -> None:
    """Print a table view to stdout; off a terminal without the padding rich adds to each line.

    Rich pads every line of a table to its width; in a file or a pipe those trailing spaces are
    noise to ``diff``, ``grep`` and version control.
    """
    out = console()
    if out.is_terminal:
        out.print(renderable)
        return
    with out.capture() as captured:
        out.print(renderable)
    sys.stdout.write("".join(f"{line.rstrip()}\n" for line in captured.get().splitlines()))
    sys.stdout.flush()


def say(text: str) -> None:
    """A sentence to stdout, wrapped between words at the console's width (see :func:`console`)."""
    from ledger.terminal import wrap

    for line in wrap(text, console().width):
        typer.echo(line)


def say_names(names: list[str], indent: str = "  ") -> None:
    """File names to stdout, two spaces apart, as many to a line as the console's width holds.

    A line that continues the names is indented twice, so the groups stay apart.
    """
    width, line, lead = console().width, "", indent
    for name in names:
        if line and len(lead) + len(line) + 2 + len(name) > width:
            typer.echo(lead + line)
            line, lead = "", indent * 2
        line = f"{line}  {name}" if line else name
    if line:
        typer.echo(lead + line)


def err(message: str) -> None:
    """One line on stderr (never stdout, which may be a JSON or CSV document)."""
    typer.echo(message, err=True)


def fail(errors: tuple[LedgerError, ...] | list[LedgerError], code: int = EXIT_BAD_INPUT) -> None:
    """Every problem as ``file:line: message [deal]``, a count, and the exit (2: bad input)."""
    err(format_errors(errors))
    err(f"{len(errors)} problem{'s' if len(errors) != 1 else ''} found; nothing was written.")
    raise typer.Exit(code)


def read_input(path: Path, steps: Steps) -> Web:
    """The web at ``path`` (legs CSV or Parquet, deals file, books), or every problem and exit 2."""
    with steps.counted(f"reading {path}") as progress:
        web = read_web(path, on_progress=progress)
    if web.errors:
        fail(web.errors)
    return web


def period_of(period: str | None, start: str | None, end: str | None) -> Period:
    """``--period``, or ``--from``/``--to`` (which win); a bad one is a usage error."""
    try:
        if start or end:
            return Period(
                date.fromisoformat(start) if start else None,
                date.fromisoformat(end) if end else None,
                f"{start or ''}..{end or ''}",
            )
        return Period.parse(period)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


def emit(text: str, out: Path | None) -> None:
    """``text`` to stdout, or to ``out`` atomically."""
    emit_with(lambda stream: stream.write(text), out)


def emit_with(write: Callable[[TextIO], object], out: Path | None) -> None:
    """Write to stdout, or to ``out`` atomically (a temporary file, then a rename)."""
    if out is None:
        write(sys.stdout)
        sys.stdout.flush()
        return
    from ledger.output_set import replace_file

    def fill(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as stream:
            write(stream)

    replace_file(out, fill)
    err(f"wrote {out}")


class Steps:
    """Progress of a verb's long steps on stderr: one line per step, with its time.

    Shown when stderr is a terminal (whatever stdout is: a file, a pipe), or always with
    ``ROUNDTRIP_PROGRESS=1``; never with ``ROUNDTRIP_PROGRESS=0``. Never on stdout, so
    ``--format json/csv`` output stays clean.
    """

    def __init__(self) -> None:
        setting = os.environ.get("ROUNDTRIP_PROGRESS", "")
        self.on = setting == "1" or (setting != "0" and sys.stderr.isatty())
        self.started = time.perf_counter()
        self.current: str | None = None
        self.since = self.started

    def __call__(self, what: str) -> None:
        """Start the step ``what`` (ending the one before)."""
        self.done()
        self.current, self.since = what, time.perf_counter()
        if self.on:
            sys.stderr.write(f"{what} …")
            sys.stderr.flush()

    def done(self) -> None:
        """End the current step."""
        if self.current is not None and self.on:
            sys.stderr.write(f" {time.perf_counter() - self.since:.1f} s\n")
            sys.stderr.flush()
        self.current = None

    @contextmanager
    def counted(self, what: str) -> Iterator[Callable[[int, int], None]]:
        """A step told ``(done, total)`` as it goes (books read or written, one per company).

        On a terminal, a transient bar; elsewhere (``ROUNDTRIP_PROGRESS=1``) each tenth done
        is appended to the step's line, so that a log shows it moving.
        """
        if self.on and sys.stderr.isatty():
            start = time.perf_counter()
            with progress_bar(Console(stderr=True), what) as progress:
                yield progress
            self(what)
            self.since = start
        else:
            self(what)
            shown = [0]

            def tenths(done: int, total: int) -> None:
                if self.on and done * 10 // total > shown[0]:
                    shown[0] = done * 10 // total
                    sys.stderr.write(f" {shown[0] * 10}%")
                    sys.stderr.flush()

            yield tenths
        self.done()


def sheets_out(
    sheets: list[Sheet],
    fmt: Format,
    json_data: dict[str, Any],
    out: Path | None,
    unit: Unit,
    document: str,
    table: str | None = None,
) -> None:
    """Render for people (table, md) or machines (json; csv: the JSON laid flat, by schema)."""
    if fmt is Format.TABLE and out is None:
        from ledger.terminal import SheetsView

        print_view(SheetsView(sheets, unit))
        return
    if fmt is Format.JSON:
        emit(render_json(json_data), out)
    elif fmt is Format.CSV:
        from ledger.records import write_csv

        emit_with(lambda stream: write_csv(document, json_data, stream, table), out)
    else:
        emit(render_markdown(sheets, unit=unit), out)


@contextmanager
def open_store(db: str | None, *, must_exist: bool = False) -> Iterator[tuple[Engine, str]]:
    """The store at ``db`` (default SQLite file) with its schema, and its URL to show.

    Store problems end the command with one line, exit 2 (a bad ``--db``) or 1 (a store that
    cannot be reached); a SQLite file this command created is removed when it fails.
    """
    from ledger.store import StoreError, StoreMissing, create_schema, engine_for, opened

    try:
        with opened(db, must_exist=must_exist) as url:
            engine = engine_for(url)
            try:
                if not must_exist:
                    create_schema(engine)
                yield engine, engine.url.render_as_string(hide_password=True)
            finally:
                engine.dispose()
    except StoreError as error:
        err(str(error))
        raise typer.Exit(error.exit_code) from None
    except StoreMissing as error:
        err(f"{error} (roundtrip load creates it)")
        raise typer.Exit(EXIT_BAD_INPUT) from None


@contextmanager
def progress_bar(console: Console, what: str) -> Iterator[Callable[[int, int], None]]:
    """A transient rich progress bar, as the ``progress(done, total)`` callback of the library."""
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(what, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


PathArg = Annotated[
    Path, typer.Argument(metavar="PATH", help="Deals file (.yaml), legs CSV, or books folder.")
]
OptionalPathArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="PATH",
        help="Deals file (.yaml), legs CSV or Parquet, or books folder (or --db URL instead).",
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
BasisOpt = Annotated[
    Basis, typer.Option(help="Which statuses count: realized ⊂ contracted ⊂ announced.")
]
PeriodOpt = Annotated[
    str | None, typer.Option(help="Period: 2025, 2025Q3, 2025-09 or 2025-01-01..2025-07-01.")
]
FromOpt = Annotated[str | None, typer.Option("--from", help="First day (ISO), inclusive.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day (ISO), exclusive.")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")]
UnitOpt = Annotated[
    Unit,
    typer.Option(
        help="Show amounts in units (1), K, M or B; auto: exact if the table fits the terminal, "
        "else the first of K, M, B that fits (md, html: one readable unit per report). json "
        "and csv stay exact."
    ),
]
TableOpt = Annotated[
    str | None,
    typer.Option(
        "--table",
        help="With --format csv: only this table, under its own columns (e.g. companies); "
        "an unknown name lists the tables.",
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(help="Database URL (default sqlite:///roundtrip.db; or postgresql+psycopg://…)."),
]


def check_table(table: str | None, fmt: Format, document: str) -> None:
    """Refuse, before any work, a ``--table`` without ``--format csv`` or of no such table."""
    if table is None:
        return
    if fmt is not Format.CSV:
        raise typer.BadParameter("--table goes with --format csv", param_hint="--table")
    from ledger.records import table_names

    names = table_names(document)
    if table not in names:
        raise typer.BadParameter(
            f"no table {table!r} in the {document} CSV; tables: {', '.join(names)}",
            param_hint="--table",
        )
