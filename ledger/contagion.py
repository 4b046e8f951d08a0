"""Contagion: what happens to the web when one company fails or cuts its spending (SPEC §4).

In: legs, a failing company, a spending ``cut`` in [0, 1] (1 = failure), a
:class:`~ledger.model.Period`, a :class:`~ledger.model.Basis` and the scenario's
:class:`~ledger.conventions.Conventions` (horizon, loss per kind, baseline, means; every report
states them). Out: a :class:`ContagionReport` — each company's loss in cents and as a share of
its revenue and of its booked equity, split by channel, and who defaults in which round.
:func:`systemic_ranking` fails every company alone and ranks them by the loss they cause to the
others.

Three channels carry the shock. Each is measured against a **baseline**. Under the default
``Baseline.BOOKED`` it is the web as booked: every company, the failing one too, pays what falls
due from its own means; one that cannot is a *baseline default*, shown as such and not blamed on
the failure. (``Baseline.GIVEN``, the convention before issue 14, hands the failing company
assets equal to all it owes.)

1. **Lost revenue** (spending channel, *realized* flows of the period). The failed company F cuts
   every purchase (revenue edge it pays) by ``cut``. A company V that loses part of its inflow
   spends less in proportion: its cut ``x_V = lost_V / inflow_V``, where ``inflow_V`` is all the
   money V received in the period (revenue, financing, transfers, from anybody, External too)
   and ``lost_V = Σ_U x_U · m · purchases(U→V)``, ``m`` the margin of the purchase's kind under
   the loss convention (1 at face value: a supplier not paid for goods it does not deliver loses
   its margin). F's own cut is ``cut + (1 − cut) · lost_F / inflow_F``. The round-by-round
   propagation converges to the least solution of this linear system, computed directly and
   exactly — no round cap is needed, and cycles are followed to the end.
2. **Unpaid obligations** (Eisenberg–Noe clearing, :mod:`ledger.clearing`). Obligations
   ``L[i][j]`` are the legs not yet realized that count under the basis, fall in the period and
   fall due within the horizon (term contracts are booked one instalment per period, each due on
   its date; undrawn backstops are contingent and left out), plus the outstanding principal of
   realized loans less what its schedule puts after the horizon. A company's means ``e`` are set
   by the means convention (its book's cash and equipment, or its outside revenue) plus what
   External owes it (External always pays). External is a creditor node that owes nothing. Under
   the margin convention a supplier keeps only the margin of each payment for goods or services
   (the rest pays what it costs to deliver), and loses only the margin of what it is not paid.
   In the scenario F pays at most ``(1 − cut)`` of what it owes (nothing on failure). Loss = the
   extra shortfall on what a company is owed, scenario against baseline.
3. **Written-down equity**. Stakes are realized equity legs and warrants dated before the end
   of the period (a stock), at their marked value when they carry units and a price
   (:class:`~ledger.stress_network.PriceMarks`), else at their booked value. An investor (or
   warrant holder) writes down ``cut`` of its stake in F (all of it on failure), and all of its
   stake in every company that defaults in the clearing (equity is junior to debt), less what
   the baseline already wrote off.

A company's revenue is its realized gross revenue in the period; its equity is the equity its
book shows as issued (realized equity received up to the end of the period), flagged as mostly
unbooked when it funds less than half of the cash and equipment the book holds. Its
``exposure`` — the most it could lose — is its realized revenue from web companies plus what it
is owed plus its stakes; a loss never exceeds it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from ledger.clearing import (
    EXACT_LIMIT,
    FLOAT_TOLERANCE,
    Amount,
    ClearingResult,
    as_fraction,
    cents_text,
    clearing_vector,
    ratio_text,
    solve_exact,
    verify_clearing,
)
from ledger.conventions import Baseline, Conventions
from ledger.model import (
    BadInput,
    Basis,
    Cents,
    Company,
    LedgerError,
    Leg,
    Period,
    Price,
)
from ledger.stress_network import Network, PriceMarks, build_network, scenario_date
from ledger.systemic import Impacts

__all__ = [
    "EXACT_LIMIT",
    "FLOAT_TOLERANCE",
    "ClearingResult",
    "ClearingRow",
    "CompanyLoss",
    "ContagionReport",
    "PriceMarks",
    "SystemicImpact",
    "SystemicRanking",
    "cents_text",
    "clearing_vector",
    "ratio_text",
    "simulate_failure",
    "systemic_ranking",
    "verify_clearing",
]

_SOURCE = "<roundtrip.contagion>"
_Pair = tuple[int, int]


# --------------------------------------------------------------------------------------------
# Channel 1: lost revenue


def _hops(net: Network, start: int) -> tuple[dict[int, int], dict[int, int]]:
    """Breadth first along purchases from ``start``.

    Returns the hop count of every web company the cut reaches (``start`` at 0), and the round
    in which each node first loses revenue (1 = a direct vendor; the failed company only if
    the cut comes back to it round a cycle; External is reached but passes nothing on).
    """
    hops = {start: 0}
    first: dict[int, int] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for seller, _, _ in net.sellers.get(node, ()):
            first.setdefault(seller, hops[node] + 1)
            if seller not in hops and seller != net.external:
                hops[seller] = hops[node] + 1
                queue.append(seller)
    return hops, first


def _spending_cuts(net: Network, failed: int, cut: Fraction, hops: dict[int, int]) -> list[Amount]:
    """Each reachable company's spending cut x, the least solution of x = b + Q x.

    Restricted to the companies reachable from the failed one, ``I − Q`` is non-singular when
    ``cut > 0``: every strongly connected block either holds the failed company (whose row is
    scaled by ``1 − cut``) or receives money from outside itself, so its rows do not all sum
    to one.
    """
    reach = sorted(hops, key=lambda n: (hops[n], n))
    where = {node: k for k, node in enumerate(reach)}
    weights: dict[_Pair, Fraction] = {}
    for buyer in reach:
        for seller, _, kept in net.sellers.get(buyer, ()):
            if seller in where:
                weight = kept / net.inflow[seller]
                weights[(where[seller], where[buyer])] = (
                    weight * (1 - cut) if seller == failed else weight
                )
    rhs = [Fraction(0)] * len(reach)
    rhs[where[failed]] = cut
    if net.exact:
        matrix = [[Fraction(int(r == c)) for c in range(len(reach))] for r in range(len(reach))]
        for (r, c), weight in weights.items():
            matrix[r][c] -= weight
        solution: list[Amount] = list(solve_exact(matrix, rhs))
    else:
        keys = list(weights)
        q = sp.csc_matrix(
            ([float(weights[k]) for k in keys], ([k[0] for k in keys], [k[1] for k in keys])),
            shape=(len(reach), len(reach)),
        )
        system = (sp.identity(len(reach), format="csc") - q).tocsc()
        values = np.atleast_1d(spsolve(system, np.array([float(v) for v in rhs])))
        solution = np.clip(values, 0.0, 1.0).tolist()
    x: list[Amount] = [0] * len(net.nodes)
    for node, value in zip(reach, solution, strict=True):
        x[node] = value
    return x


def _lost_revenue(net: Network, failed: int, cut: Fraction) -> tuple[list[Amount], dict[int, int]]:
    """Revenue each node loses (its kept part: the margin), and the round it first loses some."""
    lost: list[Amount] = [0] * len(net.nodes)
    if cut == 0:
        return lost, {}
    hops, first = _hops(net, failed)
    x = _spending_cuts(net, failed, cut, hops)
    for buyer, sales in net.sellers.items():
        if x[buyer]:
            for seller, _, kept in sales:
                lost[seller] += x[buyer] * kept
    return lost, first


# --------------------------------------------------------------------------------------------
# Channels 2 and 3: unpaid obligations, written-down equity


class _Clearings(NamedTuple):
    baseline: ClearingResult
    scenario: ClearingResult


def booked_baseline(net: Network) -> ClearingResult:
    """The web as booked: everybody pays what it can from its own means (nobody is handed any).

    It does not depend on who fails, so a systemic ranking clears it once.
    """
    return clearing_vector(
        net.liabilities, net.external_assets, names=net.nodes, exact=net.exact, kept=net.kept
    )


def _clearings(
    net: Network, failed: int, cut: Fraction, booked: ClearingResult | None = None
) -> _Clearings:
    """Baseline and scenario clearings around one company's payments.

    In the scenario the failed company pays at most ``(1 − cut)`` of what it owes. Under
    ``Baseline.BOOKED`` (``booked``: that baseline, when already cleared) it pays that from its
    own means, and the baseline is the web as booked. Under ``Baseline.GIVEN`` it is handed
    assets equal to what it owes, so the clearing never finds it short, in the baseline and in
    the scenario alike (the convention before issue 14).
    """
    owed = int(net.liabilities[failed].sum())
    assets = list(net.external_assets)
    if net.conventions.baseline is Baseline.GIVEN:
        assets[failed] = owed
        baseline = clearing_vector(
            net.liabilities, assets, names=net.nodes, exact=net.exact, kept=net.kept
        )
    else:
        baseline = booked if booked is not None else booked_baseline(net)
    if cut == 0:
        return _Clearings(baseline, baseline)
    caps: list[int | Fraction] = list(baseline.obligations)
    caps[failed] = (1 - cut) * owed
    scenario = clearing_vector(
        net.liabilities, assets, caps=caps, names=net.nodes, exact=net.exact, kept=net.kept
    )
    return _Clearings(baseline, scenario)


def _unpaid(net: Network, clearings: _Clearings) -> list[Amount]:
    """The extra shortfall on what each node is owed, scenario against baseline.

    Under the margin convention only the kept share (the margin) of a shortfall on goods or
    services is a loss.
    """
    base, scenario = clearings
    unpaid: list[Amount] = [0] * len(net.nodes)
    coo = net.liabilities.tocoo()
    for debtor, creditor, cents in zip(
        coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True
    ):
        drop = base.payments[debtor] - scenario.payments[debtor]
        if drop > 0:
            share = net.kept_share(debtor, creditor)
            unpaid[creditor] += drop * cents / base.obligations[debtor] * share
    return unpaid


def _written_down(net: Network, failed: int, cut: Fraction, clearings: _Clearings) -> list[Amount]:
    """Equity each investor writes off beyond what the baseline already wrote off."""

    def worthless(result: ClearingResult, node: int) -> Fraction:
        return Fraction(int(result.default_round[node] is not None))

    written: list[Amount] = [0] * len(net.nodes)
    for (investor, investee), cents in net.stakes.items():
        now = worthless(clearings.scenario, investee)
        if investee == failed:
            now = max(now, cut)
        extra = now - worthless(clearings.baseline, investee)
        if extra > 0:
            written[investor] += extra * cents
    return written


# --------------------------------------------------------------------------------------------
# Reports


@dataclass(frozen=True, slots=True)
class CompanyLoss:
    """One company's loss from the failure, in integer cents, by channel.

    ``exposure`` is the most it could lose (see the module docstring). ``revenue_round`` is the
    first round of the spending channel in which it loses revenue (1 = a direct vendor of the
    failed company); ``default_round`` the round of the clearing in which it defaults because
    of the failure (0 for the failed company itself), ``None`` if it does not;
    ``defaulted_at_baseline`` says it could not pay in full even with nobody failing. Shares
    (and ``loss_exceeds_equity``) are ``None`` where the denominator is zero. ``means`` is what
    it had to pay with in the clearing (see :mod:`ledger.conventions`), ``booked_cash`` its
    book's cash at the scenario date; ``equity_mostly_unbooked`` says its booked equity funds
    less than half of the cash and equipment its book holds, so ``share_of_equity`` measures
    against a small part of its real equity.
    """

    company: Company
    lost_revenue: Cents
    unpaid: Cents
    written_down: Cents
    total: Cents
    exposure: Cents
    revenue: Cents
    equity: Cents
    share_of_revenue: Fraction | None
    share_of_equity: Fraction | None
    loss_exceeds_equity: bool | None
    revenue_round: int | None
    default_round: int | None
    defaulted_at_baseline: bool
    means: Cents = 0
    booked_cash: Cents = 0
    equity_mostly_unbooked: bool = False

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings, shares as four-decimal strings."""
        return {
            "company": self.company,
            "means": cents_text(self.means),
            "booked_cash": cents_text(self.booked_cash),
            "equity_mostly_unbooked": self.equity_mostly_unbooked,
            "lost_revenue": cents_text(self.lost_revenue),
            "unpaid_obligations": cents_text(self.unpaid),
            "written_down_equity": cents_text(self.written_down),
            "total_loss": cents_text(self.total),
            "exposure": cents_text(self.exposure),
            "revenue": cents_text(self.revenue),
            "equity": cents_text(self.equity),
            "loss_share_of_revenue": ratio_text(self.share_of_revenue),
            "loss_share_of_equity": ratio_text(self.share_of_equity),
            "loss_exceeds_equity": self.loss_exceeds_equity,
            "revenue_round": self.revenue_round,
            "default_round": self.default_round,
            "defaulted_at_baseline": self.defaulted_at_baseline,
        }


