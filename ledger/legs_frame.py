"""The legs frame: legs as columns, the one form every reader produces and every pass reads.

A legs CSV, a Parquet file or folder, a deals file and beancount books all end up here, so
that validation (:mod:`ledger.validate`), the flow graph (:mod:`ledger.flows`) and the store
see one shape. Columns, one row per leg:

==============  ==================  ==========================================================
column          dtype               meaning
==============  ==================  ==========================================================
``date``        ``datetime64[ns]``  the leg's date (midnight)
``deal``        category            deal id
``leg``         int64               leg number within the deal (1-based)
``payer``       category            company that pays (``External`` for the outside world)
``payee``       category            company that is paid
``kind``        category            a :class:`~ledger.model.Kind` value
``cents``       int64               amount in integer cents (> 0)
``currency``    category            commodity of the amount (``USD``)
``status``      category            a :class:`~ledger.model.Status` value
``estimate``    bool                the amount is an estimate
``note``        category            free text ("" if none)
``source``      category            where the figure comes from ("" if none)
``units``       category            units of a non-cash grant, decimal text ("" if none)
``commodity``   category            commodity of those units ("" if none)
``capex``       bool                a sale the buyer capitalises as equipment (ASC 360)
``file``        category            provenance: the file the row was read from
``lineno``      int64               provenance: its line (CSV: physical line, header = 1;
                                    Parquet: row number, first row = 1)
==============  ==================  ==========================================================

Categorical columns keep one copy of each distinct name, so a million legs over ten thousand
companies cost a few int16 codes per row. :func:`legs_of_frame` rebuilds
:class:`~ledger.model.Leg` records (only for the verbs that need one object per leg) and
:func:`frame_of_legs` goes the other way, for readers that produce records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from ledger.flows import FRAME_COLUMNS
from ledger.model import Company, Kind, Leg, Status, from_cents, to_cents

__all__ = [
    "LEG_COLUMNS",
    "OPTIONAL_LEG_COLUMNS",
    "PROVENANCE_COLUMNS",
    "TEXT_COLUMNS",
    "frame_of_legs",
    "legs_of_frame",
    "with_defaults",
]

#: Leg columns beyond FRAME_COLUMNS (empty text, or False for ``capex``, when a source has none).
OPTIONAL_LEG_COLUMNS = ("note", "source", "units", "commodity", "capex")
#: Every leg column, in order.
LEG_COLUMNS = (*FRAME_COLUMNS, *OPTIONAL_LEG_COLUMNS)
#: Where each row came from.
PROVENANCE_COLUMNS = ("file", "lineno")
#: The columns held as categories of strings.
TEXT_COLUMNS = (
    "deal",
    "payer",
    "payee",
    "kind",
    "currency",
    "status",
    "note",
    "source",
    "units",
    "commodity",
    "file",
)

_KINDS = {kind.value: kind for kind in Kind}
_STATUSES = {status.value: status for status in Status}


def _category(values: Sequence[str] | np.ndarray) -> pd.Categorical:
    return pd.Categorical(values)


def frame_of_legs(legs: Iterable[Leg]) -> pd.DataFrame:
    """Leg records as a legs frame (every column of the module table).

    Raises:
        ValueError: a leg's amount has more than two decimals (readers refuse those first).
    """
    legs = tuple(legs)
    columns = {
        "date": pd.to_datetime(np.array([leg.date for leg in legs], dtype="datetime64[D]")),
        "deal": _category([leg.deal for leg in legs]),
        "leg": np.array([leg.leg for leg in legs], dtype=np.int64),
        "payer": _category([leg.payer for leg in legs]),
        "payee": _category([leg.payee for leg in legs]),
        "kind": _category([leg.kind.value for leg in legs]),
        "cents": np.array([to_cents(leg.amount) for leg in legs], dtype=np.int64),
        "currency": _category([leg.currency for leg in legs]),
        "status": _category([leg.status.value for leg in legs]),
        "estimate": np.array([leg.estimate for leg in legs], dtype=bool),
        "note": _category([leg.note for leg in legs]),
        "source": _category([leg.source for leg in legs]),
        "units": _category(["" if leg.units is None else format(leg.units, "f") for leg in legs]),
        "commodity": _category([leg.commodity or "" for leg in legs]),
        "capex": np.array([leg.capex for leg in legs], dtype=bool),
        "file": _category([leg.filename for leg in legs]),
        "lineno": np.array([leg.lineno for leg in legs], dtype=np.int64),
    }
    frame = pd.DataFrame(columns)
    frame["date"] = frame["date"].astype("datetime64[ns]")
    return frame


def with_defaults(frame: pd.DataFrame, filename: str = "<frame>") -> pd.DataFrame:
    """The frame with every column of the module table (missing ones filled with defaults).

    A frame of :data:`~ledger.flows.FRAME_COLUMNS` only (e.g. :func:`ledger.simulate.
    synthetic_web`) gets empty optional columns, ``file`` = ``filename`` and ``lineno`` =
    row number.
    """
    missing = [c for c in (*OPTIONAL_LEG_COLUMNS, *PROVENANCE_COLUMNS) if c not in frame]
    if not missing:
        return frame
    extra: dict[str, object] = {}
    size = len(frame)
    for column in missing:
        if column == "lineno":
            extra[column] = np.arange(1, size + 1, dtype=np.int64)
        elif column == "file":
            extra[column] = pd.Categorical.from_codes(np.zeros(size, np.int8), [filename])
        elif column == "capex":
            extra[column] = np.zeros(size, dtype=bool)
        else:
            extra[column] = pd.Categorical.from_codes(np.zeros(size, np.int8), [""])
    return frame.assign(**extra)


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    series = frame[column]
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = np.asarray(series.cat.categories, dtype=object)
        return categories[series.cat.codes.to_numpy()].tolist()
    return series.astype(str).tolist()


def _dates(frame: pd.DataFrame) -> list[date]:
    series = frame["date"]
    if pd.api.types.is_datetime64_any_dtype(series):
        days = series.to_numpy().astype("datetime64[D]")
        distinct, inverse = np.unique(days, return_inverse=True)
        as_dates = [d.item() for d in distinct]
        return [as_dates[i] for i in inverse.tolist()]
    return list(series)


def names_of_frame(frame: pd.DataFrame) -> set[Company]:
    """Every payer and payee a legs frame's rows name (External included)."""
    return {str(name) for column in ("payer", "payee") for name in frame[column].unique()}


