"""Results -> sheets and pages: what each report shows, in which order, with which notes.

Every function here reads plain data — a web's legs, or a result's JSON contract
(``to_json_dict()``) — so a report can be rebuilt from a saved JSON file as well as from a live
run. The numbers are never recomputed here: they come formatted from the contract.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ledger import charts
from ledger.model import EXTERNAL, Leg, account_component, from_cents
from ledger.render import Sheet, Unit, money, render_html_page, share
from ledger.schemas import SCHEMA_VERSION
from ledger.units import amount_text

__all__ = [
    "ESTIMATE_NOTE",
    "company_sheet",
    "context_note",
    "cycle_text",
    "company_records",
    "deal_records",
    "deal_sheet",
    "drawing_edges",
    "leg_records",
    "leg_sheet",
    "load_sheet",
    "netting_html",
    "netting_sheets",
    "period_text",
    "show_document",
    "to_decimal",
]

#: How many cycle witnesses a table shows; the JSON keeps them all.
MAX_CYCLES_SHOWN = 25

METHOD_TEXT = {
    "max": "max: the largest revenue that can be explained as round-tripped "
    "(maximum revenue circulation, solved exactly in integer cents)",
    "pro-rata": "pro-rata: money is fungible; each company funds its outflows in proportion to its "
    "inflows; circular = the part of a company's own outflows that first comes back as revenue",
}


#: The note under a table whose starred rows rest on estimates.
ESTIMATE_NOTE = "* the figure rests at least in part on estimated legs (estimate: TRUE)."


def to_decimal(text: str | Decimal | None) -> Decimal | None:
    """An amount of the JSON contract (a decimal string) as a Decimal; None stays None."""
    return None if text is None else Decimal(text)


def cycle_text(cycle: dict[str, Any]) -> str:
    """``Nvidia -equity-> OpenAI -sale-> Nvidia``: a cycle a reader can follow by hand."""
    path, kinds = cycle["path"], cycle["kinds"]
    parts = [path[0]]
    for kind, node in zip(kinds, path[1:], strict=True):
        parts.append(f"-{kind}-> {node}")
    return " ".join(parts)


def period_text(period: dict[str, Any]) -> str:
    """A period of the JSON contract as words: ``all dates`` or ``A to B (end exclusive)``."""
    start, end = period.get("start"), period.get("end")
    if not start and not end:
        return "all dates"
    return f"{start or '…'} to {end or '…'} (end exclusive)"


def context_note(data: dict[str, Any]) -> str:
    """``Basis: …; period: …; currency: ….``: which figures a table shows."""
    currency = data.get("currency", "USD")
    return f"Basis: {data['basis']}; period: {period_text(data['period'])}; currency: {currency}."


#: The rounding rule of :mod:`ledger.netting`, stated under every netting table.
ROUNDING_NOTE = (
    "Rounding: the total is exact (max: the integer optimum; pro-rata: the exact total rounded "
    "to the cent); each company's figure is its exact share rounded down or up by largest "
    "remainder so that the figures add up to the total (equal remainders go to the larger "
    "exact figure, then the larger gross revenue; a name decides only between companies alike "
    "in both)."
)


def netting_sheets(data: dict[str, Any], unit: Unit = Unit.ONE) -> tuple[Sheet, ...]:
    """The sheets of a netting report: figures per company, then (max) the cycle witnesses.

    Pro-rata money does not go round in cycles of its own (each company's dollars are traced
    separately), so its report has no witness table, only a note saying so. Amounts are
    :class:`~ledger.units.Amount` cells in ``unit``; a renderer shows them in its own unit,
    keeping ``gross = external + web = circular + organic`` and the total row in print.
    """

    def amount(value: str | Decimal | None) -> str:
        return money(to_decimal(value), unit=unit)

    bounds = any(c.get("circular_min") is not None for c in data["companies"])
    columns = ["company", "gross", "external", "web", "circular", "organic", "circular %"]
    if bounds:
        columns += ["circular min", "circular max"]
    columns += ["paper gains"]
    rows = []
    for c in data["companies"]:
        name = c["company"] + (" *" if c["estimated"] else "")
        row = [
            name,
            amount(c["gross"]),
            amount(c["external"]),
            amount(c["web"]),
            amount(c["circular"]),
            amount(c["organic"]),
            share(to_decimal(c["circular_share"])),
        ]
        if bounds:
            row += [amount(c.get("circular_min")), amount(c.get("circular_max"))]
        row += [amount(c.get("paper_gains", "0.00"))]
        rows.append(tuple(row))
    totals = {
        key: sum((Decimal(c[key]) for c in data["companies"]), Decimal(0))
        for key in ("gross", "external", "web", "circular", "organic")
    }
    circular = totals["circular"] / totals["gross"] if totals["gross"] else Decimal(0)
    total_row = [
        "total",
        *(amount(totals[k]) for k in ("gross", "external", "web", "circular", "organic")),
        share(circular),
    ]
    total_row += ["", ""] if bounds else []
    total_row += [""]
    rows.append(tuple(total_row))
    notes = [
        f"Method {METHOD_TEXT.get(data['method'], data['method'])}.",
        context_note(data),
        "organic = gross - circular; circular % = circular / gross.",
        ROUNDING_NOTE,
    ]
    if data.get("split_rule"):
        notes.append(f"Split among companies: {data['split_rule']}")
    if data["method"] == "max":
        notes.append(
            "The total is an upper bound on circular revenue; a company's figure is one maximal "
            "explanation, not a bound on that company"
            + (
                "; circular min/max give its range over all maximal explanations."
                if bounds
                else " (--bounds gives its range over all maximal explanations)."
            )
        )
    if any(c["estimated"] for c in data["companies"]):
        notes.append(ESTIMATE_NOTE)
    if data["method"] != "max":
        notes.append(
            "No cycle witnesses: pro-rata traces each company's own dollars separately; "
            "run --method max for the cycles that bound these figures."
        )
    figures = Sheet(
        title=f"Organic vs circular revenue ({data['method']}, {data['basis']})",
        columns=tuple(columns),
        rows=tuple(rows),
        numeric=frozenset(columns[1:]),
        notes=tuple(notes),
        sums=(("gross", ("external", "web")), ("gross", ("circular", "organic"))),
        currency=data.get("currency", "USD"),
    )
    from ledger.sensitivity_views import sensitivity_sheets

    extra = sensitivity_sheets(data.get("sensitivity"), unit)
    cycles = data["cycles"]
    if data["method"] != "max":
        return (figures, *extra)
    shown = cycles[:MAX_CYCLES_SHOWN]
    cycle_notes = [
        "Each cycle is money that leaves a company and comes back to it; its amount counts "
        "once in the circular revenue of every company it pays on a revenue edge (sale, "
        "cloud, lease, drawn backstop), so each company's cycles add up to its circular figure."
    ]
    if not cycles:
        cycle_notes.append("No money goes round: nothing is circular.")
    count = data.get("cycle_count", len(cycles))
    if count > len(shown):
        cycle_notes.append(
            f"The largest {len(shown)} of {count:,} cycles; --cycles all lists every one."
        )
    witnesses = Sheet(
        title="Cycle witnesses (largest first)",
        columns=("cycle", "amount"),
        rows=tuple((cycle_text(c), amount(c["amount"])) for c in shown),
        numeric=frozenset({"amount"}),
        notes=tuple(cycle_notes),
        currency=data.get("currency", "USD"),
    )
    return (figures, witnesses, *extra)


def drawing_edges(result: Any) -> list[tuple[str, str, Decimal, str, bool]]:
    """The edges of a netting result's graph for :func:`ledger.charts.web_drawing`.

    ``External`` is left out of the drawing: it is everybody else, not a party to a loop.
    """
    graph = result.graph
    edges = []
    for e in range(graph.n_edges):
        payer, payee = graph.nodes[int(graph.src[e])], graph.nodes[int(graph.dst[e])]
        if EXTERNAL in (payer, payee):
            continue
        amount = from_cents(int(graph.cents[e]))
        circulating = bool(result.edge_flow[e] > 0)
        edges.append((payer, payee, amount, graph.edge_kind(e).value, circulating))
    return edges


def netting_html(
    data: dict[str, Any],
    edges: Sequence[tuple[str, str, Decimal, str, bool]],
    unit: Unit = Unit.AUTO,
) -> str:
    """The HTML netting report: chart of organic vs circular, drawing of the web, tables."""
    currency = data.get("currency", "USD")
    companies = [c for c in data["companies"] if Decimal(c["gross"]) > 0]
    labels = [c["company"] for c in companies]
    bars = charts.stacked_bars(
        labels,
        [
            ("organic", [Decimal(c["organic"]) for c in companies], charts.ORGANIC),
            ("circular", [Decimal(c["circular"]) for c in companies], charts.CIRCULAR),
        ],
        f"Revenue per company ({currency}): organic vs circular",
        prefix=charts.symbol(currency),
    )
    drawing = charts.web_drawing(
        charts.edge_nodes(edges),
        edges,
        "The deal web: arrows that carry circular money are coloured",
        prefix=charts.symbol(currency),
    )
    sheets = list(netting_sheets(data, unit))
    meta = (
        f"method {data['method']} · basis {data['basis']} · "
        f"period {period_text(data['period'])} · total circular "
        f"{amount_text(Decimal(data['total_circular']), unit)} {currency}"
    )
    return render_html_page(
        "roundtrip — organic vs circular revenue",
        meta,
        sheets,
        [
            (bars, "Organic and circular revenue per company.", "Organic vs circular revenue"),
            (
                drawing,
                "Arrows point from payer to payee, labelled with the kind and amount; width "
                "grows with the amount.",
                "The deal web",
            ),
        ],
        unit=unit,
        legend=charts.legend([charts.ORGANIC, charts.CIRCULAR, charts.NEUTRAL]),
    )


def company_records(legs: Sequence[Leg], companies: Sequence[str]) -> list[dict[str, Any]]:
    """Companies of a web, raw: name, book account name, how many legs (``show companies``)."""
    count: Counter[str] = Counter()
    for leg in legs:
        count[leg.payer] += 1
        count[leg.payee] += 1
    return [
        {"company": name, "account": account_component(name), "legs": count[name]}
        for name in sorted(set(companies))
    ]


def company_sheet(legs: Sequence[Leg], companies: Sequence[str]) -> Sheet:
    """Companies of a web: their book account name, legs, and revenue by status."""
    rows = tuple(
        (r["company"], r["account"], str(r["legs"])) for r in company_records(legs, companies)
    )
    return Sheet(
        title="Companies",
        columns=("company", "account", "legs"),
        rows=rows,
        numeric=frozenset({"legs"}),
        notes=(f"{EXTERNAL} (everybody outside the web) keeps no book.",),
    )


_STATUSES = ("realized", "contracted", "announced")


def deal_records(legs: Sequence[Leg]) -> list[dict[str, Any]]:
    """Deals of a web, raw, by first date: dates, parties, legs, amount by status, estimate."""
    by_deal: dict[str, list[Leg]] = defaultdict(list)
    for leg in legs:
        by_deal[leg.deal].append(leg)
    records = []
    for deal in sorted(by_deal, key=lambda d: (min(x.date for x in by_deal[d]), d)):
        group = by_deal[deal]
        status_total = {
            s: sum((x.amount for x in group if x.status.value == s), Decimal(0)) for s in _STATUSES
        }
        records.append(
            {
                "deal": deal,
                "first": min(x.date for x in group).isoformat(),
                "last": max(x.date for x in group).isoformat(),
                "parties": sorted({x.payer for x in group} | {x.payee for x in group}),
                "legs": len(group),
                **{s: _cents_text(status_total[s]) for s in _STATUSES},
                "estimate": any(x.estimate for x in group),
            }
        )
    return records


def _cents_text(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def deal_sheet(legs: Sequence[Leg]) -> Sheet:
    """Deals of a web: dates, parties, legs, amount by status."""
    rows = tuple(
        (
            r["deal"],
            r["first"],
            r["last"],
            ", ".join(r["parties"]),
            str(r["legs"]),
            *(money(Decimal(r[s])) for s in _STATUSES),
            "yes" if r["estimate"] else "",
        )
        for r in deal_records(legs)
    )
    columns = ("deal", "first", "last", "parties", "legs", *_STATUSES, "estimate")
    return Sheet(
        title="Deals",
        columns=columns,
        rows=rows,
        numeric=frozenset({"legs", *_STATUSES}),
    )


def load_sheet(counts: dict[str, dict[str, int]], title: str) -> Sheet:
    """What a load did to each table of the store."""
    columns = ("table", "inserted", "updated", "unchanged", "deleted")
    rows = tuple((table, *(str(c[k]) for k in columns[1:])) for table, c in counts.items())
    return Sheet(title=title, columns=columns, rows=rows, numeric=frozenset(columns[1:]))


def _ordered(legs: Sequence[Leg]) -> list[Leg]:
    return sorted(legs, key=lambda x: (x.date, x.deal, x.leg))


def leg_records(legs: Sequence[Leg]) -> list[dict[str, Any]]:
    """Every leg, raw, in date order: the columns of the legs CSV (docs/legs-csv.md)."""
    return [
        {
            "date": x.date.isoformat(),
            "deal": x.deal,
            "leg": x.leg,
            "payer": x.payer,
            "payee": x.payee,
            "kind": x.kind.value,
            "amount": _cents_text(x.amount),
            "currency": x.currency,
            "status": x.status.value,
            "estimate": x.estimate,
            "note": x.note,
            "source": x.source,
            "units": None if x.units is None else format(x.units, "f"),
            "commodity": x.commodity,
            "capex": x.capex,
        }
        for x in _ordered(legs)
    ]


def show_document(what: str, legs: Sequence[Leg], companies: Sequence[str]) -> dict[str, Any]:
    """``show --format json``: ``{"schema_version", <what>: [raw records]}``.

    ``what`` is ``companies``, ``deals`` or ``legs``; the schema is
    ``ledger/schemas/show-<what>.schema.json``.
    """
    records = {
        "companies": lambda: company_records(legs, companies),
        "deals": lambda: deal_records(legs),
        "legs": lambda: leg_records(legs),
    }[what]()
    return {"schema_version": SCHEMA_VERSION, what: records}


def leg_sheet(legs: Sequence[Leg]) -> Sheet:
    """Every leg, in date order, as booked."""
    ordered = _ordered(legs)
    rows = tuple(
        (
            x.date.isoformat(),
            x.deal,
            str(x.leg),
            x.payer,
            x.payee,
            x.kind.value,
            money(x.amount),
            x.currency,
            x.status.value,
            "yes" if x.estimate else "",
        )
        for x in ordered
    )
    columns = (
        "date",
        "deal",
        "leg",
        "payer",
        "payee",
        "kind",
        "amount",
        "currency",
        "status",
        "estimate",
    )
    return Sheet(title="Legs", columns=columns, rows=rows, numeric=frozenset({"leg", "amount"}))
