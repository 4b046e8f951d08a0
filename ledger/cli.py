"""The ``roundtrip`` command: one verb per job, each a thin shell over the library.

Every command parses its arguments, calls one library function, and renders the result. Exit
codes: 0 ok, 1 findings, usage errors or a problem of the machine (a write it refused, a
missing tool: one line), 2 bad input (every problem is printed as ``file:line: message [deal
id]`` and nothing is written), 130 Ctrl-C. :func:`main` is the one place exceptions become
exit codes.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NamedTuple

import typer

from ledger.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_FINDINGS,
    BasisOpt,
    DbOpt,
    FormatOpt,
    FromOpt,
    OptionalPathArg,
    OutOpt,
    PathArg,
    PeriodOpt,
    TableOpt,
    ToOpt,
    UnitOpt,
    say,
    say_names,
)
from ledger.cli_common import Steps as _Steps
from ledger.cli_common import check_table as _check_table
from ledger.cli_common import console as _console
from ledger.cli_common import emit as _emit
from ledger.cli_common import emit_with as _emit_with
from ledger.cli_common import err as _err
from ledger.cli_common import fail as _fail
from ledger.cli_common import open_store as _store
from ledger.cli_common import period_of as _period
from ledger.cli_common import print_view as _print_view
from ledger.cli_common import progress_bar as _progress_bar
from ledger.cli_common import read_input as _read
from ledger.cli_common import sheets_out as _sheets_out
from ledger.conventions import Baseline, Loss, Means
from ledger.entry import EXIT_INTERRUPTED, INTERRUPTED
from ledger.inputs import Web
from ledger.model import Basis, LedgerError, Period
from ledger.render import Format, Unit

if TYPE_CHECKING:
    import pandas as pd

    from ledger.model import Leg, Price
    from ledger.netting import NettingResult
    from ledger.output_set import Stage
    from ledger.sensitivity import Sensitivity

app = typer.Typer(
    name="roundtrip",
    help="A double-entry ledger engine that exposes circular revenue.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"roundtrip {version('roundtrip')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """A double-entry ledger engine that exposes circular revenue."""


class MethodName(StrEnum):
    """The netting methods, as ``--method`` lists them.

    The values of ledger.netting.Method, kept here so that ``--help`` does not import the
    solvers.
    """

    MAX = "max"
    PRO_RATA = "pro-rata"


def _refuse_output(out: Path, source: Path) -> None:
    """Refuse, before any work, an output folder that is the input (exit 2)."""
    from ledger.model import BadInput
    from ledger.output_set import refuse_inputs

    try:
        refuse_inputs(out, [source])
    except BadInput as error:
        _fail(error.errors)


def _eliminations_stage(
    out: Path | None, source: Path | None
) -> AbstractContextManager[Stage | None]:
    """The output set the eliminations are staged in (none without ``--eliminations``)."""
    if out is None:
        return nullcontext()
    from ledger.eliminations import ELIMINATIONS_SET
    from ledger.output_set import staged

    return staged(out, ELIMINATIONS_SET, inputs=[source], foreign="*.beancount")


def _stage_eliminations(
    stage: Stage | None, result: NettingResult, web: Web, books: Path | None
) -> int:
    """Stage every company's eliminations; returns how many files."""
    if stage is None:
        return 0
    from ledger.eliminations import elimination_files

    files = elimination_files(result, web.legs, books, stage.out_dir)
    for name, text in files.items():
        stage.write_text(name, text)
    return len(files)


def _save_run(db: str | None, result: NettingResult, source: str, cycles: int | None) -> None:
    """Save a netting run, its figures and its largest cycles (store problems: one line)."""
    from ledger.store import save_netting

    with _store(db) as (engine, where):
        saved = save_netting(engine, result, source=source, cycles=cycles)
    _err(f"saved netting run {saved.run_id} to {where}")


class BookFormat(StrEnum):
    """What ``roundtrip book`` writes: beancount books, or hledger/ledger-cli journals."""

    BEANCOUNT = "beancount"
    LEDGER = "ledger"