def legs_of_frame(frame: pd.DataFrame) -> tuple[Leg, ...]:
    """The frame's rows as Leg records, in row order (provenance kept)."""
    frame = with_defaults(frame)
    units_cache: dict[str, Decimal | None] = {"": None}

    def units(text: str) -> Decimal | None:
        if text not in units_cache:
            units_cache[text] = Decimal(text)
        return units_cache[text]

    amounts: dict[int, Decimal] = {}

    def amount(cents: int) -> Decimal:
        value = amounts.get(cents)
        if value is None:
            value = amounts[cents] = from_cents(cents)
        return value

    columns = zip(
        _dates(frame),
        _texts(frame, "deal"),
        frame["leg"].to_numpy().tolist(),
        _texts(frame, "payer"),
        _texts(frame, "payee"),
        _texts(frame, "kind"),
        frame["cents"].to_numpy().tolist(),
        _texts(frame, "currency"),
        _texts(frame, "status"),
        frame["estimate"].to_numpy().tolist(),
        _texts(frame, "note"),
        _texts(frame, "source"),
        _texts(frame, "units"),
        _texts(frame, "commodity"),
        _texts(frame, "file"),
        frame["lineno"].to_numpy().tolist(),
        frame["capex"].to_numpy().tolist(),
        strict=True,
    )
    return tuple(
        Leg(
            day,
            deal,
            number,
            payer,
            payee,
            _KINDS[kind],
            amount(cents),
            currency,
            _STATUSES[status],
            bool(estimate),
            note,
            source,
            units(unit),
            commodity or None,
            filename,
            int(lineno),
            capex=bool(capex),
        )
        for (
            day,
            deal,
            number,
            payer,
            payee,
            kind,
            cents,
            currency,
            status,
            estimate,
            note,
            source,
            unit,
            commodity,
            filename,
            lineno,
            capex,
        ) in columns
    )
