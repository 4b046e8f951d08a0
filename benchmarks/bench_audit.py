"""Benchmark of the systemic ranking: ``roundtrip audit --all`` on a synthetic web.

Usage::

    .venv/bin/python benchmarks/bench_audit.py                 # 2,000 companies, 20k legs
    .venv/bin/python benchmarks/bench_audit.py 500 5000        # companies legs

A seeded ``roundtrip simulate`` web, written once as a legs CSV, is ranked by the CLI in a fresh
process (``--all --format json``: every company fails alone against the one baseline of the web
as booked, under the default conventions), timed from start to exit, with the peak resident
memory of that process. The ranking is checked for what it must say: one row per company,
sorted by loss to the others, and the baseline's defaults listed.

Target (issue 14): at most 30 s for 2,000 companies and 20,000 legs.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 30.0


def main(companies: int = 2_000, legs: int = 20_000) -> int:
    """Run the benchmark, print its figures; exit status 1 when the target is missed."""
    from ledger.simulate import synthetic_web, write_web_csv

    with tempfile.TemporaryDirectory() as scratch:
        web = Path(scratch) / "web.csv"
        write_web_csv(synthetic_web(companies, legs, seed=0), web)
        out = Path(scratch) / "ranking.json"
        argv = [sys.executable, "-c", "from ledger.entry import main; main()"]
        argv += ["audit", str(web), "--all", "--format", "json", "--out", str(out)]
        start = time.perf_counter()
        pid = os.spawnv(os.P_NOWAIT, sys.executable, argv)
        _, status, usage = os.wait4(pid, 0)
        seconds = time.perf_counter() - start
        if status != 0:
            print(f"audit --all failed with status {status}")
            return 1
        ranking = json.loads(out.read_text(encoding="utf-8"))["ranking"]
    rows = ranking["ranking"]
    losses = [float(r["loss_to_others"]) for r in rows]
    assert losses == sorted(losses, reverse=True), "ranking is not sorted"
    assert ranking["baseline_defaults"] is not None
    ranked = len(rows)
    print(
        f"audit --all: {companies:,} companies, {legs:,} legs: {seconds:.1f} s, "
        f"{usage.ru_maxrss / 1024:.0f} MiB peak; {ranked:,} companies ranked, "
        f"{len(ranking['baseline_defaults']):,} default in the baseline; "
        f"target <= {TARGET_SECONDS:.0f} s: {'met' if seconds <= TARGET_SECONDS else 'MISSED'}"
    )
    return 0 if seconds <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:3]]
    sys.exit(main(*sizes))
