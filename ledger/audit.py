"""The exposure audit: how tightly each company is tied to the web (SPEC §4).

In: legs, price marks, a :class:`~ledger.model.Period` and a :class:`~ledger.model.Basis`.
Out: an :class:`ExposureReport` — one :class:`CompanyExposure` per company and the web's
:class:`Velocity`. Every result has ``to_json_dict()``: amounts as two-decimal strings (dollars),
shares, HHIs and multiples as four-decimal strings. The contagion half of the audit ("what if X
fails") lives in :mod:`ledger.contagion` and is re-exported here.

Per company, over the money flow graph of the period and basis
(:func:`ledger.flows.build_flow_graph`):

- **Revenue by counterparty**: who paid it, each payer's share of its gross revenue, and the
  Herfindahl–Hirschman index ``HHI = Σ share²`` on the **0–1 scale** (multiply by 10,000 for the
  antitrust "points" scale): 1 = a single customer. ``revenue.hhi`` counts External as one
  counterparty (all outside customers together); ``web_hhi`` is the HHI of its web revenue
  alone (shares of revenue from web companies), which a big External share cannot mask.
- **Revenue from the web vs External**, and the web's share of its revenue.
- **Funding by counterparty**: equity and loans received, shares and HHI.
- **Vendor-financed revenue**: revenue whose buyer the seller funded, directly or through the
  web — its *pro-rata* circular revenue from the netting engine (:func:`ledger.netting.net`:
  its own money, followed through the web in proportion, coming back as its revenue), beside
  its *max*-method circular revenue: one maximal explanation (the max total bounds the web's
  circular revenue; a company's share of it is not a bound on that company's).
- **Investments in its own customers**: equity and loans it paid to companies that bought from
  it in the period (each customer: invested, bought).
- **Commitments outstanding**: every leg not yet realized (contracted or announced; warrants
  excluded, undrawn backstops included and shown as contingent), *whatever its date* — a
  commitment is a stock, not a flow of the period — by counterparty, in both directions: what it
  has committed to pay and what others committed to pay it. ``commitment_multiple`` = committed
  to pay / its gross revenue of the period (OpenAI's compute commitments against its revenue).
- **Paper gains**: warrants it received (units × the latest price of the commodity dated before
  the end of the period, minus the grant-date value booked as the leg's amount) and equity it
  bought with ``units``/``commodity`` set (marked the same way). Without a units figure or a
  price in the leg's currency, the paper value is the booked value and the gain is zero
  (``marked`` is false).

For the web (:class:`Velocity`):

- ``web_revenue``: revenue on edges between two web companies;
- ``new_money``: all money from External into web companies in the period — revenue
  (``new_money_revenue``) plus financing and transfers (``new_money_financing``);
- ``velocity = web_revenue / new_money``: revenue booked inside the web per dollar of new money;
- ``rounds = circular revenue / new_money`` (pro-rata; ``rounds_max`` with the max method):
  how many times, per dollar of new money, money went round and came back to a company as its
  own revenue — each return to a company counts once. A dollar changing hands daily between
  two companies for a year makes ``rounds`` ≈ 730.

``velocity`` and ``rounds`` are ``None`` when no new money entered (money created inside the web
only: infinitely fast).

Tiny example: External pays A 10; A buys 10 from B; B buys 10 from A. Web revenue 20, new money
10, velocity 2. Pro-rata, all of A's 10 comes back (B passes on all it gets), half of B's (A
spends half its 20 of inflows): circular 15, rounds 1.5; max: the 10 goes round once, circular 20,
rounds_max 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

import pandas as pd

from ledger.contagion import (
    ClearingResult,
    CompanyLoss,
    ContagionReport,
    PriceMarks,
    SystemicImpact,
    SystemicRanking,
    cents_text,
    clearing_vector,
    ratio_text,
    simulate_failure,
    systemic_ranking,
    verify_clearing,
)
from ledger.flows import KINDS, FlowGraph, MixedCurrencies, build_flow_graph
from ledger.legs_frame import legs_of_frame, names_of_frame
from ledger.model import (
    EXTERNAL,
    Basis,
    Cents,
    Company,
    DealId,
    Kind,
    Leg,
    Period,
    Price,
    Status,
    included_in_basis,
    to_cents,
)

__all__ = [
    "ClearingResult",
    "Commitment",
    "CompanyExposure",
    "CompanyLoss",
    "Concentration",
    "ContagionReport",
    "Counterparty",
    "CustomerInvestment",
    "ExposureReport",
    "FinancedSale",
    "HHI_SCALE",
    "PaperGain",
    "SystemicImpact",
    "SystemicRanking",
    "Velocity",
    "clearing_vector",
    "exposure",
    "hhi",
    "paper_gains",
    "simulate_failure",
    "systemic_ranking",
    "verify_clearing",
]

#: The scale every HHI of the audit is on.
HHI_SCALE = "0-1"

_FUNDING = (Kind.EQUITY, Kind.LOAN)


def hhi(amounts: Sequence[int]) -> Fraction | None:
    """The Herfindahl–Hirschman index of some amounts, 0–1 scale: ``Σ (aᵢ / Σ a)²``.

    ``None`` when there is nothing to share out. One counterparty gives 1; n equal ones 1/n.
    """
    total = sum(amounts)
    if total == 0:
        return None
    return sum((Fraction(a, total) ** 2 for a in amounts), Fraction(0))


def _share(part: int | Fraction, whole: int) -> Fraction | None:
    return Fraction(part) / whole if whole else None


# --------------------------------------------------------------------------------------------
# Records


class Counterparty(NamedTuple):
    """One counterparty's amount and its share of the total it belongs to."""

    counterparty: Company
    cents: Cents
    share: Fraction

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "counterparty": self.counterparty,
            "amount": cents_text(self.cents),
            "share": ratio_text(self.share),
        }