@dataclass(frozen=True, slots=True)
class ClearingRow:
    """What one company owes and pays under the Eisenberg–Noe clearing vector, in cents.

    Shown so a reader can check the unpaid-obligations channel: ``obligations`` is p̄_i (all it
    owes in the clearing), ``paid`` is p_i (rounded half to even, so ``paid + shortfall`` is
    exactly ``obligations``), ``ratio`` is the exact p_i / p̄_i (1 = pays in full). The
    ``baseline_`` fields are the same figures when nobody fails. ``defaults`` says it pays less
    than all it owes: for the failed company its cut (or a default it was in already), for the
    others a default found by the clearing.
    """

    company: Company
    obligations: Cents
    paid: Cents
    ratio: Fraction
    defaults: bool
    baseline_paid: Cents
    baseline_ratio: Fraction
    defaulted_at_baseline: bool

    @property
    def shortfall(self) -> Cents:
        """What it leaves unpaid in the scenario."""
        return self.obligations - self.paid

    @property
    def baseline_shortfall(self) -> Cents:
        """What it leaves unpaid when nobody fails."""
        return self.obligations - self.baseline_paid

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings, ratios as four-decimal strings."""
        return {
            "company": self.company,
            "obligations": cents_text(self.obligations),
            "paid": cents_text(self.paid),
            "shortfall": cents_text(self.shortfall),
            "ratio": ratio_text(self.ratio),
            "defaults": self.defaults,
            "baseline": {
                "paid": cents_text(self.baseline_paid),
                "shortfall": cents_text(self.baseline_shortfall),
                "ratio": ratio_text(self.baseline_ratio),
                "defaults": self.defaulted_at_baseline,
            },
        }


@dataclass(frozen=True, slots=True)
class ContagionReport:
    """What one company's failure (or spending cut) costs every other company.

    ``losses`` has one row per web company (the failed one too: its own lost revenue when the
    cut comes back to it), largest total loss first, ties by name. ``defaults`` lists
    ``(round, companies)``: round 0 is the failed company (only when ``cut`` is 1), later rounds
    come from the Eisenberg–Noe clearing and leave out companies already in default at
    baseline (``baseline_defaults``). ``external_loss`` is what outsiders lose (sales to,
    obligations owed to, and stakes held by External). ``loss_to_others`` sums the web
    companies' totals, the failed company's own row excluded. ``clearing`` has one
    :class:`ClearingRow` per web company that owes anything, in name order: the clearing
    vector behind the unpaid obligations, scenario and baseline. ``conventions`` are the
    scenario's (horizon, loss, baseline, means), with its date.
    """

    company: Company
    cut: Fraction
    period: Period
    basis: Basis
    losses: tuple[CompanyLoss, ...]
    defaults: tuple[tuple[int, tuple[Company, ...]], ...]
    baseline_defaults: tuple[Company, ...]
    loss_to_others: Cents
    external_loss: Cents
    clearing_rounds: int
    exact: bool
    tolerance: float
    estimated_deals: tuple[str, ...]
    clearing: tuple[ClearingRow, ...]
    conventions: Conventions = Conventions()
    currency: str = "USD"

    def loss_of(self, company: Company) -> CompanyLoss:
        """The row of one company.

        Raises:
            KeyError: no such company in the web.
        """
        for row in self.losses:
            if row.company == company:
                return row
        raise KeyError(company)

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings, shares as four-decimal strings."""
        return {
            "failed": self.company,
            "cut": ratio_text(self.cut),
            "conventions": self.conventions.to_json_dict(),
            "period": self.period.as_dict(),
            "basis": self.basis.value,
            "currency": self.currency,
            "loss_to_others": cents_text(self.loss_to_others),
            "external_loss": cents_text(self.external_loss),
            "defaults": [
                {"round": found, "companies": list(names)} for found, names in self.defaults
            ],
            "baseline_defaults": list(self.baseline_defaults),
            "clearing_rounds": self.clearing_rounds,
            "exact": self.exact,
            "tolerance_cents": self.tolerance,
            "estimated_deals": list(self.estimated_deals),
            "losses": [row.to_json_dict() for row in self.losses],
            "clearing": [row.to_json_dict() for row in self.clearing],
        }