@app.command()
def book(
    path: PathArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the books.")] = Path("books"),
    fmt: Annotated[
        BookFormat,
        typer.Option(
            "--format", "-f", help="beancount books, or ledger: hledger/ledger-cli journals."
        ),
    ] = BookFormat.BEANCOUNT,
) -> None:
    """Write one beancount book per company from a deals file or a legs CSV.

    Every leg becomes one balanced transaction in each of its two books, mirrored and linked
    by ^deal-<id>. Per company: <slug>.beancount (what happened: realized legs, settled in
    cash), <slug>.commitments.beancount (contracted and announced legs),
    <slug>.forward.beancount (includes both) and <slug>.netted.beancount (the book with
    roundtrip's beancount plugin, Fava page and saved queries). Nothing is written unless
    every book passes bean-check alone and with its commitments. Progress goes to stderr when
    it is a terminal (ROUNDTRIP_PROGRESS=1 always, 0 never).

    With --format ledger, the same books as hledger journals: <slug>.journal,
    <slug>.commitments.journal and <slug>.forward.journal (hledger check --strict passes).

    Example: roundtrip book books/deals.yaml --out books/
    """
    from ledger.model import BadInput
    from ledger.output_set import refuse_inputs

    if fmt is BookFormat.LEDGER:
        from ledger.books_hledger import write_journals as write
    else:
        from ledger.beancount_io import write_books as write
    try:
        refuse_inputs(out, [path])
        steps = _Steps()
        web = _read(path, steps)
        with steps.counted(f"writing and checking the books in {out}") as progress:
            if fmt is BookFormat.LEDGER:
                written = write(web.legs, out, web.prices, web.companies)
            else:
                written = write(web.legs, out, web.prices, web.companies, on_progress=progress)
    except BadInput as error:
        _fail(error.errors)
    books = [p for p in written if p.name.count(".") == 1]
    files = (
        "book, commitments, forward view"
        if fmt is BookFormat.LEDGER
        else "book, commitments, forward view, netted view"
    )
    say(f"wrote the books of {len(books)} companies ({len(web.legs)} legs) to {out}/: {files}")
    per_company = len(written) // max(len(books), 1)
    for start in range(0, len(written), per_company):
        say_names([p.name for p in written[start : start + per_company]])


@app.command()
def check(path: PathArg) -> None:
    """Validate a deals file, legs CSV or books, and run bean-check on the books.

    Books are checked alone, with their commitments, and with their eliminations when the
    folder holds them; transactions that are not legs are counted and left alone. For a deals
    file or CSV the books are written to a temporary folder and checked there. Progress goes
    to stderr when it is a terminal (ROUNDTRIP_PROGRESS=1 always, 0 never).

    Example: roundtrip check books/
    """
    from ledger.beancount_io import read_books, write_books
    from ledger.books_write import ELIMINATIONS_SUFFIX
    from ledger.inputs import EMPTY_BOOKS, checked_web
    from ledger.legs_table import is_parquet_folder
    from ledger.output_set import recover

    steps = _Steps()
    if (path.is_dir() and not is_parquet_folder(path)) or path.suffix == ".beancount":
        # A writer killed mid-swap is rolled back before the books are read (ledger.output_set).
        if recovery := recover(path if path.is_dir() else path.parent):
            _fail(recovery)
        with steps.counted(f"checking the books in {path}") as progress:
            read = read_books(path, standalone=True, on_progress=progress)
        # The same validation every verb applies (limits, colliding names, an empty web).
        checked = checked_web(
            path, read.legs, read.prices, read.companies, list(read.errors), "books", EMPTY_BOOKS
        )
        if checked.errors:
            _fail(checked.errors)
    else:
        web = _read(path, steps)
        with tempfile.TemporaryDirectory() as tmp:
            with steps.counted("writing the books to a temporary folder") as progress:
                write_books(web.legs, Path(tmp), web.prices, web.companies, on_progress=progress)
            with steps.counted("checking them") as progress:
                read = read_books(Path(tmp), standalone=True, on_progress=progress)
    if read.errors:
        _fail(tuple(read.errors))
    ordinary = read.ordinary_total
    folder = path if path.is_dir() else path.parent
    netted = len(list(folder.glob(f"*{ELIMINATIONS_SUFFIX}"))) if path.is_dir() else 0
    checked = (
        f"alone, with its commitments and with its eliminations ({netted} file"
        f"{'s' if netted != 1 else ''})"
        if netted
        else "alone and with its commitments"
    )
    say(
        f"ok: {len(read.legs)} legs, {len(read.companies)} companies; every leg mirrored, "
        f"every book passes bean-check {checked}; "
        f"{ordinary} ordinary transaction{'s' if ordinary != 1 else ''} (not legs) left alone."
    )