@dataclass(frozen=True, slots=True)
class Concentration:
    """A total split by counterparty (largest first, ties by name), with its HHI (0–1)."""

    total: Cents
    by_counterparty: tuple[Counterparty, ...]
    hhi: Fraction | None

    @classmethod
    def of(cls, amounts: dict[Company, int]) -> Concentration:
        """The concentration of ``{counterparty: cents}`` (zero amounts dropped)."""
        total = sum(amounts.values())
        rows = tuple(
            Counterparty(name, cents, Fraction(cents, total))
            for name, cents in sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))
            if cents
        )
        return cls(total, rows, hhi([row.cents for row in rows]))

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "total": cents_text(self.total),
            "hhi": ratio_text(self.hhi),
            "by_counterparty": [row.to_json_dict() for row in self.by_counterparty],
        }


class CustomerInvestment(NamedTuple):
    """Equity/loans a company put into one of its own customers, and what that customer bought."""

    customer: Company
    invested: Cents
    bought: Cents

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "customer": self.customer,
            "invested": cents_text(self.invested),
            "bought": cents_text(self.bought),
        }


class FinancedSale(NamedTuple):
    """The part of one buyer's purchases that was the seller's own money coming back.

    ``financed`` is the pro-rata circular revenue on the buyer's edges into the seller (rounded
    to the cent per buyer, so the rows may differ from the seller's total by a cent);
    ``share = financed / bought``.
    """

    buyer: Company
    financed: Cents
    bought: Cents
    share: Fraction

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "buyer": self.buyer,
            "financed": cents_text(self.financed),
            "bought": cents_text(self.bought),
            "share": ratio_text(self.share),
        }


class Commitment(NamedTuple):
    """Outstanding commitments with one counterparty, in one direction.

    ``total = contracted + announced``; ``contingent`` is the part that is undrawn backstops;
    ``multiple`` is ``total`` over the company's gross revenue of the period.
    """

    counterparty: Company
    contracted: Cents
    announced: Cents
    total: Cents
    contingent: Cents
    multiple: Fraction | None

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "counterparty": self.counterparty,
            "contracted": cents_text(self.contracted),
            "announced": cents_text(self.announced),
            "total": cents_text(self.total),
            "contingent": cents_text(self.contingent),
            "multiple_of_revenue": ratio_text(self.multiple),
        }


