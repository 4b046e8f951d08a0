"""Run the ``roundtrip`` command as a user would, and see what it left on disk.

Shared by the catalogue, fuzz, fault and newcomer tests. :func:`run` calls the console entry
point (:func:`ledger.cli.main`, where exceptions become exit codes) in this process, so an
exception that escapes it fails the test with its traceback; :func:`run_process` runs it as a
subprocess, optionally as an unprivileged user (a root test run ignores ``chmod``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import ledger.cli as cli

#: The unprivileged user a root test run drops to, so that permissions apply (``nobody``).
NOBODY = 65534


@dataclass(frozen=True)
class Outcome:
    """What a run of the command gave: its exit code and its two streams."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        """The non-empty lines of stderr."""
        return [line for line in self.err.splitlines() if line.strip()]


def run(*args: str | Path | int) -> Outcome:
    """``roundtrip ARGS`` through the console entry point, in this process."""
    argv = ["roundtrip", *map(str, args)]
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = argv
    code: int | str | None = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
    except SystemExit as stop:
        code = stop.code
    finally:
        sys.argv = saved
    return Outcome(
        code if isinstance(code, int) else (0 if code is None else 1),
        out.getvalue(),
        err.getvalue(),
    )


def run_process(
    *args: str | Path,
    cwd: Path,
    unprivileged: bool = False,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Outcome:
    """``roundtrip ARGS`` as a subprocess in ``cwd`` (as ``nobody`` when asked and root).

    A root run drops to ``nobody`` with util-linux's ``setpriv`` (the test is skipped
    without it), so that the permissions the test sets apply.
    """
    command = [str(Path(sys.executable).parent / "roundtrip"), *map(str, args)]
    if unprivileged and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be tested")
        ids = [f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        command = [setpriv, *ids, *command]
    scratch = _scratch()
    done = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "MPLCONFIGDIR": scratch, "XDG_CACHE_HOME": scratch, **(env or {})},
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def _scratch() -> str:
    """A folder anyone may write (matplotlib's and fontconfig's caches), outside the test's."""
    folder = tempfile.mkdtemp(prefix="roundtrip-scratch-")
    os.chmod(folder, 0o777)
    return folder


def tree(folder: Path) -> dict[str, tuple[str, str]]:
    """Every path under ``folder`` with its type, permissions and content hash: a snapshot."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(folder.rglob("*")):
        mode = oct(path.lstat().st_mode)
        if path.is_file() and os.access(path, os.R_OK):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            digest = "dir" if path.is_dir() else "-"
        found[str(path.relative_to(folder))] = (mode, digest)
    return found


def assert_clean_refusal(outcome: Outcome, code: int, message: str | None = None) -> None:
    """Exit ``code``, the first line of stderr holding ``message``, and no traceback."""
    assert outcome.code == code, outcome
    both = outcome.out + outcome.err
    assert "Traceback" not in both, both
    assert "internal error" not in both, both
    if message is not None:
        assert outcome.err_lines, outcome
        # A usage error is click's block (usage, hint, "Error: ..."); anything else is one line.
        line = outcome.err_lines[-1 if outcome.err_lines[0].startswith("Usage:") else 0]
        assert message in line, outcome.err_lines
