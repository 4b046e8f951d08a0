"""The console script's first import: Ctrl-C while the command is still loading is one line.

Importing :mod:`ledger.cli` (typer, rich) takes a few tenths of a second, before
:func:`ledger.cli.main` can catch anything; a Ctrl-C then would print Python's
``KeyboardInterrupt`` traceback. This module imports nothing heavy, so the window left is the
interpreter's own start-up.
"""

from __future__ import annotations

import contextlib
import os
import sys

#: What Ctrl-C prints, whenever it comes: every file is written under a temporary name and
#: renamed when complete, so nothing was changed.
INTERRUPTED = "interrupted: stopped; no file was changed."
#: Ctrl-C's exit code: 128 + SIGINT, as shells report it.
EXIT_INTERRUPTED = 130


def main() -> None:
    """Load the command and run it (``roundtrip`` in ``pyproject.toml``)."""
    try:
        from ledger.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED + "\n")
        _exit_at_once(EXIT_INTERRUPTED)
    try:
        run()
    except SystemExit as stop:
        if stop.code == EXIT_INTERRUPTED:
            _exit_at_once(EXIT_INTERRUPTED)
        raise


def _exit_at_once(code: int) -> None:
    """Leave without the interpreter's finalization, once the streams are flushed.

    After Ctrl-C a C extension may still be mid-call in a thread of its own (pyarrow's CSV
    reader, SQLite); finalizing the interpreter under it can abort the process ("Fatal Python
    error: PyEval_SaveThread … finalizing", SIGABRT instead of exit 130, seen in CI). Nothing is
    left to finalize that matters: every file is written under a temporary name and renamed
    when complete, and the store's transaction has already rolled back as the interrupt
    unwound the ``with`` blocks.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)
