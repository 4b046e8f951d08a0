"""The web as a stress test sees it: nodes, realized flows, obligations due, means, stakes.

In: legs, prices, a :class:`~ledger.model.Period`, a :class:`~ledger.model.Basis` and the
:class:`~ledger.conventions.Conventions`. Out: a :class:`Network` that the three contagion
channels of :mod:`ledger.contagion` read, built once per run (a systemic ranking fails every
company against the same network). What each part means is in :mod:`ledger.contagion` and
:mod:`ledger.conventions`; this module only counts.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ledger.accounts import in_booked_cash, moves_cash
from ledger.clearing import EXACT_LIMIT
from ledger.conventions import Conventions, Means
from ledger.flows import KINDS, MixedCurrencies, build_flow_graph
from ledger.legs_frame import legs_of_frame, names_of_frame
from ledger.model import (
    EXTERNAL,
    Basis,
    Cents,
    Company,
    Kind,
    Leg,
    Period,
    Price,
    Status,
    included_in_basis,
    to_cents,
)

__all__ = ["Network", "Pair", "PriceMarks", "build_network", "scenario_date"]

Pair = tuple[int, int]


class PriceMarks:
    """The latest price of each (commodity, currency), looked up before a date.

    A holding that carries ``units`` of a ``commodity`` (a warrant, shares) is worth units ×
    the last price dated before the end of the period (end exclusive; any date when the period
    is open), in the leg's own currency; without units or such a price it is worth its booked
    amount.
    """

    def __init__(self, prices: Sequence[Price]) -> None:
        self._series: dict[tuple[str, str], tuple[list[date], list[Price]]] = {}
        for price in sorted(prices, key=lambda p: (p.commodity, p.currency, p.date)):
            dates, marks = self._series.setdefault((price.commodity, price.currency), ([], []))
            dates.append(price.date)
            marks.append(price)

    def latest(self, commodity: str, currency: str, before: date | None) -> Price | None:
        """The last mark dated before ``before`` (any date when ``None``)."""
        dates, marks = self._series.get((commodity, currency), ([], []))
        k = len(dates) if before is None else bisect.bisect_left(dates, before)
        return marks[k - 1] if k else None

    def mark(self, leg: Leg, before: date | None) -> Price | None:
        """The price that marks a leg's units, if it has units and there is one."""
        if leg.commodity is None or leg.units is None:
            return None
        return self.latest(leg.commodity, leg.currency, before)

    def value(self, leg: Leg, before: date | None) -> Cents:
        """The leg's holding in cents: units × mark (half to even), else its booked amount."""
        mark = self.mark(leg, before)
        if mark is None or leg.units is None:
            return to_cents(leg.amount)
        return round(Fraction(leg.units * mark.amount * 100))


@dataclass(frozen=True, slots=True)
class Network:
    """Everything the three channels need, built once per (legs, period, basis, conventions).

    Nodes are the web companies (sorted), then External, last. ``sellers[buyer]`` lists
    ``(seller, cents, kept)``: the realized purchases of the period and the part of them the
    seller keeps under the loss convention (all of it at face value). ``liabilities`` are the
    obligations due within the horizon, at face value; ``kept[(debtor, creditor)]`` the share of
    a payment on that obligation its creditor keeps (absent: all; ``None``: all everywhere).
    ``external_assets`` are the means of each node (see :mod:`ledger.conventions`);
    ``booked_cash`` and ``equipment`` what its book holds at ``as_of``; ``mostly_unbooked``
    says its booked equity funds less than half of that. ``currency`` is that of every amount.
    """

    nodes: tuple[Company, ...]
    sellers: dict[int, tuple[tuple[int, Cents, Fraction], ...]]
    inflow: tuple[Cents, ...]
    revenue: tuple[Cents, ...]
    web_revenue: tuple[Cents, ...]
    liabilities: sp.csr_matrix
    kept: dict[Pair, Fraction] | None
    owed: tuple[Cents, ...]
    external_assets: tuple[Cents, ...]
    stakes: dict[Pair, Cents]  # (investor, investee) -> cents
    held: tuple[Cents, ...]
    equity: tuple[Cents, ...]
    booked_cash: tuple[Cents, ...]
    equipment: tuple[Cents, ...]
    mostly_unbooked: tuple[bool, ...]
    exact: bool
    estimated_deals: tuple[str, ...]
    conventions: Conventions
    currency: str

    @property
    def external(self) -> int:
        """The node index of External (always the last node)."""
        return len(self.nodes) - 1

    def kept_share(self, debtor: int, creditor: int) -> Fraction:
        """The share of a payment from ``debtor`` to ``creditor`` that the creditor keeps."""
        if self.kept is None:
            return Fraction(1)
        return self.kept.get((debtor, creditor), Fraction(1))


