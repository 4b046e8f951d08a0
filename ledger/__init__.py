"""roundtrip: a double-entry ledger engine that exposes circular revenue.

The public API (README "Python API"; :mod:`ledger.api`)::

    import ledger
    web = ledger.read("books/")
    ledger.net(web, method="max", basis="realized", period="2025").to_frame()
    ledger.exposure_audit(web, fail="OpenAI").to_frame()

``import ledger`` is cheap: the API and everything it needs load on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Audit", "Netting", "exposure_audit", "net", "read"]


def __getattr__(name: str) -> Any:
    """Load the API on first use (PEP 562), so ``import ledger`` imports nothing heavy."""
    if name in __all__:
        from ledger import api

        return getattr(api, name)
    raise AttributeError(f"module 'ledger' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
