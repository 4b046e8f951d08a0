"""One door for every input roundtrip reads: a deals file, a legs CSV, or beancount books.

In: a path. Out: a :class:`Web` — the legs, price marks and companies it declares, and every
problem found, as :class:`~ledger.model.LedgerError` records. Nothing is raised for bad user data;
the caller (the CLI, the store, the report generator) decides to stop on errors.

=====================  ===============================================
path                   read as
=====================  ===============================================
``*.yaml`` / ``*.yml``  deals file (templates expanded), :mod:`ledger.deals`
``*.csv``               flat legs CSV, :mod:`ledger.legs_csv`
a folder                every book in it with its commitments, :mod:`ledger.books_read`
``*.beancount``         that one book and its commitments (legs that need another book are
                        one-sided)
=====================  ===============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ledger.model import EXTERNAL, Company, LedgerError, Leg, Price

__all__ = ["Web", "read_web"]


@dataclass(frozen=True, slots=True)
class Web:
    """Everything one input holds: legs, marks, companies, and the problems found reading it."""

    path: Path
    legs: tuple[Leg, ...]
    prices: tuple[Price, ...]
    companies: tuple[Company, ...]
    errors: tuple[LedgerError, ...]
    source: str

    @property
    def ok(self) -> bool:
        """Whether the input was read without a single problem."""
        return not self.errors


def _companies(legs: tuple[Leg, ...], declared: tuple[Company, ...]) -> tuple[Company, ...]:
    named = {leg.payer for leg in legs} | {leg.payee for leg in legs} | set(declared)
    named.discard(EXTERNAL)
    return tuple(sorted(named))


def read_web(path: Path) -> Web:
    """Read any input roundtrip accepts (see the module table)."""
    path = Path(path)
    if not path.exists():
        return Web(path, (), (), (), (LedgerError(str(path), 0, "no such file or folder"),), "")
    if path.is_dir() or path.suffix == ".beancount":
        from ledger.books_read import read_books
        from ledger.output_set import recover

        # A writer killed mid-swap is rolled back before anyone reads (ledger.output_set).
        recovery = recover(path if path.is_dir() else path.parent)
        if recovery:
            return Web(path, (), (), (), recovery, "books")

        books = read_books(path)
        return Web(
            path,
            books.legs,
            books.prices,
            _companies(books.legs, books.companies),
            tuple(books.errors),
            "books",
        )
    if path.suffix in (".yaml", ".yml", ".csv"):
        from ledger.deals import read_input

        legs, prices, companies, errors = read_input(path)
        source = "csv" if path.suffix == ".csv" else "deals"
        return Web(
            path,
            tuple(legs),
            tuple(prices),
            _companies(tuple(legs), tuple(companies)),
            tuple(errors),
            source,
        )
    message = "not a deals file (.yaml), legs CSV (.csv), beancount book or folder of books"
    return Web(path, (), (), (), (LedgerError(str(path), 0, message),), "")
