"""The Python API: read a web, net it, audit it, and get the figures as pandas frames.

The same library calls as the CLI (:mod:`ledger.cli`), with plain arguments::

    import ledger

    web = ledger.read("books/")
    netting = ledger.net(web, method="max", basis="realized", period="2025")
    netting.to_frame()            # one row per company, money in int64 cents
    netting.to_frame(unit="B")    # the same in float64 billions
    netting.data                  # the JSON document of `roundtrip net --format json`

Every result holds its JSON document (``data``: exact decimal strings, docs/outputs.md) and
gives any of its tables (``tables``, as in the CSV output) as a frame with numeric columns:
money in **int64 cents** by default (exact), or float64 in ``unit`` 1, K, M or B; shares as
float64 fractions (0.2793 is 27.93%); dates as datetime64 (:func:`ledger.records.frame`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.model import BadInput, Basis, Period

if TYPE_CHECKING:
    import pandas as pd

    from ledger.inputs import Web
    from ledger.netting import NettingResult

__all__ = ["Audit", "Netting", "Result", "exposure_audit", "net", "read"]


def read(path: str | Path) -> Web:
    """Read a deals file (.yaml), a legs CSV or Parquet, or a books folder.

    Raises:
        BadInput: the input has problems (``error.errors`` lists every one, with file and line).
    """
    from ledger.inputs import read_web

    web = read_web(Path(path))
    if web.errors:
        raise BadInput(web.errors)
    return web


def _web(web: Web | str | Path) -> Web:
    return read(web) if isinstance(web, str | Path) else web


def _period(period: Period | str | None) -> Period:
    return period if isinstance(period, Period) else Period.parse(period)


@dataclass(frozen=True)
class Result:
    """A result as its JSON document, with its tables as frames."""

    document: str
    data: dict[str, Any]
    default_table: str = field(default="", repr=False)

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables this result has rows in, as named in the CSV output."""
        from ledger.records import rows

        return tuple(dict.fromkeys(name for name, _ in rows(self.document, self.data)))

    def to_frame(self, table: str | None = None, unit: str = "cents") -> pd.DataFrame:
        """One table (default: the main one) as a pandas frame with numeric columns.

        ``unit``: ``cents`` (int64, exact) or ``1``, ``K``, ``M``, ``B`` (float64).

        Raises:
            KeyError: no such table, or an unknown unit.
        """
        from ledger.records import frame

        return frame(self.document, self.data, table or self.default_table, unit)


@dataclass(frozen=True)
class Netting(Result):
    """Organic vs circular revenue per company; ``result`` is the engine's own result."""

    result: NettingResult | None = field(default=None, repr=False)

    @property
    def total_circular(self) -> Decimal:
        """The web's circular revenue, exact."""
        return Decimal(self.data["total_circular"])


def net(
    web: Web | str | Path,
    method: str = "max",
    basis: Basis | str = Basis.REALIZED,
    period: Period | str | None = None,
    *,
    bounds: bool = False,
    cycles: int | None = 20,
    sensitivity: int = 0,
) -> Netting:
    """Net out circular revenue (``roundtrip net``); the main table is ``companies``.

    ``method``: ``max`` (the upper bound) or ``pro-rata``; ``period``: ``2025``, ``2025Q3``,
    ``2025-09``, ``A..B`` or a :class:`~ledger.model.Period`; ``cycles``: how many witnesses to
    list, largest first (None: all); ``sensitivity``: what the headline rests on, trying the
    N largest estimates, deals and edges without each (``--sensitivity N``; max only). It is
    0 unless asked, where the CLI's ``auto`` tries 5 on small webs: each try is a netting.

    Raises:
        BadInput: ``web`` is a path whose input has problems.
        ValueError: an unknown method, basis or period; ``bounds`` or ``sensitivity`` without
            ``max``; a negative ``sensitivity``.
        GraphError: the legs used are in more than one currency.
    """
    from ledger.audit import paper_gains
    from ledger.flows import build_flow_graph
    from ledger.netting import Method, to_json_dict
    from ledger.netting import net as run_net

    web, chosen, basis = _web(web), Method(method), Basis(basis)
    if bounds and chosen is not Method.MAX:
        raise ValueError("bounds go with method max (pro-rata is unique)")
    if sensitivity < 0 or (sensitivity and chosen is not Method.MAX):
        raise ValueError("sensitivity is a count >= 0, and goes with method max")
    when = _period(period)
    graph = build_flow_graph(web.frame, when, basis)
    gains = paper_gains(web.grants, web.prices, when, basis)
    result = run_net(graph, chosen, bounds=bounds, paper_gains=gains, edge_flows=False)
    data = to_json_dict(result, cycles)
    if sensitivity:
        from ledger.sensitivity import netting_sensitivity

        rests_on = netting_sensitivity(web.frame, when, basis, result, sensitivity)
        data["sensitivity"] = rests_on.to_json_dict()
    return Netting("net", data, "companies", result)


@dataclass(frozen=True)
class Audit(Result):
    """The parts of an audit that ran: ``exposure``, ``contagion`` (``fail``), ``ranking``."""


def exposure_audit(
    web: Web | str | Path,
    fail: str | None = None,
    cut: float | Fraction | Decimal = 1,
    rank: bool = False,
    basis: Basis | str = Basis.CONTRACTED,
    period: Period | str | None = None,
) -> Audit:
    """The exposure audit (``roundtrip audit``).

    Not named ``audit``: :mod:`ledger.audit` is the engine's module, and a submodule always
    wins the package attribute once imported.

    Without ``fail``: the exposure profile (main table ``exposure.companies``); with ``fail``:
    what that company's failure, or spending ``cut`` in [0, 1], costs the others (main table
    ``contagion.losses``); ``rank``: every company ranked by systemic impact
    (``ranking.ranking``, the main table when it is the only part).

    Raises:
        BadInput: ``web`` is a path whose input has problems, ``fail`` is no company of it, or
            ``cut`` is outside [0, 1].
    """
    from ledger.audit_views import run_audit

    web = _web(web)
    _, data, _ = run_audit(web, _period(period), Basis(basis), fail, cut, rank, layout=False)
    main = next(
        table
        for part, table in (
            ("contagion", "contagion.losses"),
            ("exposure", "exposure.companies"),
            ("ranking", "ranking.ranking"),
        )
        if data[part] is not None
    )
    return Audit("audit", data, main)
