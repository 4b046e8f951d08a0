"""``net --save``: a netting run, its per-company figures and its largest cycles, in the store.

Every save is a run of its own: a random id and the wall-clock time (UTC) in ``created``, so
two saves at once record two runs and the history of a store reads in time order. What was
netted is identified by ``graph_hash``, a SHA-256 of the flow graph (its companies, edges,
amounts, kinds and estimate flags), the period and the basis: the same netting from a CSV, its
Parquet twin or the store has the same hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from ledger.model import Company, to_cents
from ledger.store.load import TableCounts
from ledger.store.schema import CYCLE, RESULT, RUN, require_schema, write_transaction

__all__ = ["NettingSaved", "graph_hash", "save_netting"]


@dataclass(frozen=True, slots=True)
class NettingSaved:
    """What :func:`save_netting` wrote: the run's id and the rows of each table."""

    run_id: str
    company: TableCounts
    run: TableCounts
    results: TableCounts
    cycles: TableCounts

    @property
    def changed(self) -> bool:
        """Whether anything was written (always, for a run with figures)."""
        return any(t.changed for t in (self.company, self.run, self.results, self.cycles))


def _text(value: Any) -> str:
    """An enum's value or a string as it is."""
    return str(getattr(value, "value", value))


def graph_hash(graph: Any) -> str:
    """A SHA-256 of what a flow graph nets: nodes, edges, period and basis."""
    digest = hashlib.sha256()
    period = getattr(graph, "period", None)
    head = [
        list(graph.nodes),
        _text(graph.basis),
        _iso(getattr(period, "start", None)),
        _iso(getattr(period, "end", None)),
    ]
    digest.update(json.dumps(head).encode())
    for name in ("src", "dst", "cents", "kind", "estimated"):
        digest.update(name.encode())
        digest.update(graph.__getattribute__(name).astype("int64").tobytes())
    return digest.hexdigest()


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def save_netting(
    engine: Engine,
    result: Any,
    *,
    source: str = "",
    cycles: int | None = 20,
    now: dt.datetime | None = None,
) -> NettingSaved:
    """Store one netting run: its figures per company and its ``cycles`` largest witnesses.

    ``result`` is a :class:`ledger.netting.NettingResult` (or anything with its attributes).
    Companies the result names are added to the store if missing. One transaction.

    Args:
        engine: from :func:`~ledger.store.schema.engine_for`, with the schema created.
        result: the netting to store.
        source: what was netted, for people (the input path or the store URL).
        cycles: how many witnesses to keep, largest first (None: all of them).
        now: the run's time (default: now, UTC).

    Raises:
        StoreMissing: the schema is absent or older.
    """
    from ledger.store.load import _Writer

    graph = result.graph
    period = getattr(graph, "period", None)
    run_id = uuid.uuid4().hex
    witnesses = list(result.top_cycles(cycles)) if hasattr(result, "top_cycles") else []
    witnessed = getattr(result, "witnesses", None)
    run = {
        "id": run_id,
        "created": now or dt.datetime.now(dt.UTC),
        "source": source,
        "method": _text(result.method),
        "basis": _text(graph.basis),
        "period_start": getattr(period, "start", None),
        "period_end": getattr(period, "end", None),
        "total_circular_cents": to_cents(result.total_circular),
        "split_rule": _text(result.split_rule),
        "graph_hash": graph_hash(graph),
        "exact": bool(getattr(result, "exact", True)),
        "bounds": any(f.circular_min is not None for f in result.companies),
        "cycle_count": None if witnessed is None else len(witnessed),
    }
    results = [_result_row(run_id, figures) for figures in result.companies]
    rows = [
        {
            "run_id": run_id,
            "rank": rank,
            "amount_cents": int(cycle.cents),
            "path": " → ".join(cycle.path),
            "kinds": ",".join(cycle.kinds),
        }
        for rank, cycle in enumerate(witnesses, start=1)
    ]
    names: set[Company] = {row["company"] for row in results}
    with write_transaction(engine) as connection:
        require_schema(connection)
        writer = _Writer(connection, None)
        stored = writer.companies()
        company = writer.add_companies(sorted(names - set(stored)), len(names))
        connection.execute(insert(RUN), [run])
        if results:
            connection.execute(insert(RESULT), results)
        if rows:
            connection.execute(insert(CYCLE), rows)
    return NettingSaved(
        run_id,
        company,
        TableCounts(inserted=1),
        TableCounts(inserted=len(results)),
        TableCounts(inserted=len(rows)),
    )


def _cents(value: Any) -> int | None:
    return None if value is None else to_cents(value)


def _result_row(run_id: str, figures: Any) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "company": figures.company,
        "gross_cents": to_cents(figures.gross),
        "external_cents": to_cents(figures.external),
        "web_cents": to_cents(figures.web),
        "circular_cents": to_cents(figures.circular),
        "organic_cents": to_cents(figures.organic),
        "circular_share_bp": int(figures.circular_share.scaleb(4).to_integral_value()),
        "estimated": bool(figures.estimated),
        "paper_gains_cents": _cents(getattr(figures, "paper_gains", None)),
        "circular_min_cents": _cents(getattr(figures, "circular_min", None)),
        "circular_max_cents": _cents(getattr(figures, "circular_max", None)),
    }