def _round_cents(value: Amount) -> Cents:
    """Exact (or float) cents to whole cents, half to even; float noise below zero is zero."""
    return max(0, round(Fraction(value)))


def _share(part: Cents, whole: Cents) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def _validate(net: Network, company: Company, cut: Fraction) -> int:
    errors: list[LedgerError] = []
    if company not in net.nodes[:-1]:
        known = ", ".join(net.nodes[:-1]) or "none"
        errors.append(LedgerError(_SOURCE, 0, f"unknown company {company!r}; companies: {known}"))
    if not 0 <= cut <= 1:
        errors.append(LedgerError(_SOURCE, 0, f"cut {cut} is not between 0 and 1"))
    if errors:
        raise BadInput(errors)
    return net.nodes.index(company)


def _default_round(clearings: _Clearings, node: int, failed: int, cut: Fraction) -> int | None:
    if node == failed and cut == 1:
        return 0
    if clearings.baseline.default_round[node] is not None:
        return None
    return clearings.scenario.default_round[node]


def _paid_cents(result: ClearingResult, node: int) -> Cents:
    """p_i in whole cents, never above p̄_i (so paid + shortfall is exactly p̄_i)."""
    return min(_round_cents(result.payments[node]), result.obligations[node])


def _paid_ratio(result: ClearingResult, node: int) -> Fraction:
    """p_i / p̄_i in [0, 1], from the unrounded payment (float noise clipped)."""
    ratio = Fraction(result.payments[node]) / result.obligations[node]
    return min(max(ratio, Fraction(0)), Fraction(1))


