"""The console script's first import: Ctrl-C while the command is still loading is one line.

Importing :mod:`ledger.cli` (typer, rich) takes a few tenths of a second, before
:func:`ledger.cli.main` can catch anything; a Ctrl-C then would print Python's
``KeyboardInterrupt`` traceback. This module imports nothing heavy, so the window left is the
interpreter's own start-up.
"""

from __future__ import annotations

import atexit
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
    _tune_allocator()
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
        code = stop.code
    else:
        code = 0
    _finish(code)


def _tune_allocator() -> None:
    """Keep the memory of freed arrays in the process instead of handing it back at once.

    A netting of a million legs makes and drops hundreds of arrays of a few megabytes. By
    default glibc maps each one with ``mmap`` and unmaps it when freed, it returns the top of
    its heap to the system past 128 KiB free, and Arrow's jemalloc pool purges what it frees
    within a second: each new array then page-faults its memory in again, and on a virtual
    machine those faults cost about 0.5 s of system time in a 4.5 s ``net``. With a high mmap
    and trim threshold, and Arrow allocating from the same malloc, freed blocks are reused;
    the peak memory stays the same. A user's own ``ARROW_DEFAULT_MEMORY_POOL`` is kept. The
    malloc settings apply on glibc (Linux) only; elsewhere, or if refused, nothing changes.
    """
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 256 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    except (OSError, AttributeError):
        return


#: ``mallopt``'s parameter numbers (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def _finish(code: int | str | None) -> None:
    """Exit with ``code`` once the exit handlers have run, skipping the module teardown.

    After a netting of a million legs, finalizing the interpreter (tearing down numba, SciPy,
    pandas and their caches) takes a quarter of a second, with nothing left to save: the
    outputs are complete and renamed into place, the store has committed. The ``atexit``
    handlers (temporary folders, worker processes, logging) still run, as at a normal exit.
    """
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
        code = 1
    atexit._run_exitfuncs()
    _exit_at_once(code or 0)


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
