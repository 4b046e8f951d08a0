"""Shared fixtures (the hand-checkable webs of ``tests/fixtures/examples``) and Hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = FIXTURES / "examples"
REPO = Path(__file__).parent.parent


@pytest.fixture
def examples() -> Path:
    """The folder of hand-checkable legs CSVs (copied from shared/examples)."""
    return EXAMPLES


# Hypothesis profiles for the fuzz tests (tests/test_fuzz.py): "ci" is short, "long" is the
# campaign the README states. HYPOTHESIS_PROFILE=long chooses it (for every test that does not
# set its own number of examples).
settings.register_profile(
    "ci", max_examples=24, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("ROUNDTRIP_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
if "HYPOTHESIS_PROFILE" in os.environ:
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