@app.command()
def load(path: PathArg, db: DbOpt = None) -> None:
    """Load legs, postings and prices into the SQL store (atomic; the store follows the input).

    The store's legs of the companies the input covers become exactly the input's legs (legs
    the input no longer has are removed); loading the same legs again, from any file or
    format, changes nothing. Two loads at once run one after the other.

    Example: roundtrip load books/ --db sqlite:///roundtrip.db
    """
    from ledger.model import BadInput
    from ledger.store import load_web

    steps = _Steps()
    web = _read(path, steps)
    with _store(db) as (engine, where):
        steps(f"loading {web.n_legs:,} legs into {where}")
        try:
            summary = load_web(engine, web, progress=_load_progress(steps))
        except BadInput as error:
            steps.done()
            _fail(error.errors)
        steps.done()
    from ledger.terminal import SheetView
    from ledger.views import load_sheet

    _print_view(SheetView(load_sheet(summary.as_dict(), f"Loaded {path} into {where}")))
    if not summary.changed:
        typer.echo("nothing changed: these legs were already loaded.")


def _load_progress(steps: _Steps) -> Callable[[int, int], None] | None:
    """The load's ``progress(done, total)``: a count on stderr (when progress is shown)."""
    if not steps.on:
        return None

    def show(done: int, total: int) -> None:
        sys.stderr.write(f" {done:,}/{total:,}")
        sys.stderr.flush()

    return show


class ShowWhat(StrEnum):
    """What ``roundtrip show`` lists."""

    COMPANIES = "companies"
    DEALS = "deals"
    LEGS = "legs"


@app.command()
def show(
    path: PathArg,
    what: Annotated[ShowWhat, typer.Argument(help="companies, deals or legs.")] = ShowWhat.DEALS,
    fmt: FormatOpt = Format.TABLE,
    out: OutOpt = None,
    unit: UnitOpt = Unit.AUTO,
    table: TableOpt = None,
) -> None:
    """List the companies, deals or legs of a web.

    --format csv of legs is the legs CSV itself (roundtrip check reads it back).

    Example: roundtrip show books/ deals --format md
    """
    from ledger.views import company_sheet, deal_sheet, leg_sheet, show_document

    if what is not ShowWhat.LEGS:
        _check_table(table, fmt, f"show-{what.value}")
    elif table is not None:
        raise typer.BadParameter("show legs is one table already", param_hint="--table")
    web = _read(path, _Steps())
    if fmt is Format.CSV and what is ShowWhat.LEGS:
        from ledger.legs_csv import write_legs_csv

        _emit_with(lambda stream: write_legs_csv(web.legs, stream), out)
        return
    sheet = {
        ShowWhat.COMPANIES: lambda: company_sheet(web.legs, web.companies),
        ShowWhat.DEALS: lambda: deal_sheet(web.legs),
        ShowWhat.LEGS: lambda: leg_sheet(web.legs),
    }[what]()
    if fmt is Format.HTML:
        from ledger.render import render_html_page

        _emit(render_html_page(f"roundtrip — {what.value}", str(path), [sheet], unit=unit), out)
        return
    data = show_document(what.value, web.legs, web.companies)
    _sheets_out([sheet], fmt, data, out, unit, f"show-{what.value}", table)


#: From this input size on (about 60,000 legs of CSV) ``net`` loads the compiled cycle walk
#: while it reads: the witnesses of such a web use it (ledger.witnesses._COMPILED_EDGES).
_WARM_BYTES = 4 << 20


def _load_solvers() -> None:
    """Import the solvers and load the compiled cycle walk (about 0.5 s), on another thread.

    Reading a large input keeps one core busy for seconds, much of it in Arrow and NumPy with
    the GIL released: the imports made meanwhile are off the critical path.
    """
    import ledger.circulation  # noqa: F401 - SciPy's sparse solvers and OR-Tools
    from ledger.witnesses import load_compiled_walk

    load_compiled_walk()


