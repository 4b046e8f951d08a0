"""Fava's "Circular revenue" page: ``custom "fava-extension" "ledger.fava_ext" "<config>"``.

A :class:`~fava.ext.FavaExtensionBase` subclass with a report (``report_title``) and one
template, ``templates/CircularRevenue.html`` (package data, so a non-editable install ships
it). The config is that of the plugin (:mod:`ledger.netted`): the folder of books, the method,
the basis and the period. The page's figures come from :mod:`ledger.circular_page`; every
netted view ``roundtrip book`` writes loads it.
"""

from __future__ import annotations

from typing import Any

from fava.ext import FavaExtensionBase

from ledger.circular_page import CircularPage, Witness, circular_page
from ledger.units import amount_text, share

__all__ = ["CircularRevenue"]


class CircularRevenue(FavaExtensionBase):
    """The company's organic vs circular revenue, its cycle witnesses and counterparties."""

    report_title = "Circular revenue"

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
        found = netted(settings)
        company = company_of(found.read, self._sources)
        if company is None:
            return f"this ledger loads no single book of {settings.books}"
        return circular_page(found, company, self.ledger.all_entries)

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
