"""The legs CSV: the row-by-row reference reader, every bad-input error, and the writer."""

from __future__ import annotations

import io
import string
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.legs_csv import read_legs_csv, write_legs_csv
from ledger.model import Kind, LedgerError, Leg, Status, format_errors

HEADER = "date,deal,payer,payee,kind,amount,currency,status\n"
ESTIMATE_ROW = HEADER.strip() + ",estimate\n2025-01-01,d,X,Y,sale,1,USD,realized,"
FUNCTION_FIXTURE = [HealthCheck.function_scoped_fixture]


def write(tmp_path: Path, text: str, name: str = "legs.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read_ok(path: Path) -> tuple[Leg, ...]:
    legs, errors = read_legs_csv(path)
    assert errors == [], format_errors(errors)
    return legs


def only_error(path: Path) -> LedgerError:
    legs, errors = read_legs_csv(path)
    assert len(errors) == 1, format_errors(errors)
    return errors[0]


# -- reading -----------------------------------------------------------------------------------


def test_reads_every_field_of_the_triangle_example(examples: Path) -> None:
    legs = read_ok(examples / "triangle.csv")
    assert [(leg.deal, leg.leg, leg.lineno) for leg in legs] == [
        ("nv-oai-equity", 1, 2),
        ("oai-orcl-cloud", 1, 3),
        ("oai-nv-chips", 1, 4),
        ("orcl-nv-chips", 1, 5),
    ]
    first = legs[0]
    assert first == Leg(
        date=date(2025, 9, 22),
        deal="nv-oai-equity",
        leg=1,
        payer="Nvidia",
        payee="OpenAI",
        kind=Kind.EQUITY,
        amount=Decimal("100.00"),
        currency="USD",
        status=Status.REALIZED,
        filename=str(examples / "triangle.csv"),
        lineno=2,
    )


def test_every_example_file_reads_without_errors(examples: Path) -> None:
    for path in sorted(examples.glob("*.csv")):
        legs, errors = read_legs_csv(path)
        assert errors == [] and legs, path


def test_legs_are_numbered_per_deal_in_file_order_without_a_leg_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER + "2025-01-01,a,X,Y,sale,1,USD,realized\n"
        "2025-01-02,b,X,Y,sale,2,USD,realized\n"
        "2025-01-03,a,X,Y,sale,3,USD,realized\n",
    )
    assert [(leg.deal, leg.leg) for leg in read_ok(path)] == [("a", 1), ("b", 1), ("a", 2)]


def test_a_leg_column_gives_the_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "leg,date,deal,payer,payee,kind,amount,currency,status\n"
        "7,2025-01-01,a,X,Y,sale,1,USD,realized\n3,2025-01-02,a,X,Y,sale,1,USD,realized\n",
    )
    assert [leg.leg for leg in read_ok(path)] == [7, 3]


def test_columns_may_come_in_any_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "status,amount,kind,payee,payer,deal,date,currency\n"
        "announced,5.5,cloud,Y,X,d,2025-03-04,EUR\n",
    )
    (leg,) = read_ok(path)
    assert (leg.status, leg.amount, leg.kind, leg.payer, leg.currency) == (
        Status.ANNOUNCED,
        Decimal("5.50"),
        Kind.CLOUD,
        "X",
        "EUR",
    )


def test_optional_columns_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "date,deal,payer,payee,kind,amount,currency,status,estimate,note,source,units,commodity\n"
        '2025-10-06,w,AMD,OpenAI,warrant,97.5,USD,announced,TRUE,"assumed, 10%",press,160,AMDW\n',
    )
    (leg,) = read_ok(path)
    assert leg.estimate is True
    assert (leg.note, leg.source) == ("assumed, 10%", "press")
    assert (leg.units, leg.commodity) == (Decimal(160), "AMDW")


@pytest.mark.parametrize("flag", ["TRUE", "true", "1", "yes", "Yes"])
def test_true_estimate_flags(tmp_path: Path, flag: str) -> None:
    path = write(tmp_path, ESTIMATE_ROW + flag)
    assert read_ok(path)[0].estimate is True


@pytest.mark.parametrize("flag", ["FALSE", "false", "0", "no", ""])
def test_false_estimate_flags(tmp_path: Path, flag: str) -> None:
    path = write(tmp_path, ESTIMATE_ROW + flag)
    assert read_ok(path)[0].estimate is False


