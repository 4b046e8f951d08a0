"""books/ -> reports/: every committed report, made by one function, checked by one test.

:func:`build_reports` reads the books and returns ``{relative path: text}`` without touching the
disk, so the staleness test can compare what the engine makes now with what is committed.
:func:`write_reports` writes them as one output set: all replaced at once, or none.

What is made (all dates of the books, one file per format):

- ``companies.md``, ``deals.md`` — the web as booked;
- ``net-max-<basis>.{md,html,json}`` for each basis, with what the headline rests on (the
  sensitivity to the largest estimates, deals and edges), and ``net-pro-rata-<basis>.{md,json}``;
- ``audit.{md,html,json}`` — exposure profile and systemic ranking (contracted basis);
- ``audit-fail-openai.{md,html,json}`` — "what if OpenAI cannot pay its commitments", with
  what the loss rests on;

The audit reports use the stress test's default conventions (:mod:`ledger.conventions`: a
12-month horizon, margin loss, the web as booked, means from the books) and say so.
- ``examples/<name>.md`` — netting of the historical example books (both methods).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ledger.inputs import Web, read_web
from ledger.model import Basis, Period, format_errors
from ledger.output_set import write_set
from ledger.render import Unit, render_json, render_markdown

__all__ = ["build_reports", "stale_reports", "write_reports"]

#: The company whose failure the shipped audit walks through.
HEADLINE_FAILURE = "OpenAI"
#: The kind of output set the reports are (:mod:`ledger.output_set`).
REPORTS_SET = "reports"


def _read(path: Path) -> Web:
    web = read_web(path)
    if web.errors:
        raise ValueError(f"{path} has problems:\n{format_errors(web.errors)}")
    return web


def _netting_files(web: Web, stem: str, *, html: bool, unit: Unit) -> dict[str, str]:
    from ledger.audit import paper_gains
    from ledger.flows import build_flow_graph
    from ledger.netting import Method, net, to_json_dict
    from ledger.sensitivity import DEFAULT_TOP, netting_sensitivity
    from ledger.views import drawing_edges, netting_html, netting_sheets

    files: dict[str, str] = {}
    for basis in Basis:
        graph = build_flow_graph(web.legs, Period(), basis)
        gains = paper_gains(web.legs, web.prices, Period(), basis)
        for method in Method:
            result = net(graph, method, paper_gains=gains)
            data = to_json_dict(result)
            if method is Method.MAX:
                rests_on = netting_sensitivity(web.legs, Period(), basis, result, DEFAULT_TOP)
                data["sensitivity"] = rests_on.to_json_dict()
            name = f"{stem}-{method.value}-{basis.value}"
            title = f"Netting of {web.path.name}/ — method {method.value}, basis {basis.value}"
            files[f"{name}.md"] = render_markdown(
                netting_sheets(data, unit), heading=title, unit=unit
            )
            files[f"{name}.json"] = render_json(data)
            if html and method is Method.MAX:
                files[f"{name}.html"] = netting_html(data, drawing_edges(result), unit)
    return files


def _example_files(examples: Path, unit: Unit) -> dict[str, str]:
    from ledger.flows import build_flow_graph
    from ledger.netting import Method, net, to_json_dict
    from ledger.views import netting_sheets

    files: dict[str, str] = {}
    for folder in sorted(p for p in examples.iterdir() if p.is_dir()):
        web = _read(folder)
        graph = build_flow_graph(web.legs, Period(), Basis.REALIZED)
        sheets = []
        for method in Method:
            sheets.extend(netting_sheets(to_json_dict(net(graph, method))))
        files[f"examples/{folder.name}.md"] = render_markdown(
            sheets, heading=f"Historical example: {folder.name}", unit=unit
        )
    return files


def _audit_files(web: Web, unit: Unit) -> dict[str, str]:
    from ledger.audit_views import run_audit
    from ledger.sensitivity import DEFAULT_TOP

    files: dict[str, str] = {}
    for stem, fail, rank in (("audit", None, True), ("audit-fail-openai", HEADLINE_FAILURE, False)):
        if fail is not None and fail not in web.companies:
            continue
        sheets, data, html = run_audit(
            web, Period(), Basis.CONTRACTED, fail, 1.0, rank, unit=unit, sensitivity=DEFAULT_TOP
        )
        scenario = data["contagion"] or data["ranking"] or {}
        conventions = scenario.get("conventions", {}).get("text")
        heading = f"Exposure audit of {web.path.name}/" + (
            f" — conventions: {conventions}" if conventions else ""
        )
        files[f"{stem}.md"] = render_markdown(sheets, heading=heading, unit=unit)
        files[f"{stem}.json"] = render_json(data)
        files[f"{stem}.html"] = html()
    return files


def build_reports(books: Path, unit: Unit = Unit.AUTO) -> dict[str, str]:
    """Every report of ``reports/``, as ``{relative path: text}``.

    Amounts are shown in ``unit`` (``auto``: one readable unit per report); the JSON files
    keep exact cents.

    Raises:
        ValueError: the books do not read cleanly (the message lists every problem).
    """
    from ledger.views import company_sheet, deal_sheet

    web = _read(books)
    files = {
        "companies.md": render_markdown([company_sheet(web.legs, web.companies)], unit=unit),
        "deals.md": render_markdown([deal_sheet(web.legs)], unit=unit),
    }
    files.update(_netting_files(web, "net", html=True, unit=unit))
    files.update(_audit_files(web, unit))
    examples = books / "examples"
    if examples.is_dir():
        files.update(_example_files(examples, unit))
    return dict(sorted(files.items()))


def write_reports(
    files: dict[str, str], out: Path, inputs: Sequence[Path] = ()
) -> tuple[Path, ...]:
    """Write the reports as one output set (:mod:`ledger.output_set`); returns the paths.

    They replace the previous run's reports as a whole (a report no longer made goes too);
    ``inputs`` (the books folder) are refused as ``out``.

    Raises:
        BadInput: ``out`` is refused or cannot be written; nothing changed.
    """
    return write_set(out, files, REPORTS_SET, inputs=inputs)


def stale_reports(books: Path, out: Path, unit: Unit = Unit.AUTO) -> tuple[str, ...]:
    """The report files that are missing or differ from what the books make now."""
    files = build_reports(books, unit)
    return tuple(
        name
        for name, text in files.items()
        if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text
    )
