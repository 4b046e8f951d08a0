"""Audit results -> sheets and an HTML page: exposure profiles, a failure, the systemic ranking.

In: a :class:`~ledger.inputs.Web`, a :class:`~ledger.model.Period`, a
:class:`~ledger.model.Basis` and what to run. Out (:func:`run_audit`): the sheets every text
format is made of, the JSON contract, and a callable that renders the HTML report (its charts
are drawn only when it is called). Which parts run:

=====================  ============================================================
arguments              parts (in this order)
=====================  ============================================================
(none)                 exposure profile (:func:`ledger.audit.exposure`)
``rank``               systemic ranking, then the exposure profile
``fail``               contagion report (:func:`ledger.contagion.simulate_failure`)
``fail`` and ``rank``  contagion report, then the systemic ranking
=====================  ============================================================

The JSON contract is ``{"schema_version": …, "exposure": …, "contagion": …, "ranking": …}``,
each part the ``to_json_dict()`` of its result, or ``null`` when it did not run (schema:
``ledger/schemas/audit.schema.json``, docs/outputs.md). As in :mod:`ledger.views`,
every sheet is built from that contract, so a report can be rebuilt from a saved JSON file:
figures come formatted from the contract and are never recomputed here (totals aside).

Tiny example: External pays A 10, A invests 5 in B, B buys 5 from A and has signed to buy 30
more. On the realized basis the profile shows A's revenue at 15, 5 of it (33.3%) from the web;
B's commitment of 30 is ``n/a: no revenue booked`` times its revenue and ``2.00×`` A's. On the
contracted basis ``fail="B"`` shows A losing 40: 5 of lost revenue, 30 unpaid, its stake of 5.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger import charts
from ledger.audit import exposure, simulate_failure, systemic_ranking
from ledger.inputs import Web
from ledger.model import (
    EXTERNAL,
    KIND_CLASS,
    Basis,
    FlowClass,
    Kind,
    Leg,
    Period,
    Status,
    included_in_basis,
)
from ledger.render import Sheet, Unit, money, render_html_page, share
from ledger.schemas import SCHEMA_VERSION
from ledger.units import amount_text
from ledger.views import ESTIMATE_NOTE, context_note, period_text, to_decimal

__all__ = [
    "AuditEdge",
    "Progress",
    "audit_edges",
    "audit_html",
    "commitment_edges",
    "contagion_sheets",
    "exposure_sheets",
    "ranking_sheet",
    "run_audit",
]

#: ``progress(done, total)``: called after each company of a systemic ranking.
Progress = Callable[[int, int], None]

#: ``(payer, payee, amount, label, flag)``: one arrow of a web drawing
#: (:func:`ledger.charts.web_drawing`); flagged arrows are drawn in red with their label.
AuditEdge = tuple[str, str, Decimal, str, bool]

# --------------------------------------------------------------------------------------------
# Cells


#: The display unit of the sheets being built (set by :func:`run_audit` for one call): the
#: sheets read amounts from the JSON contract in many places, and all of them go through here.
_UNIT: ContextVar[Unit] = ContextVar("audit_unit", default=Unit.ONE)


def _money(text: str | None) -> str:
    return _money_d(to_decimal(text))


def _money_d(amount: Decimal | None) -> str:
    return money(amount, unit=_UNIT.get())


def _text(text: str | None) -> str:
    """An amount of the contract in prose, naming its unit (``1,019.90 B``; exact for unit 1)."""
    return amount_text(to_decimal(text), _UNIT.get())


def _pct(text: str | None) -> str:
    return share(to_decimal(text))


#: A multiple whose denominator (the company's revenue) is zero or missing.
NO_REVENUE = "n/a: no revenue booked"


def _times(text: str | None) -> str:
    """A multiple as text: ``275.6×``, ``0.62×`` below 10.

    Below 0.1, two significant digits (``0.0026×`` rather than a misleading ``0.00×``);
    :data:`NO_REVENUE` when there is no denominator.
    """
    if text is None:
        return NO_REVENUE
    value = Decimal(text)
    if 0 < abs(value) < Decimal("0.1"):
        return f"{float(value):.2g}×"
    return f"{value:,.1f}×" if value >= 10 else f"{value:.2f}×"


def _hhi(text: str | None) -> str:
    return "" if text is None else text


def _name(row: dict[str, Any]) -> str:
    return row["company"] + (" *" if row.get("estimated") else "")


def _cut_text(cut: str) -> str:
    """``0.5000`` -> ``50%``."""
    text = f"{Decimal(cut) * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _sum(values: Sequence[str | None]) -> Decimal:
    return sum((Decimal(v) for v in values if v is not None), Decimal(0))


def _estimated_deals_note(deals: Sequence[str]) -> tuple[str, ...]:
    if not deals:
        return ()
    return (
        f"{len(deals)} deal{'s' if len(deals) != 1 else ''} used carry estimated amounts "
        f"(estimate: TRUE): {', '.join(deals)}.",
    )


# --------------------------------------------------------------------------------------------
# Exposure profile


def _concentration_sheet(data: dict[str, Any]) -> Sheet:
    rows = []
    for c in data["companies"]:
        top = next(
            (r for r in c["revenue"]["by_counterparty"] if r["counterparty"] != EXTERNAL), None
        )
        rows.append(
            (
                _name(c),
                _money(c["revenue"]["total"]),
                _money(c["revenue_external"]),
                _money(c["revenue_web"]),
                _pct(c["web_share"]),
                f"{top['counterparty']} ({_pct(top['share'])})" if top else "",
                _hhi(c["revenue"]["hhi"]),
                _hhi(c["web_hhi"]),
            )
        )
    columns = (
        "company",
        "revenue",
        "from External",
        "from the web",
        "web %",
        "top web customer",
        "HHI",
        "web HHI",
    )
    notes = [
        "HHI = Σ share² of revenue by counterparty, 0-1 scale (1 = a single customer; "
        "× 10,000 for antitrust points); External counts as one customer.",
        "web HHI: the same over revenue from web companies only, which a large External "
        "share cannot mask. Top web customer: its share of all revenue.",
        context_note(data),
    ]
    if any(c["estimated"] for c in data["companies"]):
        notes.append(ESTIMATE_NOTE)
    return Sheet(
        title=f"Revenue concentration ({data['basis']})",
        columns=columns,
        rows=tuple(rows),
        numeric=frozenset(columns[1:5]) | {"HHI", "web HHI"},
        notes=tuple(notes),
    )


def _counterparty_sheet(data: dict[str, Any]) -> Sheet:
    rows = []
    for c in data["companies"]:
        for flow, key in (("revenue from", "revenue"), ("funding from", "funding")):
            for r in c[key]["by_counterparty"]:
                rows.append(
                    (c["company"], flow, r["counterparty"], _money(r["amount"]), _pct(r["share"]))
                )
    return Sheet(
        title="Revenue and funding by counterparty",
        columns=("company", "flow", "counterparty", "amount", "share"),
        rows=tuple(rows),
        numeric=frozenset({"amount", "share"}),
        notes=(
            "share: of the company's revenue (sales, cloud, leases) or of its funding "
            "(equity and loans received).",
        ),
    )


def _financing_sheet(data: dict[str, Any]) -> Sheet:
    rows = []
    for c in data["companies"]:
        top = c["funding"]["by_counterparty"][:1]
        rows.append(
            (
                _name(c),
                _money(c["funding"]["total"]),
                f"{top[0]['counterparty']} ({_pct(top[0]['share'])})" if top else "",
                _hhi(c["funding"]["hhi"]),
                _money(c["vendor_financed"]),
                _pct(c["vendor_financed_share"]),
                _money(c["vendor_financed_max"]),
                _money(c["invested_in_customers"]),
            )
        )
    columns = (
        "company",
        "funding",
        "top funder",
        "funding HHI",
        "vendor-financed",
        "% of revenue",
        "vendor-financed max",
        "in own customers",
    )
    return Sheet(
        title="Funding, vendor financing and investments in own customers",
        columns=columns,
        rows=tuple(rows),
        numeric=frozenset(columns[1:2] + columns[3:]),
        notes=(
            "vendor-financed: revenue whose buyer the seller funded, directly or through the "
            "web = the company's pro-rata circular revenue (its own money, followed through the "
            "web in proportion, coming back as its revenue); max: the upper bound (max method).",
            "in own customers: equity and loans it paid to companies that bought from it "
            "in the period.",
        ),
    )


def _vendor_sheet(data: dict[str, Any]) -> Sheet | None:
    rows = tuple(
        (c["company"], r["buyer"], _money(r["financed"]), _money(r["bought"]), _pct(r["share"]))
        for c in data["companies"]
        for r in c["vendor_financed_by_buyer"]
    )
    if not rows:
        return None
    return Sheet(
        title="Vendor-financed sales by buyer (pro-rata)",
        columns=("seller", "buyer", "financed", "bought", "financed %"),
        rows=rows,
        numeric=frozenset({"financed", "bought", "financed %"}),
        notes=("financed: the part of what the buyer bought that was the seller's own money.",),
    )


def _customer_sheet(data: dict[str, Any]) -> Sheet | None:
    rows = tuple(
        (c["company"], r["customer"], _money(r["invested"]), _money(r["bought"]))
        for c in data["companies"]
        for r in c["customer_investments"]
    )
    if not rows:
        return None
    return Sheet(
        title="Investments in own customers",
        columns=("investor", "customer", "invested", "bought from investor"),
        rows=rows,
        numeric=frozenset({"invested", "bought from investor"}),
    )


def _headline_commitment(data: dict[str, Any]) -> str | None:
    ranked = [c for c in data["companies"] if c["commitment_multiple"] is not None]
    if not ranked:
        return None
    top = max(ranked, key=lambda c: (Decimal(c["commitment_multiple"]), c["company"]))
    if Decimal(top["committed_to_pay"]) == 0:
        return None
    committed, revenue = _text(top["committed_to_pay"]), _text(top["revenue"]["total"])
    return (
        f"Largest multiple: {top['company']} has committed to pay {committed}, "
        f"{_times(top['commitment_multiple'])} its revenue of {revenue}."
    )


def _commitment_summary(data: dict[str, Any]) -> Sheet:
    rows = []
    for c in data["companies"]:
        pay = c["commitments_to_pay"]
        rows.append(
            (
                _name(c),
                _money(c["revenue"]["total"]),
                _money_d(_sum([r["contracted"] for r in pay])),
                _money_d(_sum([r["announced"] for r in pay])),
                _money(c["committed_to_pay"]),
                _times(c["commitment_multiple"]),
                _money(c["committed_to_receive"]),
            )
        )
    columns = (
        "company",
        "revenue",
        "to pay: contracted",
        "to pay: announced",
        "to pay: total",
        "× revenue",
        "to receive",
    )
    notes = [
        "Commitments: every leg not yet realized (contracted or announced), whatever its date "
        "(a stock, not a flow of the period); warrants left out, undrawn backstops in.",
        f"× revenue = committed to pay / the company's revenue ({data['basis']} basis); "
        f"{NO_REVENUE} where it has none.",
    ]
    headline = _headline_commitment(data)
    if headline:
        notes.append(headline)
    return Sheet(
        title="Commitments outstanding",
        columns=columns,
        rows=tuple(rows),
        numeric=frozenset(columns[1:]),
        notes=tuple(notes),
    )


def _commitment_detail(data: dict[str, Any]) -> Sheet | None:
    by_company = {c["company"]: c for c in data["companies"]}

    def payee_multiple(payee: str, payer: str) -> str:
        if payee not in by_company:
            return ""
        rows = by_company[payee]["commitments_to_receive"]
        found = next((r for r in rows if r["counterparty"] == payer), None)
        return _times(found["multiple_of_revenue"]) if found else ""

    rows = []
    for c in data["companies"]:
        pairs = [(c["company"], r["counterparty"], r) for r in c["commitments_to_pay"]]
        pairs += [
            (EXTERNAL, c["company"], r)
            for r in c["commitments_to_receive"]
            if r["counterparty"] == EXTERNAL
        ]
        for payer, payee, r in pairs:
            rows.append(
                (
                    payer,
                    payee,
                    _money(r["contracted"]),
                    _money(r["announced"]),
                    _money(r["total"]),
                    _money(r["contingent"]) if Decimal(r["contingent"]) else "",
                    _times(r["multiple_of_revenue"]) if payer != EXTERNAL else "",
                    payee_multiple(payee, payer)
                    if payer != EXTERNAL
                    else _times(r["multiple_of_revenue"]),
                )
            )
    if not rows:
        return None
    columns = (
        "payer",
        "payee",
        "contracted",
        "announced",
        "total",
        "of which backstop",
        "× payer revenue",
        "× payee revenue",
    )
    return Sheet(
        title="Commitments outstanding by counterparty",
        columns=columns,
        rows=tuple(rows),
        numeric=frozenset(columns[2:]),
        notes=("of which backstop: a promise to buy unused capacity, contingent until drawn.",),
    )


def _paper_sheet(data: dict[str, Any]) -> Sheet | None:
    rows = []
    for c in data["companies"]:
        for r in c["paper"]:
            units = f"{Decimal(r['units']):,} {r['commodity']}" if r["units"] else ""
            mark = f"{r['price']} on {r['price_date']}" if r["marked"] else "booked value"
            rows.append(
                (
                    c["company"],
                    r["counterparty"],
                    f"{r['deal']}/{r['leg']}" + (" *" if r["estimate"] else ""),
                    r["kind"],
                    units,
                    mark,
                    _money(r["cost"]),
                    _money(r["value"]),
                    _money(r["gain"]),
                )
            )
    if not rows:
        return None
    companies = data["companies"]
    rows.append(
        (
            "total",
            "",
            "",
            "",
            "",
            "",
            _money_d(_sum([r["cost"] for c in companies for r in c["paper"]])),
            _money_d(_sum([c["paper_value"] for c in companies])),
            _money_d(_sum([c["paper_gain"] for c in companies])),
        )
    )
    columns = ("holder", "from", "deal/leg", "kind", "units", "mark", "cost", "value", "gain")
    return Sheet(
        title="Paper gains (warrants and marked stakes)",
        columns=columns,
        rows=tuple(rows),
        numeric=frozenset({"units", "cost", "value", "gain"}),
        notes=(
            "value = units × the latest price before the end of the period; without units or a "
            "price, the booked value (gain 0). gain = value - cost: on paper, no money moved.",
        ),
    )


def _velocity_sheet(data: dict[str, Any]) -> Sheet:
    v = data["velocity"]
    rows = (
        ("revenue booked inside the web", _money(v["web_revenue"]), "sales between web companies"),
        (
            "new money from External",
            _money(v["new_money"]),
            f"revenue {_text(v['new_money_revenue'])} + financing "
            f"{_text(v['new_money_financing'])}",
        ),
        ("velocity", _hhi(v["velocity"]), "web revenue per dollar of new money"),
        (
            "circular revenue (pro-rata)",
            _money(v["circular_revenue"]),
            "money come back as revenue",
        ),
        ("rounds (pro-rata)", _hhi(v["rounds"]), "times a new dollar came back as revenue"),
        ("circular revenue (max)", _money(v["circular_revenue_max"]), "the upper bound"),
        ("rounds (max)", _hhi(v["rounds_max"]), "rounds on the upper bound"),
    )
    return Sheet(
        title="Velocity of the web",
        columns=("measure", "value", "meaning"),
        rows=rows,
        numeric=frozenset({"value"}),
        notes=(
            "Velocity and rounds are empty when no new money entered (money made inside the "
            "web only).",
            *_estimated_deals_note(data.get("estimated_deals", ())),
        ),
    )


def exposure_sheets(data: dict[str, Any]) -> list[Sheet]:
    """The sheets of an exposure profile, from :meth:`ExposureReport.to_json_dict`.

    Per company: revenue concentration, revenue and funding by counterparty, funding and
    vendor financing, commitments outstanding (a summary, then every commitment by pair), paper
    gains; for the web: its velocity. Detail sheets with no rows are left out.
    """
    sheets: list[Sheet | None] = [
        _concentration_sheet(data),
        _counterparty_sheet(data),
        _financing_sheet(data),
        _vendor_sheet(data),
        _customer_sheet(data),
        _commitment_summary(data),
        _commitment_detail(data),
        _paper_sheet(data),
        _velocity_sheet(data),
    ]
    return [sheet for sheet in sheets if sheet is not None]


# --------------------------------------------------------------------------------------------
# Contagion and ranking


def _scenario(data: dict[str, Any]) -> str:
    company, cut = data["failed"], Decimal(data["cut"])
    if cut == 1:
        return f"What if {company} fails"
    return f"What if {company} cuts its spending by {_cut_text(data['cut'])}"


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
            _money(r["lost_revenue"]),
            _money(r["unpaid_obligations"]),
            _money(r["written_down_equity"]),
            _money(r["total_loss"]),
            _pct(r["loss_share_of_revenue"]),
            _pct(r["loss_share_of_equity"]),
            "" if r["revenue_round"] is None else str(r["revenue_round"]),
            _default_cell(r),
        )

    # The failed company stands apart, below the total of those it harms.
    rows = [line(r) for r in shown if r["company"] != failed]
    others = [r for r in data["losses"] if r["company"] != failed]
    rows.append(
        (
            "total (others)",
            _money_d(_sum([r["lost_revenue"] for r in others])),
            _money_d(_sum([r["unpaid_obligations"] for r in others])),
            _money_d(_sum([r["written_down_equity"] for r in others])),
            _money(data["loss_to_others"]),
            "",
            "",
            "",
            "",
        )
    )
    rows += [line(r) for r in shown if r["company"] == failed]
    if Decimal(data["external_loss"]):
        rows.append(
            (f"{EXTERNAL} (outsiders)", "", "", "", _money(data["external_loss"]), "", "", "", "")
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
        else f"{failed} pays and buys {_cut_text(data['cut'])} less"
    )
    notes = [
        f"{action}; the others lose, against a baseline where {failed} pays and buys all as "
        "booked, through three channels:",
        "lost revenue: its vendors lose the sales and spend less in proportion, round after "
        f"round (hit round 1 = a direct vendor of {failed});",
        f"unpaid obligations: what is owed ({data['basis']} basis: legs not yet realized, and "
        "loans outstanding) is cleared at once by Eisenberg-Noe: each company pays in full or "
        "all it has, pro rata;",
        f"written-down equity: stakes (equity, warrants) in {failed} and in every company that "
        "defaults.",
        "of revenue, of equity: the loss as a share of its realized revenue in the period and "
        "of all equity it has raised (a proxy for its equity). defaults: in which round (below); "
        f"baseline = cannot pay in full even when {failed} pays (not blamed on {failed}).",
    ]
    if spared:
        notes.append(f"Nobody else loses anything: {', '.join(spared)}.")
    notes.append(
        f"Basis: {data['basis']}; period: {period_text(data['period'])}; clearing: "
        f"{data['clearing_rounds']} round{'s' if data['clearing_rounds'] != 1 else ''}, "
        + ("exact arithmetic." if data["exact"] else "float64 arithmetic.")
    )
    notes.extend(_estimated_deals_note(data["estimated_deals"]))
    return Sheet(
        title=f"{_scenario(data)}? Loss per company",
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
    rows = [
        (
            r["company"],
            _money(r["obligations"]),
            _money(r["baseline"]["paid"]),
            _hhi(r["baseline"]["ratio"]),
            _money(r["paid"]),
            _money(r["shortfall"]),
            _hhi(r["ratio"]),
            _clearing_cell(r, failed, data["cut"]),
        )
        for r in clearing
    ]
    if rows:
        rows.append(
            (
                "total",
                _money_d(_sum([r["obligations"] for r in clearing])),
                _money_d(_sum([r["baseline"]["paid"] for r in clearing])),
                "",
                _money_d(_sum([r["paid"] for r in clearing])),
                _money_d(_sum([r["shortfall"] for r in clearing])),
                "",
                "",
            )
        )
    else:
        rows.append(("nobody owes anything", "", "", "", "", "", "", ""))
    cut = Decimal(data["cut"])
    given = "nothing" if cut == 1 else _cut_text(str(1 - cut))
    columns = (
        "company",
        "owes (p̄)",
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
            f"Baseline: nobody fails ({failed} pays all it owes); scenario: {failed} pays "
            f"{given} of what it owes, whatever it has. defaults: pays less than all it owes "
            "(baseline = even when nobody fails).",
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
        notes.append(
            f"{', '.join(data['baseline_defaults'])} cannot pay all it owes even when {failed} "
            "pays (a baseline default): not counted here."
        )
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

    Losses, the clearing vector (left out for a contract saved before it existed), rounds.
    """
    clearing = _clearing_sheet(data)
    return [_loss_sheet(data), *([clearing] if clearing else []), _rounds_sheet(data)]


