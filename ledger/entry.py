"""The console script's first import: Ctrl-C while the command is still loading is one line.

Importing :mod:`ledger.cli` (typer, rich) takes a few tenths of a second, before
:func:`ledger.cli.main` can catch anything; a Ctrl-C then would print Python's
``KeyboardInterrupt`` traceback. This module imports nothing heavy, so the window left is the
interpreter's own start-up.
"""

from __future__ import annotations

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
        sys.exit(EXIT_INTERRUPTED)
    run()
