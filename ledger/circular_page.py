"""What Fava's "Circular revenue" page shows for one company: plain data from a netted folder.

The Fava extension (:mod:`ledger.fava_ext`) renders it; this module knows nothing of Fava:

- **per quarter**, organic and circular revenue as the loaded ledger holds them — its revenue
  accounts (``Income:Sales|Cloud|Lease|Backstop:…``, organic once the plugin has moved the
  circular part out) and ``Income:Circular:…`` — so the page agrees with Fava's own income
  statement and with the saved query ``organic-vs-circular``;
- the company's figures of ``roundtrip net`` (gross, organic, circular, share);
- **every cycle witness through the company** and its share of it: the witness's amount on
  each revenue edge of the cycle paid *to* the company (what the witness makes circular in
  its revenue; 0 where the company only passes the money on), with the deals that carry each
  edge, for links to their ``^deal-…`` journal;
- **counterparties ranked by circular revenue**: the company's eliminations per payer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger.accounts import revenue_account
from ledger.model import CENT, Company, FlowClass, Kind, Status, flow_class, included_in_basis
from ledger.netted import Netted

__all__ = ["CircularPage", "Counterparty", "Quarter", "Witness", "circular_page"]

#: How many witnesses the page lists (largest first); the rest are counted.
SHOWN_WITNESSES = 50
_CIRCULAR_PREFIX = "Income:Circular:"


@dataclass(frozen=True)
class Quarter:
    """One quarter's revenue in the loaded ledger: organic and circular."""

    label: str
    organic: Decimal
    circular: Decimal


@dataclass(frozen=True)
class Witness:
    """A cycle witness through the company: the cycle, its amount, the company's share.

    ``steps`` are ``(payer, kind, payee, deals)``, one per edge of the cycle.
    """

    steps: tuple[tuple[Company, str, Company, tuple[str, ...]], ...]
    amount: Decimal
    share: Decimal


@dataclass(frozen=True)
class Counterparty:
    """A payer of the company's circular revenue, and how much of it."""

    name: Company
    circular: Decimal


@dataclass(frozen=True)
class CircularPage:
    """Everything the page shows (``problem``: why there are no figures, when there are none)."""

    company: Company
    method: str
    basis: str
    period: str
    gross: Decimal
    organic: Decimal
    circular: Decimal
    share: Decimal
    quarters: tuple[Quarter, ...]
    witnesses: tuple[Witness, ...]
    witness_count: int
    counterparties: tuple[Counterparty, ...]
    problems: int
    problem: str | None = None


def _revenue(kind: str) -> bool:
    """Whether an edge of this kind is revenue to its payee (a drawn backstop is)."""
    return flow_class(Kind(kind), Status.REALIZED) is FlowClass.REVENUE


def _revenue_prefixes() -> tuple[str, ...]:
    kinds = [kind for kind in Kind if _revenue(kind.value)]
    return tuple(sorted({revenue_account(kind, "X")[: -len("X")] for kind in kinds}))


def quarters(entries: Iterable[Any]) -> tuple[Quarter, ...]:
    """Organic and circular revenue per calendar quarter of the loaded ledger's postings."""
    from beancount.core import data

    organic_prefixes = _revenue_prefixes()
    found: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        label = f"{entry.date.year}Q{(entry.date.month - 1) // 3 + 1}"
        for posting in entry.postings:
            account = posting.account
            if account.startswith(_CIRCULAR_PREFIX):
                found[label][1] -= posting.units.number
            elif account.startswith(organic_prefixes):
                found[label][0] -= posting.units.number
    return tuple(
        Quarter(label, organic.quantize(CENT), circular.quantize(CENT))
        for label, (organic, circular) in sorted(found.items())
    )


def circular_page(found: Netted, company: Company, entries: Iterable[Any]) -> CircularPage:
    """The page of ``company`` from the netted folder and the company's loaded entries."""
    settings = found.settings
    base = {
        "company": company,
        "method": settings.method,
        "basis": settings.basis.value,
        "period": settings.period.label,
        "quarters": quarters(entries),
        "problems": len(found.read.errors),
    }
    result = found.result
    if result is None or company not in result.graph.nodes:
        zero = Decimal("0.00")
        problem = found.problem or f"{company} has no legs in the netted period and basis"
        return CircularPage(
            **base,
            gross=zero,
            organic=zero,
            circular=zero,
            share=Decimal(0),
            witnesses=(),
            witness_count=0,
            counterparties=(),
            problem=problem,
        )
    figures = result.company(company)
    witnesses = _witnesses(found, company)
    return CircularPage(
        **base,
        gross=figures.gross,
        organic=figures.organic,
        circular=figures.circular,
        share=figures.circular_share,
        witnesses=tuple(witnesses[:SHOWN_WITNESSES]),
        witness_count=len(witnesses),
        counterparties=_counterparties(found.eliminations.get(company, [])),
    )


def _witnesses(found: Netted, company: Company) -> list[Witness]:
    """Every witness whose cycle passes through ``company``, largest first."""
    result = found.result
    graph = result.graph
    deals: dict[tuple[Company, Company, str], set[str]] = defaultdict(set)
    for leg in found.legs:
        if graph.period.contains(leg.date) and included_in_basis(leg.status, graph.basis):
            deals[(leg.payer, leg.payee, Kind(leg.kind).value)].add(leg.deal)
    witnesses = []
    for cycle in result.top_cycles(None):
        if company not in cycle.path:
            continue
        edges = list(zip(cycle.path, cycle.kinds, cycle.path[1:], strict=False))
        share = sum(
            (cycle.amount for _, kind, payee in edges if payee == company and _revenue(kind)),
            Decimal("0.00"),
        )
        steps = tuple(
            (payer, kind, payee, tuple(sorted(deals[(payer, payee, kind)])))
            for payer, kind, payee in edges
        )
        witnesses.append(Witness(steps, cycle.amount, share))
    return witnesses


def _counterparties(eliminations: list[Any]) -> tuple[Counterparty, ...]:
    """The payers of the company's circular revenue, largest first (its eliminations)."""
    totals: dict[Company, Decimal] = defaultdict(Decimal)
    for entry in eliminations:
        for posting in entry.postings:
            if posting.account.startswith(_CIRCULAR_PREFIX):
                totals[entry.meta["counterparty"]] -= posting.units.number
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return tuple(Counterparty(name, amount.quantize(CENT)) for name, amount in ranked)