def ranking_sheet(data: dict[str, Any]) -> Sheet:
    """The systemic ranking, from :meth:`SystemicRanking.to_json_dict`."""
    rows = tuple(
        (
            str(k),
            r["company"],
            _money(r["loss_to_others"]),
            str(r["defaults_caused"]),
            _money(r["external_loss"]),
        )
        for k, r in enumerate(data["ranking"], start=1)
    )
    columns = ("rank", "company", "loss to others", "defaults caused", "loss to outsiders")
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
        ),
    )


# --------------------------------------------------------------------------------------------
# HTML


def _moves_money(kind: Kind) -> bool:
    """Whether a leg of this kind moves (or promises) money.

    A warrant does not; a backstop is a promise to pay, so it does.
    """
    return KIND_CLASS[kind] is not FlowClass.NONCASH or kind is Kind.BACKSTOP


def audit_edges(legs: Sequence[Leg], period: Period, basis: Basis) -> list[AuditEdge]:
    """The web's arrows for the drawing: one per payer, payee and kind.

    Legs of the period under the basis count.
    Amounts of one kind between a payer and a payee are added up (a picture of how tightly they
    are tied, not a figure), labelled with the kind and flagged when some of it is not yet
    realized; ``External`` is left out.
    """
    arrows: dict[tuple[str, str, str], tuple[Decimal, bool]] = {}
    for leg in legs:
        if EXTERNAL in (leg.payer, leg.payee):
            continue
        if not (period.contains(leg.date) and included_in_basis(leg.status, basis)):
            continue
        key = (leg.payer, leg.payee, leg.kind.value)
        amount, outstanding = arrows.get(key, (Decimal(0), False))
        arrows[key] = (amount + leg.amount, outstanding or leg.status is not Status.REALIZED)
    return [
        (payer, payee, amount, kind, outstanding)
        for (payer, payee, kind), (amount, outstanding) in sorted(arrows.items())
    ]


