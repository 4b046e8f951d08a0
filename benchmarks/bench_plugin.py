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

``plugin`` columns are the load of the netted view less ``book``: what the plugin costs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
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
    books = len(list(args.books.glob("*.netted.beancount")))
    print(f"{args.company}.netted.beancount, {books} books in the folder, median of {args.repeat}")
    print(f"{'load':<12} {'seconds':>8} {'plugin':>8}")
    for name, seconds in figures.items():
        extra = "" if name == "book" else f"{seconds - figures['book']:8.3f}"
        print(f"{name:<12} {seconds:8.3f} {extra:>8}")


if __name__ == "__main__":
    main()