@dataclass(frozen=True, slots=True)
class PaperGain:
    """One non-cash holding marked to its latest price.

    ``counterparty`` is the grantor of a warrant or the company invested in; ``cost`` the booked
    value (grant-date value or price paid); ``value`` units × price, or ``cost`` when not
    ``marked``; ``gain = value − cost``.
    """

    deal: DealId
    leg: int
    kind: Kind
    counterparty: Company
    commodity: str | None
    units: Decimal | None
    cost: Cents
    price: Decimal | None
    price_date: date | None
    value: Cents
    gain: Cents
    marked: bool
    estimate: bool

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "deal": self.deal,
            "leg": self.leg,
            "kind": self.kind.value,
            "counterparty": self.counterparty,
            "commodity": self.commodity,
            "units": str(self.units) if self.units is not None else None,
            "cost": cents_text(self.cost),
            "price": str(self.price) if self.price is not None else None,
            "price_date": self.price_date.isoformat() if self.price_date else None,
            "value": cents_text(self.value),
            "gain": cents_text(self.gain),
            "marked": self.marked,
            "estimate": self.estimate,
        }


@dataclass(frozen=True, slots=True)
class CompanyExposure:
    """One company's exposure profile (see the module docstring for every figure).

    Shares, HHIs and multiples are ``None`` where their denominator is zero. ``estimated`` says
    some figure here rests on an estimated leg.
    """

    company: Company
    revenue: Concentration
    revenue_external: Cents
    revenue_web: Cents
    web_share: Fraction | None
    web_hhi: Fraction | None
    funding: Concentration
    vendor_financed: Cents
    vendor_financed_max: Cents
    vendor_financed_share: Fraction | None
    vendor_financed_by_buyer: tuple[FinancedSale, ...]
    customer_investments: tuple[CustomerInvestment, ...]
    invested_in_customers: Cents
    commitments_to_pay: tuple[Commitment, ...]
    commitments_to_receive: tuple[Commitment, ...]
    committed_to_pay: Cents
    committed_to_receive: Cents
    commitment_multiple: Fraction | None
    paper: tuple[PaperGain, ...]
    paper_value: Cents
    paper_gain: Cents
    estimated: bool

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings, ratios as four-decimal strings."""
        return {
            "company": self.company,
            "revenue": self.revenue.to_json_dict(),
            "revenue_external": cents_text(self.revenue_external),
            "revenue_web": cents_text(self.revenue_web),
            "web_share": ratio_text(self.web_share),
            "web_hhi": ratio_text(self.web_hhi),
            "funding": self.funding.to_json_dict(),
            "vendor_financed": cents_text(self.vendor_financed),
            "vendor_financed_max": cents_text(self.vendor_financed_max),
            "vendor_financed_share": ratio_text(self.vendor_financed_share),
            "vendor_financed_by_buyer": [
                row.to_json_dict() for row in self.vendor_financed_by_buyer
            ],
            "customer_investments": [row.to_json_dict() for row in self.customer_investments],
            "invested_in_customers": cents_text(self.invested_in_customers),
            "commitments_to_pay": [row.to_json_dict() for row in self.commitments_to_pay],
            "commitments_to_receive": [row.to_json_dict() for row in self.commitments_to_receive],
            "committed_to_pay": cents_text(self.committed_to_pay),
            "committed_to_receive": cents_text(self.committed_to_receive),
            "commitment_multiple": ratio_text(self.commitment_multiple),
            "paper": [row.to_json_dict() for row in self.paper],
            "paper_value": cents_text(self.paper_value),
            "paper_gain": cents_text(self.paper_gain),
            "estimated": self.estimated,
        }


@dataclass(frozen=True, slots=True)
class Velocity:
    """How hard the web's money works (see the module docstring for the definitions)."""

    web_revenue: Cents
    new_money: Cents
    new_money_revenue: Cents
    new_money_financing: Cents
    velocity: Fraction | None
    circular_revenue: Cents
    circular_revenue_max: Cents
    rounds: Fraction | None
    rounds_max: Fraction | None

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings, ratios as four-decimal strings."""
        return {
            "web_revenue": cents_text(self.web_revenue),
            "new_money": cents_text(self.new_money),
            "new_money_revenue": cents_text(self.new_money_revenue),
            "new_money_financing": cents_text(self.new_money_financing),
            "velocity": ratio_text(self.velocity),
            "circular_revenue": cents_text(self.circular_revenue),
            "circular_revenue_max": cents_text(self.circular_revenue_max),
            "rounds": ratio_text(self.rounds),
            "rounds_max": ratio_text(self.rounds_max),
        }


@dataclass(frozen=True, slots=True)
class ExposureReport:
    """The exposure audit of a web for one period and basis.

    ``companies`` are sorted by name; ``estimated_deals`` are the deals whose estimated legs
    some figure rests on.
    """

    period: Period
    basis: Basis
    currency: str
    companies: tuple[CompanyExposure, ...]
    velocity: Velocity
    estimated_deals: tuple[DealId, ...]
    hhi_scale: str = HHI_SCALE

    def company(self, name: Company) -> CompanyExposure:
        """The profile of one company.

        Raises:
            KeyError: no such company in the web.
        """
        for row in self.companies:
            if row.company == name:
                return row
        raise KeyError(name)

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings, ratios as four-decimal strings."""
        return {
            "period": self.period.as_dict(),
            "basis": self.basis.value,
            "currency": self.currency,
            "hhi_scale": self.hhi_scale,
            "velocity": self.velocity.to_json_dict(),
            "estimated_deals": list(self.estimated_deals),
            "companies": [row.to_json_dict() for row in self.companies],
        }


