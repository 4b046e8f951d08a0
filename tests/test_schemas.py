"""Machine outputs keep their contract: every JSON validates against its shipped schema, every
CSV is its JSON laid flat, and the docs and schemas are what the models make now."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from clirun import run
from typer.testing import CliRunner

from ledger import records
from ledger.cli import app
from ledger.schemas import DOCUMENT_NAMES, SCHEMA_VERSION, schema
from ledger.schemas import models as schema_models
from ledger.schemas.generate import DOCS, HERE, docs_text, schema_texts

REPO = Path(__file__).parent.parent
BOOKS = REPO / "books"
TRIANGLE = REPO / "tests" / "fixtures" / "examples" / "triangle.csv"
SMALL = REPO / "tests" / "fixtures" / "deals" / "small.yaml"

runner = CliRunner()

#: (document, arguments after the path) for every machine output of every verb.
OUTPUTS = [
    ("net", ["net"]),
    ("net", ["net", "--method", "pro-rata", "--basis", "announced"]),
    ("net", ["net", "--bounds", "--cycles", "all", "--period", "2025"]),
    ("audit", ["audit"]),
    ("audit", ["audit", "--all"]),
    ("audit", ["audit", "--fail", "OpenAI", "--cut", "50", "--all"]),
    ("show-companies", ["show", "companies"]),
    ("show-deals", ["show", "deals"]),
    ("show-legs", ["show", "legs"]),
]
CASES = [
    pytest.param(source, document, args, id=f"{source.name}-{' '.join(args)}")
    for source in (BOOKS, TRIANGLE, SMALL)
    for document, args in OUTPUTS
    if not (source == TRIANGLE and "OpenAI" in args)
]


def _run(source: Path, args: list[str], fmt: str) -> str:
    verb, *rest = args
    result = runner.invoke(app, [verb, str(source), *rest, "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.stdout


def _validator(document: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(document))


@pytest.mark.parametrize(("source", "document", "args"), CASES)
def test_json_output_validates_against_its_schema(source, document, args):
    data = json.loads(_run(source, args, "json"))
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in _validator(document).iter_errors(data)
    ]
    assert errors == []
    assert data["schema_version"] == SCHEMA_VERSION


def _coerce(cell: str, leaf: dict) -> object:
    """A CSV cell back to the JSON value the column's schema describes."""
    kinds = {o.get("type") for o in leaf.get("anyOf", [leaf])}
    if cell == "":
        return None if "null" in kinds else ""
    if "integer" in kinds:
        return int(cell)
    if "boolean" in kinds:
        assert cell in ("true", "false"), cell
        return cell == "true"
    if "number" in kinds:
        return float(cell)
    return cell


@pytest.mark.parametrize(
    ("source", "document", "args"), [c for c in CASES if c.values[1] != "show-legs"]
)
def test_csv_output_is_its_json_laid_flat_and_each_cell_fits_its_column(source, document, args):
    text = _run(source, args, "csv")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert tuple(header) == records.header(document)
    tables = {t.name: t for t in records.layout(document)}
    root = schema(document)
    # One validator per column, made once: jsonschema.validate() would check the schema
    # itself again for every cell (minutes on the audit's CSV).
    validators = {
        (t.name, name): jsonschema.Draft202012Validator({**leaf, "$defs": root.get("$defs", {})})
        for t in tables.values()
        for name, leaf in t.columns
    }
    lines = list(reader)
    for line in lines:
        table = tables[line[0]]
        cells = dict(zip(header, line, strict=True))
        assert all(cells[c] == "" for c in header[1:] if c not in table.names), line[0]
        for name, leaf in table.columns:
            validators[table.name, name].validate(_coerce(cells[name], leaf))
    data = json.loads(_run(source, args, "json"))
    assert [r[0] for r in lines] == [name for name, _ in records.rows(document, data)]


def test_csv_rows_of_net_companies_carry_the_json_figures():
    data = json.loads(_run(BOOKS, ["net"], "json"))
    text = _run(BOOKS, ["net"], "csv")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["table"] == "companies"]
    assert [(r["company"], r["gross"], r["circular"]) for r in rows] == [
        (c["company"], c["gross"], c["circular"]) for c in data["companies"]
    ]


def test_csv_rows_of_a_nested_list_start_with_the_key_of_their_item():
    text = _run(BOOKS, ["audit"], "csv")
    rows = [r for r in csv.DictReader(io.StringIO(text))]
    paper = [r for r in rows if r["table"] == "exposure.companies.paper"]
    data = json.loads(_run(BOOKS, ["audit"], "json"))
    expected = [
        (c["company"], p["deal"], p["gain"])
        for c in data["exposure"]["companies"]
        for p in c["paper"]
    ]
    assert paper and [(r["company"], r["deal"], r["gain"]) for r in paper] == expected


