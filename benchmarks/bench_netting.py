"""Benchmark of the netting engine on synthetic power-law webs (a script, not a test).

Usage::

    /work/venv/bin/python benchmarks/bench_netting.py            # 1k, 10k, 100k, 1M legs
    /work/venv/bin/python benchmarks/bench_netting.py 100000     # chosen sizes only
    /work/venv/bin/python benchmarks/bench_netting.py --pro-rata-max 12000 1000000

Webs come from :func:`ledger.simulate.synthetic_web` (seeded numpy ``default_rng``, Zipf-like
company activity, 20% financing legs, 5% of legs from ``External``). Companies: ``legs / 100``
(at least 50), i.e. 1M legs over 10k companies. Each size runs in a fresh subprocess so that
peak memory (``ru_maxrss``) is per size. Pro-rata is O(n**3) in the largest strongly connected
component (a dense inverse and product), so it runs only up to ``--pro-rata-max`` companies
(default 3,000).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

SIZES = (1_000, 10_000, 100_000, 1_000_000)


def companies_for(legs: int) -> int:
    return max(50, legs // 100)


def run_one(legs: int, pro_rata_max: int) -> dict[str, object]:
    from ledger.flows import build_flow_graph
    from ledger.netting import net, verify
    from ledger.simulate import synthetic_web

    companies = companies_for(legs)
    frame = synthetic_web(companies, legs, seed=0)
    clock = time.perf_counter()
    graph = build_flow_graph(frame)
    built = time.perf_counter() - clock
    clock = time.perf_counter()
    result = net(graph)
    net_max = time.perf_counter() - clock
    clock = time.perf_counter()
    problems = verify(result)
    verified = time.perf_counter() - clock
    row: dict[str, object] = {
        "legs": legs,
        "companies": companies,
        "edges": graph.n_edges,
        "build_s": round(built, 2),
        "max_s": round(net_max, 2),
        **{f"max_{name}_s": round(seconds, 2) for name, seconds in result.timings},
        "split": result.split_rule.rsplit(";", 1)[-1].strip()[:40],
        "cycles": len(result.cycles),
        "verify_s": round(verified, 2),
        "verify_ok": not problems,
        "total_circular": str(result.total_circular),
    }
    if companies <= pro_rata_max:
        clock = time.perf_counter()
        pro = net(graph, "pro-rata")
        row["pro_rata_s"] = round(time.perf_counter() - clock, 2)
        row["pro_rata_total"] = str(pro.total_circular)
    else:
        row["pro_rata_s"] = "skipped"
    row["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--pro-rata-max", type=int, default=3000)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.sizes[0], args.pro_rata_max)))
        return
    for legs in args.sizes:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                "--pro-rata-max",
                str(args.pro_rata_max),
                str(legs),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print("  ".join(f"{key}={value}" for key, value in row.items()), flush=True)


if __name__ == "__main__":
    main()
