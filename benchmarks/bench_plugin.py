"""What the beancount plugin adds to a load, as Fava reloads a netted view (a script, not a test).

Usage::

    .venv/bin/python benchmarks/bench_plugin.py            # the shipped books/
    .venv/bin/python benchmarks/bench_plugin.py --company coreweave --repeat 9

On a copy of the folder, in one process (as Fava keeps one), it times (median of
``--repeat`` runs, seconds):

``book``
    beancount's own load of ``<company>.beancount`` (what loading costs without roundtrip);
``cold``
    the first load of ``<company>.netted.beancount``: the plugin reads every book of the
    folder, reconciles and nets the web (the caches emptied before each run);
``warm``
    a reload with no file changed: the plugin's netting is reused;
``edit own``
    a reload after an edit of the company's own book (its mtime moves): that book is read
    again and the web netted again;
``edit other``
    the same after an edit of another company's book.

``process``
    a new Python process that loads ``<company>.netted.beancount`` and exits, as each
    ``bean-check`` or ``bean-query`` run does: on top of the cold load it imports the netting
    engine (numpy, pandas, SciPy, OR-Tools), which Fava pays once, when it starts. Its
    ``plugin`` column is measured against a new process that loads ``<company>.beancount``;
``process check``
    the same with ``ledger.plugins.check`` (reconciliation only: no netting, none of those
    imports), in a file of its own beside the folder.

``plugin`` columns are the load of the netted view less ``book``: what the plugin costs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from beancount import loader

from ledger import netted

REPO = Path(__file__).resolve().parent.parent


def load(paths: list[Path]) -> tuple[list, list, dict]:
    """Load as Fava does (beancount's uncached loader, plugins run)."""
    return loader._load([(str(path), True) for path in paths], None, None, None)


#: A new process's load of one file, as bean-check's (beancount's uncached loader, plugins run).
_PROCESS = (
    "import sys; from beancount import loader; "
    "loader._load([(sys.argv[1], True)], None, None, None)"
)


def _process(path: Path) -> Callable[[], object]:
    def run() -> None:
        subprocess.run([sys.executable, "-c", _PROCESS, str(path)], check=True)

    return run


def _median(run: Callable[[], object], before: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _touch(path: Path) -> Callable[[], None]:
    def edit() -> None:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))

    return edit


def _forget() -> None:
    netted._books.clear()
    netted._reads.clear()
    netted._netted.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--books", type=Path, default=REPO / "books")
    parser.add_argument("--company", default="nvidia")
    parser.add_argument("--other", default="coreweave")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "books"
        shutil.copytree(args.books, folder)
        book = folder / f"{args.company}.beancount"
        view = folder / f"{args.company}.netted.beancount"
        errors = load([view])[1]
        if errors:
            raise SystemExit(f"{view}: {errors[0].message}")

        def nothing() -> None:
            return None

        figures = {
            "book": _median(lambda: load([book]), nothing, args.repeat),
            "cold": _median(lambda: load([view]), _forget, args.repeat),
            "warm": _median(lambda: load([view]), nothing, args.repeat),
            "edit own": _median(lambda: load([view]), _touch(book), args.repeat),
            "edit other": _median(
                lambda: load([view]), _touch(folder / f"{args.other}.beancount"), args.repeat
            ),
        }
        checked = Path(tmp) / f"{args.company}.checked.beancount"
        checked.write_text(
            f'option "title" "{args.company} (checked)"\n'
            f"plugin \"ledger.plugins.check\" \"{{'books': '{folder}'}}\"\n"
            f'include "{book}"\n',
            encoding="utf-8",
        )
        if load([checked])[1]:
            raise SystemExit(f"{checked}: {load([checked])[1][0].message}")
        alone = _median(_process(book), nothing, args.repeat)
        process = _median(_process(view), nothing, args.repeat)
        process_check = _median(_process(checked), nothing, args.repeat)
    books = len(list(args.books.glob("*.netted.beancount")))
    print(f"{args.company}.netted.beancount, {books} books in the folder, median of {args.repeat}")
    print(f"{'load':<12} {'seconds':>8} {'plugin':>8}")
    for name, seconds in figures.items():
        extra = "" if name == "book" else f"{seconds - figures['book']:8.3f}"
        print(f"{name:<12} {seconds:8.3f} {extra:>8}")
    print(f"{'process':<13} {process:7.3f} {process - alone:8.3f}")
    print(f"{'process check':<13} {process_check:7.3f} {process_check - alone:8.3f}")


if __name__ == "__main__":
    main()
