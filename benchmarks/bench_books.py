"""Benchmark of the books verbs users run: ``book``, ``check`` and ``net <books>``, by size.

Usage::

    .venv/bin/python benchmarks/bench_books.py                 # 10k, 100k and 1M legs
    .venv/bin/python benchmarks/bench_books.py 10000 100000    # chosen sizes only

Each size is the seeded web of :mod:`bench_cli` (``roundtrip simulate``, ``legs / 100``
companies, at least 50) as a legs CSV. In fresh processes, one after the other: ``book`` writes
its books into a scratch folder, ``check`` checks that folder, and ``net <books> --format json``
nets it. Each row gives the wall-clock seconds from start to exit, the CPU seconds of the
process (user + system: on a shared machine the wall clock also counts other jobs, the CPU time
does not), the wall-clock microseconds **per leg** (flat from 10k to 1M when the cost is
linear), and the peak resident memory. ``net <books>`` is checked against the bare baseline of
:mod:`bench_cli` on the CSV (pandas and OR-Tools): its ``total_circular`` must be the
baseline's optimum to the cent, which says the books hold the web exactly.

Targets (issue 15): ``book`` and ``net <books>`` at 100k legs within 60 s each; at 1M legs
within 10 minutes each.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import BASELINE, PYTHON, ROUNDTRIP, measure, scratch, simulate  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
#: (legs, command) -> the most seconds it may take.
TARGETS = {
    (100_000, "book"): 60.0,
    (100_000, "net-books"): 60.0,
    (1_000_000, "book"): 600.0,
    (1_000_000, "net-books"): 600.0,
}


def bench(sizes: list[int], folder: Path) -> list[dict[str, object]]:
    rows = []
    for legs in sizes:
        csv = simulate(legs, folder)
        work = folder / f"work-{legs}"
        books = work / "books"
        work.mkdir(exist_ok=True)
        measure([PYTHON, "-c", BASELINE, str(csv)], work / "baseline.txt")
        optimum = int((work / "baseline.txt").read_text())
        commands = {
            "book": [*ROUNDTRIP, "book", str(csv), "--out", str(books)],
            "check": [*ROUNDTRIP, "check", str(books)],
            "net-books": [*ROUNDTRIP, "net", str(books), "--format", "json"],
        }
        for name, argv in commands.items():
            output = work / f"{name}.out"
            seconds, cpu, mib, code = measure(argv, output)
            check = ""
            if name == "net-books" and code == 0:
                total = json.loads(output.read_text())["total_circular"]
                exact = total == f"{optimum // 100}.{optimum % 100:02d}"
                check = "exact" if exact else f"DIFFERS ({total} vs {optimum} cents)"
            rows.append(
                {
                    "legs": legs,
                    "command": name,
                    "seconds": seconds,
                    "cpu": cpu,
                    "us_per_leg": seconds / legs * 1e6,
                    "peak_MiB": mib,
                    "exit": code,
                    "check": check,
                }
            )
        shutil.rmtree(work, ignore_errors=True)
    return rows


def _targets(rows: list[dict[str, object]]) -> list[str]:
    lines = []
    for row in rows:
        limit = TARGETS.get((row["legs"], row["command"]))
        if limit is not None:
            ok = row["exit"] == 0 and row["seconds"] <= limit
            lines.append(
                f"{row['command']} {row['legs']:,} legs: {row['seconds']:.1f} s "
                f"(target <= {limit:.0f} s): {'met' if ok else 'NOT met'}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--keep", type=Path, help="keep the webs in this folder")
    args = parser.parse_args()
    with scratch(args.keep) as folder:
        rows = bench(args.sizes, folder)
    head = ("legs", "command", "seconds", "cpu_s", "us/leg", "peak_MiB")
    print("{:>9}  {:<10} {:>8} {:>8} {:>7} {:>9}  check".format(*head))
    print(f"{'-' * 9}  {'-' * 10} {'-' * 8} {'-' * 8} {'-' * 7} {'-' * 9}  {'-' * 5}")
    for row in rows:
        status = row["check"] if row["exit"] == 0 else f"exit {row['exit']}"
        print(
            f"{row['legs']:>9,}  {row['command']:<10} {row['seconds']:>8.1f} {row['cpu']:>8.1f} "
            f"{row['us_per_leg']:>7.0f} {row['peak_MiB']:>9,.0f}  {status}"
        )
    for line in _targets(rows):
        print(line)


if __name__ == "__main__":
    main()
