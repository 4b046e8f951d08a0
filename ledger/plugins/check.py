"""``plugin "ledger.plugins.check" "{'books': '.'}"``: reconciliation only, no eliminations.

Reports every one-sided or mismatched intercompany leg of this book (see :mod:`ledger.plugins`)
and leaves the entries as they are.
"""

from __future__ import annotations

from typing import Any

from ledger.plugins import PluginError, run

__plugins__ = ("check",)


def check(
    entries: list[Any], options_map: dict[str, Any], config: str | None = None
) -> tuple[list[Any], list[PluginError]]:
    """The plugin (beancount calls it): the entries unchanged, and the problems found."""
    return run(entries, options_map, config, eliminate=False)