def _clearing_rows(
    net: Network, clearings: _Clearings, failed: int, cut: Fraction
) -> tuple[ClearingRow, ...]:
    """One row per web company that owes anything (External owes nothing), in name order."""
    base, scenario = clearings
    return tuple(
        ClearingRow(
            company=name,
            obligations=scenario.obligations[i],
            paid=_paid_cents(scenario, i),
            ratio=_paid_ratio(scenario, i),
            defaults=(cut > 0 and i == failed) or scenario.default_round[i] is not None,
            baseline_paid=_paid_cents(base, i),
            baseline_ratio=_paid_ratio(base, i),
            defaulted_at_baseline=base.default_round[i] is not None,
        )
        for i, name in enumerate(net.nodes[:-1])
        if scenario.obligations[i] > 0
    )


def _report(
    net: Network,
    failed: int,
    cut: Fraction,
    period: Period,
    basis: Basis,
    booked: ClearingResult | None = None,
) -> ContagionReport:
    lost, first = _lost_revenue(net, failed, cut)
    clearings = _clearings(net, failed, cut, booked)
    base = clearings.baseline
    unpaid = _unpaid(net, clearings)
    written = _written_down(net, failed, cut, clearings)
    rows: list[CompanyLoss] = []
    for i, name in enumerate(net.nodes[:-1]):
        total = _round_cents(lost[i] + unpaid[i] + written[i])
        rows.append(
            CompanyLoss(
                company=name,
                lost_revenue=_round_cents(lost[i]),
                unpaid=_round_cents(unpaid[i]),
                written_down=_round_cents(written[i]),
                total=total,
                exposure=net.web_revenue[i] + net.owed[i] + net.held[i],
                revenue=net.revenue[i],
                equity=net.equity[i],
                share_of_revenue=_share(total, net.revenue[i]),
                share_of_equity=_share(total, net.equity[i]),
                loss_exceeds_equity=total > net.equity[i] if net.equity[i] else None,
                revenue_round=first.get(i),
                default_round=_default_round(clearings, i, failed, cut),
                defaulted_at_baseline=base.default_round[i] is not None,
                means=net.external_assets[i],
                booked_cash=net.booked_cash[i],
                equity_mostly_unbooked=net.mostly_unbooked[i],
            )
        )
    rows.sort(key=lambda row: (-row.total, row.company))
    rounds: dict[int, list[Company]] = {}
    for row in rows:
        if row.default_round is not None:
            rounds.setdefault(row.default_round, []).append(row.company)
    ext = net.external
    return ContagionReport(
        company=net.nodes[failed],
        cut=cut,
        period=period,
        basis=basis,
        losses=tuple(rows),
        defaults=tuple((r, tuple(sorted(names))) for r, names in sorted(rounds.items())),
        baseline_defaults=tuple(
            name
            for name, found in zip(net.nodes, base.default_round, strict=True)
            if found is not None
        ),
        loss_to_others=sum(row.total for row in rows if row.company != net.nodes[failed]),
        external_loss=_round_cents(lost[ext] + unpaid[ext] + written[ext]),
        clearing_rounds=clearings.scenario.rounds,
        exact=net.exact,
        tolerance=clearings.scenario.tolerance,
        estimated_deals=net.estimated_deals,
        clearing=_clearing_rows(net, clearings, failed, cut),
        conventions=net.conventions,
        currency=net.currency,
    )


