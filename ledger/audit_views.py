"""Audit results -> sheets and an HTML page: exposure profiles, a failure, the systemic ranking.

The sheets of a failure and of the ranking are made in :mod:`ledger.contagion_views` (and
re-exported here); the cells all sheets share are in :mod:`ledger.audit_cells`.

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
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger import charts
from ledger.audit import exposure, simulate_failure, systemic_ranking
from ledger.audit_cells import (
    NO_REVENUE,
    UNIT,
    amount_cell,
    amount_words,
    company_cell,
    decimal_cell,
    estimated_deals_note,
    pct_cell,
    ratio_cell,
    times_cell,
    total_of,
)
from ledger.contagion_views import contagion_sheets, ranking_sheet, scenario_title
from ledger.conventions import Conventions
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
from ledger.render import Sheet, Unit, render_html_page
from ledger.schemas import SCHEMA_VERSION
from ledger.views import ESTIMATE_NOTE, context_note, period_text

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
# Exposure profile


def _concentration_sheet(data: dict[str, Any]) -> Sheet:
    rows = []
    for c in data["companies"]:
        top = next(
            (r for r in c["revenue"]["by_counterparty"] if r["counterparty"] != EXTERNAL), None
        )
        rows.append(
            (
                company_cell(c),
                amount_cell(c["revenue"]["total"]),
                amount_cell(c["revenue_external"]),
                amount_cell(c["revenue_web"]),
                pct_cell(c["web_share"]),
                f"{top['counterparty']} ({pct_cell(top['share'])})" if top else "",
                ratio_cell(c["revenue"]["hhi"]),
                ratio_cell(c["web_hhi"]),
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
                    (
                        c["company"],
                        flow,
                        r["counterparty"],
                        amount_cell(r["amount"]),
                        pct_cell(r["share"]),
                    )
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
                company_cell(c),
                amount_cell(c["funding"]["total"]),
                f"{top[0]['counterparty']} ({pct_cell(top[0]['share'])})" if top else "",
                ratio_cell(c["funding"]["hhi"]),
                amount_cell(c["vendor_financed"]),
                pct_cell(c["vendor_financed_share"]),
                amount_cell(c["vendor_financed_max"]),
                amount_cell(c["invested_in_customers"]),
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
            "web in proportion, coming back as its revenue); max: its share of the max method's "
            "circulation, one maximal explanation (the total over all companies bounds circular "
            "revenue from above; one company's share does not: roundtrip net --bounds gives its "
            "range).",
            "in own customers: equity and loans it paid to companies that bought from it "
            "in the period.",
        ),
    )


def _vendor_sheet(data: dict[str, Any]) -> Sheet | None:
    rows = tuple(
        (
            c["company"],
            r["buyer"],
            amount_cell(r["financed"]),
            amount_cell(r["bought"]),
            pct_cell(r["share"]),
        )
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
        (c["company"], r["customer"], amount_cell(r["invested"]), amount_cell(r["bought"]))
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
    committed, revenue = (
        amount_words(top["committed_to_pay"]),
        amount_words(top["revenue"]["total"]),
    )
    return (
        f"Largest multiple: {top['company']} has committed to pay {committed}, "
        f"{times_cell(top['commitment_multiple'])} its revenue of {revenue}."
    )


def _commitment_summary(data: dict[str, Any]) -> Sheet:
    rows = []
    for c in data["companies"]:
        pay = c["commitments_to_pay"]
        rows.append(
            (
                company_cell(c),
                amount_cell(c["revenue"]["total"]),
                decimal_cell(total_of([r["contracted"] for r in pay])),
                decimal_cell(total_of([r["announced"] for r in pay])),
                amount_cell(c["committed_to_pay"]),
                times_cell(c["commitment_multiple"]),
                amount_cell(c["committed_to_receive"]),
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
        return times_cell(found["multiple_of_revenue"]) if found else ""

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
                    amount_cell(r["contracted"]),
                    amount_cell(r["announced"]),
                    amount_cell(r["total"]),
                    amount_cell(r["contingent"]) if Decimal(r["contingent"]) else "",
                    times_cell(r["multiple_of_revenue"]) if payer != EXTERNAL else "",
                    payee_multiple(payee, payer)
                    if payer != EXTERNAL
                    else times_cell(r["multiple_of_revenue"]),
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
                    amount_cell(r["cost"]),
                    amount_cell(r["value"]),
                    amount_cell(r["gain"]),
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
            decimal_cell(total_of([r["cost"] for c in companies for r in c["paper"]])),
            decimal_cell(total_of([c["paper_value"] for c in companies])),
            decimal_cell(total_of([c["paper_gain"] for c in companies])),
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
        (
            "revenue booked inside the web",
            amount_cell(v["web_revenue"]),
            "sales between web companies",
        ),
        (
            "new money from External",
            amount_cell(v["new_money"]),
            f"revenue {amount_words(v['new_money_revenue'])} + financing "
            f"{amount_words(v['new_money_financing'])}",
        ),
        ("velocity", ratio_cell(v["velocity"]), "web revenue per dollar of new money"),
        (
            "circular revenue (pro-rata)",
            amount_cell(v["circular_revenue"]),
            "money come back as revenue",
        ),
        ("rounds (pro-rata)", ratio_cell(v["rounds"]), "times a new dollar came back as revenue"),
        (
            "circular revenue (max)",
            amount_cell(v["circular_revenue_max"]),
            "the upper bound on the web's total",
        ),
        ("rounds (max)", ratio_cell(v["rounds_max"]), "rounds on that upper bound"),
    )
    return Sheet(
        title="Velocity of the web",
        columns=("measure", "value", "meaning"),
        rows=rows,
        numeric=frozenset({"value"}),
        notes=(
            "Velocity and rounds are empty when no new money entered (money made inside the "
            "web only).",
            *estimated_deals_note(data.get("estimated_deals", ())),
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
        multiple = times_cell(c["commitment_multiple"])
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
        prefix=charts.symbol(exposure_data["currency"]),
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
        prefix=charts.symbol(ranking["currency"]),
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
        f"{scenario_title(contagion)}: what the others lose, by channel",
        prefix=charts.symbol(contagion["currency"]),
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
                (c["company"], r["counterparty"], Decimal(r["total"]), times_cell(multiple), large)
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
    title = f"{scenario_title(picture)}: who defaults, which payments stop"
    rounds = "; ".join(
        f"round {entry['round']}: {', '.join(entry['companies'])}" for entry in picture["defaults"]
    )
    caption = (
        ("The most systemic company's failure, drawn on the web. " if most_systemic else "")
        + f"{failed} (filled) fails; dashed outlines: the companies that default because of it "
        f"({rounds or 'none'}). Black arrows: what they owe, pay or buy, which stops or "
        "shrinks; green: stakes in them, written down; dashed grey: warrants, which move no "
        f"money. The others lose {amount_words(picture['loss_to_others'])} in all. Arrows "
        f"point from payer to payee (legs of the {picture['basis']} basis), labelled with kind "
        "and amount."
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
        meta.append(f"loss to others {amount_words(contagion['loss_to_others'])}")
    scenario = contagion or ranking or {}
    if scenario.get("conventions"):
        meta.append(f"conventions: {scenario['conventions']['text']}")
    title = (
        f"roundtrip — {scenario_title(contagion)}?" if contagion else "roundtrip — exposure audit"
    )
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
    conventions: Conventions | None = None,
    sensitivity: int = 0,
    layout: bool = True,
) -> tuple[list[Sheet], dict[str, Any], Callable[[], str]]:
    """Run the audit parts asked for (see the module table) and lay them out.

    ``cut`` is the failing company's spending cut in [0, 1] (1 = failure); ``progress`` is
    called after each company of the systemic ranking; ``unit`` is the display unit of the
    amounts in prose and of the HTML page (``auto``: chosen per amount in prose, per page in
    the HTML; table cells keep their exact amounts for the renderer; the JSON keeps exact
    cents); ``conventions`` are the stress test's (:mod:`ledger.conventions`; default: its
    defaults); ``sensitivity`` > 0 adds, to a failure, what its loss to the others rests on
    (:func:`ledger.sensitivity.contagion_sensitivity`, that many estimates and deals);
    ``layout`` false skips the sheets, which only tables, Markdown and HTML show (for a
    thousand companies they cost as much as the audit itself). Returns
    the sheets, the JSON contract,
    and a callable that renders the HTML report. When the ranking runs without a failure, the
    HTML draws the failure of the most systemic company on the web.

    Raises:
        BadInput: ``fail`` is not a company of the web, or ``cut`` is outside [0, 1].
        MixedCurrencies: the legs used are in more than one currency.
    """
    prices = web.prices
    fraction = _fraction(cut)
    contagion = None
    if fail is not None:
        failure = simulate_failure(
            web.frame, prices, fail, fraction, period, basis, conventions=conventions
        )
        contagion = failure.to_json_dict()
        if sensitivity:
            from ledger.sensitivity import contagion_sensitivity

            rests = contagion_sensitivity(web.legs, prices, failure, sensitivity)
            contagion["sensitivity"] = rests.to_json_dict()
    ranking = (
        systemic_ranking(
            web.frame, prices, period, basis, on_progress=progress, conventions=conventions
        ).to_json_dict()
        if rank
        else None
    )
    # The profile and the scenarios read the legs' columns: realized trade makes no Leg record.
    profile = exposure(web.frame, prices, period, basis).to_json_dict() if fail is None else None
    data = {
        "schema_version": SCHEMA_VERSION,
        "exposure": profile,
        "contagion": contagion,
        "ranking": ranking,
    }
    sheets: list[Sheet] = []
    token = UNIT.set(unit)
    try:
        if layout and contagion:
            sheets += contagion_sheets(contagion)
        if layout and ranking:
            sheets.append(ranking_sheet(ranking))
        if layout and profile:
            sheets += exposure_sheets(profile)
    finally:
        UNIT.reset(token)

    def html() -> str:
        picture = None
        top = ranking["ranking"][0] if ranking and ranking["ranking"] else None
        if contagion is None and top and Decimal(top["loss_to_others"]):
            failure = simulate_failure(
                web.frame, prices, top["company"], 1, period, basis, conventions=conventions
            )
            picture = failure.to_json_dict()
        token = UNIT.set(unit)
        try:
            return audit_html(data, sheets, audit_edges(web.legs, period, basis), picture, unit)
        finally:
            UNIT.reset(token)

    return sheets, data, html