# --------------------------------------------------------------------------------------------
# Flows of the period


class _Edges(NamedTuple):
    """The graph's edges as plain rows: (payer, payee, kind, cents, revenue, estimated)."""

    rows: tuple[tuple[Company, Company, Kind, int, bool, bool], ...]


def _edges(graph: FlowGraph) -> _Edges:
    return _Edges(
        tuple(
            (graph.nodes[s], graph.nodes[d], KINDS[k], c, r, e)
            for s, d, k, c, r, e in zip(
                graph.src.tolist(),
                graph.dst.tolist(),
                graph.kind.tolist(),
                graph.cents.tolist(),
                graph.revenue.tolist(),
                graph.estimated.tolist(),
                strict=True,
            )
        )
    )


def _by(pairs: list[tuple[Company, Company, int]]) -> dict[Company, dict[Company, int]]:
    """``{owner: {counterparty: cents}}`` from (owner, counterparty, cents) triples."""
    table: dict[Company, dict[Company, int]] = {}
    for owner, other, cents in pairs:
        row = table.setdefault(owner, {})
        row[other] = row.get(other, 0) + cents
    return table


class _Netted(NamedTuple):
    """What the audit takes from the netting engine, in cents."""

    circular: dict[Company, Fraction]  # pro-rata, per seller (rounded to the cent by netting)
    circular_max: dict[Company, Fraction]
    by_buyer: dict[Company, dict[Company, float]]  # seller -> buyer -> pro-rata cents


def _netted(graph: FlowGraph) -> _Netted:
    """Pro-rata and max circular revenue per company, from :func:`ledger.netting.net`."""
    from ledger.netting import Method, net

    if graph.n_edges == 0:
        return _Netted({}, {}, {})
    pro_rata, maximum = net(graph, Method.PRO_RATA), net(graph, Method.MAX)
    by_buyer: dict[Company, dict[Company, float]] = {}
    for edge, cents in enumerate(pro_rata.edge_circular.tolist()):
        if cents > 0:
            buyer, seller = graph.nodes[int(graph.src[edge])], graph.nodes[int(graph.dst[edge])]
            row = by_buyer.setdefault(seller, {})
            row[buyer] = row.get(buyer, 0.0) + cents
    return _Netted(
        {row.company: Fraction(to_cents(row.circular)) for row in pro_rata.companies},
        {row.company: Fraction(to_cents(row.circular)) for row in maximum.companies},
        by_buyer,
    )