def scenario_date(
    legs: Sequence[Leg] | pd.DataFrame, period: Period, conventions: Conventions
) -> date | None:
    """The day a scenario starts.

    Stated in the conventions, else the day before the period ends, else the books' date (the
    last realized leg; the last leg when none is realized; ``None`` without legs).
    """
    if conventions.as_of is not None:
        return conventions.as_of
    if period.end is not None:
        return period.end - timedelta(days=1)
    if isinstance(legs, pd.DataFrame):
        days = legs["date"]
        realized_days = days[_status_is(legs, Status.REALIZED)]
        chosen = realized_days if len(realized_days) else days
        return pd.Timestamp(chosen.max()).date() if len(chosen) else None
    realized = [leg.date for leg in legs if leg.status is Status.REALIZED]
    dates = realized or [leg.date for leg in legs]
    return max(dates) if dates else None


def _before_end(leg: Leg, period: Period) -> bool:
    return period.end is None or leg.date < period.end


def _add(table: dict[Pair, int], key: Pair, cents: int) -> None:
    table[key] = table.get(key, 0) + cents


class _Due(NamedTuple):
    """When obligations count: in the period, under the basis, falling due by ``due_by``."""

    period: Period
    basis: Basis
    due_by: date | None

    def counts(self, leg: Leg) -> bool:
        """An unrealized money leg under the basis due in time (repayments: see principal)."""
        return (
            leg.status is not Status.REALIZED
            and leg.kind not in (Kind.WARRANT, Kind.BACKSTOP, Kind.REPAYMENT)
            and included_in_basis(leg.status, self.basis)
            and self.period.contains(leg.date)
            and (self.due_by is None or leg.date <= self.due_by)
        )

    def later_repayment(self, leg: Leg) -> bool:
        """A scheduled repayment that falls due after the horizon."""
        return (
            self.due_by is not None
            and leg.kind is Kind.REPAYMENT
            and leg.status is not Status.REALIZED
            and included_in_basis(leg.status, self.basis)
            and leg.date > self.due_by
        )


class _Owed(NamedTuple):
    table: dict[Pair, int]
    kept: dict[Pair, Fraction]
    legs: list[Leg]


def _obligation_table(
    legs: Sequence[Leg], index: dict[Company, int], due: _Due, conventions: Conventions
) -> _Owed:
    """(debtor, creditor) -> cents due, and the share each creditor keeps.

    Unrealized legs due within the horizon, plus outstanding loan principal at the end of the
    period less what its schedule (unrealized repayments) puts after the horizon.
    """
    owed: dict[Pair, int] = {}
    kept_cents: dict[Pair, Fraction] = {}
    principal: dict[Pair, int] = {}
    used: list[Leg] = []
    for leg in legs:
        payer, payee = index[leg.payer], index[leg.payee]
        cents = to_cents(leg.amount)
        if due.counts(leg):
            _add(owed, (payer, payee), cents)
            kept_cents[(payer, payee)] = (
                kept_cents.get((payer, payee), Fraction(0)) + conventions.margin(leg.kind) * cents
            )
        elif leg.status is Status.REALIZED and _before_end(leg, due.period):
            if leg.kind is Kind.LOAN:
                _add(principal, (payee, payer), cents)
            elif leg.kind is Kind.REPAYMENT:
                _add(principal, (payer, payee), -cents)
            else:
                continue
        elif due.later_repayment(leg):
            _add(principal, (payer, payee), -cents)
        else:
            continue
        used.append(leg)
    for key, cents in principal.items():
        if cents > 0:
            _add(owed, key, cents)
            kept_cents[key] = kept_cents.get(key, Fraction(0)) + cents
    kept = {key: kept_cents[key] / cents for key, cents in owed.items() if kept_cents[key] != cents}
    return _Owed(owed, kept, used)


