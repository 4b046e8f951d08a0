"""Synthetic deal webs for scale tests and benchmarks (SPEC §5).

Real webs are small; the engine must still net 10,000 companies and 1,000,000 legs. A synthetic
web here is a legs frame (:data:`ledger.flows.FRAME_COLUMNS`, amounts in integer cents) drawn
from a seeded generator, so the same arguments always give the same web:

- company activity follows a power law (Zipf weight ``1/rank**exponent``), as deal webs do: a
  few hubs (the Nvidias) trade with everybody, most companies with a few;
- 80% of legs are revenue (sale, cloud, lease), 20% financing (equity, loan);
- ``external_share`` of legs come from ``External`` (new money and organic revenue);
- amounts are log-normal whole dollars, dates spread over one year, every leg realized.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ledger.flows import FRAME_COLUMNS
from ledger.model import EXTERNAL

__all__ = ["synthetic_web", "write_web_csv"]

_REVENUE_KINDS = np.array(["sale", "cloud", "lease"])
_FINANCING_KINDS = np.array(["equity", "loan"])


def _names(n: int) -> np.ndarray:
    width = len(str(n - 1))
    return np.array([f"C{i:0{width}d}" for i in range(n)])


def synthetic_web(
    companies: int,
    legs: int,
    *,
    seed: int = 0,
    exponent: float = 1.1,
    external_share: float = 0.05,
    year: int = 2025,
) -> pd.DataFrame:
    """A seeded random power-law web as a legs frame.

    Raises:
        ValueError: fewer than two companies or no legs.
    """
    if companies < 2 or legs < 1:
        raise ValueError("a web needs at least two companies and one leg")
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, companies + 1) ** exponent
    weights /= weights.sum()
    rank_to_id = rng.permutation(companies)
    payer = rank_to_id[rng.choice(companies, size=legs, p=weights)]
    payee = rank_to_id[rng.choice(companies, size=legs, p=weights)]
    # No self-loops: move a clashing payee to the next company.
    clash = payer == payee
    payee[clash] = (payee[clash] + 1) % companies
    names = _names(companies)
    payer_names = names[payer].astype(object)
    payee_names = names[payee].astype(object)
    external = rng.random(legs) < external_share
    payer_names[external] = EXTERNAL
    financing = rng.random(legs) < 0.2
    kinds = np.where(
        financing,
        _FINANCING_KINDS[rng.integers(0, len(_FINANCING_KINDS), legs)],
        _REVENUE_KINDS[rng.integers(0, len(_REVENUE_KINDS), legs)],
    )
    dollars = np.maximum(1, rng.lognormal(mean=12.0, sigma=1.5, size=legs)).astype(np.int64)
    start = date(year, 1, 1)
    days = rng.integers(0, 365, legs)
    dates = [start + timedelta(days=int(d)) for d in range(365)]
    frame = pd.DataFrame(
        {
            "date": [dates[d] for d in days],
            "deal": [f"d{i}" for i in range(legs)],
            "leg": np.ones(legs, dtype=np.int64),
            "payer": payer_names,
            "payee": payee_names,
            "kind": kinds,
            "cents": dollars * 100,
            "currency": "USD",
            "status": "realized",
            "estimate": False,
        },
        columns=list(FRAME_COLUMNS),
    )
    return frame


def write_web_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a legs frame as a legs CSV (amounts back in currency units, 2 decimals)."""
    out = frame.drop(columns=["cents"]).assign(
        amount=[f"{c // 100}.{c % 100:02d}" for c in frame["cents"].to_numpy()],
        estimate=np.where(frame["estimate"].to_numpy(), "TRUE", "FALSE"),
    )
    columns = [
        "date",
        "deal",
        "leg",
        "payer",
        "payee",
        "kind",
        "amount",
        "currency",
        "status",
        "estimate",
    ]
    from ledger.output_set import replace_file

    replace_file(path, lambda tmp: out[columns].to_csv(tmp, index=False))