def _cents(value: Fraction | int) -> Cents:
    return round(Fraction(value))


# --------------------------------------------------------------------------------------------
# Commitments and paper gains


_Committed = dict[Company, dict[Company, list[int]]]


class _Commitments(NamedTuple):
    """``{company: {counterparty: [contracted, announced, contingent]}}`` both ways."""

    to_pay: _Committed
    to_receive: _Committed
    estimated: set[tuple[DealId, Company]]


def _commitments(legs: Sequence[Leg], currency: str) -> _Commitments:
    """Every leg not yet realized (warrants aside), whatever its date, by both parties."""
    found = _Commitments({}, {}, set())
    for leg in legs:
        if leg.status is Status.REALIZED or leg.kind is Kind.WARRANT:
            continue
        if leg.currency != currency:
            raise MixedCurrencies(
                f"commitment {leg.deal}/{leg.leg} is in {leg.currency}, the web in {currency}; "
                "audit one currency at a time"
            )
        cents = to_cents(leg.amount)
        for table, owner, other in (
            (found.to_pay, leg.payer, leg.payee),
            (found.to_receive, leg.payee, leg.payer),
        ):
            row = table.setdefault(owner, {}).setdefault(other, [0, 0, 0])
            row[0 if leg.status is Status.CONTRACTED else 1] += cents
            if leg.kind is Kind.BACKSTOP:
                row[2] += cents
        if leg.estimate:
            found.estimated.update({(leg.deal, leg.payer), (leg.deal, leg.payee)})
    return found


def _commitment_rows(table: _Committed, company: Company, revenue: int) -> tuple[Commitment, ...]:
    rows = []
    for other, (contracted, announced, contingent) in table.get(company, {}).items():
        total = contracted + announced
        rows.append(
            Commitment(other, contracted, announced, total, contingent, _share(total, revenue))
        )
    return tuple(sorted(rows, key=lambda row: (-row.total, row.counterparty)))


def _holdings(legs: Sequence[Leg], period: Period, basis: Basis) -> list[tuple[Company, Leg]]:
    """(holder, leg) for warrants received and equity bought with units, in the period."""
    held = []
    for leg in legs:
        if not (period.contains(leg.date) and included_in_basis(leg.status, basis)):
            continue
        if leg.kind is Kind.WARRANT and leg.payee != EXTERNAL:
            held.append((leg.payee, leg))
        elif (
            leg.kind is Kind.EQUITY
            and leg.units is not None
            and leg.commodity
            and leg.payer != EXTERNAL
        ):
            held.append((leg.payer, leg))
    return held


def _paper_gain(holder: Company, leg: Leg, marks: PriceMarks, period: Period) -> PaperGain:
    cost = to_cents(leg.amount)
    mark = marks.mark(leg, period.end)
    value = marks.value(leg, period.end)
    return PaperGain(
        deal=leg.deal,
        leg=leg.leg,
        kind=leg.kind,
        counterparty=leg.payer if leg.payee == holder else leg.payee,
        commodity=leg.commodity,
        units=leg.units,
        cost=cost,
        price=mark.amount if mark else None,
        price_date=mark.date if mark else None,
        value=value,
        gain=value - cost,
        marked=mark is not None,
        estimate=leg.estimate,
    )


def paper_gains(
    legs: Sequence[Leg],
    prices: Sequence[Price] = (),
    period: Period | None = None,
    basis: Basis = Basis.REALIZED,
) -> dict[Company, Cents]:
    """Each holder's **paper gains**: the one meaning the term has in every report.

    Per holder of warrants received and equity bought with units in the period (under the
    basis): units x the latest price dated before the period's end, minus the grant-date value
    booked as the leg's amount (its cost); 0 without units or a price. This is the unrealized
    gain Fava shows for the holding, which the books hold at that cost
    (``40,000,000 AMDW {{6,600,000,000.00 USD}}``) and mark with the same prices. An undrawn
    backstop is a promise, not a holding: it has no paper gain.
    """
    period = period or Period()
    marks = PriceMarks(prices)
    gains: dict[Company, Cents] = {}
    for holder, leg in _holdings(legs, period, basis):
        gains[holder] = gains.get(holder, 0) + _paper_gain(holder, leg, marks, period).gain
    return gains