@pytest.mark.parametrize(
    ("args", "table"),
    [
        (["audit"], "exposure.companies"),
        (["audit", "--fail", "OpenAI"], "contagion.losses"),
        (["net"], "companies"),
        (["net", "--cycles", "all"], "cycles.path"),
        (["show", "deals"], "deals"),
    ],
)
def test_one_table_alone_is_its_rows_of_the_long_csv_under_its_own_columns(args, table):
    """``--table`` is the long CSV's rows of that table, less the other tables' columns."""
    long = list(csv.DictReader(io.StringIO(_run(BOOKS, args, "csv"))))
    alone = _run(BOOKS, [*args, "--table", table], "csv")
    reader = csv.DictReader(io.StringIO(alone))
    document = args[0] if args[0] != "show" else f"show-{args[1]}"
    own = {t.name: t.names for t in records.layout(document)}[table]
    assert tuple(reader.fieldnames or ()) == own
    rows = list(reader)
    assert rows and rows == [{c: r[c] for c in own} for r in long if r["table"] == table]


def test_an_unknown_table_is_a_usage_error_listing_the_tables():
    outcome = run("audit", BOOKS, "-f", "csv", "--table", "losses")
    assert outcome.code == 1 and outcome.out == ""
    assert "no table 'losses'" in outcome.err and "contagion.losses" in outcome.err


def test_a_table_goes_with_csv_only():
    outcome = run("net", BOOKS, "--table", "companies")
    assert outcome.code == 1 and "--table goes with --format csv" in outcome.err


def test_cycle_witnesses_are_keyed_by_their_position():
    data = json.loads(_run(BOOKS, ["net"], "json"))
    text = _run(BOOKS, ["net"], "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    first = [r["value"] for r in rows if r["table"] == "cycles.path" and r["cycles_index"] == "0"]
    assert first == data["cycles"][0]["path"]


@pytest.mark.parametrize(
    "source",
    [BOOKS, TRIANGLE, SMALL],
    ids=lambda p: p.name,
)
def test_show_legs_csv_is_the_legs_csv_and_reads_back_to_the_same_legs(source, tmp_path):
    from ledger.inputs import read_web

    out = tmp_path / "legs.csv"
    out.write_text(_run(source, ["show", "legs"], "csv"), encoding="utf-8")
    check = runner.invoke(app, ["check", str(out)])
    assert check.exit_code == 0, check.output
    # Where a leg was read from, and a deal's title (books only), are not in the legs CSV.
    where = {"filename": "", "lineno": 0, "title": ""}
    key = lambda leg: (leg.date, leg.deal, leg.leg)  # noqa: E731
    back = sorted((replace(leg, **where) for leg in read_web(out).legs), key=key)
    assert back == sorted((replace(leg, **where) for leg in read_web(source).legs), key=key)


@pytest.mark.parametrize(("source", "document", "args"), [c for c in CASES if c.values[0] == BOOKS])
def test_no_csv_cell_is_display_text(source, document, args):
    cells = [cell for row in csv.reader(io.StringIO(_run(source, args, "csv"))) for cell in row]
    separated = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
    assert [c for c in cells if separated.fullmatch(c) or c.endswith(("%", " *", "×"))] == []


def test_the_shipped_schemas_are_what_the_models_make():
    for name, text in schema_texts().items():
        assert (HERE / name).read_text(encoding="utf-8") == text, (
            f"run python -m ledger.schemas.generate ({name})"
        )


def test_docs_outputs_page_is_what_the_schemas_make():
    assert DOCS.read_text(encoding="utf-8") == docs_text(), "run python -m ledger.schemas.generate"


def test_every_document_has_a_shipped_schema():
    assert set(DOCUMENT_NAMES) == set(schema_models.DOCUMENTS)


def test_the_schemas_are_valid_json_schemas():
    for name in DOCUMENT_NAMES:
        jsonschema.Draft202012Validator.check_schema(schema(name))


def test_an_unknown_field_fails_validation():
    data = json.loads(_run(TRIANGLE, ["net"], "json"))
    data["companies"][0]["circular_pct"] = "27.9%"
    assert not _validator("net").is_valid(data)


def test_a_formatted_amount_fails_validation():
    data = json.loads(_run(TRIANGLE, ["net"], "json"))
    data["companies"][0]["gross"] = "1,000.00"
    assert not _validator("net").is_valid(data)


def test_reports_json_carry_the_schema_version():
    for path in (REPO / "reports").glob("[an]*.json"):
        document = "net" if path.name.startswith("net-") else "audit"
        data = json.loads(path.read_text(encoding="utf-8"))
        assert _validator(document).is_valid(data), path.name