def _check_currency(legs: Sequence[Leg], currency: str) -> None:
    others = sorted({leg.currency for leg in legs} - {currency})
    if others:
        raise MixedCurrencies(
            f"legs in {', '.join([currency, *others])} with no price to convert them; "
            "audit one currency at a time"
        )


class _Flows(NamedTuple):
    """The realized money flows of the period, per node of the network."""

    sellers: dict[int, tuple[tuple[int, Cents, Fraction], ...]]
    inflow: list[Cents]
    revenue: list[Cents]
    web_revenue: list[Cents]
    from_external: list[Cents]
    currency: str


def _realized_flows(
    legs: Sequence[Leg],
    index: dict[Company, int],
    period: Period,
    ext: int,
    conventions: Conventions,
) -> _Flows:
    graph = build_flow_graph(legs, period, Basis.REALIZED)
    size = len(index)
    gmap = np.array([index[name] for name in graph.nodes], dtype=np.int64)
    inflow, revenue, web_revenue, from_ext = [0] * size, [0] * size, [0] * size, [0] * size
    purchases: dict[Pair, int] = {}
    kept: dict[Pair, Fraction] = {}
    for s, d, cents, is_revenue, code in zip(
        gmap[graph.src].tolist(),
        gmap[graph.dst].tolist(),
        graph.cents.tolist(),
        graph.revenue.tolist(),
        graph.kind.tolist(),
        strict=True,
    ):
        inflow[d] += cents
        if s == ext:
            from_ext[d] += cents
        if is_revenue:
            revenue[d] += cents
            if s != ext:
                web_revenue[d] += cents
                _add(purchases, (s, d), cents)
                kept[(s, d)] = (
                    kept.get((s, d), Fraction(0)) + conventions.margin(KINDS[code]) * cents
                )
    sellers: dict[int, list[tuple[int, Cents, Fraction]]] = {}
    for (buyer, seller), cents in sorted(purchases.items()):
        sellers.setdefault(buyer, []).append((seller, cents, kept[(buyer, seller)]))
    return _Flows(
        {buyer: tuple(rows) for buyer, rows in sellers.items()},
        inflow,
        revenue,
        web_revenue,
        from_ext,
        graph.currency,
    )


def _equity_stakes(
    legs: Sequence[Leg], index: dict[Company, int], period: Period, marks: PriceMarks
) -> tuple[dict[Pair, int], list[Cents], list[Leg]]:
    """Realized equity and warrants up to the end of the period.

    Returns the stakes held ``(holder, company) -> cents`` at their marked value (booked value
    when unmarked), the equity each company received (at cost: its booked equity), and the
    legs used.
    """
    stakes: dict[Pair, int] = {}
    equity = [0] * len(index)
    used: list[Leg] = []
    for leg in legs:
        if leg.status is not Status.REALIZED or not _before_end(leg, period):
            continue
        if leg.kind is Kind.EQUITY:
            holder, company = index[leg.payer], index[leg.payee]
            equity[company] += to_cents(leg.amount)
        elif leg.kind is Kind.WARRANT:
            holder, company = index[leg.payee], index[leg.payer]
        else:
            continue
        if company != index[EXTERNAL]:
            _add(stakes, (holder, company), marks.value(leg, period.end))
        used.append(leg)
    return stakes, equity, used


