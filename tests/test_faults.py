"""Faults: writers killed mid-way, a full disk, and Ctrl-C on the long verbs.

Each test runs the real command as a subprocess and does to it what happens to users:

- ``book`` and ``report`` killed with SIGKILL at random moments leave, once the next command
  has run (it rolls an interrupted swap back, as SQLite does a hot journal), the old files or
  the new ones — never a mix — and no staging folder;
- a disk that fills up while writing (a file-size limit, and a tiny tmpfs where the tests may
  mount one) gives one line and exit 1, with the old files as they were;
- Ctrl-C (SIGINT) on ``net``, ``book``, ``audit --all`` and ``load`` exits 130 with one line, and
  leaves no output file, no staging folder and the store as it was.

Killing at a chosen rename (every step of the swap) is tested in tests/test_output_set.py and
tests/test_cli_output_sets.py; these tests kill at moments chosen by the clock instead.
"""

from __future__ import annotations

import os
import random
import resource
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clirun import Outcome, assert_clean_refusal, run, tree

from ledger.output_set import STAGING

FIXTURES = Path(__file__).parent / "fixtures" / "examples"
TRIANGLE = FIXTURES / "triangle.csv"
VENDOR = FIXTURES / "vendor_financing.csv"
ROUNDTRIP = Path(sys.executable).parent / "roundtrip"
INTERRUPTED = "interrupted: stopped; no file was changed."
KILLS = int(os.environ.get("ROUNDTRIP_KILL_RUNS", "4"))


