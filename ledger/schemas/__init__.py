"""The shipped JSON Schemas of every machine output, read without pydantic.

``<name>.schema.json`` beside this file is generated from :mod:`ledger.schemas.models` by
``python -m ledger.schemas.generate`` (which also writes ``docs/outputs.md``). The writers read
them at run time only to lay out CSV tables (:mod:`ledger.records`); pydantic is needed only to
regenerate them.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["DOCUMENT_NAMES", "SCHEMA_VERSION", "schema"]

#: ``MAJOR.MINOR`` of every JSON document (``schema_version``): the writers and the models
#: (:mod:`ledger.schemas.models`) both take it from here.
SCHEMA_VERSION = "1.2"

#: The documents that have a schema: ``net``, ``audit``, ``show-<what>``.
DOCUMENT_NAMES = ("net", "audit", "show-companies", "show-deals", "show-legs")


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one document (a fresh parse once, then cached: do not mutate it).

    Raises:
        KeyError: no such document.
    """
    if name not in DOCUMENT_NAMES:
        raise KeyError(name)
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)