def _books(
    legs: Sequence[Leg], index: dict[Company, int], as_of: date | None, currency: str
) -> tuple[list[Cents], list[Cents]]:
    """Each company's booked cash and capitalised equipment at the end of ``as_of``.

    One pass for every company: the same cash as :func:`ledger.accounts.booked_cash` (realized
    legs that move cash, in minus out), and the ``capex`` purchases its book holds as
    ``Assets:Equipment`` (ASC 360; no depreciation is booked).
    """
    cash, equipment = [0] * len(index), [0] * len(index)
    for leg in legs:
        if not in_booked_cash(leg, as_of, currency):
            continue
        cents = to_cents(leg.amount)
        cash[index[leg.payee]] += cents
        cash[index[leg.payer]] -= cents
        if leg.capex and leg.kind is Kind.SALE:
            equipment[index[leg.payer]] += cents
    return cash, equipment


def _books_of_frame(
    frame: pd.DataFrame, index: dict[Company, int], as_of: date | None, currency: str
) -> tuple[list[Cents], list[Cents]]:
    """:func:`_books` over a legs frame's columns: the same sums, no record per leg."""
    kind = frame["kind"].astype(str).to_numpy()
    moving = np.isin(kind, [k.value for k in Kind if moves_cash(k, Status.REALIZED)])
    chosen = _status_is(frame, Status.REALIZED) & moving
    chosen &= (frame["currency"].astype(str) == currency).to_numpy()
    if as_of is not None:
        chosen &= (frame["date"] <= pd.Timestamp(as_of)).to_numpy()
    cents = frame["cents"].to_numpy(dtype=np.int64)
    payer, payee = _nodes(frame, "payer", index), _nodes(frame, "payee", index)
    size = len(index)
    cash = _sums(payee[chosen], cents[chosen], size) - _sums(payer[chosen], cents[chosen], size)
    bought = chosen & frame["capex"].to_numpy(dtype=bool) & (kind == Kind.SALE.value)
    equipment = _sums(payer[bought], cents[bought], size)
    return cash.tolist(), equipment.tolist()


def _sums(nodes: np.ndarray, cents: np.ndarray, size: int) -> np.ndarray:
    """Exact integer sums of ``cents`` per node (int64: a web's total fits many times over)."""
    total = np.zeros(size, dtype=np.int64)
    np.add.at(total, nodes, cents)
    return total


def _nodes(frame: pd.DataFrame, column: str, index: dict[Company, int]) -> np.ndarray:
    """Each row's node index for a company column (one lookup per distinct name)."""
    codes, names = pd.factorize(frame[column])
    table = np.array([index[str(name)] for name in names] + [-1], dtype=np.int64)
    return table[codes]


def _status_is(frame: pd.DataFrame, status: Status) -> np.ndarray:
    return (frame["status"].astype(str) == status.value).to_numpy()


def _legs_read_one_by_one(frame: pd.DataFrame) -> tuple[Leg, ...]:
    """The legs the stress test reads as records: all but realized trade without an estimate.

    Obligations (legs not realized, loans and repayments), stakes (equity, warrants) and the
    deals of estimated legs are built from Leg records; realized sales, cloud and leases only
    feed the flow graph and the booked cash, which read the frame's columns.
    """
    kind = frame["kind"].astype(str).to_numpy()
    needed = ~_status_is(frame, Status.REALIZED)
    needed |= np.isin(kind, [k.value for k in _READ_ONE_BY_ONE])
    needed |= frame["estimate"].to_numpy(dtype=bool)
    return legs_of_frame(frame[needed])


#: Kinds whose realized legs the stress test reads one by one (principal and stakes).
_READ_ONE_BY_ONE = (Kind.LOAN, Kind.REPAYMENT, Kind.EQUITY, Kind.WARRANT)


