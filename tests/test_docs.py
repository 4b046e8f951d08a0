"""docs/ cannot drift from the code: every example is loaded, every field table is checked.

- every ```yaml block of ``docs/deals-file.md`` is a deals file; when a ```csv block follows in
  the same section it expands into exactly those legs (and that CSV is itself a clean legs CSV);
  when a ```text block follows it gives exactly those errors; otherwise it loads cleanly;
- every ```csv block of ``docs/legs-csv.md`` loads cleanly, or gives the errors under it;
- every table marked ``<!-- fields: Model -->`` lists exactly the model's fields, and says
  "required" exactly for the required ones; every model of the deals file has its table;
- the column tables are the legs CSV's columns, the kind tables the model's kind classes;
- every ``roundtrip`` command shown parses, and every link (file and heading) exists.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from pathlib import Path

import mdcheck
import pytest
from typer.testing import CliRunner

from ledger import accounts, deals, legs_csv, limits
from ledger.cli import app
from ledger.deals import TEMPLATES, read_deals
from ledger.legs_csv import read_legs_csv, write_legs_csv
from ledger.model import KIND_CLASS, FlowClass, Kind, Status, flow_class, format_errors
from ledger.output_set import Manifest

REPO = Path(__file__).parent.parent
DOCS = REPO / "docs"
DEALS_DOC = (DOCS / "deals-file.md").read_text(encoding="utf-8")
CSV_DOC = (DOCS / "legs-csv.md").read_text(encoding="utf-8")
PAGES = sorted(DOCS.glob("*.md"))

YAML_EXAMPLES = mdcheck.with_followers(DEALS_DOC, "yaml")
CSV_EXAMPLES = mdcheck.with_followers(CSV_DOC, "csv")
EXPANSIONS = [(y, f) for y, f in YAML_EXAMPLES if f is not None and f.lang == "csv"]
CHECKED_ONLY = [(y, f) for y, f in YAML_EXAMPLES if f is None or f.lang != "csv"]


def _ids(pairs: list[tuple[mdcheck.Block, mdcheck.Block | None]]) -> list[str]:
    return [f"line{example.line}" for example, _ in pairs]


def _legs_shown(block: mdcheck.Block) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(block.text)))


def _legs_made(legs: tuple, columns: list[str]) -> list[dict[str, str]]:
    """The legs as roundtrip writes them (date order), cut to the columns the page shows."""
    stream = io.StringIO()
    write_legs_csv(legs, stream)
    stream.seek(0)
    return [{c: row[c] for c in columns} for row in csv.DictReader(stream)]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in a fresh folder, so error messages name ``deals.yaml`` / ``legs.csv`` as shown."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- the deals file ----------------------------------------------------------------------------


def test_the_deals_page_has_examples_to_check():
    assert len(EXPANSIONS) >= len(TEMPLATES)


@pytest.mark.parametrize(("example", "shown"), EXPANSIONS, ids=_ids(EXPANSIONS))
def test_a_deals_example_expands_into_the_legs_shown(example, shown, in_tmp):
    Path("deals.yaml").write_text(example.text, encoding="utf-8")
    legs, _, _, errors = read_deals(Path("deals.yaml"))
    assert errors == [], format_errors(errors)
    expected = _legs_shown(shown)
    assert _legs_made(legs, list(expected[0])) == expected


@pytest.mark.parametrize(("example", "shown"), EXPANSIONS, ids=_ids(EXPANSIONS))
def test_the_legs_shown_under_a_deals_example_are_a_clean_legs_csv(example, shown, in_tmp):
    Path("legs.csv").write_text(shown.text, encoding="utf-8")
    legs, errors = read_legs_csv(Path("legs.csv"))
    assert errors == [], format_errors(errors)
    assert len(legs) == shown.text.count("\n") - 1


@pytest.mark.parametrize(("example", "shown"), CHECKED_ONLY, ids=_ids(CHECKED_ONLY))
def test_a_deals_example_gives_the_errors_shown_or_none(example, shown, in_tmp):
    Path("deals.yaml").write_text(example.text, encoding="utf-8")
    errors = read_deals(Path("deals.yaml"))[3]
    expected = shown.text if shown is not None and shown.lang == "text" else ""
    assert format_errors(errors) == expected.rstrip("\n")


def test_every_template_has_an_example_with_its_legs():
    shown = {
        line.split(":", 1)[1].strip()
        for example, _ in EXPANSIONS
        for line in example.text.splitlines()
        if line.strip().startswith("template:")
    }
    assert shown == set(TEMPLATES)


FIELD_TABLES = [
    (name, rows) for marker, name, rows in mdcheck.marked_tables(DEALS_DOC) if marker == "fields"
]


def _fields(model: type) -> dict[str, bool]:
    """A model's fields as the file spells them (aliases), and whether each is required."""
    fields = {f.alias or n: f.is_required() for n, f in model.model_fields.items()}
    if model is deals._DealBase:
        return {**fields, "template": True}
    if issubclass(model, deals._DealBase):
        common = _fields(deals._DealBase)
        return {name: req for name, req in fields.items() if name not in common}
    return fields


