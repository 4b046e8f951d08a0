"""The columnar reader every verb uses: held to the row-by-row reader, plus the web checks."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_legs_csv import BAD_ROWS, GOOD, HEADER, legs_strategy, write

from ledger.legs_csv import read_legs_csv, write_legs_csv
from ledger.legs_frame import frame_of_legs, legs_of_frame
from ledger.legs_table import read_legs, write_legs_parquet
from ledger.model import LedgerError, format_errors
from ledger.validate import web_checks

FUNCTION_FIXTURE = [HealthCheck.function_scoped_fixture]


def expected_errors(path: Path) -> list[LedgerError]:
    """What the columnar reader must say: the row reader's errors, then the web checks."""
    legs, errors = read_legs_csv(path)
    if not legs and not errors:
        _, columnar = read_legs(path)
        return columnar if columnar and "no legs" in columnar[0].message else ["an empty web"]
    return errors + web_checks(frame_of_legs(legs))


def assert_same_as_row_reader(path: Path) -> None:
    frame, errors = read_legs(path)
    assert errors == expected_errors(path), format_errors(errors)
    legs, row_errors = read_legs_csv(path)
    if not row_errors:
        assert legs_of_frame(frame) == legs


@settings(max_examples=50, deadline=None, suppress_health_check=FUNCTION_FIXTURE)
@given(legs=legs_strategy())
def test_reads_the_legs_the_row_reader_reads(tmp_path: Path, legs: list) -> None:
    """Invariant: for a written legs CSV, the columnar legs equal the row reader's, lines too."""
    path = tmp_path / "legs.csv"
    write_legs_csv(legs, path)
    if not legs:
        frame, errors = read_legs(path)
        assert [e.message.split(":")[0] for e in errors] == ["no legs"]
        return
    assert_same_as_row_reader(path)


@pytest.mark.parametrize(("case", "row"), [c[:2] for c in BAD_ROWS], ids=[c[0] for c in BAD_ROWS])
def test_each_bad_row_gives_the_row_readers_error(tmp_path: Path, case: str, row: str) -> None:
    assert_same_as_row_reader(write(tmp_path, HEADER + GOOD + row))


CELL = st.sampled_from(
    ["2025-01-01", "2024-12-31", "d1", "d 2", "X", "Y", "x", "sale", "gift", "1", "1.5", "0",
     "-2", "1.005", "1e5", "USD", "EUR", "realized", "TRUE", "", "  X ", "Open AI", "Open.AI"]
)  # fmt: skip


@st.composite
def messy_csv(draw: st.DrawFn) -> str:
    """Rows of plausible and broken cells, blank lines, wrong field counts, quotes."""
    lines = [HEADER.strip() + (",leg" if draw(st.booleans()) else "")]
    width = len(lines[0].split(","))
    for _ in range(draw(st.integers(0, 8))):
        cells = [draw(CELL) for _ in range(width + draw(st.sampled_from([0, 0, 0, 1, -1])))]
        line = ",".join(cells)
        if draw(st.integers(0, 9)) == 0:
            line = draw(st.sampled_from(["", "   ", '"a,b",c', 'x,"unterminated']))
        lines.append(line)
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))


@settings(max_examples=150, deadline=None, suppress_health_check=FUNCTION_FIXTURE)
@given(text=messy_csv())
def test_any_csv_gets_the_row_readers_errors(tmp_path: Path, text: str) -> None:
    """Invariant: for any CSV text, the columnar reader reports what the row reader reports
    (same records, same order), followed by the checks every web gets."""
    path = tmp_path / "messy.csv"
    path.write_text(text, encoding="utf-8")
    assert_same_as_row_reader(path)


@pytest.mark.parametrize("row", ["sale,1,USD,realized,TRUE", "loan,1,USD,realized,yes"])
def test_a_capex_flag_reads_as_the_row_reader_reads_it(tmp_path: Path, row: str) -> None:
    assert_same_as_row_reader(
        write(tmp_path, HEADER.strip() + ",capex\n2025-01-01,d,X,Y," + row + "\n")
    )


def test_a_header_only_csv_is_an_empty_web(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER)
    frame, errors = read_legs(path)
    assert [str(e) for e in errors] == [
        f"{path}:1: no legs: the file has a header line but no rows (an empty web)"
    ]