def _hhi_chart(exposure_data: dict[str, Any]) -> tuple[str, str, str] | None:
    companies = sorted(
        (c for c in exposure_data["companies"] if c["revenue"]["hhi"] is not None),
        key=lambda c: (-Decimal(c["revenue"]["hhi"]), c["company"]),
    )
    if not companies:
        return None
    svg = charts.bar_chart(
        [c["company"] for c in companies],
        [Decimal(c["revenue"]["hhi"]) * 100 for c in companies],
        "Revenue concentration: HHI × 100",
        charts.NEUTRAL,
    )
    caption = (
        "HHI of revenue by counterparty, × 100: 100 = a single customer (External counts as "
        "one customer)."
    )
    return svg, caption, "Revenue concentration"


def _commitment_chart(exposure_data: dict[str, Any]) -> tuple[str, str, str] | None:
    companies = [c for c in exposure_data["companies"] if Decimal(c["committed_to_pay"])]
    if not companies:
        return None
    labels, revenue, committed = [], [], []
    for c in companies:
        multiple = _times(c["commitment_multiple"])
        labels += [f"{c['company']} revenue", f"{c['company']} commitments ({multiple})"]
        revenue += [Decimal(c["revenue"]["total"]), Decimal(0)]
        committed += [Decimal(0), Decimal(c["committed_to_pay"])]
    svg = charts.stacked_bars(
        labels,
        [
            ("revenue", revenue, charts.REVENUE),
            ("commitments to pay", committed, charts.COMMITMENT),
        ],
        f"Commitments outstanding vs revenue ({exposure_data.get('currency', 'USD')})",
        prefix=charts.symbol(exposure_data.get("currency", "USD")),
    )
    caption = (
        "Each company's revenue and what it has committed to pay, with the commitment as a "
        "multiple of revenue."
    )
    return svg, caption, "Commitments outstanding vs revenue"