# --------------------------------------------------------------------------------------------
# The audit


def _velocity(edges: _Edges, netted: _Netted) -> Velocity:
    web_revenue = sum(
        c
        for payer, payee, _, c, revenue, _ in edges.rows
        if revenue and EXTERNAL not in (payer, payee)
    )
    new_revenue = sum(
        c for payer, payee, _, c, revenue, _ in edges.rows if payer == EXTERNAL and revenue
    )
    new_financing = sum(
        c
        for payer, payee, _, c, revenue, _ in edges.rows
        if payer == EXTERNAL and not revenue and payee != EXTERNAL
    )
    new_money = new_revenue + new_financing
    circular = sum(netted.circular.values(), Fraction(0))
    circular_max = sum(netted.circular_max.values(), Fraction(0))
    return Velocity(
        web_revenue=web_revenue,
        new_money=new_money,
        new_money_revenue=new_revenue,
        new_money_financing=new_financing,
        velocity=_share(web_revenue, new_money),
        circular_revenue=_cents(circular),
        circular_revenue_max=_cents(circular_max),
        rounds=_share(circular, new_money),
        rounds_max=_share(circular_max, new_money),
    )


def _financed_sales(
    seller: Company, netted: _Netted, received: dict[Company, int]
) -> tuple[FinancedSale, ...]:
    rows = []
    for buyer, cents in netted.by_buyer.get(seller, {}).items():
        financed = _cents(Fraction(cents))
        if financed > 0:
            bought = received[buyer]
            rows.append(FinancedSale(buyer, financed, bought, Fraction(financed, bought)))
    return tuple(sorted(rows, key=lambda row: (-row.financed, row.buyer)))


def _customer_investments(
    invested: dict[Company, int],
    bought: dict[Company, int],
) -> tuple[CustomerInvestment, ...]:
    rows = [
        CustomerInvestment(customer, cents, bought[customer])
        for customer, cents in invested.items()
        if customer != EXTERNAL and bought.get(customer)
    ]
    return tuple(sorted(rows, key=lambda row: (-row.invested, row.customer)))


class _Tables(NamedTuple):
    """Everything the per-company profile reads, computed once for the web."""

    revenue_in: dict[Company, dict[Company, int]]
    funding_in: dict[Company, dict[Company, int]]
    funding_out: dict[Company, dict[Company, int]]
    commitments: _Commitments
    paper: dict[Company, list[PaperGain]]
    netted: _Netted
    estimated: frozenset[Company]


def _tables(
    legs: Sequence[Leg], prices: Sequence[Price], period: Period, basis: Basis, graph: FlowGraph
) -> tuple[_Tables, set[DealId]]:
    edges = _edges(graph).rows
    netted = _netted(graph)
    commitments = _commitments(legs, graph.currency)
    marks = PriceMarks(prices)
    paper: dict[Company, list[PaperGain]] = {}
    for holder, leg in _holdings(legs, period, basis):
        paper.setdefault(holder, []).append(_paper_gain(holder, leg, marks, period))
    estimated = {name for p1, p2, *_, e in edges if e for name in (p1, p2)}
    estimated |= {name for _, name in commitments.estimated}
    estimated |= {name for name, rows in paper.items() if any(row.estimate for row in rows)}
    deals = {
        leg.deal
        for leg in legs
        if leg.estimate and period.contains(leg.date) and included_in_basis(leg.status, basis)
    }
    deals |= {deal for deal, _ in commitments.estimated}
    tables = _Tables(
        revenue_in=_by([(p2, p1, c) for p1, p2, _, c, r, _ in edges if r]),
        funding_in=_by([(p2, p1, c) for p1, p2, k, c, _, _ in edges if k in _FUNDING]),
        funding_out=_by([(p1, p2, c) for p1, p2, k, c, _, _ in edges if k in _FUNDING]),
        commitments=commitments,
        paper=paper,
        netted=netted,
        estimated=frozenset(estimated),
    )
    return tables, deals


