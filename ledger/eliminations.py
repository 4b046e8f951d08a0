"""Netting written back into the books: eliminations of circular revenue, per quarter.

In: a :class:`~ledger.netting.NettingResult` and the legs it was netted from. Out: per
company with circular revenue, balanced beancount transactions that move it from
``Income:<Label>:<payer>`` to ``Income:Circular:<Label>:<payer>`` (flag ``%``, tag
``#circular``, linked ``^deal-<id>`` to the deals whose legs carry it), so that a book loaded
with its eliminations shows organic revenue on ``Income:Sales`` etc., and Fava's time filter
shows each period's part.

**How the figures are dated** (what an auditor reproduces from the netting JSON and the legs):

1. A company's circular figure (rounded to the cent) is shared among its incoming revenue
   edges (payer, kind) in proportion to the circulation on each edge, by largest remainder,
   so the edges add up to the figure exactly (as the netting reports it).
2. Each edge's share is pro-rated over the legs that make up the edge in the netted period and
   basis, in proportion to their amounts, in whole cents by largest remainder (ties: the
   earlier leg). The netted figures themselves never change: only where they are dated.
3. The legs' shares are added up per calendar quarter; each quarter's sum is one transaction
   dated on the quarter's last day, or on the period's last day when the period ends first.

So a 2025 time filter over the book plus its eliminations shows the circular revenue carried by
2025's legs, and the eliminations over all dates add up to the netted figure. Example: an edge
with 90 circular out of legs of 100 (2025-02-10) and 200 (2025-08-01) gives 30.00 dated
2025-03-31 and 60.00 dated 2025-09-30.

:func:`write_eliminations` writes one ``<slug>.eliminations.beancount`` per company (header-only
when it has no circular revenue) with its own ``option "title"``; given the books it was netted
from, it includes the company's book (and, for the contracted or announced basis, its
commitments file), so ``fava out/<slug>.eliminations.beancount`` opens the netted view.
"""

from __future__ import annotations

import functools
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from beancount.core import amount as bc_amount
from beancount.core import data

from ledger import output_set
from ledger.accounts import circular_account, revenue_account
from ledger.books_write import BOOK_SUFFIX, COMMITMENTS_SUFFIX, ELIMINATIONS_SUFFIX, book_slug
from ledger.model import (
    Basis,
    Company,
    FlowClass,
    Kind,
    Leg,
    from_cents,
    included_in_basis,
)
from ledger.netting import NettingResult

__all__ = [
    "ELIMINATIONS_SET",
    "ELIMINATIONS_SUFFIX",
    "ELIMINATION_FLAG",
    "SOURCE",
    "elimination_files",
    "eliminations",
    "eliminations_text",
    "write_eliminations",
]

#: The pseudo-source of the elimination entries this module generates.
SOURCE = "<roundtrip.eliminations>"
#: The flag of elimination transactions. beancount v3 reads only ``* ! & # ? %`` as flags (no
#: letters), and the books reader reads ``*``/``!`` transactions with a ``deal`` key as legs,
#: so the eliminations get a flag of their own.
ELIMINATION_FLAG = "%"
#: The kind of output set the eliminations are (:mod:`ledger.output_set`).
ELIMINATIONS_SET = "eliminations"

_Edge = tuple[Company, Company, Kind]


def eliminations(result: NettingResult, legs: Iterable[Leg]) -> dict[Company, list[Any]]:
    """Beancount transactions that move circular revenue to ``Income:Circular:...``.

    Per company with circular revenue, one balanced transaction per incoming revenue edge
    (payer and kind) and calendar quarter of the legs that carry it, dated at the quarter's
    last day (see the module docstring); ``method``, ``basis``, ``period``, ``quarter``,
    ``counterparty`` and ``kind`` metadata. Companies in date, then payer, then kind order.
    """
    graph = result.graph
    by_edge = _edge_legs(result, tuple(legs))
    per_edge = np.asarray(result.edge_circular, dtype=np.float64)
    entries: dict[Company, list[Any]] = {}
    for figures in result.companies:
        cents = round(figures.circular * 100)
        if cents <= 0:
            continue
        node = graph.index(figures.company)
        mine = np.flatnonzero(graph.revenue & (graph.dst == node) & (per_edge > 0))
        shares = _largest_remainder(per_edge[mine].tolist(), cents)
        transactions = []
        for edge, share in zip(mine.tolist(), shares, strict=True):
            key = (graph.nodes[int(graph.src[edge])], figures.company, graph.edge_kind(edge))
            if share > 0 and by_edge.get(key):
                transactions += _edge_eliminations(result, key, share, by_edge[key])
        transactions.sort(key=lambda t: (t.date, t.meta["counterparty"], t.meta["kind"]))
        entries[figures.company] = transactions
    return entries


def _edge_legs(result: NettingResult, legs: tuple[Leg, ...]) -> dict[_Edge, list[Leg]]:
    """The money legs of the graph's period and basis, per edge, in date order."""
    graph = result.graph
    found: dict[_Edge, list[Leg]] = defaultdict(list)
    for leg in sorted(legs, key=lambda leg: (leg.date, leg.deal, leg.leg)):
        if (
            graph.period.contains(leg.date)
            and included_in_basis(leg.status, graph.basis)
            and leg.flow_class is not FlowClass.NONCASH
        ):
            found[(leg.payer, leg.payee, Kind(leg.kind))].append(leg)
    return found


