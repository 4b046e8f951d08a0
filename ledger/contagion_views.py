"""Contagion results -> sheets: a failure's losses, its clearing, rounds, and the ranking.

Built from :meth:`ledger.contagion.ContagionReport.to_json_dict` and
:meth:`ledger.contagion.SystemicRanking.to_json_dict` (so a saved JSON report gives the same
tables), each stating the scenario's conventions (:mod:`ledger.conventions`). Cells come from
:mod:`ledger.audit_cells`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledger.audit_cells import (
    UNIT,
    amount_cell,
    booked_baseline,
    conventions_note,
    cut_text,
    decimal_cell,
    estimated_deals_note,
    margin_loss,
    pct_cell,
    ratio_cell,
    total_of,
)
from ledger.model import EXTERNAL
from ledger.render import Sheet
from ledger.views import period_text

__all__ = ["contagion_sheets", "ranking_sheet", "scenario_title"]


def scenario_title(data: dict[str, Any]) -> str:
    """``What if X fails`` or ``What if X cuts its spending by 30%``."""
    company, cut = data["failed"], Decimal(data["cut"])
    if cut == 1:
        return f"What if {company} fails"
    return f"What if {company} cuts its spending by {cut_text(data['cut'])}"


def _default_cell(row: dict[str, Any]) -> str:
    if row["default_round"] == 0:
        return "fails"
    if row["default_round"] is not None:
        return f"round {row['default_round']}"
    return "baseline" if row["defaulted_at_baseline"] else ""


def _loss_sheet(data: dict[str, Any]) -> Sheet:
    failed = data["failed"]
    shown = [
        r
        for r in data["losses"]
        if Decimal(r["total_loss"]) > 0
        or r["default_round"] is not None
        or r["defaulted_at_baseline"]
        or r["company"] == failed
    ]
    spared = sorted(r["company"] for r in data["losses"] if r not in shown)

    def line(r: dict[str, Any]) -> tuple[str, ...]:
        return (
            r["company"],
            amount_cell(r["lost_revenue"]),
            amount_cell(r["unpaid_obligations"]),
            amount_cell(r["written_down_equity"]),
            amount_cell(r["total_loss"]),
            pct_cell(r["loss_share_of_revenue"]),
            pct_cell(r["loss_share_of_equity"]),
            "" if r["revenue_round"] is None else str(r["revenue_round"]),
            _default_cell(r),
        )

    # The failed company stands apart, below the total of those it harms.
    rows = [line(r) for r in shown if r["company"] != failed]
    others = [r for r in data["losses"] if r["company"] != failed]
    rows.append(
        (
            "total (others)",
            decimal_cell(total_of([r["lost_revenue"] for r in others])),
            decimal_cell(total_of([r["unpaid_obligations"] for r in others])),
            decimal_cell(total_of([r["written_down_equity"] for r in others])),
            amount_cell(data["loss_to_others"]),
            "",
            "",
            "",
            "",
        )
    )
    rows += [line(r) for r in shown if r["company"] == failed]
    if Decimal(data["external_loss"]):
        rows.append(
            (
                f"{EXTERNAL} (outsiders)",
                "",
                "",
                "",
                amount_cell(data["external_loss"]),
                "",
                "",
                "",
                "",
            )
        )
    columns = (
        "company",
        "lost revenue",
        "unpaid obligations",
        "written-down equity",
        "total loss",
        "of revenue",
        "of equity",
        "hit round",
        "defaults",
    )
    cut = Decimal(data["cut"])
    action = (
        f"{failed} pays nothing it owes and buys nothing"
        if cut == 1
        else f"{failed} pays and buys {cut_text(data['cut'])} less"
    )
    booked, margin = booked_baseline(data), margin_loss(data)
    baseline = (
        "the web as booked, where every company (the failing one too) pays what falls due from "
        "its own means, and losses are scenario minus baseline"
        if booked
        else f"a baseline where {failed} pays and buys all as booked"
    )
    kept = " (at its margin under the loss convention)" if margin else ""
    notes = [
        *conventions_note(data),
        f"{action}; the others lose, against {baseline}, through three channels:",
        f"lost revenue: its vendors lose the sales{kept} and spend less in proportion, round "
        f"after round (hit round 1 = a direct vendor of {failed});",
        f"unpaid obligations: what falls due ({data['basis']} basis: legs not yet realized, and "
        "loans outstanding) is cleared by Eisenberg-Noe: each company pays in full or all it "
        f"has, pro rata; a supplier of goods or services loses what it is not paid{kept};",
        f"written-down equity: stakes (equity, warrants) in {failed} and in every company that "
        "defaults.",
        "of revenue, of equity: the loss as a share of its realized revenue in the period and "
        "of the equity its book shows as issued. defaults: in which round (below); "
        f"baseline = cannot pay in full even when nobody fails (not blamed on {failed}).",
    ]
    unbooked = [
        r["company"]
        for r in data["losses"]
        if r.get("equity_mostly_unbooked") and r["loss_share_of_equity"] and r in shown
    ]
    if unbooked:
        notes.append(
            f"Mostly unbooked equity: {', '.join(unbooked)} — the equity booked funds less than "
            "half of the cash and equipment its book holds, so 'of equity' measures against a "
            "small part of its real equity."
        )
    if spared:
        notes.append(f"Nobody else loses anything: {', '.join(spared)}.")
    notes.append(
        f"Basis: {data['basis']}; period: {period_text(data['period'])}; clearing: "
        f"{data['clearing_rounds']} round{'s' if data['clearing_rounds'] != 1 else ''}, "
        + ("exact arithmetic." if data["exact"] else "float64 arithmetic.")
    )
    notes.extend(estimated_deals_note(data["estimated_deals"]))
    return Sheet(
        title=f"{scenario_title(data)}? Loss per company",
        columns=columns,
        rows=tuple(rows),
        numeric=frozenset(columns[1:-1]),
        notes=tuple(notes),
    )


def _clearing_cell(row: dict[str, Any], failed: str, cut: str) -> str:
    if row["company"] == failed:
        return ("fails" if Decimal(cut) == 1 else "cuts") if row["defaults"] else ""
    if row["baseline"]["defaults"]:
        return "baseline"
    return "yes" if row["defaults"] else ""


def _clearing_sheet(data: dict[str, Any]) -> Sheet | None:
    """The Eisenberg–Noe clearing vector behind the unpaid obligations, baseline and scenario.

    ``None`` for a contract saved before the clearing rows existed.
    """
    clearing = data.get("clearing")
    if clearing is None:
        return None
    failed = data["failed"]
    # Means from the books are worth seeing beside what each debtor owes (new contracts only).
    books = (data.get("conventions") or {}).get("means") == "books"
    means = {r["company"]: r.get("means") for r in data["losses"]}

    def has(r: dict[str, Any]) -> tuple[str, ...]:
        return (amount_cell(means.get(r["company"])),) if books else ()

    rows = [
        (
            r["company"],
            amount_cell(r["obligations"]),
            *has(r),
            amount_cell(r["baseline"]["paid"]),
            ratio_cell(r["baseline"]["ratio"]),
            amount_cell(r["paid"]),
            amount_cell(r["shortfall"]),
            ratio_cell(r["ratio"]),
            _clearing_cell(r, failed, data["cut"]),
        )
        for r in clearing
    ]
    if rows:
        rows.append(
            (
                "total",
                decimal_cell(total_of([r["obligations"] for r in clearing])),
                *(("",) if books else ()),
                decimal_cell(total_of([r["baseline"]["paid"] for r in clearing])),
                "",
                decimal_cell(total_of([r["paid"] for r in clearing])),
                decimal_cell(total_of([r["shortfall"] for r in clearing])),
                "",
                "",
            )
        )
    else:
        rows.append(("nobody owes anything", *("" for _ in range(7 + books))))
    cut = Decimal(data["cut"])
    given = "nothing" if cut == 1 else cut_text(str(1 - cut))
    if booked_baseline(data):
        worlds = (
            f"Baseline: the web as booked (nobody fails; {failed} too pays what it can from its "
            f"own means); scenario: {failed} pays "
            + ("nothing" if cut == 1 else f"at most {given}")
            + " of what it owes. defaults: pays less than all it owes (baseline = even when "
            "nobody fails)."
        )
    else:
        worlds = (
            f"Baseline: nobody fails ({failed} pays all it owes); scenario: {failed} pays "
            f"{given} of what it owes, whatever it has. defaults: pays less than all it owes "
            "(baseline = even when nobody fails)."
        )
    columns = (
        "company",
        "owes (p̄)",
        *(("means (e)",) if books else ()),
        "pays at baseline",
        "baseline ratio",
        "pays (p)",
        "shortfall",
        "ratio p/p̄",
        "defaults",
    )
    return Sheet(
        title="Eisenberg–Noe clearing (what each debtor pays)",
        columns=columns,
        rows=tuple(rows),
        numeric=frozenset(columns[1:-1]),
        notes=(
            "Eisenberg–Noe (2001): each company pays its creditors pro rata the lesser of all it "
            "owes (p̄) and all it has (outside assets + what its own debtors pay it); the clearing "
            "vector p is the greatest such payment vector. ratio = p/p̄ (1 = pays in full).",
            worlds,
            *(
                (
                    "means (e): what the company's book holds at the scenario date (cash and "
                    "equipment, never below zero) plus what outsiders owe it within the horizon.",
                )
                if books
                else ()
            ),
            *conventions_note(data),
        ),
    )


def _rounds_sheet(data: dict[str, Any]) -> Sheet:
    failed = data["failed"]
    rows = []
    for entry in data["defaults"]:
        found, names = entry["round"], ", ".join(entry["companies"])
        if found == 0:
            meaning = "fails: stops paying and buying"
        elif found == 1:
            stops = "stops paying" if Decimal(data["cut"]) == 1 else "pays less"
            meaning = f"cannot pay all it owes once {failed} {stops}"
        else:
            meaning = f"cannot pay all it owes once the round {found - 1} defaulters pay less"
        rows.append((str(found), names, meaning))
    if not any(entry["round"] > 0 for entry in data["defaults"]):
        rows.append(("", "nobody", f"no other company defaults because of {failed}"))
    notes = []
    if data["baseline_defaults"]:
        who = ", ".join(data["baseline_defaults"])
        when = "even when nobody fails" if booked_baseline(data) else f"even when {failed} pays"
        notes.append(f"{who} cannot pay all it owes {when} (a baseline default): not counted here.")
    notes.append("A company defaults when it cannot pay its obligations in full (Eisenberg-Noe).")
    return Sheet(
        title="Rounds of defaults",
        columns=("round", "companies", "why"),
        rows=tuple(rows),
        numeric=frozenset({"round"}),
        notes=tuple(notes),
    )


def contagion_sheets(data: dict[str, Any]) -> list[Sheet]:
    """The sheets of a failure, from :meth:`ContagionReport.to_json_dict`.

    Losses, the clearing vector (left out for a contract saved before it existed), rounds, and
    what the loss rests on when it was measured.
    """
    from ledger.sensitivity_views import sensitivity_sheets

    clearing = _clearing_sheet(data)
    return [
        _loss_sheet(data),
        *([clearing] if clearing else []),
        _rounds_sheet(data),
        *sensitivity_sheets(data.get("sensitivity"), UNIT.get()),
    ]


def ranking_sheet(data: dict[str, Any]) -> Sheet:
    """The systemic ranking, from :meth:`SystemicRanking.to_json_dict`."""
    rows = tuple(
        (
            str(k),
            r["company"],
            amount_cell(r["loss_to_others"]),
            str(r["defaults_caused"]),
            amount_cell(r["external_loss"]),
        )
        for k, r in enumerate(data["ranking"], start=1)
    )
    columns = ("rank", "company", "loss to others", "defaults caused", "loss to outsiders")
    baseline = data.get("baseline_defaults")
    consistent = (
        ()
        if baseline is None
        else (
            "Every failure is measured against the same baseline, the web as booked: "
            + (
                f"{len(baseline)} compan{'y' if len(baseline) == 1 else 'ies'} already "
                f"default{'s' if len(baseline) == 1 else ''} there ({', '.join(baseline)}), "
                "and no failure is blamed for that."
                if baseline
                else "nobody defaults there."
            ),
        )
    )
    return Sheet(
        title=f"Systemic impact: what each company's failure costs the others ({data['basis']})",
        columns=columns,
        rows=rows,
        numeric=frozenset({"rank", "loss to others", "defaults caused", "loss to outsiders"}),
        notes=(
            "Each company fails alone (pays nothing it owes, buys nothing); loss to others = the "
            "other web companies' lost revenue + unpaid obligations + written-down equity.",
            "defaults caused: companies that default because of it (not those that would "
            f"anyway). Basis: {data['basis']}; period: {period_text(data['period'])}.",
            *consistent,
            *conventions_note(data),
        ),
    )