def _ranking_chart(ranking: dict[str, Any]) -> tuple[str, str, str] | None:
    rows = [r for r in ranking["ranking"] if Decimal(r["loss_to_others"])]
    if not rows:
        return None
    svg = charts.bar_chart(
        [r["company"] for r in rows],
        [Decimal(r["loss_to_others"]) for r in rows],
        "Systemic impact: loss to the others if it fails",
        charts.FAILED,
        prefix=charts.symbol(ranking.get("currency", "USD")),
    )
    return (
        svg,
        "What the other web companies lose if this company alone fails.",
        "Systemic impact",
    )


def _loss_chart(contagion: dict[str, Any]) -> tuple[str, str, str] | None:
    """The loss of every company the failure harms, by channel.

    The failed company itself is left out (its own loss is in the table, apart).
    """
    failed = contagion["failed"]
    rows = [r for r in contagion["losses"] if Decimal(r["total_loss"]) and r["company"] != failed]
    if not rows:
        return None
    svg = charts.stacked_bars(
        [r["company"] for r in rows],
        [
            ("lost revenue", [Decimal(r["lost_revenue"]) for r in rows], charts.LOST),
            (
                "unpaid obligations",
                [Decimal(r["unpaid_obligations"]) for r in rows],
                charts.COMMITMENT,
            ),
            (
                "written-down equity",
                [Decimal(r["written_down_equity"]) for r in rows],
                charts.EQUITY,
            ),
        ],
        f"{_scenario(contagion)}: what the others lose, by channel",
        prefix=charts.symbol(contagion.get("currency", "USD")),
    )
    caption = (
        f"Loss of each company {failed} harms: lost revenue, unpaid obligations, written-down "
        f"equity ({failed} itself is not drawn)."
    )
    return svg, caption, "Loss per company"


