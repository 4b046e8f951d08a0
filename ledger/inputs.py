"""One door for every input roundtrip reads: a deals file, a legs table, or beancount books.

In: a path. Out: a :class:`Web` — the legs (as a frame, :mod:`ledger.legs_frame`), price marks
and companies it declares, and every problem found, as :class:`~ledger.model.LedgerError`
records. Nothing is raised for bad user data; the caller (the CLI, the store, the report
generator) decides to stop on errors. Every source goes through the one validation layer
(:mod:`ledger.validate`), so every verb refuses or accepts the same input alike.

path                   read as
=====================  ===============================================
``*.yaml`` / ``*.yml``  deals file (templates expanded), :mod:`ledger.deals`
``*.csv``               flat legs CSV, :mod:`ledger.legs_csv`
a folder                every book in it with its commitments, :mod:`ledger.books_read`
``*.beancount``         that one book and its commitments (legs that need another book are
                        one-sided)
=====================  ===============================================
=======
==========================  ==========================================================
path                        read as
==========================  ==========================================================
``*.yaml`` / ``*.yml``      deals file (templates expanded), :mod:`ledger.deals`
``*.csv``                   flat legs CSV, columnar, :mod:`ledger.legs_table`
``*.parquet`` / ``*.pq``    the same columns in Parquet, :mod:`ledger.legs_table`
a folder of Parquet files   all of them, in name order, as one table
a folder                    every book in it with its commitments, :mod:`ledger.books_read`
``*.beancount``             that one book and its commitments (legs that need another
                            book are one-sided)
==========================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.model import EXTERNAL, Company, LedgerError, Leg, Price

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Web", "read_web"]


class Web:
    """Everything one input holds: legs, marks, companies, and the problems found reading it.

    Frame-first: a legs table is held as its validated frame; ``legs`` (one
    :class:`~ledger.model.Leg` per row) is built on first use, for the verbs that need one
    object per leg. ``Web(path, legs, prices, companies, errors, source)`` still builds one
    from records (the frame is then made on first use).
    """

    __slots__ = ("_frame", "_legs", "companies", "errors", "path", "prices", "source")

    def __init__(
        self,
        path: Path,
        legs: tuple[Leg, ...] | None = (),
        prices: tuple[Price, ...] = (),
        companies: tuple[Company, ...] = (),
        errors: tuple[LedgerError, ...] = (),
        source: str = "",
        *,
        frame: pd.DataFrame | None = None,
    ) -> None:
        self.path = Path(path)
        self._legs = None if frame is not None and not legs else tuple(legs or ())
        self._frame = frame
        self.prices = tuple(prices)
        self.companies = tuple(companies)
        self.errors = tuple(errors)
        self.source = source

    @property
    def legs(self) -> tuple[Leg, ...]:
        """One Leg per row (built once, on first use)."""
        if self._legs is None:
            from ledger.legs_frame import legs_of_frame

            self._legs = legs_of_frame(self._frame) if self._frame is not None else ()
        return self._legs

    @property
    def frame(self) -> pd.DataFrame:
        """The legs as a frame (built once from the records when the source gave records)."""
        if self._frame is None:
            from ledger.legs_frame import frame_of_legs

            self._frame = frame_of_legs(self._legs or ())
        return self._frame

    @property
    def grants(self) -> tuple[Leg, ...]:
        """The legs that carry units (warrants, shares): what paper gains are computed from.

        Built from the frame's few rows with units when the legs themselves are not built, so
        that netting a million-leg table makes no object per leg.
        """
        if self._legs is not None:
            return tuple(leg for leg in self._legs if leg.units is not None)
        from ledger.legs_frame import legs_of_frame

        frame = self.frame
        return legs_of_frame(frame[frame["units"].astype(str) != ""])

    @property
    def n_legs(self) -> int:
        """How many legs, without building them."""
        return len(self._frame) if self._frame is not None else len(self._legs or ())

    @property
    def ok(self) -> bool:
        """Whether the input was read without a single problem."""
        return not self.errors


def _companies(frame: pd.DataFrame, declared: tuple[Company, ...]) -> tuple[Company, ...]:
    import numpy as np

    named = set(declared)
    for column in ("payer", "payee"):
        series = frame[column]
        if hasattr(series, "cat"):
            used = np.unique(series.cat.codes.to_numpy())
            named |= {str(series.cat.categories[i]) for i in used if i >= 0}
        else:
            named |= set(series)
    named.discard(EXTERNAL)
    return tuple(sorted(named))


#: What an empty folder of books is told.
EMPTY_BOOKS = "no legs: no transactions between companies in these books (an empty web)"


def checked_web(
    path: Path,
    legs: tuple[Leg, ...],
    prices: tuple[Price, ...],
    declared: tuple[Company, ...],
    errors: list[LedgerError],
    source: str,
    empty: str,
) -> Web:
    """A web from records, after the checks every web gets (limits, names, empty).

    A leg or price dated outside the limits is refused here, before the legs become a frame: a
    book may hold any date beancount takes (years 1 to 9999), and pandas' timestamps end in 2262.
    """
    from ledger.legs_frame import frame_of_legs
    from ledger.limits import MAX_DATE, MIN_DATE
    from ledger.validate import date_limit_message, web_checks

    if far := [leg for leg in legs if not MIN_DATE <= leg.date <= MAX_DATE]:
        errors = [
            *errors,
            *(
                LedgerError(leg.filename, leg.lineno, date_limit_message(leg.date), leg.deal)
                for leg in far
            ),
        ]
        legs = tuple(leg for leg in legs if MIN_DATE <= leg.date <= MAX_DATE)
    # Price marks are held to the same dates, as a deals file's are.
    errors = [
        *errors,
        *(
            LedgerError(
                p.filename, p.lineno, f"price of {p.commodity}: {date_limit_message(p.date)}"
            )
            for p in prices
            if not MIN_DATE <= p.date <= MAX_DATE
        ),
    ]
    frame = frame_of_legs(legs)
    if not errors:
        errors = web_checks(frame, LedgerError(str(path), 0, empty))
    return Web(path, legs, prices, _companies(frame, declared), tuple(errors), source, frame=frame)


def read_web(path: Path, on_progress: Callable[[int, int], None] | None = None) -> Web:
    """Read any input roundtrip accepts (see the module table).

    ``on_progress(done, total)`` is told after each company's books are read (books only: the
    other inputs are read in one go).

    Raises:
        EnvironmentProblem: a book cannot be opened (no permission): the machine's problem,
            not the data's, so it is not one of the web's errors.
    """
    from ledger.legs_table import PARQUET_SUFFIXES, is_parquet_folder, read_legs

    path = Path(path)
    if not path.exists():
        return Web(path, (), (), (), (LedgerError(str(path), 0, "no such file or folder"),), "")
    suffix = path.suffix.lower()
    if suffix == ".csv" or suffix in PARQUET_SUFFIXES or is_parquet_folder(path):
        frame, errors = read_legs(path)
        source = "csv" if suffix == ".csv" else "parquet"
        return Web(path, None, (), _companies(frame, ()), tuple(errors), source, frame=frame)
    if path.is_dir() or suffix == ".beancount":
        from ledger.books_read import read_books
        from ledger.output_set import recover

        # A writer killed mid-swap is rolled back before anyone reads (ledger.output_set).
        recovery = recover(path if path.is_dir() else path.parent)
        if recovery:
            return Web(path, (), (), (), recovery, "books")

        books = read_books(path, on_progress=on_progress)
        return checked_web(
            path,
            books.legs,
            books.prices,
            books.companies,
            list(books.errors),
            "books",
            EMPTY_BOOKS,
        )
    if suffix in (".yaml", ".yml"):
        from ledger.deals import read_deals

        legs, prices, companies, errors = read_deals(path)
        empty = "no legs: the deals file has no deals (an empty web)"
        return checked_web(
            path, tuple(legs), tuple(prices), tuple(companies), errors, "deals", empty
        )
    message = (
        "not a deals file (.yaml), legs table (.csv, .parquet), beancount book or folder of "
        "books or Parquet files"
    )
    return Web(path, (), (), (), (LedgerError(str(path), 0, message),), "")