def test_kinds_and_statuses_are_case_insensitive(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2025-01-01,d,X,Y,Sale,1,USD,REALIZED\n")
    (leg,) = read_ok(path)
    assert (leg.kind, leg.status) == (Kind.SALE, Status.REALIZED)


def test_line_numbers_count_blank_lines_and_multi_line_notes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER.strip() + ',note\n\n2025-01-01,a,X,Y,sale,1,USD,realized,"two\nlines"\n'
        "2025-01-01,b,X,Y,sale,1,USD,realized,\n",
    )
    assert [leg.lineno for leg in read_ok(path)] == [3, 5]


def test_cells_are_stripped(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + " 2025-01-01 , d , X , Y , sale , 12.5 , USD , realized \n")
    (leg,) = read_ok(path)
    assert (leg.deal, leg.payer, leg.amount) == ("d", "X", Decimal("12.50"))


def test_a_missing_file_is_an_error_not_an_exception(tmp_path: Path) -> None:
    legs, errors = read_legs_csv(tmp_path / "nope.csv")
    assert legs == () and len(errors) == 1 and "nope.csv" in str(errors[0])


# -- bad input: one clear error each ------------------------------------------------------------

GOOD = "2025-01-01,d1,X,Y,sale,1.00,USD,realized\n"

#: (case, CSV text after the header, line of the error, deal named, words in the message)
BAD_ROWS = [
    ("bad date", "2025-02-30,d2,X,Y,sale,1,USD,realized\n", 3, "d2", "bad date"),
    ("date not iso", "20250101,d2,X,Y,sale,1,USD,realized\n", 3, "d2", "bad date"),
    ("unknown kind", "2025-01-01,d2,X,Y,gift,1,USD,realized\n", 3, "d2", "unknown kind 'gift'"),
    ("unknown status", "2025-01-01,d2,X,Y,sale,1,USD,done\n", 3, "d2", "unknown status 'done'"),
    ("non-numeric amount", "2025-01-01,d2,X,Y,sale,lots,USD,realized\n", 3, "d2", "not a number"),
    ("empty amount", "2025-01-01,d2,X,Y,sale,,USD,realized\n", 3, "d2", "not a number"),
    ("exponent amount", "2025-01-01,d2,X,Y,sale,1e5,USD,realized\n", 3, "d2", "not a number"),
    ("zero amount", "2025-01-01,d2,X,Y,sale,0.00,USD,realized\n", 3, "d2", "must be > 0"),
    ("negative amount", "2025-01-01,d2,X,Y,sale,-5,USD,realized\n", 3, "d2", "must be > 0"),
    ("three decimals", "2025-01-01,d2,X,Y,sale,1.005,USD,realized\n", 3, "d2", "more than 2"),
    ("self-loop", "2025-01-01,d2,X,X,sale,1,USD,realized\n", 3, "d2", "both 'X'"),
    ("empty payer", "2025-01-01,d2,,Y,sale,1,USD,realized\n", 3, "d2", "empty payer"),
    ("empty payee", "2025-01-01,d2,X,,sale,1,USD,realized\n", 3, "d2", "empty payee"),
    ("nameless payer", "2025-01-01,d2,---,Y,sale,1,USD,realized\n", 3, "d2", "no letters"),
    ("bad currency", "2025-01-01,d2,X,Y,sale,1,usd,realized\n", 3, "d2", "bad currency"),
    ("bad deal id", "2025-01-01,d 2,X,Y,sale,1,USD,realized\n", 3, "d 2", "deal id"),
    ("identical row", GOOD, 3, "d1", "duplicate row (same as line 2)"),
    (
        "out of date order",
        "2024-12-31,d1,X,Y,sale,2,USD,realized\n",
        3,
        "d1",
        "keep each deal's legs in date order",
    ),
    ("mixed currencies", "2025-01-01,d2,X,Y,sale,1,EUR,realized\n", 3, "d2", "mixed currencies"),
    ("too many fields", "2025-01-01,d2,X,Y,sale,1,USD,realized,x\n", 3, "d2", "9 fields"),
]


