"""The store from the command line: one-line errors, nothing left by a refusal, loads by content.

Each store problem ends every verb that uses a store with one line on stderr, no traceback,
exit 2 when the ``--db`` given cannot name a store and exit 1 when the store cannot be reached,
and leaves no file behind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from store_backends import PG_URL, pg_schema, pg_schema_url, require_pg
from typer.testing import CliRunner

from ledger.cli import app
from ledger.legs_table import read_legs_frame, write_legs_parquet

runner = CliRunner()

WEB = (
    "date,deal,leg,payer,payee,kind,amount,currency,status\n"
    "2025-01-05,a,1,Nvidia,OpenAI,equity,100.00,USD,realized\n"
    "2025-02-10,b,1,OpenAI,Oracle,cloud,60.50,USD,realized\n"
    "2025-03-01,c,1,Oracle,Nvidia,sale,45.25,USD,realized\n"
)


@pytest.fixture
def web(tmp_path: Path) -> Path:
    path = tmp_path / "web.csv"
    path.write_text(WEB, encoding="utf-8")
    return path


def _pg(url_tail: str) -> Callable[[Path], str]:
    def make(_tmp: Path) -> str:
        require_pg()
        return url_tail.format(base=PG_URL.rsplit("/", 1)[0])

    return make


#: (name, --db for a tmp folder, exit code, words the one line says)
BAD_STORES: list[tuple[str, Callable[[Path], str], int, str]] = [
    ("folder", lambda tmp: str(tmp), 2, "is a folder, not a database file"),
    ("missing-folder", lambda tmp: str(tmp / "no" / "x.db"), 2, "does not exist; create it"),
    ("not-a-database", lambda tmp: str(tmp / "web.csv"), 2, "is not a SQLite database"),
    ("not-a-url", lambda tmp: "nosuchdriver://x/y", 2, "not a database URL"),
    # Databases and drivers SQLAlchemy knows but the store does not use: refused as a bad --db
    # before any driver is imported (it was an internal ModuleNotFoundError).
    ("mysql", lambda tmp: "mysql://root@127.0.0.1/test", 2, "SQLite or PostgreSQL through psycopg"),
    # SQLite URI options: pysqlite printed a SAWarning as Python source, or opened another file.
    ("sqlite-options", lambda tmp: f"sqlite:///{tmp}/x.db?mode=ro&uri=true", 2,
     "a SQLite store takes no options after '?' (mode, uri)"),
    ("pg-asyncpg", lambda tmp: "postgresql+asyncpg://root@127.0.0.1/test", 2,
     "not postgresql+asyncpg"),
    ("pg-wrong-port", lambda tmp: "postgresql+psycopg://root@127.0.0.1:1/test", 1, "port 1"),
    ("pg-unknown-host", lambda tmp: "postgresql+psycopg://root@no-such-host.invalid/t", 1,
     "no-such-host.invalid"),
    ("pg-missing-database", _pg("{base}/rt_no_such_database"), 1,
     'database "rt_no_such_database" does not exist'),
]  # fmt: skip

VERBS: list[tuple[str, Callable[[Path, str], list[str]]]] = [
    ("load", lambda web, db: ["load", str(web), "--db", db]),
    ("net-save", lambda web, db: ["net", str(web), "--save", "--db", db]),
    ("net-db", lambda web, db: ["net", "--db", db]),
    ("audit-db", lambda web, db: ["audit", "--db", db]),
]


@pytest.mark.parametrize(("verb", "args"), VERBS, ids=[v[0] for v in VERBS])
@pytest.mark.parametrize(
    ("name", "make", "code", "words"), BAD_STORES, ids=[b[0] for b in BAD_STORES]
)
def test_a_store_problem_is_one_line_with_its_exit_code_and_leaves_nothing(
    tmp_path: Path,
    web: Path,
    verb: str,
    args: Callable[[Path, str], list[str]],
    name: str,
    make: Callable[[Path], str],
    code: int,
    words: str,
) -> None:
    db = make(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = runner.invoke(app, args(web, db))
    assert result.exit_code == code, result.output
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert words in lines[0]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_netting_a_store_that_does_not_exist_creates_none(tmp_path: Path) -> None:
    result = runner.invoke(app, ["net", "--db", str(tmp_path / "new.db")])
    assert result.exit_code == 2
    assert "no store here (roundtrip load creates one)" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("verb", ["net", "audit"])
def test_a_store_without_legs_is_an_empty_web(tmp_path: Path, web: Path, verb: str) -> None:
    db = str(tmp_path / "runs.db")
    assert runner.invoke(app, ["net", str(web), "--save", "--db", db]).exit_code == 0
    result = runner.invoke(app, [verb, "--db", db])
    assert result.exit_code == 2
    assert "no legs: the store holds none (an empty web" in result.stderr


def test_a_refused_load_creates_no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(WEB + "2025-03-01,c,2,Oracle,Oracle,sale,1.00,USD,realized\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["load", str(bad)])
    assert result.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]  # no roundtrip.db


def test_a_load_refused_by_the_store_removes_the_file_it_created(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(WEB.replace("Oracle", "US Gov"), "utf-8")
    second.write_text(WEB.replace("Oracle", "US-Gov"), "utf-8")
    db = tmp_path / "s.db"
    assert runner.invoke(app, ["load", str(first), "--db", str(db)]).exit_code == 0
    clash = runner.invoke(app, ["load", str(second), "--db", str(tmp_path / "new.db")])
    assert clash.exit_code == 0  # a store of its own: no clash
    again = runner.invoke(app, ["load", str(second), "--db", str(db)])
    assert again.exit_code == 2
    assert "would share account component 'US-Gov' with 'US Gov'" in again.stderr


# --------------------------------------------------------------------------------------------
# The same content from any file or format changes nothing
# --------------------------------------------------------------------------------------------


def _forms(tmp_path: Path, web: Path) -> list[Path]:
    """The web as a CSV, its Parquet twin, and the books ``roundtrip book`` writes from it."""
    parquet = tmp_path / "web.parquet"
    write_legs_parquet(read_legs_frame(web), parquet)
    books = tmp_path / "books"
    assert runner.invoke(app, ["book", str(web), "--out", str(books)]).exit_code == 0
    moved = tmp_path / "moved" / "other-name.csv"
    moved.parent.mkdir()
    moved.write_text(web.read_text("utf-8"), "utf-8")
    return [web, parquet, books, moved]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_same_legs_from_any_form_load_as_nothing_changed(
    tmp_path: Path, web: Path, backend: str
) -> None:
    def check(db: str) -> None:
        first, *others = _forms(tmp_path, web)
        assert "nothing changed" not in runner.invoke(app, ["load", str(first), "--db", db]).output
        for form in others:
            result = runner.invoke(app, ["load", str(form), "--db", db])
            assert result.exit_code == 0, result.output
            assert "nothing changed" in result.output, (form, result.output)

    if backend == "sqlite":
        check(str(tmp_path / "s.db"))
        return
    with pg_schema() as schema:
        check(pg_schema_url(schema))


def test_a_leg_removed_from_the_input_leaves_the_store(tmp_path: Path, web: Path) -> None:
    db = str(tmp_path / "s.db")
    runner.invoke(app, ["load", str(web), "--db", db])
    web.write_text(WEB.rsplit("2025-03-01", 1)[0], "utf-8")
    result = runner.invoke(app, ["load", str(web), "--db", db])
    assert result.exit_code == 0
    (leg_row,) = [line.split() for line in result.output.splitlines() if line.startswith("leg ")]
    assert leg_row == ["leg", "0", "0", "2", "1"]  # inserted updated unchanged deleted
    net = runner.invoke(app, ["net", "--db", db, "--format", "json"])
    assert net.exit_code == 0 and "45.25" not in net.stdout


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("kind", "nonsense", "'nonsense'"),
        ("date", "soon", "a leg row is not one roundtrip wrote (Invalid isoformat string: 'soon')"),
    ],
)
@pytest.mark.parametrize("verb", ["net", "audit"])
def test_a_hand_edited_store_is_one_line_saying_it_is_damaged(
    tmp_path: Path, web: Path, verb: str, column: str, value: str, words: str
) -> None:
    """A leg row that no load writes (edited with sqlite3, or damaged): one line, exit 1, not
    an internal KeyError or ValueError."""
    import sqlite3

    db = tmp_path / "runs.db"
    assert runner.invoke(app, ["load", str(web), "--db", str(db)]).exit_code == 0
    with sqlite3.connect(db) as connection:
        connection.execute(f"UPDATE leg SET {column} = ? WHERE deal = 'a'", (value,))
    result = runner.invoke(app, [verb, "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cannot use the store at sqlite:///{db}: it is damaged: ")
    assert words in lines[0]
