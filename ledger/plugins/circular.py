"""``plugin "ledger.plugins.circular" "{'books': '.', 'method': 'max', 'basis': 'realized'}"``.

Checks this book's intercompany legs against the counterparties' books and adds this company's
elimination entries, per quarter (see :mod:`ledger.plugins`).
"""

from __future__ import annotations

from typing import Any

from ledger.plugins import PluginError, run

__plugins__ = ("circular",)


def circular(
    entries: list[Any], options_map: dict[str, Any], config: str | None = None
) -> tuple[list[Any], list[PluginError]]:
    """The plugin (beancount calls it): the entries with eliminations, and the problems found."""
    return run(entries, options_map, config, eliminate=True)
