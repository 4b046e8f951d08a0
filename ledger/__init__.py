"""roundtrip: a double-entry ledger engine that exposes circular revenue."""

__version__ = "0.1.0"
