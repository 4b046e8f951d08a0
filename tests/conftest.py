"""Shared fixtures: paths to the hand-checkable webs of ``tests/fixtures/examples``."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = FIXTURES / "examples"
REPO = Path(__file__).parent.parent


@pytest.fixture
def examples() -> Path:
    """The folder of hand-checkable legs CSVs (copied from shared/examples)."""
    return EXAMPLES