@pytest.mark.parametrize(
    ("case", "row", "line", "deal", "words"), BAD_ROWS, ids=[case[0] for case in BAD_ROWS]
)
def test_each_bad_row_gives_one_error_naming_file_line_and_deal(
    tmp_path: Path, case: str, row: str, line: int, deal: str, words: str
) -> None:
    path = write(tmp_path, HEADER + GOOD + row)
    error = only_error(path)
    assert str(error).startswith(f"{path}:{line}: ")
    assert f"[deal {deal}]" in str(error)
    assert words in error.message


def test_a_repeated_deal_and_leg_is_a_duplicate(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "date,deal,leg,payer,payee,kind,amount,currency,status\n"
        "2025-01-01,d,1,X,Y,sale,1,USD,realized\n2025-01-02,d,1,X,Y,sale,2,USD,realized\n",
    )
    error = only_error(path)
    assert str(error) == f"{path}:3: duplicate leg d #1 (first on line 2) [deal d]"


def test_a_bad_leg_number(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "date,deal,leg,payer,payee,kind,amount,currency,status\n"
        "2025-01-01,d,0,X,Y,sale,1,USD,realized\n",
    )
    assert "bad leg number '0'" in str(only_error(path))


@pytest.mark.parametrize("flag", ["maybe", "2", "T"])
def test_a_bad_estimate_flag(tmp_path: Path, flag: str) -> None:
    path = write(tmp_path, ESTIMATE_ROW + flag)
    error = only_error(path)
    assert str(error).startswith(f"{path}:2: bad estimate flag")
    assert "[deal d]" in str(error)


def test_a_capex_flag_marks_a_sale_the_buyer_capitalises(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.strip() + ",capex\n2025-01-01,d,X,Y,sale,1,USD,realized,TRUE\n")
    (leg,) = read_ok(path)
    assert leg.capex is True


def test_a_capex_flag_on_a_leg_that_is_not_a_sale_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.strip() + ",capex\n2025-01-01,d,X,Y,loan,1,USD,realized,yes\n")
    error = only_error(path)
    assert (error.lineno, error.message) == (
        2,
        "capex (equipment the buyer capitalises) goes with kind sale",
    )


def test_a_written_capex_flag_reads_back() -> None:
    sale = Leg(date(2025, 1, 1), "c", 1, "OpenAI", "Nvidia", Kind.SALE, Decimal(5), capex=True)
    stream = io.StringIO()
    write_legs_csv([sale], stream)
    assert stream.getvalue().splitlines()[1].endswith(",TRUE")


def test_units_without_commodity(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.strip() + ",units\n2025-01-01,d,X,Y,warrant,1,USD,realized,5\n")
    assert "units and commodity go together" in str(only_error(path))


def test_a_missing_column_is_one_error_on_line_1(tmp_path: Path) -> None:
    path = write(tmp_path, "date,deal,payer,payee,kind,currency,status\n" + GOOD)
    error = only_error(path)
    assert str(error).startswith(f"{path}:1: missing column(s) amount")


def test_an_unknown_column_is_one_error_on_line_1(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.strip() + ",comment\n2025-01-01,d,X,Y,sale,1,USD,realized,hi\n")
    assert str(only_error(path)).startswith(f"{path}:1: unknown column(s) 'comment'")


def test_an_empty_file_is_one_error(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    assert "empty file" in str(only_error(path))


def test_every_bad_row_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "2025-01-01,a,X,Y,gift,1,USD,realized\n"
        + GOOD
        + "2025-01-01,b,X,Y,sale,0,USD,realized\n",
    )
    legs, errors = read_legs_csv(path)
    assert [e.lineno for e in errors] == [2, 4]
    assert [leg.deal for leg in legs] == ["d1"]


# -- writing -----------------------------------------------------------------------------------

LEG_A = Leg(
    date(2025, 9, 22),
    "nv",
    2,
    "Nvidia",
    "OpenAI",
    Kind.EQUITY,
    Decimal("10"),
    status=Status.ANNOUNCED,
)
LEG_B = Leg(
    date(2025, 9, 22),
    "nv",
    1,
    "Nvidia",
    "OpenAI",
    Kind.EQUITY,
    Decimal("1.5"),
    estimate=True,
    note='a "quoted", note',
    source="press",
)
LEG_C = Leg(
    date(2025, 1, 1),
    "w",
    1,
    "AMD",
    "OpenAI",
    Kind.WARRANT,
    Decimal("97000000000"),
    units=Decimal("160000000"),
    commodity="AMDW",
)