def _edge_eliminations(
    result: NettingResult, edge: _Edge, cents: int, legs: list[Leg]
) -> list[data.Transaction]:
    """One edge's circular cents pro-rated over its legs, summed per quarter."""
    weights = [int(leg.amount * 100) for leg in legs]
    shares = _largest_remainder(weights, cents)
    quarters: dict[date, tuple[int, set[str]]] = {}
    for leg, share in zip(legs, shares, strict=True):
        if share <= 0:
            continue
        day = _quarter_end(leg.date, result.graph.period.end)
        total, deals = quarters.get(day, (0, set()))
        quarters[day] = (total + share, deals | {leg.deal})
    return [
        _elimination(result, edge, total, day, deals)
        for day, (total, deals) in sorted(quarters.items())
    ]


def _quarter_end(day: date, period_end: date | None) -> date:
    """The last day of ``day``'s calendar quarter, or of the period if that comes first."""
    month = 3 * ((day.month - 1) // 3) + 3
    end = date(day.year + 1, 1, 1) if month == 12 else date(day.year, month + 1, 1)
    last = end - timedelta(days=1)
    if period_end is not None and period_end - timedelta(days=1) < last:
        return period_end - timedelta(days=1)
    return last


def _quarter_label(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _elimination(
    result: NettingResult, edge: _Edge, cents: int, day: date, deals: set[str]
) -> data.Transaction:
    graph = result.graph
    payer, _, kind = edge
    number = from_cents(cents)
    meta = data.new_metadata(SOURCE, 0)
    meta.update(
        {
            "method": result.method.value,
            "basis": graph.basis.value,
            "period": graph.period.label,
            "quarter": _quarter_label(day),
            "counterparty": payer,
            "kind": kind.value,
        }
    )
    postings = [
        data.Posting(
            revenue_account(kind, payer),
            bc_amount.Amount(number, graph.currency),
            None,
            None,
            None,
            None,
        ),
        data.Posting(
            circular_account(kind, payer),
            bc_amount.Amount(-number, graph.currency),
            None,
            None,
            None,
            None,
        ),
    ]
    return data.Transaction(
        meta,
        day,
        ELIMINATION_FLAG,
        None,
        f"Circular {kind.value} revenue from {payer}, {_quarter_label(day)} "
        f"({result.method.value} netting)",
        frozenset({"circular"}),
        frozenset(f"deal-{deal}" for deal in sorted(deals)),
        postings,
    )


def _largest_remainder(weights: Sequence[float | int], total: int) -> list[int]:
    """Whole cents per weight, adding up to ``total``, by largest remainder (ties: order).

    Integer weights are split exactly (integer arithmetic); float weights (the circulation on
    edges) are scaled in floating point first.
    """
    if not weights:
        return []
    if all(isinstance(w, int) for w in weights):
        whole = sum(weights)
        if whole <= 0:
            return [0] * len(weights)
        floors = [total * int(w) // whole for w in weights]
        rests = [total * int(w) % whole for w in weights]
    else:
        values = np.asarray(weights, dtype=np.float64)
        scaled = values * (total / values.sum()) if values.sum() > 0 else values
        floors = np.floor(scaled).astype(np.int64).tolist()
        rests = (scaled - np.floor(scaled)).tolist()
    short = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: -rests[i])
    for i in order[: max(short, 0)]:
        floors[i] += 1
    return floors


# --------------------------------------------------------------------------------------------
# Files


def eliminations_text(
    company: Company,
    result: NettingResult,
    transactions: Sequence[data.Transaction],
    includes: Sequence[str] = (),
    plugins: Sequence[str] = (),
) -> str:
    """The text of one company's eliminations file (rendered directly, byte-stable).

    ``plugins``: the ``plugin`` lines of the included files, given again here because beancount
    runs only the plugins of the file it loads (a hand-written book that lets
    ``beancount.plugins.auto_accounts`` open its accounts would not load otherwise).
    """
    graph = result.graph
    what = f"{result.method.value} netting, {graph.basis.value} basis, period {graph.period.label}"
    lines = [
        f"; roundtrip eliminations for {company}: circular revenue moved to Income:Circular",
        f"; ({what}): one transaction per payer, kind and quarter",
        "; of the legs that carry it.",
    ]
    if includes:
        lines.append("; Open this file in Fava or bean-query: it includes the book it nets.")
    else:
        lines.append("; Load it together with the company's book (include both from one file).")
    lines += ["", f'option "title" "{_escape(company)}: organic revenue ({what})"']
    if plugins:
        lines += ["", *plugins]
    if includes:
        lines += ["", *(f'include "{_escape(name)}"' for name in includes)]
    first: dict[str, date] = {}
    for entry in transactions:
        for posting in entry.postings:
            if posting.account.startswith("Income:Circular:"):
                first.setdefault(posting.account, entry.date)
    if first:
        lines.append("")
        lines += [
            f"{day} open {account:<52} {graph.currency}"
            for account, day in sorted(first.items(), key=lambda item: (item[1], item[0]))
        ]
    text = "\n".join(lines) + "\n"
    return text + "".join("\n" + _transaction_text(entry) for entry in transactions)


def _transaction_text(entry: data.Transaction) -> str:
    links = "".join(f" ^{link}" for link in sorted(entry.links))
    tags = "".join(f" #{tag}" for tag in sorted(entry.tags))
    lines = [f'{entry.date} {entry.flag} "{_escape(entry.narration)}"{tags}{links}']
    for key in ("method", "basis", "period", "quarter", "counterparty", "kind"):
        lines.append(f'  {key}: "{_escape(str(entry.meta[key]))}"')
    width = max(len(p.account) for p in entry.postings)
    amounts = [format(p.units.number, ",") for p in entry.postings]
    right = max(len(a) for a in amounts)
    lines += [
        f"  {p.account:<{width}}  {a:>{right}} {p.units.currency}"
        for p, a in zip(entry.postings, amounts, strict=True)
    ]
    return "".join(line + "\n" for line in lines)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


_TITLE_RE = re.compile(r'^option\s+"title"\s+"((?:[^"\\]|\\.)*)"', re.M)
_PLUGIN_RE = re.compile(r'^plugin\s+"(?:[^"\\]|\\.)*"(?:[ \t]+"(?:[^"\\]|\\.)*")?', re.M)


def _plugins(paths: Iterable[Path]) -> list[str]:
    """The ``plugin`` directives of ``paths``, each once, in the order they first appear."""
    found: dict[str, None] = {}
    for path in paths:
        for match in _PLUGIN_RE.finditer(path.read_text(encoding="utf-8", errors="replace")):
            found.setdefault(match[0], None)
    return list(found)


def _titled_stems(books: Path) -> dict[str, str]:
    """``{title: file stem}`` of the books of a folder whose file is not named for its company.

    A hand-written book may be called anything (``Alpha ledger 2025.beancount``); its
    ``option "title"`` names the company (:mod:`ledger.books_read`).
    """
    from ledger.books_read import book_sets

    stems: dict[str, str] = {}
    for book_set in book_sets(books)[0]:
        found = _TITLE_RE.search(book_set.book.read_text(encoding="utf-8", errors="replace"))
        if found:
            title = re.sub(r"\\(.)", r"\1", found[1])
            stems.setdefault(title, book_set.book.name.removesuffix(BOOK_SUFFIX))
    return stems


def _books_of(
    company: Company, result: NettingResult, books: Path, titled: Callable[[], dict[str, str]]
) -> list[Path]:
    """The company's book (and commitments on a forward basis) in ``books``, if it is there."""
    slug = book_slug(company)
    if not (books / (slug + BOOK_SUFFIX)).is_file() and books.is_dir():
        slug = titled().get(company, slug)
    book, commitments = books / (slug + BOOK_SUFFIX), books / (slug + COMMITMENTS_SUFFIX)
    if not book.is_file():
        return []
    # A hand-written book may keep its contracted and announced legs in itself (no commitments).
    paths = [book]
    if result.graph.basis is not Basis.REALIZED and commitments.is_file():
        paths.append(commitments)
    return paths


def write_eliminations(
    result: NettingResult,
    legs: Iterable[Leg],
    out_dir: Path,
    books: Path | None = None,
) -> tuple[Path, ...]:
    """Write ``<slug>.eliminations.beancount`` for every company into ``out_dir``.

    Each company keeps its own book, so each gets its own file: its own ``option "title"``,
    the ``open`` directives of the ``Income:Circular:...`` accounts it uses (its book opens
    the others) and its elimination transactions. ``books``: the folder of books that were
    netted; the file then includes the company's book (and commitments, unless the basis is
    realized), relative to ``out_dir``. Keep these files out of the books folder. Companies
    without circular revenue get a file with the header only.

    Returns:
        The paths written, in company order.
    """
    out_dir = Path(out_dir)
    return output_set.write_set(
        out_dir,
        elimination_files(result, legs, books, out_dir),
        ELIMINATIONS_SET,
        foreign="*.beancount",
    )


def elimination_files(
    result: NettingResult,
    legs: Iterable[Leg],
    books: Path | None = None,
    out_dir: Path | None = None,
) -> dict[str, str]:
    """``{file name: text}`` of every company's eliminations (see :func:`write_eliminations`).

    ``out_dir`` is where the files will live, so that includes of ``books`` are relative to it.
    """
    entries = eliminations(result, legs)
    files: dict[str, str] = {}
    titled = functools.cache(lambda: _titled_stems(books) if books is not None else {})
    for figures in result.companies:
        company = figures.company
        included = _books_of(company, result, books, titled) if out_dir and books else []
        includes = [os.path.relpath(p.absolute(), Path(out_dir).absolute()) for p in included]
        files[book_slug(company) + ELIMINATIONS_SUFFIX] = eliminations_text(
            company, result, entries.get(company, []), includes, _plugins(included)
        )
    return files
