"""The three writers (``book``, ``net --eliminations``, ``report``) as output sets, from the CLI.

Each replaces its previous run's files and only those, refuses its input as its output folder,
and leaves nothing written when it fails or is interrupted, killed included.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ledger import output_set
from ledger.cli import app
from ledger.output_set import MANIFEST, STAGING, read_manifest

REPO = Path(__file__).parent.parent
TRIANGLE = REPO / "tests" / "fixtures" / "examples" / "triangle.csv"
PAIR_CSV = """date,deal,payer,payee,kind,amount,currency,status
2025-09-22,nv-oai-equity,Nvidia,OpenAI,equity,100.00,USD,realized
2025-10-01,oai-nv-chips,OpenAI,Nvidia,sale,60.00,USD,realized
"""
TRIANGLE_BOOKS = [
    f"{slug}{suffix}"
    for slug in ("nvidia", "openai", "oracle")
    for suffix in (
        ".beancount",
        ".commitments.beancount",
        ".forward.beancount",
        ".netted.beancount",
    )
]


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _pair(tmp_path: Path) -> Path:
    path = tmp_path / "pair.csv"
    path.write_text(PAIR_CSV)
    return path


# -- book --------------------------------------------------------------------------------------


def test_book_again_removes_the_book_of_a_company_no_longer_in_the_input(tmp_path: Path):
    books = tmp_path / "books"
    assert run("book", TRIANGLE, "--out", books).exit_code == 0
    assert run("book", _pair(tmp_path), "--out", books).exit_code == 0
    assert sorted(p.name for p in books.glob("*.beancount")) == TRIANGLE_BOOKS[:8]
    assert sorted(read_manifest(books).files) == TRIANGLE_BOOKS[:8]


def test_check_passes_right_after_book_into_a_folder_of_an_earlier_web(tmp_path: Path):
    books = tmp_path / "books"
    run("book", TRIANGLE, "--out", books)
    run("book", _pair(tmp_path), "--out", books)
    result = run("check", books)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 2 legs, 2 companies")


def test_book_keeps_a_file_of_the_users_own_in_its_folder(tmp_path: Path):
    books = tmp_path / "books"
    books.mkdir()
    (books / "deals.yaml").write_text("mine\n")
    run("book", TRIANGLE, "--out", books)
    run("book", _pair(tmp_path), "--out", books)
    assert (books / "deals.yaml").read_text() == "mine\n"


def test_book_refuses_a_folder_holding_eliminations(tmp_path: Path):
    out = tmp_path / "elims"
    run("net", TRIANGLE, "--eliminations", out, "--format", "json")
    before = _files(out)
    result = run("book", TRIANGLE, "--out", out)
    assert result.exit_code == 2
    assert f"{out}: holds the eliminations roundtrip wrote" in result.stderr
    assert _files(out) == before


# -- net --eliminations ------------------------------------------------------------------------


def test_eliminations_into_the_books_folder_read_are_refused(tmp_path: Path):
    books = tmp_path / "books"
    run("book", TRIANGLE, "--out", books)
    before = _files(books)
    result = run("net", books, "--eliminations", books)
    assert result.exit_code == 2
    assert f"{books}: is an input of this run" in result.stderr
    assert "Traceback" not in result.output
    assert _files(books) == before
    assert run("check", books).exit_code == 0


def test_eliminations_into_a_books_folder_that_is_not_the_input_are_refused(tmp_path: Path):
    books = tmp_path / "books"
    run("book", TRIANGLE, "--out", books)
    before = _files(books)
    result = run("net", TRIANGLE, "--eliminations", books)
    assert result.exit_code == 2
    assert f"{books}: holds the books roundtrip wrote" in result.stderr
    assert _files(books) == before


def test_eliminations_refuse_a_folder_of_hand_written_books(tmp_path: Path):
    books = tmp_path / "mine"
    books.mkdir()
    (books / "acme.beancount").write_text("; my book\n")
    result = run("net", TRIANGLE, "--eliminations", books)
    assert result.exit_code == 2
    assert "holds 1 *.beancount file roundtrip did not write here (acme.beancount)" in result.stderr
    assert sorted(p.name for p in books.iterdir()) == ["acme.beancount"]


def test_a_failing_save_after_eliminations_leaves_nothing_written(tmp_path: Path):
    out = tmp_path / "elims"
    bad_db = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'x.db'}"
    result = run("net", TRIANGLE, "--eliminations", out, "--save", "--db", bad_db)
    assert result.exit_code == 2
    assert "cannot save the run: unable to open database file" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_failing_save_leaves_the_previous_eliminations_as_they_were(tmp_path: Path):
    out = tmp_path / "elims"
    run("net", TRIANGLE, "--eliminations", out, "--format", "json")
    before = _files(out)
    bad_db = f"sqlite:///{tmp_path / 'no' / 'x.db'}"
    run("net", _pair(tmp_path), "--eliminations", out, "--save", "--db", bad_db)
    assert _files(out) == before


def test_ctrl_c_while_staging_eliminations_leaves_the_previous_ones(tmp_path: Path, monkeypatch):
    out = tmp_path / "elims"
    run("net", TRIANGLE, "--eliminations", out, "--format", "json")
    before = _files(out)
    calls = 0
    real = output_set.Stage.write_text

    def interrupted(self: output_set.Stage, name: str, text: str) -> Path:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt
        return real(self, name, text)

    monkeypatch.setattr(output_set.Stage, "write_text", interrupted)
    result = run("net", _pair(tmp_path), "--eliminations", out, "--format", "json")
    assert result.exit_code != 0
    assert _files(out) == before


def test_eliminations_again_replace_the_previous_set(tmp_path: Path):
    out = tmp_path / "elims"
    run("net", TRIANGLE, "--eliminations", out, "--format", "json")
    run("net", _pair(tmp_path), "--eliminations", out, "--format", "json")
    assert sorted(p.name for p in out.glob("*.beancount")) == [
        "nvidia.eliminations.beancount",
        "openai.eliminations.beancount",
    ]


# -- report ------------------------------------------------------------------------------------


def test_report_refuses_the_books_folder_as_its_output(tmp_path: Path):
    books = tmp_path / "books"
    run("book", TRIANGLE, "--out", books)
    before = _files(books)
    result = run("report", "--books", books, "--out", books)
    assert result.exit_code == 2
    assert f"{books}: is an input of this run" in result.stderr
    assert _files(books) == before


def test_report_again_removes_a_report_it_no_longer_makes(tmp_path: Path):
    books, reports = tmp_path / "books", tmp_path / "reports"
    run("book", TRIANGLE, "--out", books)
    assert run("report", "--books", books, "--out", reports).exit_code == 0
    assert (reports / "audit-fail-openai.md").exists()
    (reports / "mine.txt").write_text("notes\n")
    no_openai = tmp_path / "no-openai.csv"
    no_openai.write_text(
        "date,deal,payer,payee,kind,amount,currency,status\n"
        "2025-10-02,orcl-nv-chips,Oracle,Nvidia,sale,40.00,USD,realized\n"
    )
    run("book", no_openai, "--out", books)
    assert run("report", "--books", books, "--out", reports).exit_code == 0
    assert not (reports / "audit-fail-openai.md").exists()
    assert (reports / "mine.txt").read_text() == "notes\n"
    assert sorted(read_manifest(reports).files) == sorted(
        p.name for p in reports.iterdir() if p.name not in ("mine.txt", MANIFEST)
    )


# -- killed writers ----------------------------------------------------------------------------

_KILLED_CLI = """
import os, signal, sys
from ledger.cli import main
kill_at, calls, real = int(sys.argv[1]), [0], os.replace
def replace(src, dst):
    calls[0] += 1
    if calls[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
os.replace = replace
sys.argv = ["roundtrip", *sys.argv[2:]]
main()
"""


def test_a_book_killed_at_random_renames_leaves_the_old_or_the_new_books(tmp_path: Path):
    """Invariant: after SIGKILL and the next command, the folder is one whole set of books."""
    books, pair = tmp_path / "books", _pair(tmp_path)
    run("book", TRIANGLE, "--out", books)
    old = _files(books)
    run("book", pair, "--out", books)
    new = _files(books)
    rng = random.Random(4)
    for kill_at in sorted(rng.sample(range(1, 10), 4)):
        run("book", TRIANGLE, "--out", books)
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                _KILLED_CLI,
                str(kill_at),
                "book",
                str(pair),
                "--out",
                str(books),
            ],
            cwd=REPO,
            capture_output=True,
            check=False,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr
        assert (books / STAGING).exists()
        assert run("check", books).exit_code == 0  # the next command rolls the swap back
        assert _files(books) in (old, new)
