"""Benchmark of what users run: the ``roundtrip`` CLI end to end, beside a bare baseline.

Usage::

    .venv/bin/python benchmarks/bench_cli.py                   # 10k, 100k and 1M legs
    .venv/bin/python benchmarks/bench_cli.py 100000            # chosen sizes only
    .venv/bin/python benchmarks/bench_cli.py --only net-max    # chosen rows of COMMANDS
    .venv/bin/python benchmarks/bench_cli.py --repeat 5        # rounds per size (median)

Each size is a seeded ``roundtrip simulate`` web (``legs / 100`` companies, at least 50),
written once as a legs CSV. Every row of :data:`COMMANDS` then runs in a fresh process, its
output sent to a file, and is timed from start to exit (imports, reading, validation, solving,
writing) with the peak resident memory of that process (``wait4``'s ``ru_maxrss``). Beside the
rows, in the same run, the **baseline** a user could write in a few lines — pandas
``read_csv`` plus OR-Tools ``SimpleMinCostFlow`` with cost -1 on revenue edges (no validation,
no canonical split, no witnesses) — gives the reference time, and each row prints its ratio to
it. For ``net`` (max) the JSON's ``total_circular`` is compared with the baseline's optimum: it
must be equal to the cent.

Each size runs ``--repeat`` rounds (3 unless told), each round the baseline and then every row,
so that a machine whose speed drifts (a shared VM: 30% within an hour here) slows both alike;
the table shows the **median** of the rounds for every row, the baseline's included, and the
ratio is median over median. Peak memory is the largest of the rounds.

Targets (issue 12): ``net`` (max) at 1M legs within 2x the baseline and at most 1.5 GiB, exact;
``net --method pro-rata`` at 1M legs in at most 30 s.

To add rows (``load`` into SQLite or PostgreSQL, ``net --db``): append to :data:`COMMANDS` a
``Command`` whose ``argv`` takes the web's CSV path and a scratch folder; ``setup`` (optional)
runs first, untimed (e.g. a ``load`` before ``net --db``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
#: The console script `roundtrip` (ledger.entry.main), as users run it.
ROUNDTRIP = [PYTHON, "-c", "from ledger.entry import main; main()"]
SIZES = (10_000, 100_000, 1_000_000)
TARGET_LEGS = 1_000_000
TARGET_RATIO = 2.0
TARGET_MIB = 1.5 * 1024
TARGET_PRO_RATA_SECONDS = 30.0

#: The bare baseline: read with pandas, net with OR-Tools, print the optimum in cents.
BASELINE = """
import sys
import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow
legs = pd.read_csv(sys.argv[1])
legs = legs[legs.status == "realized"]
legs["cents"] = (legs.amount * 100).round().astype("int64")
inside = legs[(legs.payer != "External") & (legs.payee != "External")]
edges = inside.groupby(["payer", "payee", "kind"], as_index=False)["cents"].sum()
names = pd.Index(sorted(set(edges.payer) | set(edges.payee)))
revenue = edges.kind.isin(["sale", "cloud", "lease"]).to_numpy()
solver = min_cost_flow.SimpleMinCostFlow()
solver.add_arcs_with_capacity_and_unit_cost(
    names.get_indexer(edges.payer), names.get_indexer(edges.payee),
    edges.cents.to_numpy(), np.where(revenue, -1, 0))
assert solver.solve() == solver.OPTIMAL
flows = solver.flows(np.arange(len(edges)))
print(int(flows[revenue].sum()))
"""


@dataclass(frozen=True)
class Command:
    """One row: a CLI command on the web at ``csv`` (scratch folder ``work``)."""

    name: str
    argv: Callable[[Path, Path], list[str]]
    setup: Callable[[Path, Path], list[str]] | None = None


COMMANDS: list[Command] = [
    Command("net-max", lambda csv, work: [*ROUNDTRIP, "net", str(csv), "--format", "json"]),
    Command(
        "net-pro-rata",
        lambda csv, work: [*ROUNDTRIP, "net", str(csv), "--method", "pro-rata", "-f", "json"],
    ),
    Command("audit", lambda csv, work: [*ROUNDTRIP, "audit", str(csv), "--format", "json"]),
    # The store's rows go here, e.g.:
    # Command("load-sqlite", lambda csv, work: [*ROUNDTRIP, "load", str(csv), "--db",
    #         f"sqlite:///{work / 'store.db'}"]),
    # Command("net-db", lambda csv, work: [*ROUNDTRIP, "net", "--db", ...],
    #         setup=lambda csv, work: [*ROUNDTRIP, "load", str(csv), "--db", ...]),
]


def measure(argv: list[str], output: Path) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system), peak MiB and exit code of one fresh process,
    stdout to ``output``. On a shared machine the wall clock counts other jobs too; the CPU
    time is the process's own work."""
    with output.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 and process.stderr is not None:
        sys.stderr.write(process.stderr.read().decode(errors="replace")[-2000:])
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, process.returncode


def run(argv: list[str], output: Path) -> tuple[float, float, int]:
    """Seconds, peak MiB and exit code of one fresh process, stdout to ``output``."""
    seconds, _, mib, code = measure(argv, output)
    return seconds, mib, code