def _profile(name: Company, t: _Tables) -> CompanyExposure:
    received = t.revenue_in.get(name, {})
    revenue = Concentration.of(received)
    external = received.get(EXTERNAL, 0)
    pay = _commitment_rows(t.commitments.to_pay, name, revenue.total)
    receive = _commitment_rows(t.commitments.to_receive, name, revenue.total)
    paper = tuple(t.paper.get(name, ()))
    vendor = t.netted.circular.get(name, Fraction(0))
    investments = _customer_investments(t.funding_out.get(name, {}), received)
    committed = sum(row.total for row in pay)
    return CompanyExposure(
        company=name,
        revenue=revenue,
        revenue_external=external,
        revenue_web=revenue.total - external,
        web_share=_share(revenue.total - external, revenue.total),
        web_hhi=hhi([cents for payer, cents in received.items() if payer != EXTERNAL]),
        funding=Concentration.of(t.funding_in.get(name, {})),
        vendor_financed=_cents(vendor),
        vendor_financed_max=_cents(t.netted.circular_max.get(name, Fraction(0))),
        vendor_financed_share=_share(vendor, revenue.total),
        vendor_financed_by_buyer=_financed_sales(name, t.netted, received),
        customer_investments=investments,
        invested_in_customers=sum(row.invested for row in investments),
        commitments_to_pay=pay,
        commitments_to_receive=receive,
        committed_to_pay=committed,
        committed_to_receive=sum(row.total for row in receive),
        commitment_multiple=_share(committed, revenue.total),
        paper=paper,
        paper_value=sum(row.value for row in paper),
        paper_gain=sum(row.gain for row in paper),
        estimated=name in t.estimated,
    )


def _legs_beyond_the_graph(frame: pd.DataFrame) -> tuple[Leg, ...]:
    """The legs the audit reads one by one: all but the realized money legs.

    Commitments (every leg not realized), holdings (warrants, equity with units) and the deals
    of estimated legs are read from Leg records; realized money legs without units or an
    estimate only feed the flow graph, which reads the frame's columns. A million-leg web of
    realized trade so makes no object per leg.
    """
    needed = (
        (frame["status"].astype(str) != Status.REALIZED.value).to_numpy()
        | (frame["kind"].astype(str) == Kind.WARRANT.value).to_numpy()
        | (frame["units"].astype(str) != "").to_numpy()
        | frame["estimate"].to_numpy(dtype=bool)
    )
    return legs_of_frame(frame[needed])


def exposure(
    legs: Sequence[Leg] | pd.DataFrame,
    prices: Sequence[Price] = (),
    period: Period | None = None,
    basis: Basis = Basis.REALIZED,
) -> ExposureReport:
    """The exposure profile of every company in the legs, and the velocity of the web.

    ``legs`` is Leg records or a legs frame (:mod:`ledger.legs_frame`): from a frame only the
    legs that are not realized money legs are made into records.

    Flows (revenue, funding, vendor financing, investments in customers, velocity) are those of
    the period under the basis; commitments are every leg not yet realized, whatever its date;
    paper gains come from the warrants and unit-carrying equity legs of the period, marked with
    the latest ``prices`` dated before the period's end.

    Raises:
        MixedCurrencies: the legs used are in more than one currency.
    """
    period = period or Period()
    if isinstance(legs, pd.DataFrame):
        graph = build_flow_graph(legs, period, basis)
        names = sorted(names_of_frame(legs) - {EXTERNAL})
        legs = _legs_beyond_the_graph(legs)
    else:
        legs = tuple(legs)
        graph = build_flow_graph(legs, period, basis)
        names = sorted(({leg.payer for leg in legs} | {leg.payee for leg in legs}) - {EXTERNAL})
    tables, deals = _tables(legs, prices, period, basis, graph)
    return ExposureReport(
        period=period,
        basis=basis,
        currency=graph.currency,
        companies=tuple(_profile(name, tables) for name in names),
        velocity=_velocity(_edges(graph), tables.netted),
        estimated_deals=tuple(sorted(deals)),
    )