@pytest.mark.parametrize(("name", "rows"), FIELD_TABLES, ids=[n for n, _ in FIELD_TABLES])
def test_a_field_table_lists_exactly_the_fields_of_its_model(name, rows):
    documented = {mdcheck.code_names(row[0])[0]: row[1].startswith("required") for row in rows}
    assert documented == _fields(getattr(deals, name))


def test_every_model_of_the_deals_file_has_a_field_table():
    models = {
        name
        for name in deals.__all__
        if isinstance(getattr(deals, name), type) and issubclass(getattr(deals, name), deals._Node)
    }
    assert models | {"_Header", "_DealBase"} <= {name for name, _ in FIELD_TABLES}


# -- the legs CSV ------------------------------------------------------------------------------


@pytest.mark.parametrize(("example", "shown"), CSV_EXAMPLES, ids=_ids(CSV_EXAMPLES))
def test_a_legs_csv_example_gives_the_errors_shown_or_none(example, shown, in_tmp):
    Path("legs.csv").write_text(example.text, encoding="utf-8")
    legs, errors = read_legs_csv(Path("legs.csv"))
    expected = shown.text if shown is not None and shown.lang == "text" else ""
    assert format_errors(errors) == expected.rstrip("\n")
    if not expected:
        assert len(legs) == example.text.count("\n") - 1


def test_the_triangle_example_is_the_shipped_fixture():
    shipped = (REPO / "tests" / "fixtures" / "examples" / "triangle.csv").read_text()
    assert CSV_EXAMPLES[0][0].text == shipped


@pytest.mark.parametrize("name", ["REQUIRED_COLUMNS", "OPTIONAL_COLUMNS"])
def test_the_column_tables_are_the_readers_columns(name):
    (rows,) = [rows for marker, n, rows in mdcheck.marked_tables(CSV_DOC) if n == name]
    assert tuple(mdcheck.code_names(row[0])[0] for row in rows) == getattr(legs_csv, name)


def test_the_column_order_written_is_stated():
    assert ",".join(legs_csv.CSV_COLUMNS) in CSV_DOC.replace("\n", "").replace(", ", ",")


# -- shared --------------------------------------------------------------------------------------

_PHRASES = {
    FlowClass.REVENUE: "revenue of the payee",
    FlowClass.FINANCING: "financing (money, not revenue)",
    FlowClass.TRANSFER: "transfer (money, not revenue)",
    FlowClass.NONCASH: "non-cash (paper value, not money)",
}


def _phrase(kind: Kind) -> str:
    """How a kind table says a kind's class (model.KIND_CLASS and flow_class)."""
    if flow_class(kind, Status.REALIZED) is not KIND_CLASS[kind]:
        return "revenue of the payee when realized (a drawn backstop), else a non-cash commitment"
    return _PHRASES[KIND_CLASS[kind]]


KIND_TABLES = [
    (path.name, rows)
    for path in [*PAGES, REPO / "README.md"]
    for marker, _, rows in mdcheck.marked_tables(path.read_text(encoding="utf-8"))
    if marker == "kinds"
]


def test_the_readme_and_both_format_pages_have_a_kind_table():
    assert sorted(name for name, _ in KIND_TABLES) == ["README.md", "deals-file.md", "legs-csv.md"]


