"""Benchmark of the store as users run it: ``load`` and ``net --db`` on SQLite and PostgreSQL.

Usage::

    .venv/bin/python benchmarks/bench_store.py                 # 10k, 100k and 1M legs
    .venv/bin/python benchmarks/bench_store.py 100000          # chosen sizes only
    ROUNDTRIP_TEST_PG_URL=postgresql+psycopg://me@host/db .venv/bin/python benchmarks/bench_store.py

Each size is the seeded ``roundtrip simulate`` web of :mod:`bench_cli` (``legs / 100``
companies), written once as a legs CSV. Every row runs in a fresh process and is timed from
start to exit with its peak resident memory (as in ``bench_cli``):

- ``baseline``: pandas ``read_csv`` + OR-Tools min-cost flow, the bare netting a user could
  write (the reference of ``bench_cli``);
- ``net-csv``: ``roundtrip net web.csv --format json``;
- ``load-<db>``: ``roundtrip load web.csv`` into an empty store; ``reload-<db>``: the same
  again (nothing changed: every digest compared);
- ``net-db-<db>``: ``roundtrip net --db URL --format json`` on that store (legs aggregated into
  edges in SQL); its JSON must be byte-identical to ``net-csv``'s, and its ratio is to
  ``net-csv``.

PostgreSQL runs in a schema of its own on ``ROUNDTRIP_TEST_PG_URL`` (the tests' URL), dropped
afterwards; its rows are left out, said so, when no server answers.

Targets (issues 12 and 15): ``load`` of 1M legs <= 20 s into SQLite and into PostgreSQL, peak
<= 1.5 GiB; ``net --db`` on that store <= 2x ``net`` on the CSV.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import BASELINE, PYTHON, ROUNDTRIP, _row, run, scratch, simulate  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
TARGET_LEGS = 1_000_000
TARGET_LOAD_SECONDS = 20.0
TARGET_MIB = 1.5 * 1024
TARGET_NET_DB_RATIO = 2.0
PG_URL = os.environ.get("ROUNDTRIP_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


def _pg_schema() -> str | None:
    """A fresh schema on the PostgreSQL test server, or None when none answers."""
    from sqlalchemy import text

    from ledger.store import engine_for

    name = f"rt_bench_{uuid.uuid4().hex[:10]}"
    try:
        engine = engine_for(PG_URL)
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means: no PostgreSQL rows
        print(f"PostgreSQL rows left out: {error}".splitlines()[0], file=sys.stderr)
        return None
    return name


def _drop(schema: str) -> None:
    from sqlalchemy import text

    from ledger.store import engine_for

    engine = engine_for(PG_URL)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def _stores(work: Path) -> list[tuple[str, str, str | None]]:
    """(name, URL, PostgreSQL schema to drop) of each backend."""
    stores: list[tuple[str, str, str | None]] = [("sqlite", f"sqlite:///{work / 'store.db'}", None)]
    schema = _pg_schema()
    if schema is not None:
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
        stores.append(("pg", url, schema))
    return stores


def bench(sizes: list[int], folder: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for legs in sizes:
        csv = simulate(legs, folder)
        work = folder / f"work-{legs}"
        work.mkdir(exist_ok=True)
        base_s, base_mib, _ = run([PYTHON, "-c", BASELINE, str(csv)], work / "baseline.txt")
        rows.append(_row(legs, "baseline", base_s, base_mib, base_s, 0, ""))
        net_out = work / "net.json"
        net_s, net_mib, code = run([*ROUNDTRIP, "net", str(csv), "--format", "json"], net_out)
        rows.append(_row(legs, "net-csv", net_s, net_mib, base_s, code, ""))
        for name, url, schema in _stores(work):
            try:
                for label in ("load", "reload"):
                    seconds, mib, code = run(
                        [*ROUNDTRIP, "load", str(csv), "--db", url], work / f"{label}.txt"
                    )
                    rows.append(_row(legs, f"{label}-{name}", seconds, mib, 0.0, code, ""))
                out = work / f"net-db-{name}.json"
                seconds, mib, code = run([*ROUNDTRIP, "net", "--db", url, "-f", "json"], out)
                same = code == 0 and out.read_bytes() == net_out.read_bytes()
                check = "same JSON" if same else "JSON DIFFERS"
                rows.append(_row(legs, f"net-db-{name}", seconds, mib, net_s, code, check))
            finally:
                if schema is not None:
                    _drop(schema)
        shutil.rmtree(work, ignore_errors=True)
    return rows


def _targets(rows: list[dict[str, object]]) -> list[str]:
    lines = []
    for row in rows:
        if row["legs"] != TARGET_LEGS:
            continue
        name = str(row["command"])
        if name.startswith("load-"):
            ok = row["seconds"] <= TARGET_LOAD_SECONDS and row["peak_MiB"] <= TARGET_MIB
            lines.append(
                f"{name} 1M legs: {row['seconds']:.1f} s (target <= {TARGET_LOAD_SECONDS:.0f} "
                f"s), {row['peak_MiB']:,.0f} MiB (target <= {TARGET_MIB:,.0f}): "
                f"{'met' if ok else 'NOT met'}"
            )
        if name.startswith("net-db-"):
            ok = row["ratio"] <= TARGET_NET_DB_RATIO and row["check"] == "same JSON"
            lines.append(
                f"{name} 1M legs: {row['ratio']:.2f}x net on the CSV (target <= "
                f"{TARGET_NET_DB_RATIO}x), {row['check']}: {'met' if ok else 'NOT met'}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--keep", type=Path, help="keep the webs in this folder")
    args = parser.parse_args()
    with scratch(args.keep) as folder:
        rows = bench(args.sizes, folder)
    print(f"{'legs':>9}  {'command':<14} {'seconds':>8} {'ratio':>6} {'peak_MiB':>9}  check")
    print(f"{'-' * 9}  {'-' * 14} {'-' * 8} {'-' * 6} {'-' * 9}  {'-' * 5}")
    for row in rows:
        status = row["check"] if row["exit"] == 0 else f"exit {row['exit']}"
        ratio = "" if row["ratio"] != row["ratio"] else f"{row['ratio']:.2f}"  # NaN: no ratio
        print(
            f"{row['legs']:>9,}  {row['command']:<14} {row['seconds']:>8.2f} "
            f"{ratio:>6} {row['peak_MiB']:>9,.0f}  {status}"
        )
    for line in _targets(rows):
        print(line)


if __name__ == "__main__":
    main()