def _network(
    legs: Sequence[Leg] | pd.DataFrame,
    prices: Sequence[Price],
    period: Period,
    basis: Basis,
    exact: bool | None,
    conventions: Conventions | None,
) -> Network:
    """The stress network of Leg records or of a legs frame (read by columns)."""
    if not isinstance(legs, pd.DataFrame):
        legs = tuple(legs)
    chosen = conventions or Conventions()
    dated = chosen.with_as_of(scenario_date(legs, period, chosen))
    return build_network(legs, prices, period, basis, exact, dated)


def simulate_failure(
    legs: Sequence[Leg] | pd.DataFrame,
    prices: Sequence[Price],
    company: Company,
    cut: float | Fraction | Decimal = 1.0,
    period: Period | None = None,
    basis: Basis = Basis.CONTRACTED,
    *,
    exact: bool | None = None,
    conventions: Conventions | None = None,
) -> ContagionReport:
    """What ``company`` failing (``cut=1``) or cutting its spending by ``cut`` costs the web.

    See the module docstring for the three channels, the baseline and the proxies. ``prices``
    mark the stakes that carry units (warrants, shares). A float ``cut`` is read as its
    decimal text (0.3 is exactly 3/10).
    ``exact=None`` is exact on webs of up to :data:`EXACT_LIMIT` nodes. ``conventions``
    default to :class:`~ledger.conventions.Conventions` (12-month horizon, margin loss, the web
    as booked, means from the books), dated at :func:`~ledger.stress_network.scenario_date`
    unless they carry their own ``as_of``.

    Raises:
        BadInput: the company is not in the web, or the cut is outside [0, 1].
        MixedCurrencies: the legs used are in more than one currency.
    """
    period = period or Period()
    net = _network(legs, prices, period, basis, exact, conventions)
    fraction = as_fraction(cut)
    failed = _validate(net, company, fraction)
    return _report(net, failed, fraction, period, basis)