@pytest.mark.parametrize("amount", ["1e30", "99999999999999999.99", "10000000000000.00"])
def test_an_amount_beyond_the_limit_is_refused_at_its_line(tmp_path: Path, amount: str) -> None:
    path = write(tmp_path, HEADER + GOOD + f"2025-01-02,big,X,Y,sale,{amount},USD,realized\n")
    _, errors = read_legs(path)
    assert len(errors) == 1
    assert str(errors[0]).startswith(f"{path}:3: ")
    assert errors[0].deal == "big"


def test_the_largest_amount_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2025-01-02,big,X,Y,sale,9999999999999.99,USD,realized\n")
    frame, errors = read_legs(path)
    assert errors == []
    assert frame["cents"].tolist() == [999999999999999]


def test_legs_that_add_up_beyond_the_total_limit_are_refused(tmp_path: Path) -> None:
    rows = "".join(f"2025-01-02,d{i},X,Y,sale,9999999999999.99,USD,realized\n" for i in range(1001))
    _, errors = read_legs(write(tmp_path, HEADER + rows))
    assert [e.lineno for e in errors] == [1002]
    assert "add up to more than" in errors[0].message


@pytest.mark.parametrize(
    ("first", "second"),
    [("OpenAI", "openai"), ("OpenAI", "Openai"), ("Open AI", "Open.AI"), ("EXTERNAL", "external")],
)
def test_names_that_would_share_a_book_are_refused_with_both_spellings(
    tmp_path: Path, first: str, second: str
) -> None:
    text = HEADER + f"2025-01-01,a,{first},Y,sale,1,USD,realized\n"
    text += f"2025-01-02,b,Y,{second},sale,1,USD,realized\n"
    _, errors = read_legs(write(tmp_path, text))
    text = format_errors(errors)
    assert repr(second) in text
    assert repr(first) in text or "External" in text
    assert all(e.lineno in (2, 3) for e in errors)


def test_a_company_spelled_like_external_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2025-01-01,a,EXTERNAL,Y,sale,1,USD,realized\n")
    _, errors = read_legs(path)
    assert [e.lineno for e in errors] == [2]
    assert "'EXTERNAL' would share the book file and account names of External" in str(errors[0])


def test_a_date_beyond_the_limits_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2250-01-01,a,X,Y,sale,1,USD,realized\n")
    _, errors = read_legs(path)
    assert "outside 1900-01-01..2199-12-31" in str(errors[0])


# -- Parquet -----------------------------------------------------------------------------------


def test_a_parquet_file_reads_as_its_csv(tmp_path: Path) -> None:
    csv_path = write(
        tmp_path,
        HEADER.strip() + ",estimate,note\n"
        "2025-01-01,a,X,Y,sale,1.50,USD,realized,TRUE,first\n"
        "2025-01-02,a,Y,X,equity,70,USD,contracted,,\n",
    )
    frame, errors = read_legs(csv_path)
    assert errors == []
    write_legs_parquet(frame, tmp_path / "legs.parquet")
    back, errors = read_legs(tmp_path / "legs.parquet")
    assert errors == []
    strip = [c for c in frame.columns if c not in ("file", "lineno")]
    assert [tuple(r) for r in back[strip].astype(str).itertuples(index=False)] == [
        tuple(r) for r in frame[strip].astype(str).itertuples(index=False)
    ]
    assert back["lineno"].tolist() == [1, 2]


def test_a_folder_of_parquet_files_is_one_table_naming_each_file(tmp_path: Path) -> None:
    rows = {"a.parquet": ("d1", "X", "Y"), "b.parquet": ("d1", "X", "Y")}
    for name, (deal, payer, payee) in rows.items():
        table = pa.table(
            {
                "date": ["2025-01-01"],
                "deal": [deal],
                "leg": [1],
                "payer": [payer],
                "payee": [payee],
                "kind": ["sale"],
                "amount": ["1.00"],
                "currency": ["USD"],
                "status": ["realized"],
            }
        )
        pq.write_table(table, tmp_path / name)
    _, errors = read_legs(tmp_path)
    assert [str(e) for e in errors] == [
        f"{tmp_path / 'b.parquet'}:1: duplicate leg d1 #1 (first on line 1) [deal d1]"
    ]


def test_a_floating_point_amount_column_is_refused(tmp_path: Path) -> None:
    table = pa.table(
        {
            "date": ["2025-01-01"],
            "deal": ["d"],
            "payer": ["X"],
            "payee": ["Y"],
            "kind": ["sale"],
            "amount": [1.5],
            "currency": ["USD"],
            "status": ["realized"],
        }
    )
    pq.write_table(table, tmp_path / "float.parquet")
    _, errors = read_legs(tmp_path / "float.parquet")
    assert "column amount is floating point" in errors[0].message