def _means(
    flows: _Flows, cash: list[Cents], equipment: list[Cents], conventions: Conventions
) -> list[Cents]:
    """What each node has besides what its debtors pay it (External owed is added later)."""
    if conventions.means is Means.OUTSIDE:
        return list(flows.from_external)
    return [max(0, c + e) for c, e in zip(cash, equipment, strict=True)]


def build_network(
    legs: Sequence[Leg] | pd.DataFrame,
    prices: Sequence[Price],
    period: Period,
    basis: Basis,
    exact: bool | None,
    conventions: Conventions,
) -> Network:
    """The network of one run; ``conventions.as_of`` must be set (see :func:`scenario_date`).

    ``legs`` is Leg records or a legs frame (:mod:`ledger.legs_frame`); from a frame only the
    legs the obligations, stakes and estimates need are made into records.

    Raises:
        MixedCurrencies: the legs used are in more than one currency.
    """
    frame = legs if isinstance(legs, pd.DataFrame) else None
    if frame is not None:
        names = names_of_frame(frame)
        legs = _legs_read_one_by_one(frame)
    else:
        names = {leg.payer for leg in legs} | {leg.payee for leg in legs}
    companies = sorted(names - {EXTERNAL})
    nodes = (*companies, EXTERNAL)
    index = {name: i for i, name in enumerate(nodes)}
    ext = len(nodes) - 1
    as_of = conventions.as_of
    flows = _realized_flows(legs if frame is None else frame, index, period, ext, conventions)
    due = _Due(period, basis, None if as_of is None else conventions.due_by(as_of))
    owed_table = _obligation_table(legs, index, due, conventions)
    table = owed_table.table
    stakes, equity, equity_legs = _equity_stakes(legs, index, period, PriceMarks(prices))
    _check_currency(
        [*owed_table.legs, *(leg for leg in equity_legs if leg.kind is Kind.EQUITY)],
        flows.currency,
    )
    if frame is None:
        cash, equipment = _books(legs, index, as_of, flows.currency)
    else:
        cash, equipment = _books_of_frame(frame, index, as_of, flows.currency)
    assets = _means(flows, cash, equipment, conventions)
    kept = dict(owed_table.kept)
    for (debtor, creditor), cents in list(table.items()):
        if debtor == ext:  # External always pays: what it owes is the creditor's asset.
            share = kept.pop((debtor, creditor), Fraction(1))
            assets[creditor] += round(share * cents)
            del table[(debtor, creditor)]
    matrix = sp.csr_matrix(
        (
            np.array(list(table.values()), dtype=np.int64),
            ([k[0] for k in table], [k[1] for k in table]),
        ),
        shape=(len(nodes), len(nodes)),
        dtype=np.int64,
    )
    owed, held = [0] * len(nodes), [0] * len(nodes)
    for (_, creditor), cents in table.items():
        owed[creditor] += cents
    for (investor, _), cents in stakes.items():
        held[investor] += cents
    exact = len(nodes) <= EXACT_LIMIT if exact is None else exact
    realized = [leg for leg in legs if leg.status is Status.REALIZED and period.contains(leg.date)]
    estimated = {leg.deal for leg in (*owed_table.legs, *equity_legs, *realized) if leg.estimate}
    return Network(
        nodes=nodes,
        sellers=flows.sellers,
        inflow=tuple(flows.inflow),
        revenue=tuple(flows.revenue),
        web_revenue=tuple(flows.web_revenue),
        liabilities=matrix,
        kept=kept or None,
        owed=tuple(owed),
        external_assets=tuple(assets),
        stakes=stakes,
        held=tuple(held),
        equity=tuple(equity),
        booked_cash=tuple(cash),
        equipment=tuple(equipment),
        mostly_unbooked=tuple(
            2 * e < c + q for e, c, q in zip(equity, cash, equipment, strict=True)
        ),
        exact=exact,
        estimated_deals=tuple(sorted(estimated)),
        conventions=conventions,
        currency=flows.currency,
    )