def _input_bytes(path: Path) -> int:
    """The size of a file, or of the files directly in a folder (0 if it cannot be read)."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0


@app.command()
def net(
    path: OptionalPathArg = None,
    method: Annotated[
        MethodName,
        typer.Option(
            help="max: the most revenue that can be round-tripped (a bound on the total; per "
            "company one maximal explanation, --bounds gives its range); pro-rata: provenance."
        ),
    ] = MethodName.MAX,
    basis: BasisOpt = Basis.REALIZED,
    period: PeriodOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    bounds: Annotated[
        bool, typer.Option(help="Also give each company's [min, max] over all max circulations.")
    ] = False,
    fmt: FormatOpt = Format.TABLE,
    out: OutOpt = None,
    eliminations: Annotated[
        Path | None,
        typer.Option(help="Write elimination entries (one file per company) to this folder."),
    ] = None,
    unit: UnitOpt = Unit.AUTO,
    table: TableOpt = None,
    save: Annotated[
        bool, typer.Option("--save", help="Also store the run and its figures in the database.")
    ] = False,
    db: Annotated[
        str | None,
        typer.Option(
            help="Database URL: without PATH, net what was loaded there (legs aggregated into "
            "edges in SQL); with PATH, where --save stores the run (default "
            "sqlite:///roundtrip.db)."
        ),
    ] = None,
    cycles: Annotated[
        str, typer.Option(help="How many cycle witnesses to list, largest first, or all.")
    ] = "20",
    sensitivity: Annotated[
        str,
        typer.Option(
            help="What the headline rests on: try the N largest estimates, deals and edges "
            "(auto: 5 on webs of up to 5,000 legs, else 0)."
        ),
    ] = "auto",
) -> None:
    """Net out circular revenue: organic vs circular revenue per company, with cycles.

    The largest --cycles witnesses are listed (20 unless told; --cycles all lists every one,
    streamed) and cycle_count says how many there are. Progress goes to stderr when it is a
    terminal (ROUNDTRIP_PROGRESS=1 always, 0 never).

    Example: roundtrip net books/ --method max --basis realized --period 2025 --format md
    """
    from ledger.flows import GraphError, build_flow_graph

    if eliminations is not None and eliminations.suffix == ".beancount":
        raise typer.BadParameter(
            "--eliminations takes a folder: each company's eliminations go in a file of their "
            "own (<company>.eliminations.beancount), to load with that company's book"
        )
    if bounds and method is not MethodName.MAX:
        raise typer.BadParameter("--bounds goes with --method max (pro-rata is unique)")
    if path is None and db is None:
        raise typer.BadParameter("give a PATH to net, or --db URL to net what was loaded there")
    _check_table(table, fmt, "net")
    if path is None and eliminations is not None:
        raise typer.BadParameter("--eliminations needs the books: give a PATH, not only --db")
    shown = _cycles_shown(cycles)
    top = _sensitivity_top(sensitivity)
    chosen_period = _period(period, start, end)
    if eliminations is not None and path is not None:
        _refuse_output(eliminations, path)
    steps = _Steps()
    if path is None:
        frame, grants, prices, n_legs, source = _from_store(db, chosen_period, basis, steps)
        web = None
    else:
        if method is MethodName.MAX and _input_bytes(path) >= _WARM_BYTES:
            threading.Thread(target=_load_solvers, name="roundtrip-load", daemon=True).start()
        web = _read(path, steps)
        frame, grants, prices, source = web.frame, web.grants, web.prices, str(path)
        n_legs = web.n_legs
    from ledger.netting import Method
    from ledger.netting import net as run_net

    chosen = Method(method.value)
    steps("building the flow graph")
    try:
        graph = build_flow_graph(frame, chosen_period, basis)
    except GraphError as error:
        _fail([LedgerError(source, 0, str(error))])
    from ledger.audit import paper_gains

    gains = paper_gains(grants, prices, chosen_period, basis)
    result = run_net(
        graph,
        chosen,
        bounds=bounds,
        paper_gains=gains,
        on_step=steps,
        edge_flows=fmt is Format.HTML,
    )
    rests_on = None
    top = _auto_top(top, n_legs)
    if top and chosen is Method.MAX:
        from ledger.sensitivity import netting_sensitivity

        # Removing a leg or a deal needs the legs: from the store, pulled only now.
        legs = web.frame if web is not None else _stored_web(db).frame
        steps("measuring what the headline rests on")
        rests_on = netting_sensitivity(legs, chosen_period, basis, result, top)
    steps("writing the output")
    keep = save or (db is not None and path is not None)
    store = _SaveTo(db, source, shown) if keep else None
    outputs = _Outputs(fmt, out, unit, table)
    _net_outputs(result, web, path, outputs, eliminations, shown, store, rests_on)
    steps.done()


def _sensitivity_top(text: str) -> int | None:
    """``--sensitivity``: a count, or ``auto`` (None)."""
    if text.strip().lower() == "auto":
        return None
    if not text.strip().isdigit():
        raise typer.BadParameter(f"--sensitivity takes a number >= 0 or auto, not {text!r}")
    return int(text)


def _auto_top(top: int | None, legs: int) -> int:
    from ledger.sensitivity import AUTO_LEG_LIMIT, DEFAULT_TOP

    if top is not None:
        return top
    return DEFAULT_TOP if legs <= AUTO_LEG_LIMIT else 0


def _stored_web(db: str | None) -> Web:
    """The legs, prices and companies of a store, as a web (``audit --db``)."""
    from ledger.model import BadInput
    from ledger.store import stored_web

    with _store(db, must_exist=True) as (engine, where):
        try:
            return stored_web(engine, where)
        except BadInput as error:
            _fail(error.errors)


class _SaveTo(NamedTuple):
    """Where and how ``net --save`` stores its run."""

    db: str | None
    source: str
    cycles: int | None


def _from_store(
    db: str | None, period: Period, basis: Basis, steps: _Steps
) -> tuple[pd.DataFrame, tuple[Leg, ...], tuple[Price, ...], int, str]:
    """What ``net --db`` nets: edges aggregated by the database, and the unit-carrying legs."""
    from ledger.model import BadInput
    from ledger.store import netting_input

    with _store(db, must_exist=True) as (engine, where):
        steps(f"aggregating legs into edges in {where}")
        try:
            found = netting_input(engine, period, basis)
        except BadInput as error:
            _fail(error.errors)
    return found.frame, found.grants, found.prices, found.n_legs, where


def _cycles_shown(text: str) -> int | None:
    """``--cycles``: a count, or ``all`` (None)."""
    if text.strip().lower() == "all":
        return None
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise typer.BadParameter(f"--cycles takes a number >= 0 or all, not {text!r}")
    return count


class _Outputs(NamedTuple):
    """Where and how a report goes: ``--format``, ``--out``, ``--unit``, ``--table``."""

    fmt: Format
    out: Path | None
    unit: Unit
    table: str | None


def _net_outputs(
    result: NettingResult,
    web: Web | None,
    path: Path | None,
    outputs: _Outputs,
    eliminations: Path | None,
    shown: int | None,
    store: _SaveTo | None,
    rests_on: Sensitivity | None = None,
) -> None:
    """Eliminations and the store, then the report (JSON streamed, never held whole)."""
    from ledger.model import BadInput
    from ledger.netting import to_json_dict

    fmt, out, unit, table = outputs

    written = 0
    try:
        # The eliminations are staged, then the run is saved, then the files are committed: a
        # failing --save leaves no file written.
        with _eliminations_stage(eliminations, path) as stage:
            if web is not None and path is not None:
                books = (path if path.is_dir() else path.parent) if web.source == "books" else None
                written = _stage_eliminations(stage, result, web, books)
            if store is not None:
                _save_run(store.db, result, store.source, store.cycles)
    except BadInput as error:
        _fail(error.errors)
    if eliminations is not None:
        _err(f"wrote {written} elimination files to {eliminations}/")
    if fmt in (Format.JSON, Format.CSV):
        from ledger.jsonout import write_json
        from ledger.records import write_csv

        data = to_json_dict(result, shown, lazy=True)
        if rests_on is not None:
            data["sensitivity"] = rests_on.to_json_dict()
        if fmt is Format.JSON:
            _emit_with(lambda stream: write_json(data, stream), out)
        else:
            _emit_with(lambda stream: write_csv("net", data, stream, table), out)
        return
    data = to_json_dict(result, shown)
    if rests_on is not None:
        data["sensitivity"] = rests_on.to_json_dict()
    from ledger.views import netting_html, netting_sheets

    if fmt is Format.HTML:
        from ledger.views import drawing_edges

        _emit(netting_html(data, drawing_edges(result), unit), out)
        return
    _sheets_out(list(netting_sheets(data, unit)), fmt, data, out, unit, "net", table)


@app.command()
def audit(
    path: OptionalPathArg = None,
    fail: Annotated[
        str | None, typer.Option(help="What if this company fails (or cuts spending)?")
    ] = None,
    cut: Annotated[
        float, typer.Option(help="Spending cut in percent for --fail (100 = failure).")
    ] = 100.0,
    rank: Annotated[
        bool, typer.Option("--all", help="Rank every company by systemic impact.")
    ] = False,
    basis: Annotated[
        Basis,
        typer.Option(
            help="Which statuses count (contracted: what is signed can go unpaid when a "
            "company fails)."
        ),
    ] = Basis.CONTRACTED,
    period: PeriodOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    unit: UnitOpt = Unit.AUTO,
    fmt: FormatOpt = Format.TABLE,
    out: OutOpt = None,
    # The stress test's conventions (ledger.conventions); every report states them.
    horizon: Annotated[
        str, typer.Option(help="Clear obligations due within this horizon: 12m, 2y or all.")
    ] = "12m",
    loss: Annotated[
        Loss, typer.Option(help="A cancelled goods/services contract costs its margin or face.")
    ] = Loss.MARGIN,
    margin: Annotated[
        list[str] | None, typer.Option(help="Override a margin: cloud=0.14 (repeatable).")
    ] = None,
    baseline: Annotated[
        Baseline, typer.Option(help="booked: the web as booked; given: the pre-1.0 baseline.")
    ] = Baseline.BOOKED,
    means: Annotated[
        Means, typer.Option(help="books: booked cash and equipment; outside: outside revenue.")
    ] = Means.BOOKS,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Scenario date (default: the books' date).")
    ] = None,
    sensitivity: Annotated[
        str,
        typer.Option(
            help="With --fail: what the loss rests on, trying the N largest estimates and "
            "deals (auto: 5 on webs of up to 5,000 legs, else 0)."
        ),
    ] = "auto",
    db: Annotated[
        str | None, typer.Option(help="Database URL: without PATH, audit what was loaded there.")
    ] = None,
    table: TableOpt = None,
) -> None:
    """Exposure audit: concentration, commitments, vendor financing, contagion.

    Example: roundtrip audit books/ --fail OpenAI --cut 50
    (--horizon all --loss face --baseline given --means outside: the figures before 1.0.)
    """
    from ledger.audit_views import run_audit
    from ledger.conventions import from_options
    from ledger.flows import GraphError
    from ledger.model import BadInput

    if path is None and db is None:
        raise typer.BadParameter("give a PATH to audit, or --db URL to audit what was loaded")
    _check_table(table, fmt, "audit")
    web = _read(path, _Steps()) if path is not None else _stored_web(db)
    if fail is not None and fail not in web.companies:
        raise typer.BadParameter(f"unknown company {fail!r}; companies: {', '.join(web.companies)}")
    if not 0 <= cut <= 100:
        raise typer.BadParameter("--cut is a percentage between 0 and 100")
    try:
        conventions = from_options(horizon, loss, margin, baseline, means, as_of)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    top = _auto_top(_sensitivity_top(sensitivity), web.n_legs)
    chosen_period = _period(period, start, end)
    console = _console()
    show_bar = rank and fmt is Format.TABLE and out is None and console.is_terminal
    try:
        with (
            _progress_bar(console, "ranking companies by systemic impact")
            if show_bar
            else nullcontext()
        ) as progress:
            sheets, data, html = run_audit(
                web,
                chosen_period,
                basis,
                fail,
                cut / 100,
                rank,
                progress=progress,
                unit=unit,
                conventions=conventions,
                sensitivity=top,
                layout=fmt not in (Format.JSON, Format.CSV),
            )
    except BadInput as error:
        _fail(error.errors)
    except GraphError as error:
        _fail([LedgerError(str(path or web.path), 0, str(error))])
    if fmt is Format.HTML:
        _emit(html(), out)
        return
    _sheets_out(sheets, fmt, data, out, unit, "audit", table)


@app.command()
def report(
    books: Annotated[Path, typer.Option(help="The books folder.")] = Path("books"),
    out: Annotated[Path, typer.Option(help="The reports folder.")] = Path("reports"),
    verify: Annotated[
        bool,
        typer.Option("--check", help="Only check the reports are current (exit 1 if not)."),
    ] = False,
    unit: UnitOpt = Unit.AUTO,
) -> None:
    """Regenerate every report of reports/ from books/ (or check they are current).

    Example: roundtrip report --books books --out reports
    """
    from ledger.model import BadInput
    from ledger.output_set import recover
    from ledger.reports import build_reports, stale_reports, write_reports

    if verify:
        recovery = recover(out)
        if recovery:
            _fail(recovery)
        stale = stale_reports(books, out, unit)
        if stale:
            _err("stale reports: " + ", ".join(stale))
            raise typer.Exit(EXIT_FINDINGS)
        say(f"{out}/ is current.")
        return
    try:
        files = build_reports(books, unit)
    except ValueError as error:
        _err(str(error))
        raise typer.Exit(EXIT_BAD_INPUT) from error
    try:
        written = write_reports(files, out, inputs=[books])
    except BadInput as error:
        _fail(error.errors)
    say(f"wrote {len(written)} reports to {out}/")


@app.command()
def simulate(
    companies: Annotated[int, typer.Option(help="How many companies.")] = 1000,
    legs: Annotated[int, typer.Option(help="How many legs.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same web).")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Legs CSV to write.")] = Path("web.csv"),
) -> None:
    """Write a synthetic power-law web as a legs CSV (or Parquet: --out web.parquet).

    Example: roundtrip simulate --companies 10000 --legs 1000000 --out web.csv
    """
    from ledger.simulate import synthetic_web, write_web_csv

    try:
        frame = synthetic_web(companies, legs, seed=seed)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    if out.suffix in (".parquet", ".pq"):
        from ledger.legs_table import write_legs_parquet

        write_legs_parquet(frame, out)
    else:
        write_web_csv(frame, out)
    say(f"wrote {legs} legs over {companies} companies to {out}")


# typer vendors its own click; its UsageError is the base of the public typer.BadParameter.
_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


def _interrupted() -> None:
    """Ctrl-C: every file is written under a temporary name and renamed when complete."""
    sys.stderr.write(INTERRUPTED + "\n")
    sys.exit(EXIT_INTERRUPTED)


def _caused_by_ctrl_c(error: BaseException) -> bool:
    """Whether a KeyboardInterrupt is behind ``error``.

    Ctrl-C while a compiled extension module is being imported surfaces as that import's
    failure (pybind11: ``ImportError: initialization failed``, from the KeyboardInterrupt):
    the user's interrupt, not a bug.
    """
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _environment(errors: tuple[LedgerError, ...]) -> None:
    """An environment problem (the machine, not the input): one line, exit 1."""
    _err(f"{'; '.join(str(e) for e in errors)}; nothing was written.")
    sys.exit(EXIT_FINDINGS)


def main() -> None:
    """Console entry point, and the one place exceptions become exit codes and one line.

    Usage errors exit 1, as the spec's exit codes say (click says 2); bad input has exited 2
    in the verb. A write the machine refused, a missing tool or any other failure of the
    environment exits 1 with one line; so does a bug, as "internal error" — never a
    traceback, unless ROUNDTRIP_TRACEBACK=1 asks for one.
    """
    from ledger.model import EnvironmentProblem

    try:
        code = app(standalone_mode=False)
    except _UsageError as error:
        error.show()
        sys.exit(EXIT_FINDINGS)
    except typer.Abort as abort:
        if isinstance(abort.__cause__, KeyboardInterrupt):  # click's form of Ctrl-C
            _interrupted()
        sys.exit(EXIT_FINDINGS)
    except KeyboardInterrupt:
        _interrupted()
    except BrokenPipeError:
        # The reader of stdout went away (| head): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_FINDINGS)
    except EnvironmentProblem as error:
        _environment(error.errors)
    except OSError as error:
        where = error.filename or "roundtrip"
        _environment((LedgerError(str(where), 0, str(error.strerror or error)),))
    except Exception as error:
        if _caused_by_ctrl_c(error):
            _interrupted()
        if os.environ.get("ROUNDTRIP_TRACEBACK") == "1":
            raise
        _err(
            f"internal error: {type(error).__name__}: {error} (a bug in roundtrip: please "
            "report it with the command; ROUNDTRIP_TRACEBACK=1 shows where)"
        )
        sys.exit(EXIT_FINDINGS)
    if code == EXIT_INTERRUPTED:  # typer's form of Ctrl-C: Exit(130), without a word
        _interrupted()
    sys.exit(code if isinstance(code, int) else 0)
