"""Every source of the same web nets to byte-identical JSON.

``SOURCES`` is the list of ways to hand roundtrip one web: each entry writes the web from its
legs CSV into ``tmp_path`` and returns the CLI arguments that read it back (a path, or ``--db
URL``). Add a source (SQLite, PostgreSQL, ...) by adding an entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from store_backends import pg_schema, pg_schema_url
from typer.testing import CliRunner

from ledger.cli import app
from ledger.inputs import read_web
from ledger.legs_table import read_legs_frame, write_legs_parquet

runner = CliRunner()

#: A small web with a warrant, an estimate and repeated deals: (name, CSV text).
WEB = (
    "date,deal,leg,payer,payee,kind,amount,currency,status,estimate,units,commodity\n"
    "2025-01-05,nv-oai,1,Nvidia,OpenAI,equity,100.00,USD,realized,FALSE,,\n"
    "2025-02-10,oai-or,1,OpenAI,Oracle,cloud,60.50,USD,realized,TRUE,,\n"
    "2025-03-01,or-nv,1,Oracle,Nvidia,sale,45.25,USD,realized,FALSE,,\n"
    "2025-03-02,oai-nv,1,OpenAI,Nvidia,sale,30.00,USD,realized,FALSE,,\n"
    "2025-03-02,oai-nv,2,OpenAI,Nvidia,sale,12.34,USD,contracted,FALSE,,\n"
    "2025-04-01,ext,1,External,OpenAI,sale,13.00,USD,realized,FALSE,,\n"
    "2025-05-01,w,1,AMD,OpenAI,warrant,7.00,USD,realized,FALSE,100,AMDW\n"
)


def _csv(tmp_path: Path, csv_path: Path) -> list[str]:
    return [str(csv_path)]


def _parquet(tmp_path: Path, csv_path: Path) -> list[str]:
    target = tmp_path / "web.parquet"
    write_legs_parquet(read_legs_frame(csv_path), target)
    return [str(target)]


def _parquet_folder(tmp_path: Path, csv_path: Path) -> list[str]:
    folder = tmp_path / "parts"
    folder.mkdir()
    frame = read_legs_frame(csv_path)
    write_legs_parquet(frame.iloc[:3], folder / "part-0.parquet")
    write_legs_parquet(frame.iloc[3:], folder / "part-1.parquet")
    return [str(folder)]


def _load(csv_path: Path, url: str) -> list[str]:
    result = runner.invoke(app, ["load", str(csv_path), "--db", url])
    assert result.exit_code == 0, result.output
    return ["--db", url]


def _sqlite(tmp_path: Path, csv_path: Path) -> list[str]:
    return _load(csv_path, f"sqlite:///{tmp_path / 'web.db'}")


def _postgresql(tmp_path: Path, csv_path: Path) -> list[str]:
    schema = _PG_SCHEMAS.enter_context(pg_schema())
    return _load(csv_path, pg_schema_url(schema))


SOURCES: list[tuple[str, Callable[[Path, Path], list[str]]]] = [
    ("csv", _csv),
    ("parquet", _parquet),
    ("parquet-folder", _parquet_folder),
    ("sqlite", _sqlite),
    ("postgresql", _postgresql),
]

#: The PostgreSQL schemas made by the sources, dropped after each test.
_PG_SCHEMAS = ExitStack()


@pytest.fixture(autouse=True)
def _drop_pg_schemas() -> Iterator[None]:
    yield
    _PG_SCHEMAS.close()


def _net_json(arguments: list[str], *options: str) -> bytes:
    result = runner.invoke(app, ["net", *arguments, "--format", "json", *options])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _grants(path: Path) -> list[tuple[object, ...]]:
    """The unit-carrying legs of a source, without where they were read from."""
    return [
        (g.date, g.deal, g.payer, g.payee, g.amount, g.units, g.commodity)
        for g in read_web(path).grants
    ]


@pytest.mark.parametrize("method", ["max", "pro-rata"])
@pytest.mark.parametrize(("name", "make"), SOURCES[1:], ids=[s[0] for s in SOURCES[1:]])
def test_every_source_nets_to_the_same_json_as_the_csv(
    tmp_path: Path, name: str, make: Callable[[Path, Path], list[str]], method: str
) -> None:
    csv_path = tmp_path / "web.csv"
    csv_path.write_text(WEB, encoding="utf-8")
    expected = _net_json(_csv(tmp_path, csv_path), "--method", method, "--basis", "contracted")
    source = make(tmp_path, csv_path)
    got = _net_json(source, "--method", method, "--basis", "contracted")
    assert got == expected
    # The warrant reaches paper gains from every file source (no price here, so its gain is 0).
    if source[0] != "--db":
        assert _grants(Path(source[0])) == _grants(csv_path) != []


@pytest.mark.parametrize(("name", "make"), SOURCES[3:], ids=[s[0] for s in SOURCES[3:]])
def test_a_store_nets_a_period_and_a_basis_like_the_csv(
    tmp_path: Path, name: str, make: Callable[[Path, Path], list[str]]
) -> None:
    csv_path = tmp_path / "web.csv"
    csv_path.write_text(WEB, encoding="utf-8")
    options = ("--period", "2025Q1", "--basis", "realized", "--bounds")
    expected = _net_json(_csv(tmp_path, csv_path), *options)
    assert _net_json(make(tmp_path, csv_path), *options) == expected


@pytest.mark.parametrize(("name", "make"), SOURCES[3:], ids=[s[0] for s in SOURCES[3:]])
def test_a_store_audits_like_the_csv(
    tmp_path: Path, name: str, make: Callable[[Path, Path], list[str]]
) -> None:
    csv_path = tmp_path / "web.csv"
    csv_path.write_text(WEB, encoding="utf-8")
    source = make(tmp_path, csv_path)
    expected = runner.invoke(app, ["audit", str(csv_path), "--format", "json"])
    got = runner.invoke(app, ["audit", *source, "--format", "json"])
    assert got.exit_code == expected.exit_code == 0, got.output
    assert got.stdout == expected.stdout
