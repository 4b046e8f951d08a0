"""Display units and rounding that adds up: what a reader is shown of an exact amount."""

from __future__ import annotations

import pickle
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.units import Amount, Unit, amount_text, controlled_rounding, money, readable_unit


def test_money_cell_shows_the_unit_it_was_built_in_and_keeps_the_exact_amount():
    cell = money(Decimal("12869460223.78"), unit=Unit.BILLIONS)
    assert cell == "12.87"
    assert isinstance(cell, Amount) and cell.exact == Decimal("12869460223.78")


def test_auto_money_cell_shows_the_exact_amount_for_the_renderer_to_scale():
    assert money(Decimal("1500"), unit=Unit.AUTO) == "1,500.00"


def test_a_money_cell_survives_pickling_with_its_exact_amount():
    cell = pickle.loads(pickle.dumps(money(Decimal("7.5"))))
    assert (cell, cell.exact) == ("7.50", Decimal("7.5"))


@pytest.mark.parametrize(
    ("amount", "unit", "text"),
    [
        ("1019900000000", Unit.AUTO, "1,019.90 B"),
        ("3700000000", Unit.AUTO, "3.70 B"),
        ("8900000", Unit.AUTO, "8.90 M"),
        ("415", Unit.AUTO, "415.00"),
        ("3700000000", Unit.ONE, "3,700,000,000.00"),
        ("3700000000", Unit.MILLIONS, "3,700.00 M"),
    ],
)
def test_amounts_in_prose_name_their_unit(amount, unit, text):
    assert amount_text(Decimal(amount), unit) == text


@pytest.mark.parametrize(
    ("largest", "unit"),
    [
        ("415", Unit.ONE),
        ("9999.99", Unit.ONE),
        ("40000", Unit.THOUSANDS),
        ("676000000000", Unit.BILLIONS),
        ("3580000000", Unit.MILLIONS),
    ],
)
def test_readable_unit_keeps_at_most_four_digits_before_the_point(largest, unit):
    assert readable_unit([Decimal(largest), Decimal(1)]) is unit


def test_the_auto_unit_has_no_scale_until_chosen():
    with pytest.raises(ValueError):
        _ = Unit.AUTO.scale


def test_three_thirds_round_to_a_whole_that_adds_up():
    """0.333 + 0.333 + 0.334 = 1.000: independently 0.33 x 3 = 0.99; controlled, the part
    closest to rounding up takes the cent."""
    values = {
        "a": Fraction(333, 10),
        "b": Fraction(333, 10),
        "c": Fraction(334, 10),
        "t": Fraction(100),
    }
    assert controlled_rounding(values, [("t", ("a", "b", "c"))]) == {
        "a": 33,
        "b": 33,
        "c": 34,
        "t": 100,
    }


def test_without_sums_every_value_rounds_half_to_even():
    values = {"a": Fraction(5, 2), "b": Fraction(7, 2), "c": Fraction(26, 10)}
    assert controlled_rounding(values, []) == {"a": 2, "b": 4, "c": 3}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 10**6), min_size=2, max_size=2), min_size=1, max_size=12))
def test_a_table_with_row_and_column_sums_is_rounded_so_that_every_sum_holds(rows):
    """Rows (x, y, x + y) and a total row: in thousandths rounded to units, every printed row
    adds up, every printed column adds up to its printed total, and each figure moves by less
    than one unit (controlled rounding of a two-way table always exists: Cox & Ernst 1982)."""
    values: dict[tuple[int, int], Fraction] = {}
    for r, (x, y) in enumerate(rows):
        values[(r, 0)], values[(r, 1)] = Fraction(x, 1000), Fraction(y, 1000)
        values[(r, 2)] = Fraction(x + y, 1000)
    t = len(rows)
    for c in range(3):
        values[(t, c)] = sum((values[(r, c)] for r in range(t)), Fraction(0))
    sums = [((r, 2), ((r, 0), (r, 1))) for r in range(t + 1)]
    sums += [((t, c), tuple((r, c) for r in range(t))) for c in range(3)]
    rounded = controlled_rounding(values, sums)
    for total, parts in sums:
        assert rounded[total] == sum(rounded[p] for p in parts)
    for key, value in values.items():
        assert abs(rounded[key] - value) < 1