class SystemicImpact(NamedTuple):
    """One company's systemic impact: what the others lose if it alone fails.

    ``defaults`` is how many other companies default because of it (baseline defaulters not
    counted); ``external_loss`` what outsiders lose.
    """

    company: Company
    loss_to_others: Cents
    defaults: int
    external_loss: Cents

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings."""
        return {
            "company": self.company,
            "loss_to_others": cents_text(self.loss_to_others),
            "defaults_caused": self.defaults,
            "external_loss": cents_text(self.external_loss),
        }


@dataclass(frozen=True, slots=True)
class SystemicRanking:
    """Companies ranked by the loss their failure alone causes to the other web companies.

    Iterates (and indexes) as its ``rows``: largest loss first, ties by name.
    ``baseline_defaults`` are the companies that cannot pay what falls due even when nobody
    fails (the web as booked; ``None`` under ``Baseline.GIVEN``, where each failure has its own
    baseline): their defaults are in no company's loss.
    """

    period: Period
    basis: Basis
    rows: tuple[SystemicImpact, ...]
    exact: bool
    baseline_defaults: tuple[Company, ...] | None = None
    conventions: Conventions = Conventions()
    currency: str = "USD"

    def __iter__(self) -> Iterator[SystemicImpact]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, k: int) -> SystemicImpact:
        return self.rows[k]

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON data: amounts as two-decimal strings."""
        return {
            "period": self.period.as_dict(),
            "basis": self.basis.value,
            "currency": self.currency,
            "exact": self.exact,
            "conventions": self.conventions.to_json_dict(),
            "baseline_defaults": (
                None if self.baseline_defaults is None else list(self.baseline_defaults)
            ),
            "ranking": [row.to_json_dict() for row in self.rows],
        }