@contextmanager
def scratch(keep: Path | None) -> Iterator[Path]:
    """The folder for the webs: ``keep`` (left in place), or a temporary one removed after."""
    folder = keep or Path(tempfile.mkdtemp(prefix="roundtrip-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def simulate(legs: int, folder: Path) -> Path:
    """The seeded web of ``legs`` legs as a CSV (written once per size)."""
    path = folder / f"web-{legs}.csv"
    if not path.exists():
        companies = max(50, legs // 100)
        subprocess.run(
            [*ROUNDTRIP, "simulate", "--companies", str(companies), "--legs", str(legs),
             "--seed", "0", "--out", str(path)],
            check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return path


def bench(
    sizes: list[int], only: list[str] | None, folder: Path, repeat: int = 3
) -> list[dict[str, object]]:
    rows = []
    chosen = [c for c in COMMANDS if not only or c.name in only]
    for legs in sizes:
        csv = simulate(legs, folder)
        work = folder / f"work-{legs}"
        work.mkdir(exist_ok=True)
        runs: dict[str, list[tuple[float, float, int, str]]] = {}
        optimum = None
        for _ in range(repeat):
            base_out = work / "baseline.txt"
            base_s, base_mib, code = run([PYTHON, "-c", BASELINE, str(csv)], base_out)
            optimum = int(base_out.read_text()) if code == 0 else None
            runs.setdefault("baseline", []).append((base_s, base_mib, code, ""))
            for command in chosen:
                if command.setup is not None:
                    run(command.setup(csv, work), work / f"{command.name}.setup")
                output = work / f"{command.name}.out"
                seconds, mib, code = run(command.argv(csv, work), output)
                runs.setdefault(command.name, []).append(
                    (seconds, mib, code, _check(command, output, code, optimum))
                )
        base = statistics.median(r[0] for r in runs["baseline"])
        for name, measured in runs.items():
            seconds = statistics.median(r[0] for r in measured)
            mib = max(r[1] for r in measured)
            code = next((r[2] for r in measured if r[2] != 0), 0)
            check = next((r[3] for r in measured if r[3] != "exact"), measured[0][3])
            rows.append(_row(legs, name, seconds, mib, base, code, check))
        shutil.rmtree(work, ignore_errors=True)
    return rows


def _check(command: Command, output: Path, code: int, optimum: int | None) -> str:
    """For ``net`` (max): whether its total is the baseline's optimum to the cent."""
    if command.name != "net-max" or code != 0:
        return ""
    total = json.loads(output.read_text())["total_circular"]
    exact = optimum is not None and total == f"{optimum // 100}.{optimum % 100:02d}"
    return "exact" if exact else f"DIFFERS ({total} vs {optimum} cents)"


def _row(
    legs: int, name: str, seconds: float, mib: float, base: float, code: int, check: str
) -> dict[str, object]:
    return {
        "legs": legs,
        "command": name,
        "seconds": seconds,
        "ratio": seconds / base if base else float("nan"),
        "peak_MiB": mib,
        "exit": code,
        "check": check,
    }


def _targets(rows: list[dict[str, object]]) -> list[str]:
    lines = []
    for row in rows:
        if row["legs"] != TARGET_LEGS:
            continue
        if row["command"] == "net-max":
            ok = (
                row["ratio"] <= TARGET_RATIO
                and row["peak_MiB"] <= TARGET_MIB
                and row["check"] == "exact"
            )
            lines.append(
                f"net (max) 1M legs: {row['ratio']:.2f}x the baseline (target <= {TARGET_RATIO}x), "
                f"{row['peak_MiB']:,.0f} MiB (target <= {TARGET_MIB:,.0f}), {row['check']}: "
                f"{'met' if ok else 'NOT met'}"
            )
        if row["command"] == "net-pro-rata":
            ok = row["seconds"] <= TARGET_PRO_RATA_SECONDS
            lines.append(
                f"net --method pro-rata 1M legs: {row['seconds']:.1f} s (target <= "
                f"{TARGET_PRO_RATA_SECONDS:.0f} s): {'met' if ok else 'NOT met'}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--only", nargs="*", help="names of COMMANDS rows to run")
    parser.add_argument("--keep", type=Path, help="keep the webs in this folder")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per size (median shown)")
    args = parser.parse_args()
    with scratch(args.keep) as folder:
        rows = bench(args.sizes, args.only, folder, max(1, args.repeat))
    print(f"{'legs':>9}  {'command':<13} {'seconds':>8} {'ratio':>6} {'peak_MiB':>9}  check")
    print(f"{'-' * 9}  {'-' * 13} {'-' * 8} {'-' * 6} {'-' * 9}  {'-' * 5}")
    for row in rows:
        status = row["check"] if row["exit"] == 0 else f"exit {row['exit']}"
        print(
            f"{row['legs']:>9,}  {row['command']:<13} {row['seconds']:>8.2f} "
            f"{row['ratio']:>6.2f} {row['peak_MiB']:>9,.0f}  {status}"
        )
    for line in _targets(rows):
        print(line)


if __name__ == "__main__":
    main()