def commitment_edges(exposure_data: dict[str, Any]) -> list[AuditEdge]:
    """Commitments outstanding between web companies as arrows, from an exposure profile.

    Each arrow is labelled with the commitment as a multiple of the payer's revenue and flagged
    when the commitment is at least the payer's revenue (or the payer has none).
    """
    edges: list[AuditEdge] = []
    for c in exposure_data["companies"]:
        for r in c["commitments_to_pay"]:
            if r["counterparty"] == EXTERNAL:
                continue
            multiple = r["multiple_of_revenue"]
            large = multiple is None or Decimal(multiple) >= 1
            edges.append(
                (c["company"], r["counterparty"], Decimal(r["total"]), _times(multiple), large)
            )
    return edges


def _commitment_drawing(exposure_data: dict[str, Any]) -> tuple[str, str, str] | None:
    edges = commitment_edges(exposure_data)
    if not edges:
        return None
    arrows = [
        charts.Arrow(
            payer,
            payee,
            amount,
            "{amount}" + (f" ({label} payer revenue)" if label != NO_REVENUE else " (no revenue)"),
            large,
            charts.COMMITMENT if large else charts.NEUTRAL,
        )
        for payer, payee, amount, label, large in edges
    ]
    svg = charts.web_drawing(
        charts.edge_nodes(edges), arrows, "Commitments outstanding between web companies"
    )
    caption = (
        "Arrows point from the company that has committed to pay to the one it will pay, "
        "labelled with the amount and the commitment as a multiple of the payer's revenue; "
        "orange: at least the payer's revenue (or the payer has none)."
    )
    return svg, caption, "Commitments between web companies"