def test_writes_sorted_rows_with_every_column_and_two_decimals() -> None:
    stream = io.StringIO()
    write_legs_csv([LEG_A, LEG_B, LEG_C], stream)
    assert stream.getvalue() == (
        "date,deal,leg,payer,payee,kind,amount,currency,status,estimate,note,source,units,"
        "commodity,capex\n"
        "2025-01-01,w,1,AMD,OpenAI,warrant,97000000000.00,USD,realized,FALSE,,,160000000,AMDW,"
        "FALSE\n"
        '2025-09-22,nv,1,Nvidia,OpenAI,equity,1.50,USD,realized,TRUE,"a ""quoted"", note",press,,'
        ",FALSE\n"
        "2025-09-22,nv,2,Nvidia,OpenAI,equity,10.00,USD,announced,FALSE,,,,,FALSE\n"
    )


def test_writing_to_a_path_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = write(tmp_path, "old content\n")
    write_legs_csv([LEG_A], path)
    assert path.read_text().startswith("date,deal,leg,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["legs.csv"]


def test_writing_a_leg_with_fractional_cents_is_refused(tmp_path: Path) -> None:
    bad = Leg(date(2025, 1, 1), "d", 1, "X", "Y", Kind.SALE, Decimal("1.001"))
    with pytest.raises(ValueError):
        write_legs_csv([bad], tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []


def test_written_legs_read_back_with_their_new_lines(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_legs_csv([LEG_A, LEG_B, LEG_C], path)
    legs = read_ok(path)
    assert [(leg.key, leg.lineno) for leg in legs] == [
        (("w", 1), 2),
        (("nv", 1), 3),
        (("nv", 2), 4),
    ]


# -- round trip --------------------------------------------------------------------------------

names = st.sampled_from(["Nvidia", "OpenAI", "xAI", "External", "Oracle", "AMD"])
texts = st.text(alphabet=string.ascii_letters + string.digits + ' ,"\n;é', max_size=12).map(
    str.strip
)


@st.composite
def legs_strategy(draw: st.DrawFn) -> list[Leg]:
    """Legs with unique (deal, leg) keys, one currency, any fields the CSV carries."""
    count = draw(st.integers(0, 12))
    legs = []
    for i in range(count):
        payer, payee = draw(st.lists(names, min_size=2, max_size=2, unique=True))
        grant = draw(st.booleans())
        kind = draw(st.sampled_from(list(Kind)))
        legs.append(
            Leg(
                date=date(2020, 1, 1) + timedelta(days=draw(st.integers(0, 3000))),
                deal=draw(st.sampled_from(["a", "b-2", "c.x"])),
                leg=i + 1,
                payer=payer,
                payee=payee,
                kind=kind,
                amount=Decimal(draw(st.integers(1, 10**15 - 1))) / 100,
                currency="USD",
                status=draw(st.sampled_from(list(Status))),
                estimate=draw(st.booleans()),
                note=draw(texts),
                source=draw(texts),
                units=Decimal(draw(st.integers(1, 10**9))) / 1000 if grant else None,
                commodity="AMDW" if grant else None,
                capex=kind is Kind.SALE and draw(st.booleans()),
            )
        )
    return legs


def _without_provenance(legs: tuple[Leg, ...] | list[Leg]) -> list[tuple]:
    return sorted(
        (
            leg.date,
            leg.deal,
            leg.leg,
            leg.payer,
            leg.payee,
            leg.kind,
            leg.amount,
            leg.currency,
            leg.status,
            leg.estimate,
            leg.note,
            leg.source,
            leg.units,
            leg.commodity,
            leg.capex,
        )
        for leg in legs
    )


@settings(max_examples=60, deadline=None, suppress_health_check=FUNCTION_FIXTURE)
@given(legs=legs_strategy())
def test_write_then_read_gives_the_same_legs(tmp_path: Path, legs: list[Leg]) -> None:
    """Invariant: read_legs_csv(write_legs_csv(legs)) == legs, ignoring filename and lineno."""
    path = tmp_path / "roundtrip.csv"
    write_legs_csv(legs, path)
    back = read_ok(path)
    assert _without_provenance(back) == _without_provenance(legs)
