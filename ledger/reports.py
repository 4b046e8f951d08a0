"""books/ -> reports/: every committed report, made by one function, checked by one test.

:func:`build_reports` reads the books and returns ``{relative path: text}`` without touching the
disk, so the staleness test can compare what the engine makes now with what is committed.
:func:`write_reports` writes them atomically (temp file + rename, one file at a time).

What is made (all dates of the books, one file per format):

- ``companies.md``, ``deals.md`` — the web as booked;
- ``net-max-<basis>.{md,html,json}`` for each basis, and ``net-pro-rata-<basis>.{md,json}``;
- ``audit.{md,html,json}`` — exposure profile and systemic ranking (contracted basis);
- ``audit-fail-openai.{md,html,json}`` — "what if OpenAI cannot pay its commitments";
- ``examples/<name>.md`` — netting of the historical example books (both methods).
"""

from __future__ import annotations

from pathlib import Path

from ledger.inputs import Web, read_web
from ledger.model import Basis, Period, format_errors
from ledger.render import Unit, render_json, render_markdown

__all__ = ["build_reports", "stale_reports", "write_reports"]

#: The company whose failure the shipped audit walks through.
HEADLINE_FAILURE = "OpenAI"


def _read(path: Path) -> Web:
    web = read_web(path)
    if web.errors:
        raise ValueError(f"{path} has problems:\n{format_errors(web.errors)}")
    return web


def _netting_files(web: Web, stem: str, *, html: bool, unit: Unit) -> dict[str, str]:
    from ledger.flows import build_flow_graph
    from ledger.netting import Method, net, to_json_dict
    from ledger.views import drawing_edges, netting_html, netting_sheets

    files: dict[str, str] = {}
    for basis in Basis:
        graph = build_flow_graph(web.legs, Period(), basis)
        for method in Method:
            result = net(graph, method)
            data = to_json_dict(result)
            name = f"{stem}-{method.value}-{basis.value}"
            title = f"Netting of {web.path.name}/ — method {method.value}, basis {basis.value}"
            files[f"{name}.md"] = render_markdown(netting_sheets(data), heading=title, unit=unit)
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

    files: dict[str, str] = {}
    for stem, fail, rank in (("audit", None, True), ("audit-fail-openai", HEADLINE_FAILURE, False)):
        if fail is not None and fail not in web.companies:
            continue
        sheets, data, html = run_audit(web, Period(), Basis.CONTRACTED, fail, 1.0, rank, unit=unit)
        files[f"{stem}.md"] = render_markdown(
            sheets, heading=f"Exposure audit of {web.path.name}/", unit=unit
        )
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


def write_reports(files: dict[str, str], out: Path) -> tuple[Path, ...]:
    """Write the reports, each atomically; returns the paths written."""
    written = []
    for name, text in files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        written.append(target)
    return tuple(written)


def stale_reports(books: Path, out: Path, unit: Unit = Unit.AUTO) -> tuple[str, ...]:
    """The report files that are missing or differ from what the books make now."""
    files = build_reports(books, unit)
    return tuple(
        name
        for name, text in files.items()
        if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text
    )
