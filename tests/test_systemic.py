"""The vectorised systemic ranking of float webs gives what one failure at a time gives."""

from __future__ import annotations

import pytest

from ledger.contagion import simulate_failure, systemic_ranking
from ledger.conventions import LEGACY, Conventions
from ledger.legs_frame import legs_of_frame
from ledger.model import Basis, Period
from ledger.simulate import synthetic_web


@pytest.fixture(scope="module")
def legs():
    """A seeded web of 80 companies: above the exact limit, so solved in float64."""
    return legs_of_frame(synthetic_web(80, 1200, seed=3))


@pytest.mark.parametrize("conventions", [Conventions(), LEGACY], ids=["issue-14", "legacy"])
def test_the_ranking_of_a_float_web_matches_each_failure_alone(legs, conventions):
    """For every company: loss to others, defaults caused and loss to outsiders are exactly
    those of its own failure report (same equations, same float64 solves)."""
    ranking = systemic_ranking(legs, (), Period(), Basis.CONTRACTED, conventions=conventions)
    assert not ranking.exact
    for row in ranking:
        report = simulate_failure(
            legs, (), row.company, 1, Period(), Basis.CONTRACTED, conventions=conventions
        )
        caused = sum(len(names) for found, names in report.defaults if found > 0)
        assert (row.loss_to_others, row.defaults, row.external_loss) == (
            report.loss_to_others,
            caused,
            report.external_loss,
        ), row.company