def _contagion_drawing(
    edges: Sequence[AuditEdge], picture: dict[str, Any], *, most_systemic: bool
) -> tuple[str, str, str]:
    failed = picture["failed"]
    defaulters = sorted(
        {name for entry in picture["defaults"] for name in entry["companies"]} - {failed}
    )
    marked = {failed, *defaulters}
    arrows = []
    for payer, payee, amount, kind, _ in edges:
        moves = _moves_money(Kind(kind))
        if not moves:
            colour = charts.NEUTRAL  # a warrant moves no money: nothing stops
        elif payer in marked:
            colour = charts.FAILED  # what the failed or defaulting company stops paying
        elif payee in marked and kind == Kind.EQUITY.value:
            colour = charts.EQUITY  # a stake in a company that fails is written down
        else:
            colour = charts.NEUTRAL
        arrows.append(
            charts.Arrow(payer, payee, amount, kind, colour != charts.NEUTRAL, colour, not moves)
        )
    title = f"{_scenario(picture)}: who defaults, which payments stop"
    rounds = "; ".join(
        f"round {entry['round']}: {', '.join(entry['companies'])}" for entry in picture["defaults"]
    )
    caption = (
        ("The most systemic company's failure, drawn on the web. " if most_systemic else "")
        + f"{failed} (filled) fails; dashed outlines: the companies that default because of it "
        f"({rounds or 'none'}). Black arrows: what they owe, pay or buy, which stops or "
        "shrinks; green: stakes in them, written down; dashed grey: warrants, which move no "
        f"money. The others lose {_text(picture['loss_to_others'])} in all. Arrows point from "
        f"payer to payee (legs of the {picture['basis']} basis), labelled with kind and amount."
    )
    svg = charts.web_drawing(charts.edge_nodes(edges), arrows, title, [failed], outlined=defaulters)
    return svg, caption, "The failure drawn on the web"