def systemic_ranking(
    legs: Sequence[Leg] | pd.DataFrame,
    prices: Sequence[Price],
    period: Period | None = None,
    basis: Basis = Basis.CONTRACTED,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    exact: bool | None = None,
    conventions: Conventions | None = None,
) -> SystemicRanking:
    """Fail every web company alone (``cut=1``) and rank them by the loss to the others.

    The web (and the booked baseline) is built once; ``on_progress(done, total)`` is called
    after each company. ``conventions``: as in :func:`simulate_failure`.

    Raises:
        MixedCurrencies: the legs used are in more than one currency.
    """
    period = period or Period()
    net = _network(legs, prices, period, basis, exact, conventions)
    companies = len(net.nodes) - 1
    booked = booked_baseline(net) if net.conventions.baseline is Baseline.BOOKED else None
    # Float webs: the same equations, vectorised and prepared once (ledger.systemic).
    impacts = None if net.exact else Impacts(net, booked)
    rows: list[SystemicImpact] = []
    for failed in range(companies):
        if impacts is not None:
            impact = impacts.of(failed)
            row = SystemicImpact(
                net.nodes[failed],
                impact.loss_to_others,
                impact.defaults_caused,
                impact.external_loss,
            )
        else:
            report = _report(net, failed, Fraction(1), period, basis, booked)
            caused = sum(len(names) for found, names in report.defaults if found > 0)
            row = SystemicImpact(
                net.nodes[failed], report.loss_to_others, caused, report.external_loss
            )
        rows.append(row)
        if on_progress is not None:
            on_progress(failed + 1, companies)
    rows.sort(key=lambda row: (-row.loss_to_others, row.company))
    defaults = (
        None
        if booked is None
        else tuple(
            name
            for name, found in zip(net.nodes, booked.default_round, strict=True)
            if found is not None
        )
    )
    return SystemicRanking(
        period, basis, tuple(rows), net.exact, defaults, net.conventions, net.currency
    )