@pytest.mark.parametrize(("page", "rows"), KIND_TABLES, ids=[p for p, _ in KIND_TABLES])
def test_a_kind_table_gives_every_kind_its_class_from_the_model(page, rows):
    classes = {kind: row[1] for row in rows for kind in mdcheck.code_names(row[0])}
    assert classes == {kind.value: _phrase(kind) for kind in Kind}


def test_the_limits_page_states_every_limit_of_ledger_limits():
    text = (DOCS / "limits.md").read_text(encoding="utf-8")
    for name in limits.__all__:
        assert f"`{name}`" in text, name
    for value in (
        f"{limits.MAX_LEG_AMOUNT:,}",
        f"{limits.MAX_TOTAL_CENTS / 100:,.2f}",
        str(limits.MIN_DATE),
        str(limits.MAX_DATE),
        f"{limits.MAX_LEGS_PER_DEAL:,}",
        f"{limits.MAX_LEGS:,}",
        str(limits.MAX_NAME_CHARS),
    ):
        assert value in text, value


def test_the_manifest_shown_has_the_fields_roundtrip_writes():
    text = (DOCS / "output-sets.md").read_text(encoding="utf-8")
    (block,) = [b for b in mdcheck.blocks(text) if b.lang == "json"]
    shown = json.loads(block.text)
    written = json.loads(Manifest("books", {"nvidia.beancount": "9d5e"}).text())
    assert shown.keys() == written.keys()
    assert {k: shown[k] for k in ("format", "version")} == {
        k: written[k] for k in ("format", "version")
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_of_a_page_exists(page):
    assert mdcheck.broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_roundtrip_command_of_a_page_parses(page):
    commands = mdcheck.roundtrip_commands(page.read_text(encoding="utf-8"))
    assert {c: mdcheck.parse_problem(c) for c in commands} == dict.fromkeys(commands)


SCHEMAS = sorted((REPO / "ledger" / "schemas").glob("*.schema.json"))
#: The shipped data: deals files and the books made from them (their notes reach every output).
DATA = sorted(
    p for p in (REPO / "books").rglob("*") if p.suffix in (".yaml", ".beancount") and p.is_file()
)


@pytest.mark.parametrize("page", PAGES + SCHEMAS + DATA, ids=lambda p: p.name)
def test_no_page_schema_or_book_refers_to_the_unshipped_spec(page):
    """The spec the project was built from is not shipped: a user cannot look up its sections."""
    text = page.read_text(encoding="utf-8")
    assert "SPEC" not in text and "§" not in text


# -- hand-written books --------------------------------------------------------------------------

BOOKS_DOC = (DOCS / "books.md").read_text(encoding="utf-8")
_BOOK_NAME = re.compile(r"; (\w+/[\w.-]+\.beancount)\n")


def _book_files() -> dict[str, str]:
    """Every ```beancount block of the books page that starts ``; folder/file.beancount``."""
    files = {}
    for block in mdcheck.blocks(BOOKS_DOC):
        if block.lang == "beancount" and (name := _BOOK_NAME.match(block.text)):
            files[name[1]] = block.text
    return files


def _console(text: str) -> list[tuple[str, list[str]]]:
    """The ``$ roundtrip ...`` lines of a page's console blocks, each with the lines under it."""
    found: list[tuple[str, list[str]]] = []
    for block in mdcheck.blocks(text):
        if block.lang != "console":
            continue
        for line in block.text.splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            elif found:
                found[-1][1].append(line)
    return found


def test_the_books_page_has_a_good_and_a_wrong_pair_of_books():
    folders = {name.split("/")[0] for name in _book_files()}
    assert folders == {"mine", "wrong"}
    assert len(_console(BOOKS_DOC)) >= 4


@pytest.mark.parametrize(("command", "shown"), _console(BOOKS_DOC), ids=lambda c: str(c)[:60])
def test_a_books_example_prints_what_the_page_shows(command, shown, in_tmp):
    """The page's books, written as shown (comment line included: line numbers match), and each
    command run on them; the errors of the wrong pair included (they go to stderr)."""
    for name, text in _book_files().items():
        Path(name).parent.mkdir(exist_ok=True)
        Path(name).write_text(text, encoding="utf-8")
    words = shlex.split(command)
    assert words[0] == "roundtrip"
    # The width of a wide terminal: the lines shown are not wrapped.
    result = CliRunner().invoke(app, words[1:], env={"ROUNDTRIP_PROGRESS": "0", "COLUMNS": "160"})
    assert result.exit_code in (0, 2), result.output
    assert [line.rstrip() for line in result.output.splitlines()] == shown


def test_the_postings_table_is_the_chart_of_accounts():
    (table,) = [
        rows for marker, _, rows in mdcheck.marked_tables(BOOKS_DOC) if marker == "postings"
    ]
    assert sorted(mdcheck.code_names(row[0])[0] for row in table) == sorted(k.value for k in Kind)
    for row in table:
        kind = Kind(mdcheck.code_names(row[0])[0])
        payee = " / ".join(mdcheck.code_names(row[1]))
        payer = [
            " / ".join(pair) for pair in zip(*[iter(mdcheck.code_names(row[2]))] * 2, strict=True)
        ]
        assert payee == " / ".join(accounts.payee_accounts(kind, "X"))
        expected = [" / ".join(accounts.payer_accounts(kind, "X"))]
        if kind is Kind.SALE:
            expected.append(" / ".join(accounts.payer_accounts(kind, "X", capex=True)))
        assert payer == expected


def test_the_metadata_table_lists_every_kind_and_status():
    rows = {row[0]: row for row in _metadata_rows()}
    assert sorted(mdcheck.code_names(rows["`kind`"][2])) == sorted(k.value for k in Kind)
    statuses = [s for s in mdcheck.code_names(rows["`status`"][2]) if s not in "*!"]
    assert sorted(statuses) == sorted(s.value for s in Status)


def _metadata_rows() -> list[list[str]]:
    table = BOOKS_DOC.split("**What a leg carries.**", 1)[1].split("\n\n", 2)[1]
    lines = table.splitlines()[2:]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]


