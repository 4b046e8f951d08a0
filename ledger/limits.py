"""The one set of bounds every input is held to, whichever verb reads it.

Every reader (legs CSV, Parquet, deals file, beancount books, the store) checks these up front
and refuses what lies outside with ``file:line: message [deal]`` and exit 2, so the same input is
refused by every verb or accepted by every verb, and nothing downstream can overflow.

Why these figures:

- **Amounts.** Solvers work in integer cents on 64-bit integers (OR-Tools' ``SimpleMinCostFlow``
  takes int64 capacities and costs, and sums of capacities along a cut must not overflow; the
  store keeps BIGINT cents). One leg below $10 trillion (10**15 cents) and one input whose legs
  sum below 10**18 cents leave a margin of nine against int64's 9.22 * 10**18. $10T per leg is
  twice the market value of the largest company on the shipped books.
- **Dates.** 1900-01-01 to 2199-12-31: every corporate record and multi-decade contract fits,
  and every date type on the path holds it (beancount's four-digit years, SQL ``DATE``, and
  pandas' ``datetime64[ns]``, which ends on 2262-04-11).
- **Sizes.** A template expands one deal into at most 10,000 legs (a monthly schedule for 833
  years), and one input holds at most 20 million legs, so that a small file can never expand
  into more memory than this machine class has (a 17-line deals file with ``count: 1000000000``
  must be refused, not killed by the kernel).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

__all__ = [
    "MAX_DATE",
    "MAX_LEGS",
    "MAX_LEGS_PER_DEAL",
    "MAX_LEG_NUMBER",
    "MAX_LEG_CENTS",
    "MAX_NAME_CHARS",
    "MAX_TOTAL_CENTS",
    "MIN_DATE",
    "MAX_LEG_AMOUNT",
]

#: The largest amount of one leg, in cents (inclusive): $9,999,999,999,999.99.
MAX_LEG_CENTS: int = 10**15 - 1
#: The same bound as a Decimal in currency units, for the Decimal readers.
MAX_LEG_AMOUNT: Decimal = Decimal(MAX_LEG_CENTS) / 100
#: The largest sum of all leg amounts of one input, in cents (inclusive).
MAX_TOTAL_CENTS: int = 10**18

#: The first and last date a leg, price or generated schedule may carry (inclusive).
MIN_DATE: date = date(1900, 1, 1)
MAX_DATE: date = date(2199, 12, 31)

#: How many legs one deal-file template may generate.
MAX_LEGS_PER_DEAL: int = 10_000
#: The largest leg number (a leg's 1-based number within its deal): nine digits, so that it
#: fits the store's 32-bit INTEGER column and the readers' int64 arrays.
MAX_LEG_NUMBER: int = 999_999_999
#: How many legs one input (file, folder, store) may hold.
MAX_LEGS: int = 20_000_000

#: The longest company name (display form) accepted.
MAX_NAME_CHARS: int = 120
