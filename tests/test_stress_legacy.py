"""The old figures stay reachable: the conventions before issue 14 reproduce them to the cent.

``tests/fixtures/legacy_audit/books.json`` was written by the engine of commit fdfde7b (before
the stress-test conventions existed) for every company of ``books/``: failure and a 50% cut,
contracted and announced bases, and both systemic rankings. Run with
:data:`ledger.conventions.LEGACY` (``--horizon all --loss face --baseline given --means
outside``), today's engine must give every one of those figures again; new keys may be added.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from ledger.contagion import simulate_failure, systemic_ranking
from ledger.conventions import LEGACY
from ledger.inputs import read_web
from ledger.model import Basis, Period

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = json.loads((ROOT / "tests/fixtures/legacy_audit/books.json").read_text())


@pytest.fixture(scope="module")
def web():
    return read_web(ROOT / "books")


def _old_keys(new: Any, old: Any) -> Any:
    """``new`` restricted to the keys ``old`` has, recursively (new keys are additions)."""
    if isinstance(old, dict):
        return {key: _old_keys(new.get(key), value) for key, value in old.items()}
    if isinstance(old, list) and isinstance(new, list) and len(new) == len(old):
        return [_old_keys(n, o) for n, o in zip(new, old, strict=True)]
    return new


@pytest.mark.parametrize("key", sorted(FIXTURE["failures"]))
def test_legacy_conventions_reproduce_every_old_failure_figure(web, key):
    basis, company, cut = key.split("/")
    report = simulate_failure(
        web.legs, web.prices, company, Fraction(cut), Period(), Basis(basis), conventions=LEGACY
    )
    old = FIXTURE["failures"][key]
    assert _old_keys(report.to_json_dict(), old) == old


@pytest.mark.parametrize("basis", sorted(FIXTURE["ranking"]))
def test_legacy_conventions_reproduce_the_old_systemic_ranking(web, basis):
    ranking = systemic_ranking(web.legs, web.prices, Period(), Basis(basis), conventions=LEGACY)
    old = FIXTURE["ranking"][basis]
    assert _old_keys(ranking.to_json_dict(), old) == old
