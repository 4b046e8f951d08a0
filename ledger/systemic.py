"""The systemic ranking on large webs: every company's failure, vectorised (float64 mode).

A ranking fails each of n companies against the same network, and needs only three figures of
each failure (loss to the others, defaults caused, loss to outsiders). On webs solved in
float64 (more than :data:`~ledger.clearing.EXACT_LIMIT` nodes) this module computes them with
the very equations of :mod:`ledger.contagion` — the spending cut solved on the companies the
cut reaches, the Eisenberg–Noe clearing (:class:`~ledger.clearing.FloatClearing`, validated
once), the unpaid shortfalls and write-downs — as sparse-matrix and array operations prepared
once, instead of building a full report per company. ``tests/test_systemic.py`` checks it
against :func:`ledger.contagion.simulate_failure` company by company.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path
from scipy.sparse.linalg import spsolve

from ledger.clearing import ClearingResult, FloatClearing
from ledger.conventions import Baseline
from ledger.model import Cents
from ledger.stress_network import Network

__all__ = ["DENSE_LIMIT", "FailureImpact", "Impacts"]

#: Webs of up to this many nodes get every failure's spending cuts from one dense inverse.
DENSE_LIMIT = 4000


@dataclass(frozen=True, slots=True)
class FailureImpact:
    """What one company's failure costs: the others, how many default, outsiders (cents)."""

    loss_to_others: Cents
    defaults_caused: int
    external_loss: Cents


