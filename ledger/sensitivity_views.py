"""Sensitivity -> sheets: what a headline rests on, and what each edge's dollars explain.

Built from :meth:`ledger.sensitivity.Sensitivity.to_json_dict`, so a saved JSON report gives
the same tables; every text format (terminal, Markdown, CSV, HTML) renders these sheets.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledger.render import Sheet, Unit, money
from ledger.units import amount_text

__all__ = ["sensitivity_sheets"]


def _amount(text: str | None, unit: Unit) -> Any:
    return money(None if text is None else Decimal(text), unit=unit)


def _removal_sheet(data: dict[str, Any], unit: Unit) -> Sheet:
    names = [h["company"] for h in data["headline"]]
    columns = (
        "removed",
        "what",
        "amount",
        f"{data['figure']} without",
        "change",
        *(f"{name} change" for name in names),
    )
    rows = tuple(
        (
            r["label"],
            "estimated leg"
            if r["removed"] == "estimate"
            else "deal (estimated)"
            if r["estimated"]
            else "deal",
            _amount(r["amount"], unit),
            _amount(r["total"], unit),
            _amount(r["change"], unit),
            *(_amount(c["change"], unit) for c in r["companies"]),
        )
        for r in data["removals"]
    )
    # Prose names its unit (the table's when the user gave one), so it reads the same whatever
    # unit the renderer picks for the table: 140.00 stays 140.00, 153.55 B stays 153.55 B.
    total = amount_text(Decimal(data["total"]), unit)
    moves = [f"{r['label']} ({amount_text(Decimal(r['change']), unit)})" for r in data["rests_on"]]
    which = "it" if len(moves) == 1 else "any one of them"
    rests = (
        f"The headline rests on {', '.join(moves)}: remove {which} and it moves by a tenth or more."
        if moves
        else "No single estimate or deal tried moves the headline by a tenth or more."
    )
    return Sheet(
        title=f"What the headline rests on: {data['figure']} without each estimate and deal",
        columns=columns,
        rows=rows or (("nothing to remove", "", "", "", "", *("" for _ in names)),),
        numeric=frozenset(columns[2:]),
        notes=(
            f"{data['figure'].capitalize()}: {total} with everything. Each row solves it again "
            f"without one of the {data['top']} largest estimated legs (deal#leg) or one of the "
            f"{data['top']} largest deals (all its legs that count; legs with External are not "
            "tried); change = without - with, also for the companies with the largest figures.",
            rests,
        ),
    )


def _edge_sheet(data: dict[str, Any], unit: Unit) -> Sheet | None:
    if not data["edges"]:
        return None
    columns = ("edge", "amount", "circulating", "+$1 explains", "-$1 takes")
    rows = tuple(
        (
            f"{e['payer']} -{e['kind']}-> {e['payee']}",
            _amount(e["amount"], unit),
            _amount(e["flow"], unit),
            f"${e['gain_per_dollar']}",
            f"${e['loss_per_dollar']}",
        )
        for e in data["edges"]
    )
    return Sheet(
        title="Marginal value of each edge (the LP's dual, exact)",
        columns=columns,
        rows=rows,
        numeric=frozenset(columns[1:]),
        notes=(
            "For the edges that carry the most circulating money: how much circular revenue one "
            "more dollar on the edge would explain (+$1), and how much one dollar less would "
            "take away (-$1), from the maximum circulation solved again with the edge moved by "
            "one cent (exact: the optimum is piecewise linear with breakpoints at whole cents). "
            "$0 on +$1: the edge is not the bottleneck; $2: each dollar is revenue twice.",
        ),
    )


def sensitivity_sheets(data: dict[str, Any] | None, unit: Unit = Unit.ONE) -> list[Sheet]:
    """The sensitivity sheets (none when it was not computed)."""
    if not data:
        return []
    edges = _edge_sheet(data, unit)
    return [_removal_sheet(data, unit), *([edges] if edges else [])]
