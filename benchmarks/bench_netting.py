"""Benchmark of the netting engine on synthetic power-law webs (a script, not a test).

Usage::

    /work/venv/bin/python benchmarks/bench_netting.py            # 1k, 10k, 100k, 1M legs
    /work/venv/bin/python benchmarks/bench_netting.py 100000     # chosen sizes only
    /work/venv/bin/python benchmarks/bench_netting.py --methods max 1000000
    /work/venv/bin/python benchmarks/bench_netting.py --pro-rata-max 3000   # skip slow pro-rata

Webs come from :func:`ledger.simulate.synthetic_web` (seeded, Zipf-like company activity, 20%
financing legs, 5% of legs from ``External``) over ``legs / 100`` companies (at least 50), so
1M legs fall over 10k companies. Each web is written once as a legs CSV; then every (size,
method) runs in a fresh subprocess that reads the CSV (:func:`ledger.legs_csv.read_legs_frame`),
builds the flow graph and nets it, so that the peak resident memory (``ru_maxrss``) is that
run's own: reading, building and netting, not generating. :func:`ledger.netting.verify` runs
after the peak is taken and is reported apart (it is a checker, not part of netting).

Stages (seconds): ``read`` the CSV, ``build`` the graph, then the netting stages of
``NettingResult.timings``: ``solve`` (max: OR-Tools min-cost circulation; pro-rata: the
whole provenance solve), ``split`` (max: the canonical split), ``witness`` (max: cycle
witnesses); ``net`` is all of netting, ``total`` is read + build + net.

Pro-rata is dense: O(n**3) time and two n x n float arrays of memory in ``n``, the size of
the largest strongly connected component (one dense LU and inverse, see
:func:`ledger.circulation.pro_rata`); at 1M legs n is 9,998 (about 25 s, 2 GiB). It runs only
when ``n`` is at most ``--pro-rata-max`` (default 10,000); above that the table says it was
skipped and why.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (1_000, 10_000, 100_000, 1_000_000)
METHODS = ("max", "pro-rata")
TARGET_LEGS = 1_000_000
TARGET_SECONDS = 30.0
TARGET_MIB = 4 * 1024

COLUMNS = (
    ("legs", ">9"),
    ("companies", ">9"),
    ("edges", ">7"),
    ("method", "<8"),
    ("read", ">6"),
    ("build", ">6"),
    ("solve", ">6"),
    ("split", ">6"),
    ("witness", ">7"),
    ("net", ">6"),
    ("total", ">6"),
    ("peak_MiB", ">8"),
    ("verify", ">6"),
    ("ok", "<4"),
    ("total_circular", ">18"),
)


def companies_for(legs: int) -> int:
    return max(50, legs // 100)


def peak_mib() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run_one(csv_path: Path, method: str, pro_rata_max: int, check: bool) -> dict[str, object]:
    """Read, build and net one web in this process; the figures of the run."""
    import numpy as np

    from ledger.circulation import scc_labels
    from ledger.flows import build_flow_graph
    from ledger.legs_csv import read_legs_frame
    from ledger.netting import net, verify

    row: dict[str, object] = {"method": method}
    clock = time.perf_counter()
    frame = read_legs_frame(csv_path)
    row["read"] = time.perf_counter() - clock
    row["legs"] = len(frame)
    clock = time.perf_counter()
    graph = build_flow_graph(frame)
    row["build"] = time.perf_counter() - clock
    del frame
    row["companies"] = len(graph.companies())
    row["edges"] = graph.n_edges
    if method == "pro-rata":
        ext = graph.external
        keep = np.ones(graph.n_edges, dtype=bool)
        if ext is not None:
            keep = (graph.src != ext) & (graph.dst != ext)
        labels = scc_labels(len(graph.nodes), graph.src[keep], graph.dst[keep])
        largest = int(np.bincount(labels).max()) if len(labels) else 0
        if largest > pro_rata_max:
            row["skipped"] = (
                f"pro-rata skipped at {row['legs']:,} legs: it is dense O(n^3) time, O(n^2) "
                f"memory in the largest strongly connected component, here n = {largest:,} "
                f"companies > --pro-rata-max {pro_rata_max:,}"
            )
            row["peak_MiB"] = peak_mib()
            return row
    clock = time.perf_counter()
    result = net(graph, method)
    row["net"] = time.perf_counter() - clock
    row["peak_MiB"] = peak_mib()
    stages = dict(result.timings)
    row["solve"] = stages.get("solve")
    row["split"] = stages.get("split")
    row["witness"] = stages.get("witnesses")
    row["total"] = row["read"] + row["build"] + row["net"]  # type: ignore[operator]
    row["cycles"] = len(result.witnesses)
    row["total_circular"] = str(result.total_circular)
    if check:
        clock = time.perf_counter()
        problems = verify(result)
        row["verify"] = time.perf_counter() - clock
        row["ok"] = "yes" if not problems else f"NO ({len(problems)})"
        row["problems"] = problems[:5]
    return row


def cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_row(row: dict[str, object]) -> None:
    print("  ".join(f"{cell(row.get(name)):{spec}}" for name, spec in COLUMNS), flush=True)


def print_header() -> None:
    print("  ".join(f"{name:{spec}}" for name, spec in COLUMNS))
    print("  ".join("-" * int(spec[1:]) for _, spec in COLUMNS), flush=True)


def child(csv_path: Path, method: str, pro_rata_max: int, check: bool) -> dict[str, object]:
    command = [sys.executable, __file__, "--one", str(csv_path), "--methods", method]
    command += ["--pro-rata-max", str(pro_rata_max)]
    if not check:
        command.append("--no-verify")
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        return {"method": method, "error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "sizes", nargs="*", type=int, default=list(SIZES), help="legs per web (default: 1k-1M)"
    )
    parser.add_argument(
        "--methods",
        default=",".join(METHODS),
        help="comma-separated netting methods (default: max,pro-rata)",
    )
    parser.add_argument(
        "--pro-rata-max",
        type=int,
        default=10_000,
        help="largest strongly connected component (companies) pro-rata runs on (default 10000)",
    )
    parser.add_argument("--no-verify", action="store_true", help="skip ledger.netting.verify")
    parser.add_argument("--json", action="store_true", help="print one JSON object per run")
    parser.add_argument("--seed", type=int, default=0, help="web seed (default 0)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if args.one is not None:
        print(json.dumps(run_one(args.one, methods[0], args.pro_rata_max, not args.no_verify)))
        return

    from ledger.simulate import synthetic_web, write_web_csv

    if not args.json:
        print_header()
    notes: list[str] = []
    verdicts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench_netting_") as tmp:
        for legs in args.sizes:
            csv_path = Path(tmp) / f"web_{legs}.csv"
            write_web_csv(synthetic_web(companies_for(legs), legs, seed=args.seed), csv_path)
            for method in methods:
                row = child(csv_path, method, args.pro_rata_max, not args.no_verify)
                if args.json:
                    print(json.dumps(row), flush=True)
                    continue
                if "error" in row:
                    notes.append(f"{legs:,} legs, {method}: FAILED: {row['error']}")
                    continue
                if "skipped" in row:
                    row["total_circular"] = "skipped (note)"
                    notes.append(str(row["skipped"]))
                print_row(row)
                if row.get("problems"):
                    notes.append(f"{legs:,} legs, {method}: verify says {row['problems']}")
                if legs == TARGET_LEGS and "net" in row:
                    met = row["total"] < TARGET_SECONDS and row["peak_MiB"] < TARGET_MIB
                    verdicts.append(
                        f"target (1M legs over 10k companies: read+build+net < {TARGET_SECONDS:.0f}"
                        f" s and peak < 4 GiB), {method}: {row['total']:.1f} s, "
                        f"{row['peak_MiB']:,} MiB -> {'MET' if met else 'MISSED'}"
                    )
            csv_path.unlink()
    if args.json:
        return
    print()
    print("Seconds per stage; peak_MiB is the run's peak RSS before verify; verify apart.")
    for line in notes + verdicts:
        print(line)


if __name__ == "__main__":
    main()
