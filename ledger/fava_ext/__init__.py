"""Fava's "Circular revenue" page: ``custom "fava-extension" "ledger.fava_ext" "<config>"``.

A :class:`~fava.ext.FavaExtensionBase` subclass with a report (``report_title``) and one
template, ``templates/CircularRevenue.html``, and a front-end module, ``CircularRevenue.js``,
which widens Fava's amount columns to the books' amounts on every page (both package data, so
a non-editable install ships them). The config is that of the plugin (:mod:`ledger.netted`):
the folder of books, the method, the basis and the period. Fava's time filter, when one is
set, takes the place of the config's period, so the page nets the same dates as the income
statement beside it. The page's figures come from :mod:`ledger.circular_page`; every
netted view ``roundtrip book`` writes loads it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fava.ext import FavaExtensionBase

from ledger.circular_page import CircularPage, Witness, circular_page
from ledger.model import Period
from ledger.units import amount_text, share

__all__ = ["CircularRevenue"]


class CircularRevenue(FavaExtensionBase):
    """The company's organic vs circular revenue, its cycle witnesses and counterparties."""

    report_title = "Circular revenue"
    #: ``CircularRevenue.js`` (package data) widens Fava's amount columns on every page of the
    #: ledger, which the books' amounts (up to 21 characters) overran.
    has_js_module = True

    #: The files the ledger's entries come from, found once per load (the plugin adds the
    #: other books to the ledger's input files, so those do not say which book is this one).
    _sources: frozenset[str] = frozenset()

    def after_load_file(self) -> None:
        """Note which files the entries come from: which company's book this ledger is."""
        entries = self.ledger.all_entries
        self._sources = frozenset(
            name for entry in entries if (name := (entry.meta or {}).get("filename"))
        )

    def page(self) -> CircularPage | str:
        """The page's figures, or one line saying why there are none."""
        from ledger.netted import company_of, netted, parse_settings

        try:
            settings = parse_settings(self.config, self.ledger.beancount_file_path)
        except ValueError as exc:
            return str(exc)
        chosen = _time_filter()
        found = netted(settings if chosen is None else replace(settings, period=chosen))
        company = company_of(found.read, self._sources)
        if company is None:
            return f"this ledger loads no single book of {settings.books}"
        entries = self.ledger.all_entries
        if chosen is not None:
            entries = _netted_alone(entries, chosen, found.eliminations.get(company, []))
        return circular_page(found, company, entries)

    def chart(self, page: CircularPage) -> str:
        """Organic and circular revenue per quarter, as inline SVG."""
        from ledger.charts import CIRCULAR, ORGANIC, stacked_bars

        labels = [quarter.label for quarter in page.quarters]
        return stacked_bars(
            labels,
            [
                ("organic revenue", [q.organic for q in page.quarters], ORGANIC),
                ("circular revenue", [q.circular for q in page.quarters], CIRCULAR),
            ],
            f"{page.company}: organic and circular revenue per quarter (USD)",
            prefix="$",
        )

    @staticmethod
    def money(amount: Any) -> str:
        """An amount with its unit (``640.00 M``) for prose and tables."""
        return amount_text(amount)

    @staticmethod
    def percent(value: Any) -> str:
        """A share as a percentage (``0.5%``)."""
        return share(value)

    @staticmethod
    def deals(witness: Witness) -> list[str]:
        """The deals along a witness, each once, in the order the money goes round."""
        return list(dict.fromkeys(deal for *_, deals in witness.steps for deal in deals))


def _time_filter() -> Period | None:
    """Fava's time filter of this request (``?time=2025``), or None where none is set."""
    from fava.helpers import FavaAPIError
    from flask import g, has_request_context, request

    if not has_request_context() or not request.args.get("time"):
        return None
    try:
        date_range = g.filtered.date_range
    except FavaAPIError:  # a time filter Fava cannot read: Fava says so itself
        return None
    if date_range is None:
        return None
    return Period(date_range.begin, date_range.end, request.args["time"])


def _netted_alone(entries: list[Any], period: Period, eliminations: list[Any]) -> list[Any]:
    """The ledger's entries of ``period``, with the eliminations of that period's own netting.

    Netting is not additive over periods (a cycle may close only across them), so the
    plugin's eliminations, made for its configured period, are replaced by those of the
    period netted alone: the page's quarters then add up to its figures. The entries are cut
    to the dates here rather than taken from Fava's filtered ledger, which adds opening
    balances dated before the filter.
    """
    from ledger.eliminations import SOURCE

    kept = [
        entry
        for entry in entries
        if period.contains(entry.date) and (entry.meta or {}).get("filename") != SOURCE
    ]
    return kept + list(eliminations)