def _start(*args: str | Path, cwd: Path, **kwargs: object) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ROUNDTRIP_PROGRESS": "1"}
    return subprocess.Popen(
        [str(ROUNDTRIP), *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def _wait_for(child: subprocess.Popen[bytes], marker: bytes, timeout: float = 120) -> bytes:
    """Read the child's stderr until ``marker`` shows (its first step has begun)."""
    seen = b""
    deadline = time.monotonic() + timeout
    assert child.stderr is not None
    while marker not in seen:
        assert time.monotonic() < deadline, seen
        ready, _, _ = select.select([child.stderr], [], [], 0.1)
        if ready:
            chunk = os.read(child.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
    return seen


def _finish(child: subprocess.Popen[bytes], seen: bytes) -> Outcome:
    out, err = child.communicate(timeout=600)
    return Outcome(child.returncode, out.decode(), (seen + err).decode())


def _simulated(path: Path, companies: int, legs: int) -> Path:
    outcome = run("simulate", "--companies", companies, "--legs", legs, "--out", path)
    assert outcome.code == 0, outcome
    return path


@pytest.fixture
def web(tmp_path: Path) -> Path:
    """A web big enough that its books take a few seconds to write."""
    return _simulated(tmp_path / "web.csv", 40, 800)


# -- SIGKILL -----------------------------------------------------------------------------------


def _killed_at_random_moments(
    args: list[str | Path],
    folder: Path,
    reset: list[str | Path],
    reader: list[str | Path],
    seed: int,
) -> None:
    """Run ``args`` KILLS times and SIGKILL it at a random moment each time.

    Before each run ``reset`` writes the old set; after each kill the next command (``reader``)
    recovers the folder, which must then hold the old set or the new one, byte for byte, and
    no staging folder.
    """
    assert run(*reset).code == 0
    old = tree(folder)
    started = time.monotonic()
    assert run(*args).code == 0
    duration = time.monotonic() - started
    new = tree(folder)
    assert new != old
    rng = random.Random(seed)
    for _ in range(KILLS):
        assert run(*reset).code == 0
        child = _start(*args, cwd=folder.parent)
        time.sleep(rng.uniform(0.2, 1.1) * duration)
        child.kill()
        child.communicate()
        run(*reader)
        assert not (folder / STAGING).exists()
        left = tree(folder)
        assert left in (old, new), "a mix of the old and the new files"


def test_book_killed_at_random_moments_leaves_the_old_or_the_new_books(
    tmp_path: Path, web: Path
) -> None:
    """Invariant: SIGKILL at any moment, then the next command: one whole set of books."""
    books = tmp_path / "books"
    _killed_at_random_moments(
        ["book", web, "--out", books],
        books,
        reset=["book", TRIANGLE, "--out", books],
        reader=["check", books],
        seed=13,
    )


def test_report_killed_at_random_moments_leaves_the_old_or_the_new_reports(
    tmp_path: Path,
) -> None:
    """Invariant: SIGKILL at any moment, then the next command: one whole set of reports."""
    old_books, new_books, reports = tmp_path / "old", tmp_path / "new", tmp_path / "reports"
    assert run("book", TRIANGLE, "--out", old_books).code == 0
    assert run("book", VENDOR, "--out", new_books).code == 0
    _killed_at_random_moments(
        ["report", "--books", new_books, "--out", reports],
        reports,
        reset=["report", "--books", old_books, "--out", reports],
        reader=["report", "--check", "--books", new_books, "--out", reports],
        seed=16,
    )


# -- a full disk -------------------------------------------------------------------------------


def _with_file_size_limit(limit: int):
    """A child's set-up: files may not grow past ``limit`` bytes (writes then fail: EFBIG)."""

    def limit_files() -> None:  # pragma: no cover - runs in the child
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_files


FULL_DISK = {
    "book": ["book", "web.csv", "--out", "out"],
    "net --out": ["net", "web.csv", "-f", "json", "--out", "out/net.json"],
    "net --eliminations": ["net", "web.csv", "--eliminations", "out"],
    "simulate": ["simulate", "--companies", "40", "--legs", "800", "--out", "out/sim.csv"],
}


@pytest.mark.parametrize("case", list(FULL_DISK))
def test_a_file_that_cannot_grow_is_one_line_and_the_old_files_stay(
    tmp_path: Path, web: Path, case: str
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("mine\n", encoding="utf-8")
    before = tree(tmp_path)
    child = _start(*FULL_DISK[case], cwd=tmp_path, preexec_fn=_with_file_size_limit(2048))
    outcome = _finish(child, b"")
    assert_clean_refusal(outcome, 1)
    assert outcome.err_lines[-1].endswith("cannot write: File too large; nothing was written.")
    assert tree(tmp_path) == before


@pytest.fixture
def tiny_disk() -> Iterator[Path]:
    """A 200 KiB tmpfs (root only; skipped where mounting is not allowed)."""
    folder = Path(tempfile.mkdtemp(prefix="roundtrip-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip("cannot mount a tmpfs here: the file-size limit test stands for it")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)
    folder.rmdir()


def test_book_on_a_full_disk_is_one_line_and_the_old_books_stay(
    tmp_path: Path, web: Path, tiny_disk: Path
) -> None:
    books = tiny_disk / "books"
    assert run("book", TRIANGLE, "--out", books).code == 0
    before = tree(tiny_disk)
    outcome = run("book", web, "--out", books)
    assert_clean_refusal(outcome, 1, "cannot write: No space left on device")
    assert tree(tiny_disk) == before


def test_net_out_on_a_full_disk_is_one_line_and_the_old_file_stays(
    tmp_path: Path, web: Path, tiny_disk: Path
) -> None:
    out = tiny_disk / "net.json"
    out.write_text("old\n", encoding="utf-8")
    free = shutil.disk_usage(tiny_disk).free
    (tiny_disk / "filler").write_bytes(b"\0" * max(free - 8192, 0))  # all but 8 KiB
    before = tree(tiny_disk)
    outcome = run("net", web, "-f", "json", "--out", out)
    assert_clean_refusal(outcome, 1, f"{out}: cannot write: No space left on device")
    assert tree(tiny_disk) == before


# -- Ctrl-C ------------------------------------------------------------------------------------


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return list(connection.iterdump())


@pytest.fixture
def big_web(tmp_path: Path) -> Path:
    """A web whose netting, audit and load each take seconds."""
    return _simulated(tmp_path / "big.csv", 120, 8000)


SIGINT_VERBS = {
    "net": ["net", "big.csv", "-f", "json", "--out", "out/net.json", "--eliminations", "elims"],
    "book": ["book", "web.csv", "--out", "out"],
    "audit --all": ["audit", "big.csv", "--all", "-f", "json", "--out", "out/rank.json"],
    # A load of 8,000 legs ends within a tenth of a second: Ctrl-C goes to a 60,000-leg one.
    "load": ["load", "huge.csv", "--db", "sqlite:///store.db"],
}


#: The progress lines of each verb's steps (ROUNDTRIP_PROGRESS=1): Ctrl-C lands in one of them.
MARKERS = {
    "net": [b"reading", b"building the flow graph", b"solving", b"finding cycle witnesses"],
    "load": [b"loading"],
}


@pytest.mark.parametrize("verb", list(SIGINT_VERBS))
def test_ctrl_c_on_a_long_verb_exits_130_with_one_line_and_nothing_half_written(
    tmp_path: Path, web: Path, big_web: Path, verb: str
) -> None:
    """Invariant: interrupted at any moment, the verb says so in one line and changes nothing."""
    assert run("book", TRIANGLE, "--out", tmp_path / "out").code == 0
    assert run("load", TRIANGLE, "--db", f"sqlite:///{tmp_path / 'store.db'}").code == 0
    store = _dump(tmp_path / "store.db")
    # A load is atomic: interrupted, the store is as before or, if Ctrl-C landed after the
    # commit, as a finished load leaves it.
    finished = [store]
    if verb == "load":
        huge = _simulated(tmp_path / "huge.csv", 600, 60_000)
        shutil.copy(tmp_path / "store.db", tmp_path / "finished.db")
        assert run("load", huge, "--db", f"sqlite:///{tmp_path / 'finished.db'}").code == 0
        finished.append(_dump(tmp_path / "finished.db"))
        (tmp_path / "finished.db").unlink()
    before = tree(tmp_path)
    rng = random.Random(verb)
    for _ in range(2):
        child = _start(*SIGINT_VERBS[verb], cwd=tmp_path)
        seen = _wait_for(child, rng.choice(MARKERS.get(verb, [b"reading"])))
        time.sleep(rng.uniform(0.0, 0.4))
        child.send_signal(signal.SIGINT)
        outcome = _finish(child, seen)
        assert "Traceback" not in outcome.err, outcome.err
        if outcome.code == 0:
            pytest.skip(f"{verb} finished before Ctrl-C landed (a machine faster than the test)")
        assert outcome.code == 130, outcome
        assert outcome.err_lines[-1].endswith(INTERRUPTED), outcome.err_lines
        assert [line for line in outcome.err_lines if INTERRUPTED in line] == [
            outcome.err_lines[-1]
        ]
        assert tree(tmp_path) == before or verb == "load"
        assert _dump(tmp_path / "store.db") in finished


_LOADING = """
import builtins, sys
real = builtins.__import__
def importing(name, *args, **kwargs):
    if name == "ledger.cli":
        raise KeyboardInterrupt  # Ctrl-C while typer and rich load
    return real(name, *args, **kwargs)
builtins.__import__ = importing
from ledger.entry import main
main()
"""


def test_ctrl_c_while_the_command_loads_is_one_line_too(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _LOADING], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (130, INTERRUPTED + "\n")