# -- the store page's session --------------------------------------------------------------------

STORE_SESSION = _console((DOCS / "store.md").read_text(encoding="utf-8"))
_RUN_ID = re.compile(r"\b[0-9a-f]{32}\b")


def _readme_store_session() -> list[tuple[str, list[str]]]:
    """The README's store session: the ```text block of its **Store.** paragraph."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("**Store.**", 1)[1].split("```text\n", 1)[1].split("```\n", 1)[0]
    return _console(f"```console\n{block}```\n")


@pytest.mark.parametrize(
    "session", [STORE_SESSION, _readme_store_session()], ids=["docs-store", "readme-store"]
)
def test_the_store_page_session_prints_what_it_shows(session, tmp_path, monkeypatch):
    """docs/store.md's session (and the README's), run in a scratch folder holding a copy of
    books/ as they say: each roundtrip command (stdout and stderr as a terminal shows them; a
    run's random id aside) and, where the sqlite3 shell is installed, each query of the views."""
    import shutil
    import subprocess

    assert len(session) >= 4
    shutil.copytree(REPO / "books", tmp_path / "books")
    monkeypatch.chdir(tmp_path)
    for command, shown in session:
        command = command.split("  #", 1)[0].strip()  # a comment after the command
        command, silenced = command.removesuffix(" > /dev/null"), command.endswith(" > /dev/null")
        line, _, tail = command.partition(" | tail -")
        words = shlex.split(line)
        if words[0] == "roundtrip":
            env = {"ROUNDTRIP_PROGRESS": "0", "COLUMNS": "160"}
            result = CliRunner().invoke(app, words[1:], env=env)
            assert result.exit_code == 0, (command, result.output)
            seen = result.stderr if silenced else result.output  # > /dev/null leaves stderr
            printed = [_RUN_ID.sub("ID", line.rstrip()) for line in seen.splitlines()]
        elif words[0] == "sqlite3":
            if shutil.which("sqlite3") is None:
                continue  # the console's own shell; the views are tested in tests/test_store.py
            done = subprocess.run(words, capture_output=True, text=True, check=True)
            printed = [line.rstrip() for line in done.stdout.splitlines()]
        else:
            raise AssertionError(f"docs/store.md runs {words[0]}: not checked here")
        if tail:
            printed = printed[-int(tail) :]
        assert printed == [_RUN_ID.sub("ID", line.rstrip()) for line in shown], command