def _colours(figures: Sequence[tuple[str, ...]]) -> list[str]:
    """The palette colours a page's figures use, for its legend."""
    found = set()
    for figure in figures:
        svg = figure[0].lower()
        found |= {colour for colour in charts.MEANINGS if colour in svg}
    return list(found)


def audit_html(
    data: dict[str, Any],
    sheets: Sequence[Sheet],
    edges: Sequence[AuditEdge],
    picture: dict[str, Any] | None = None,
    unit: Unit = Unit.AUTO,
) -> str:
    """The HTML audit report: charts, a contagion picture of the web, then the sheets.

    ``picture`` is the contagion report (JSON) drawn on the web: the one in ``data`` when a
    failure was asked for; the caller may pass another (e.g. the most systemic company's).
    """
    figures: list[tuple[str, str, str] | None] = []
    ex, contagion, ranking = data.get("exposure"), data.get("contagion"), data.get("ranking")
    if contagion:
        figures.append(_loss_chart(contagion))
    if ranking:
        figures.append(_ranking_chart(ranking))
    if ex:
        figures += [_hhi_chart(ex), _commitment_chart(ex)]
    if (contagion or picture) and edges:
        drawn = contagion or picture
        figures.append(_contagion_drawing(edges, drawn, most_systemic=contagion is None))
    elif ex:
        figures.append(_commitment_drawing(ex))
    first = contagion or ranking or ex or {}
    meta = [f"basis {first.get('basis', '')}", f"period {period_text(first.get('period', {}))}"]
    if ex:
        meta.append(f"currency {ex.get('currency', 'USD')}")
        headline = _headline_commitment(ex)
        if headline:
            meta.append(headline)
    if contagion:
        meta.append(f"loss to others {_text(contagion['loss_to_others'])}")
    title = f"roundtrip — {_scenario(contagion)}?" if contagion else "roundtrip — exposure audit"
    shown = [f for f in figures if f]
    return render_html_page(
        title,
        " · ".join(meta),
        sheets,
        shown,
        unit=unit,
        legend=charts.legend(_colours(shown)),
    )


