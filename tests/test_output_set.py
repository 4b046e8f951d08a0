"""Output sets: written as one, owned through the manifest, never half there.

The crash tests run a writer in a child process and kill it (SIGKILL) at every rename it makes,
then at random moments; whatever the moment, once the folder is opened again (:func:`recover`,
which every writer and reader runs first) it holds exactly the old set or exactly the new one,
the user's own file untouched, and no staging folder. ``ROUNDTRIP_KILL_RUNS`` sets how many
random kills the campaign makes (default 12).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger import output_set
from ledger.model import BadInput, CannotWrite
from ledger.output_set import MANIFEST, STAGING, read_manifest, recover, staged, write_set

REPO = Path(__file__).parent.parent
OLD = {"a.txt": "old a\n", "b.txt": "old b\n", "sub/c.txt": "old c\n"}
NEW = {"b.txt": "new b\n", "d.txt": "new d\n", "sub/c.txt": "new c\n", "deep/e.txt": "new e\n"}
MINE = {"notes.md": "my own notes\n"}


def _state(folder: Path) -> dict[str, str]:
    """Every file of the folder but the manifest, ``{relative path: text}``."""
    return {
        p.relative_to(folder).as_posix(): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def _holds(folder: Path, files: dict[str, str]) -> bool:
    """The folder holds exactly this set (plus the user's file), and its manifest says so."""
    manifest = read_manifest(folder)
    digests = {name: hashlib.sha256(text.encode()).hexdigest() for name, text in files.items()}
    return (
        _state(folder) == {**files, **MINE}
        and manifest is not None
        and dict(manifest.files) == digests
        and not (folder / STAGING).exists()
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding the OLD set and a file of the user's own."""
    out = tmp_path / "out"
    write_set(out, OLD, "books")
    (out / "notes.md").write_text(MINE["notes.md"])
    return out


# -- ownership ---------------------------------------------------------------------------------


def test_a_set_writes_its_files_and_a_manifest_naming_each_with_its_digest(tmp_path: Path):
    paths = write_set(tmp_path / "out", OLD, "books")
    assert paths == tuple(tmp_path / "out" / name for name in OLD)
    manifest = read_manifest(tmp_path / "out")
    assert manifest is not None and manifest.kind == "books"
    assert manifest.files["a.txt"] == hashlib.sha256(b"old a\n").hexdigest()
    assert sorted(manifest.files) == sorted(OLD)


def test_the_manifest_is_the_same_bytes_for_the_same_set(tmp_path: Path):
    write_set(tmp_path / "one", OLD, "books")
    write_set(tmp_path / "two", dict(reversed(OLD.items())), "books")
    assert (tmp_path / "one" / MANIFEST).read_bytes() == (tmp_path / "two" / MANIFEST).read_bytes()


def test_a_new_set_replaces_the_old_one_and_drops_what_it_no_longer_has(folder: Path):
    write_set(folder, NEW, "books")
    assert _holds(folder, NEW)


def test_a_dropped_file_takes_its_emptied_folder_with_it(folder: Path):
    write_set(folder, {"a.txt": "x\n"}, "books")
    assert not (folder / "sub").exists()


def test_a_file_the_manifest_does_not_name_is_never_removed(folder: Path):
    (folder / "extra.txt").write_text("mine too\n")
    write_set(folder, NEW, "books")
    assert (folder / "extra.txt").read_text() == "mine too\n"
    assert (folder / "notes.md").read_text() == MINE["notes.md"]


def test_a_file_of_the_same_name_as_a_new_one_is_replaced(tmp_path: Path):
    (tmp_path / "b.txt").write_text("written by hand\n")
    write_set(tmp_path, NEW, "books")
    assert (tmp_path / "b.txt").read_text() == "new b\n"


def test_a_folder_holding_another_kind_of_set_is_refused_unchanged(folder: Path):
    before = _state(folder)
    with pytest.raises(BadInput, match="holds the books roundtrip wrote"):
        write_set(folder, NEW, "eliminations")
    assert _state(folder) == before and read_manifest(folder).kind == "books"


def test_an_input_folder_is_refused_as_the_output_folder(tmp_path: Path):
    books = tmp_path / "books"
    books.mkdir()
    with pytest.raises(BadInput, match="is an input of this run") as caught:
        write_set(books, NEW, "eliminations", inputs=[books])
    assert caught.value.errors[0].filename == str(books)
    assert list(books.iterdir()) == []


def test_a_set_never_overwrites_an_input_file(tmp_path: Path):
    source = tmp_path / "d.txt"
    source.write_text("the input\n")
    with pytest.raises(BadInput, match="would overwrite or remove it"):
        write_set(tmp_path, NEW, "books", inputs=[source])
    assert source.read_text() == "the input\n"
    assert not (tmp_path / MANIFEST).exists() and not (tmp_path / STAGING).exists()


def test_a_folder_with_foreign_files_of_the_guarded_pattern_is_refused(tmp_path: Path):
    (tmp_path / "nvidia.beancount").write_text("; a book\n")
    with pytest.raises(BadInput, match=r"holds 1 \*.beancount file roundtrip did not write"):
        write_set(tmp_path, {"x.eliminations.beancount": ""}, "eliminations", foreign="*.beancount")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nvidia.beancount"]


def test_files_the_set_owns_are_not_foreign(tmp_path: Path):
    write_set(tmp_path, {"x.beancount": "1\n"}, "eliminations", foreign="*.beancount")
    write_set(tmp_path, {"y.beancount": "2\n"}, "eliminations", foreign="*.beancount")
    assert _state(tmp_path) == {"y.beancount": "2\n"}


def test_a_manifest_edited_by_hand_is_refused(folder: Path):
    (folder / MANIFEST).write_text("{not json")
    with pytest.raises(BadInput, match="not a manifest roundtrip wrote"):
        write_set(folder, NEW, "books")


def test_a_set_file_may_not_leave_its_folder(tmp_path: Path):
    with pytest.raises(ValueError, match="relative path inside its folder"):
        write_set(tmp_path, {"../escape.txt": ""}, "books")


# -- all or nothing ----------------------------------------------------------------------------


def test_an_error_in_the_block_leaves_the_folder_as_it_was(folder: Path):
    before = _state(folder)
    with pytest.raises(RuntimeError), staged(folder, "books") as stage:
        stage.write_text("a.txt", "half\n")
        raise RuntimeError("the --save after it failed")
    assert _state(folder) == before and _holds(folder, OLD)


def test_an_abandoned_set_removes_the_folder_it_created(tmp_path: Path):
    with pytest.raises(RuntimeError), staged(tmp_path / "new" / "out", "books") as stage:
        stage.write_text("a.txt", "x\n")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def _replace_calls(folder: Path) -> int:
    """How many renames writing NEW over OLD makes (the points a crash can fall between)."""
    calls = 0
    real = os.replace

    def counting(src: object, dst: object) -> None:
        nonlocal calls
        calls += 1
        real(src, dst)

    os.replace = counting  # type: ignore[assignment]
    try:
        write_set(folder, NEW, "books")
    finally:
        os.replace = real
    return calls


def test_ctrl_c_at_any_rename_leaves_exactly_the_old_set(folder: Path, monkeypatch):
    total = _replace_calls(folder)
    write_set(folder, OLD, "books")
    assert total >= len(NEW) + 3
    real = os.replace
    for k in range(1, total + 1):
        calls = 0

        def interrupting(src: object, dst: object, k: int = k) -> None:
            nonlocal calls
            calls += 1
            if calls == k:
                raise KeyboardInterrupt
            real(src, dst)

        monkeypatch.setattr(output_set.os, "replace", interrupting)
        with pytest.raises(KeyboardInterrupt):
            write_set(folder, NEW, "books")
        monkeypatch.setattr(output_set.os, "replace", real)
        assert _holds(folder, OLD) or (k == total and _holds(folder, NEW)), f"rename {k}"
        write_set(folder, OLD, "books")


def test_a_failing_rename_is_a_clean_error_and_the_old_set_stays(folder: Path, monkeypatch):
    real = os.replace
    calls = 0

    def failing(src: object, dst: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise OSError(28, "No space left on device", str(dst))
        real(src, dst)

    monkeypatch.setattr(output_set.os, "replace", failing)
    with pytest.raises(CannotWrite, match="cannot write: No space left on device"):
        write_set(folder, NEW, "books")
    monkeypatch.setattr(output_set.os, "replace", real)
    assert _holds(folder, OLD)


# -- crashes -----------------------------------------------------------------------------------

_CHILD = """
import json, os, signal, sys
from pathlib import Path
from ledger import output_set
kill_at, job = int(sys.argv[2]), sys.argv[3]
real, calls = os.replace, [0]
def replace(src, dst):
    calls[0] += 1
    if calls[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
os.replace = replace
if job == "write":
    output_set.write_set(Path(sys.argv[1]), json.loads(sys.stdin.read()), "books")
else:
    output_set.recover(Path(sys.argv[1]))
"""


def _child(folder: Path, kill_at: int, job: str, files: dict[str, str] | None = None) -> int:
    """Run a writer (or a recovery) in a child that SIGKILLs itself at rename ``kill_at``."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder), str(kill_at), job],
        input=json.dumps(files or {}),
        text=True,
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    return done.returncode


def test_sigkill_at_any_rename_leaves_the_old_or_the_new_set_once_reopened(folder: Path):
    total = _replace_calls(folder)
    write_set(folder, OLD, "books")
    seen = set()
    for k in range(1, total + 2):
        killed = _child(folder, k, "write", NEW) != 0
        assert not killed or (folder / STAGING).exists()
        assert recover(folder) == ()
        assert _holds(folder, OLD) or _holds(folder, NEW), f"killed at rename {k}"
        seen.add("new" if _holds(folder, NEW) else "old")
        write_set(folder, OLD, "books")
    assert seen == {"old", "new"}


class _Killed(BaseException):
    """Stands for SIGKILL in-process: recovery has no handler that would clean up after it."""


def test_a_recovery_killed_at_any_rename_can_itself_be_recovered(folder: Path, monkeypatch):
    total = _replace_calls(folder)
    real = os.replace
    for k in range(3, total):  # writer crashes that leave a swap half done
        write_set(folder, OLD, "books")
        _child(folder, k, "write", NEW)
        crashed = folder.with_name("crashed")
        shutil.copytree(folder, crashed)
        for j in range(1, 9):
            shutil.rmtree(folder)
            shutil.copytree(crashed, folder)
            calls = 0

            def dying(src: object, dst: object, j: int = j) -> None:
                nonlocal calls
                calls += 1
                if calls == j:
                    raise _Killed
                real(src, dst)

            monkeypatch.setattr(output_set.os, "replace", dying)
            with contextlib.suppress(_Killed):
                recover(folder)
            monkeypatch.setattr(output_set.os, "replace", real)
            assert recover(folder) == ()
            assert _holds(folder, OLD), f"write killed at rename {k}, recovery at {j}"
        shutil.rmtree(crashed)


def test_sigkill_at_random_moments_never_leaves_a_mix(tmp_path: Path):
    """Invariant: whenever a writer dies, the reopened folder holds one whole set."""
    old = {f"book-{i:03}.beancount": f"old {i}\n" * 50 for i in range(80)}
    new = {f"book-{i:03}.beancount": f"new {i}\n" * 50 for i in range(30, 110)}
    out = tmp_path / "out"
    write_set(out, old, "books")
    command = [sys.executable, "-c", _CHILD, str(out), "0", "write"]
    started = time.perf_counter()
    subprocess.run(command, input=json.dumps(new), text=True, cwd=REPO, check=True)
    duration = time.perf_counter() - started
    rng = random.Random(16)
    for _ in range(int(os.environ.get("ROUNDTRIP_KILL_RUNS", "12"))):
        write_set(out, old, "books")
        child = subprocess.Popen(command, stdin=subprocess.PIPE, text=True, cwd=REPO)
        child.stdin.write(json.dumps(new))
        child.stdin.close()
        time.sleep(rng.uniform(0, duration))
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert recover(out) == ()
        state = {k: v for k, v in _state(out).items()}
        assert state in (old, new)
        assert dict(read_manifest(out).files).keys() == state.keys()
