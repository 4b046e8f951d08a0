"""Progress on stderr, Ctrl-C and the streamed outputs of the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import ledger.cli as cli
import ledger.cli_common as cli_common
from ledger.cli import app

runner = CliRunner()
TRIANGLE = Path(__file__).parent / "fixtures" / "examples" / "triangle.csv"


def test_progress_goes_to_stderr_and_never_into_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUNDTRIP_PROGRESS", "1")
    result = runner.invoke(app, ["net", str(TRIANGLE), "--format", "json"])
    assert result.exit_code == 0
    json.loads(result.stdout)
    assert "reading" in result.stderr
    assert "solving the maximum circulation" in result.stderr
    assert "finding cycle witnesses" in result.stderr


def test_book_and_reading_books_count_companies_to_100_percent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUNDTRIP_PROGRESS", "1")
    books = tmp_path / "books"
    written = runner.invoke(app, ["book", str(TRIANGLE), "--out", str(books)])
    assert written.exit_code == 0, written.output
    assert f"writing and checking the books in {books} … " in written.stderr
    assert " 100%" in written.stderr
    netted = runner.invoke(app, ["net", str(books), "--format", "json"])
    json.loads(netted.stdout)
    reading = next(line for line in netted.stderr.splitlines() if line.startswith("reading"))
    assert reading.startswith(f"reading {books} … ")
    assert " 100% " in reading


def test_progress_is_quiet_off_a_terminal_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUNDTRIP_PROGRESS", raising=False)
    result = runner.invoke(app, ["net", str(TRIANGLE), "--format", "json"])
    assert result.stderr == ""


def _net_reading_raises(monkeypatch: pytest.MonkeyPatch, capfd, reading: object) -> list[str]:
    """Run ``roundtrip net`` whose reading is ``reading``: it must exit 130; its stderr lines."""
    monkeypatch.setattr(cli_common, "read_web", reading)
    monkeypatch.setattr(sys, "argv", ["roundtrip", "net", str(TRIANGLE)])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 130
    return capfd.readouterr().err.strip().splitlines()


def test_ctrl_c_exits_130_with_one_line(monkeypatch: pytest.MonkeyPatch, capfd) -> None:
    def interrupted(path: Path, on_progress: object = None) -> None:
        raise KeyboardInterrupt

    lines = _net_reading_raises(monkeypatch, capfd, interrupted)
    assert lines == ["interrupted: stopped; no file was changed."]


def test_ctrl_c_inside_an_extensions_import_is_an_interrupt_not_a_bug(
    monkeypatch: pytest.MonkeyPatch, capfd
) -> None:
    """pybind11 turns a KeyboardInterrupt during a module's import into ``ImportError:
    initialization failed`` raised from it: still Ctrl-C, exit 130, never "internal error"."""

    def interrupted(path: Path, on_progress: object = None) -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as stop:
            raise ImportError("initialization failed") from stop

    lines = _net_reading_raises(monkeypatch, capfd, interrupted)
    assert lines == ["interrupted: stopped; no file was changed."]


def test_an_interrupted_write_leaves_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("old", encoding="utf-8")

    def write(stream) -> None:
        stream.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cli._emit_with(write, out)
    assert out.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_cycles_all_lists_every_witness_and_the_count(tmp_path: Path) -> None:
    one = json.loads(
        runner.invoke(app, ["net", str(TRIANGLE), "-f", "json", "--cycles", "1"]).stdout
    )
    every = json.loads(
        runner.invoke(app, ["net", str(TRIANGLE), "-f", "json", "--cycles", "all"]).stdout
    )
    assert one["cycle_count"] == every["cycle_count"] == len(every["cycles"]) == 2
    assert one["cycles"] == every["cycles"][:1]


def test_streamed_json_is_the_text_json_dumps_gives() -> None:
    from ledger.jsonout import dumps

    data = {"a": [1, {"b": None, "c": [True, 'é\n"']}], "d": [], "e": {}, "f": iter([1.5])}
    expected = {"a": [1, {"b": None, "c": [True, 'é\n"']}], "d": [], "e": {}, "f": [1.5]}
    assert dumps(data) == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_JSON)
def test_streamed_json_of_any_document_is_the_text_json_dumps_gives(data: object) -> None:
    """Invariant: for any JSON document (records of plain values written in one piece, nested
    ones piece by piece), the streamed text is exactly ``json.dumps(indent=2)``'s."""
    from ledger.jsonout import dumps

    assert dumps(data) == json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def test_net_to_json_of_a_csv_imports_no_drawing_or_beancount(tmp_path: Path) -> None:
    import subprocess

    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write(repr(sorted({m.split('.')[0] for m in "
        "sys.modules} & {'matplotlib', 'beancount', 'sqlalchemy', 'jinja2'}))))\n"
        "from ledger.cli import main\n"
        f"sys.argv = ['roundtrip', 'net', {str(TRIANGLE)!r}, '--format', 'json']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().endswith("[]")