# --------------------------------------------------------------------------------------------
# The one entry point of the CLI and the report generator


def _fraction(cut: float | Fraction | Decimal) -> Fraction:
    """A cut as an exact fraction; a float is read to 10 decimals (0.333 is 333/1000)."""
    if isinstance(cut, float):
        return Fraction(repr(round(cut, 10)))
    return Fraction(cut)


def run_audit(
    web: Web,
    period: Period,
    basis: Basis,
    fail: str | None = None,
    cut: float | Fraction | Decimal = 1,
    rank: bool = False,
    *,
    progress: Progress | None = None,
    unit: Unit = Unit.ONE,
) -> tuple[list[Sheet], dict[str, Any], Callable[[], str]]:
    """Run the audit parts asked for (see the module table) and lay them out.

    ``cut`` is the failing company's spending cut in [0, 1] (1 = failure); ``progress`` is
    called after each company of the systemic ranking; ``unit`` is the display unit of the
    amounts in prose and of the HTML page (``auto``: chosen per amount in prose, per page in
    the HTML; table cells keep their exact amounts for the renderer; the JSON keeps exact
    cents). Returns the sheets, the JSON contract,
    and a callable that renders the HTML report. When the ranking runs without a failure, the
    HTML draws the failure of the most systemic company on the web.

    Raises:
        BadInput: ``fail`` is not a company of the web, or ``cut`` is outside [0, 1].
        MixedCurrencies: the legs used are in more than one currency.
    """
    legs, prices = web.legs, web.prices
    fraction = _fraction(cut)
    contagion = (
        simulate_failure(legs, prices, fail, fraction, period, basis).to_json_dict()
        if fail is not None
        else None
    )
    ranking = (
        systemic_ranking(legs, prices, period, basis, on_progress=progress).to_json_dict()
        if rank
        else None
    )
    profile = exposure(legs, prices, period, basis).to_json_dict() if fail is None else None
    data = {
        "schema_version": SCHEMA_VERSION,
        "exposure": profile,
        "contagion": contagion,
        "ranking": ranking,
    }
    sheets: list[Sheet] = []
    token = _UNIT.set(unit)
    try:
        if contagion:
            sheets += contagion_sheets(contagion)
        if ranking:
            sheets.append(ranking_sheet(ranking))
        if profile:
            sheets += exposure_sheets(profile)
    finally:
        _UNIT.reset(token)

    def html() -> str:
        picture = None
        top = ranking["ranking"][0] if ranking and ranking["ranking"] else None
        if contagion is None and top and Decimal(top["loss_to_others"]):
            failure = simulate_failure(legs, prices, top["company"], 1, period, basis)
            picture = failure.to_json_dict()
        token = _UNIT.set(unit)
        try:
            return audit_html(data, sheets, audit_edges(legs, period, basis), picture, unit)
        finally:
            _UNIT.reset(token)

    return sheets, data, html