class Impacts:
    """A network prepared once for failing each of its companies in turn (``cut = 1``)."""

    def __init__(self, net: Network, booked: ClearingResult | None) -> None:
        self.net = net
        n = len(net.nodes)
        self.n, self.ext = n, net.external
        buyers, sellers, kept = [], [], []
        for buyer, sales in net.sellers.items():
            for seller, _, share in sales:
                buyers.append(buyer)
                sellers.append(seller)
                kept.append(share)
        self.buyers = np.array(buyers, dtype=np.int64)
        self.sellers = np.array(sellers, dtype=np.int64)
        self.kept_sales = np.array([float(k) for k in kept], dtype=np.float64)
        # Q[seller, buyer] = kept / inflow of the seller, as float(Fraction) in contagion.
        self.weights = np.array(
            [float(k / net.inflow[s]) for k, s in zip(kept, sellers, strict=True)],
            dtype=np.float64,
        )
        self.purchases = sp.csr_matrix(
            (np.ones(len(buyers)), (self.buyers, self.sellers)), shape=(n, n)
        )
        self.clearing = FloatClearing(net.liabilities, net.kept)
        self.assets = np.array(net.external_assets, dtype=np.float64)
        self.booked = None if booked is None else np.array(booked.payments, dtype=np.float64)
        self.booked_defaults = (
            None
            if booked is None
            else np.array([f is not None for f in booked.default_round], dtype=bool)
        )
        stakes = list(net.stakes.items())
        self.investors = np.array([k[0] for k, _ in stakes], dtype=np.int64)
        self.investees = np.array([k[1] for k, _ in stakes], dtype=np.int64)
        self.stake_cents = np.array([c for _, c in stakes], dtype=np.float64)
        self.cuts = self._all_cuts()

    def _all_cuts(self) -> np.ndarray | None:
        """Every failure's spending cuts at once, column f for company f (None: per failure).

        With ``A = I − Q`` over all nodes, the failure of f zeroes Q's row f (it buys nothing),
        a rank-one change: by Sherman–Morrison its cuts are ``A⁻¹e_f / (1 + Q[f]·A⁻¹e_f)``,
        column f of ``A⁻¹`` scaled. A node the failure cannot reach gets 0, as in the solve on
        the reached companies alone. Used when A is small enough to invert densely and
        well-conditioned enough that the inverse checks out; otherwise each failure is solved
        on its own.
        """
        n = self.n
        if n > DENSE_LIMIT or n == 0:
            return None
        q = sp.csr_matrix((self.weights, (self.sellers, self.buyers)), shape=(n, n))
        a = np.identity(n) - q.toarray()
        try:
            inverse = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            return None
        probe = np.random.default_rng(0).random(n)
        if not np.all(np.isfinite(inverse)) or np.abs(a @ (inverse @ probe) - probe).max() > 1e-9:
            return None
        scale = 1.0 + np.asarray((q @ inverse).diagonal()).ravel()
        return np.clip(inverse / scale, 0.0, 1.0)

    def _lost(self, failed: int) -> np.ndarray:
        """Revenue each node loses (its kept part) when ``failed`` stops buying."""
        if self.cuts is not None:
            x = self.cuts[:, failed]
            return np.bincount(
                self.sellers, weights=x[self.buyers] * self.kept_sales, minlength=self.n
            )
        hops = shortest_path(self.purchases, unweighted=True, indices=failed)
        hops[self.ext] = np.inf  # External is reached but passes nothing on
        reached = np.flatnonzero(np.isfinite(hops))
        reach = reached[np.lexsort((reached, hops[reached]))]
        where = np.full(self.n, -1, dtype=np.int64)
        where[reach] = np.arange(len(reach))
        inside = (where[self.sellers] >= 0) & (where[self.buyers] >= 0)
        weight = np.where(self.sellers == failed, 0.0, self.weights)[inside]
        size = len(reach)
        q = sp.csc_matrix(
            (weight, (where[self.sellers[inside]], where[self.buyers[inside]])), shape=(size, size)
        )
        rhs = np.zeros(size)
        rhs[where[failed]] = 1.0
        system = (sp.identity(size, format="csc") - q).tocsc()
        x = np.zeros(self.n)
        x[reach] = np.clip(np.atleast_1d(spsolve(system, rhs)), 0.0, 1.0)
        return np.bincount(self.sellers, weights=x[self.buyers] * self.kept_sales, minlength=self.n)

    def _baseline(self, failed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Assets, baseline payments and baseline defaults for this failure."""
        if self.net.conventions.baseline is Baseline.GIVEN:
            assets = self.assets.copy()
            assets[failed] = self.clearing.totals[failed]
            payments, defaults = self.clearing.solve(assets, self.clearing.totals)
            return assets, payments, defaults
        assert self.booked is not None and self.booked_defaults is not None
        return self.assets, self.booked, self.booked_defaults

    def of(self, failed: int) -> FailureImpact:
        """The failure of node ``failed`` (a web company), everything else as booked."""
        lost = self._lost(failed)
        assets, base_paid, base_defaults = self._baseline(failed)
        caps = self.clearing.totals.copy()
        caps[failed] = 0.0
        # Lowering one cap only lowers payments: the baseline's defaulters default again (the
        # failed company itself pays its cap of nothing in full).
        known = base_defaults.copy()
        known[failed] = False
        paid, defaults = self.clearing.solve(assets, caps, known)
        c = self.clearing
        drop = base_paid[c.rows] - paid[c.rows]
        share = np.where(drop > 0, drop, 0.0) / np.where(c.totals[c.rows] > 0, c.totals[c.rows], 1)
        unpaid = np.bincount(c.cols, weights=share * c.kept_cents, minlength=self.n)
        now = defaults[self.investees].astype(np.float64)
        now[self.investees == failed] = 1.0
        extra = now - base_defaults[self.investees].astype(np.float64)
        written = np.bincount(
            self.investors,
            weights=np.where(extra > 0, extra, 0.0) * self.stake_cents,
            minlength=self.n,
        )
        totals = np.maximum(np.round(lost + unpaid + written), 0.0)
        web = np.ones(self.n, dtype=bool)
        web[[failed, self.ext]] = False
        caused = web & defaults & ~base_defaults
        others = int(totals[web].astype(np.int64).sum())
        return FailureImpact(others, int(caused.sum()), int(totals[self.ext]))
