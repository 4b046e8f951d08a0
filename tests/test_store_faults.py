"""The store under faults and concurrency: killed loads, loads at once, saves at once.

Each test starts real ``roundtrip`` processes, on a SQLite file and on a PostgreSQL schema of
its own. A ``load`` killed with SIGKILL at random moments leaves the store exactly as before or
exactly as after (never a mix); two loads at once both finish and leave what a serial load
leaves; two ``net --save`` at once record two runs.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from store_backends import dump, pg_schema, pg_schema_url

from ledger.store import engine_for

ROOT = Path(__file__).resolve().parent.parent
ROUNDTRIP = [sys.executable, "-c", "from ledger.cli import main; main()"]


def _start(*args: str, progress: bool = False) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ROUNDTRIP_PROGRESS": "1" if progress else "0"}
    return subprocess.Popen(
        [*ROUNDTRIP, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _wait_for(process: subprocess.Popen[bytes], marker: bytes, timeout: float = 120) -> None:
    """Read the process's progress lines on stderr until ``marker`` shows (its step began)."""
    seen = b""
    deadline = time.monotonic() + timeout
    assert process.stderr is not None
    while marker not in seen:
        assert time.monotonic() < deadline and process.poll() is None, seen
        ready, _, _ = select.select([process.stderr], [], [], 0.1)
        if ready:
            seen += os.read(process.stderr.fileno(), 4096)


def _wait(process: subprocess.Popen[bytes]) -> None:
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()


def _run(*args: str) -> None:
    _wait(_start(*args))


def _web(folder: Path, name: str, companies: int, legs: int, seed: int) -> Path:
    path = folder / f"{name}.csv"
    _run(
        "simulate", "--companies", str(companies), "--legs", str(legs), "--seed", str(seed),
        "--out", str(path),
    )  # fmt: skip
    return path


@contextmanager
def _store(backend: str, folder: Path, name: str) -> Iterator[str]:
    """A fresh, empty store URL on ``backend``."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    with pg_schema() as schema:
        yield pg_schema_url(schema)


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = engine_for(url)
    try:
        return dump(engine)
    finally:
        engine.dispose()


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="module")
def webs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("webs")
    return {
        "a": _web(folder, "a", 60, 2_000, 1),
        "b": _web(folder, "b", 60, 10_000, 2),
        # Big enough that writing its legs takes a good part of a second on any machine.
        "big": _web(folder, "big", 300, 60_000, 3),
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_killed_load_leaves_the_store_as_before_or_as_after(
    backend: str, webs: dict[str, Path], tmp_path: Path
) -> None:
    with _store(backend, tmp_path, "after") as after_url:
        _run("load", str(webs["a"]), "--db", after_url)
        _run("load", str(webs["big"]), "--db", after_url)
        after = _dump(after_url)
    chance = random.Random(13)
    outcomes = []
    for attempt in range(6):
        # Each kill on a store of its own: a load owns only the companies of its input, so a
        # finished load of "big" cannot be undone by loading "a" again.
        with _store(backend, tmp_path, f"killed{attempt}") as url:
            _run("load", str(webs["a"]), "--db", url)
            before = _dump(url)
            assert before != after
            # Killed at a random moment of the write step (its progress line has shown), which
            # ends in the commit: before it the store is as before, after it as after.
            process = _start("load", str(webs["big"]), "--db", url, progress=True)
            _wait_for(process, b"loading")
            time.sleep(chance.uniform(0.0, 0.3))
            process.send_signal(signal.SIGKILL)
            process.communicate()
            now = _dump(url)
            assert now in (before, after)
            outcomes.append("after" if now == after else "before")
    assert "before" in outcomes  # at least one kill landed inside the load


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("inputs", [("a", "a"), ("a", "b")], ids=["same", "different"])
def test_two_loads_at_once_leave_what_a_serial_load_leaves(
    backend: str, inputs: tuple[str, str], webs: dict[str, Path], tmp_path: Path
) -> None:
    first, second = (str(webs[name]) for name in inputs)
    with _store(backend, tmp_path, "serial") as serial:
        _run("load", first, "--db", serial)
        _run("load", second, "--db", serial)
        one_then_other = _dump(serial)
        _run("load", first, "--db", serial)
        other_then_one = _dump(serial)
    with _store(backend, tmp_path, "parallel") as url:
        for process in [_start("load", path, "--db", url) for path in (first, second)]:
            _wait(process)
        assert _dump(url) in (one_then_other, other_then_one)


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_saves_at_once_record_two_runs(
    backend: str, webs: dict[str, Path], tmp_path: Path
) -> None:
    with _store(backend, tmp_path, "runs") as url:
        _run("load", str(webs["a"]), "--db", url)
        for process in [_start("net", "--db", url, "--save", "-f", "json") for _ in range(2)]:
            _wait(process)
        engine = engine_for(url)
        with engine.connect() as connection:
            runs = connection.execute(text("SELECT id, graph_hash FROM netting_run")).all()
            results = connection.execute(text("SELECT COUNT(*) FROM netting_result")).scalar()
        engine.dispose()
    assert len(runs) == 2 and len({run.graph_hash for run in runs}) == 1
    assert results and results % 2 == 0
