from datetime import date
from decimal import Decimal

import pytest

from ledger.model import (
    Basis,
    FlowClass,
    Kind,
    LedgerError,
    Period,
    Status,
    account_component,
    flow_class,
    from_cents,
    included_in_basis,
    to_cents,
)


def test_lowercase_first_name_becomes_a_valid_account_component():
    assert account_component("xAI") == "XAI"


def test_spaces_become_dashes_in_account_components():
    assert account_component("US Gov") == "US-Gov"


def test_name_without_letters_or_digits_is_refused():
    with pytest.raises(ValueError):
        account_component("!!")


def test_to_cents_is_exact():
    assert to_cents(Decimal("1234.56")) == 123456


def test_to_cents_refuses_a_third_decimal():
    with pytest.raises(ValueError):
        to_cents(Decimal("0.001"))


def test_from_cents_gives_two_decimals():
    assert from_cents(7) == Decimal("0.07")
    assert str(from_cents(100)) == "1.00"


def test_backstop_is_contingent_until_drawn():
    assert flow_class(Kind.BACKSTOP, Status.CONTRACTED) is FlowClass.NONCASH
    assert flow_class(Kind.BACKSTOP, Status.REALIZED) is FlowClass.REVENUE


def test_warrant_is_never_money():
    assert flow_class(Kind.WARRANT, Status.REALIZED) is FlowClass.NONCASH


def test_bases_nest():
    assert included_in_basis(Status.REALIZED, Basis.REALIZED)
    assert not included_in_basis(Status.CONTRACTED, Basis.REALIZED)
    assert included_in_basis(Status.CONTRACTED, Basis.CONTRACTED)
    assert not included_in_basis(Status.ANNOUNCED, Basis.CONTRACTED)
    assert all(included_in_basis(s, Basis.ANNOUNCED) for s in Status)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025", date(2025, 1, 1), date(2026, 1, 1)),
        ("2025Q3", date(2025, 7, 1), date(2025, 10, 1)),
        ("2025Q4", date(2025, 10, 1), date(2026, 1, 1)),
        ("2025-12", date(2025, 12, 1), date(2026, 1, 1)),
        ("2025-01-01..2025-07-01", date(2025, 1, 1), date(2025, 7, 1)),
    ],
)
def test_period_forms_parse_to_half_open_ranges(text, start, end):
    period = Period.parse(text)
    assert (period.start, period.end) == (start, end)


def test_period_end_is_exclusive():
    period = Period.parse("2025Q3")
    assert period.contains(date(2025, 9, 30))
    assert not period.contains(date(2025, 10, 1))


def test_bad_period_is_refused():
    with pytest.raises(ValueError):
        Period.parse("Q3 2025")


def test_error_names_file_line_and_deal():
    error = LedgerError("deals.yaml", 12, "amount is negative", "nv-oai")
    assert str(error) == "deals.yaml:12: amount is negative [deal nv-oai]"
