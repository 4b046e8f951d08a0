"""The chart of accounts, one treatment per test: the entry an accountant would write.

Each test books one leg with ``roundtrip book``'s writer and compares the transaction in each
book with the entry written out by hand below it: which accounts, which side, which file
(the book for what happened, the commitments file for what is promised). The standard each
follows is named in :mod:`ledger.accounts`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from beancount.core import convert, inventory, prices

from ledger.accounts import booked_cash
from ledger.audit import paper_gains
from ledger.books_load import load
from ledger.books_write import render_books
from ledger.deals import read_deals
from ledger.model import Basis, Kind, Leg, Period, Price, Status

D = Decimal
BOOKS = Path(__file__).parent.parent / "books"


def leg(deal: str, payer: str, payee: str, kind: str, amount: str, **fields) -> Leg:
    day = fields.pop("day", date(2025, 3, 31))
    return Leg(day, deal, fields.pop("n", 1), payer, payee, Kind(kind), D(amount), **fields)


def entries(legs: list[Leg], company: str, where: str = "book") -> list[str]:
    """The transactions of ``company``'s book (or commitments file) as text blocks."""
    files = render_books(legs)[company]
    text = files.book if where == "book" else files.commitments
    return [
        block.rstrip("\n") + "\n"
        for block in text.split("\n\n")
        if block[:4].isdigit() and block.split("\n", 1)[0][11:13] in ("* ", "! ")
    ]


def test_a_realized_sale_is_revenue_at_the_seller_settled_in_cash():
    """ASC 606: revenue when control passes; the buyer pays cash at once."""
    legs = [leg("cloud", "OpenAI", "CoreWeave", "cloud", "500000000")]
    assert entries(legs, "CoreWeave") == [
        """\
2025-03-31 * "OpenAI" "Cloud services to OpenAI" ^deal-cloud
  deal: "cloud"
  leg: 1
  counterparty: "OpenAI"
  kind: "cloud"
  status: "realized"
  Assets:Cash           500,000,000.00 USD
  Income:Cloud:OpenAI  -500,000,000.00 USD
"""
    ]


def test_cloud_capacity_is_expensed_by_the_buyer():
    legs = [leg("cloud", "OpenAI", "CoreWeave", "cloud", "500000000")]
    assert entries(legs, "OpenAI") == [
        """\
2025-03-31 * "CoreWeave" "Cloud services from CoreWeave" ^deal-cloud
  deal: "cloud"
  leg: 1
  counterparty: "CoreWeave"
  kind: "cloud"
  status: "realized"
  Expenses:Cloud:CoreWeave   500,000,000.00 USD
  Assets:Cash               -500,000,000.00 USD
"""
    ]


def test_equipment_the_buyer_installs_is_capitalised_and_still_revenue_to_the_seller():
    """ASC 360: chips and systems for the buyer's own data centres are equipment."""
    legs = [
        leg("chips", "OpenAI", "Nvidia", "sale", "35000000000", capex=True,
            title="OpenAI buys Nvidia systems")
    ]  # fmt: skip
    assert entries(legs, "OpenAI") == [
        """\
2025-03-31 * "Nvidia" "Equipment purchase from Nvidia: OpenAI buys Nvidia systems" ^deal-chips
  deal: "chips"
  leg: 1
  counterparty: "Nvidia"
  kind: "sale"
  status: "realized"
  Assets:Equipment:Nvidia   35,000,000,000.00 USD
  Assets:Cash              -35,000,000,000.00 USD
"""
    ]
    assert entries(legs, "Nvidia") == [
        """\
2025-03-31 * "OpenAI" "Sale to OpenAI: OpenAI buys Nvidia systems" ^deal-chips
  deal: "chips"
  leg: 1
  counterparty: "OpenAI"
  kind: "sale"
  status: "realized"
  Assets:Cash           35,000,000,000.00 USD
  Income:Sales:OpenAI  -35,000,000,000.00 USD
"""
    ]


def test_a_lease_is_expensed_by_the_lessee_and_income_of_the_lessor():
    legs = [leg("lease", "xAI", "SPV", "lease", "5000000000")]
    assert entries(legs, "xAI") == [
        """\
2025-03-31 * "SPV" "Lease from SPV" ^deal-lease
  deal: "lease"
  leg: 1
  counterparty: "SPV"
  kind: "lease"
  status: "realized"
  Expenses:Lease:SPV   5,000,000,000.00 USD
  Assets:Cash         -5,000,000,000.00 USD
"""
    ]
    assert "  Income:Lease:XAI  -5,000,000,000.00 USD\n" in entries(legs, "SPV")[0]


def test_equity_is_an_investment_at_the_investor_and_equity_issued_at_the_investee():
    """ASC 321/323 at the investor, ASC 505 at the investee; both settled in cash."""
    legs = [leg("stake", "Nvidia", "CoreWeave", "equity", "250000000")]
    assert entries(legs, "Nvidia") == [
        """\
2025-03-31 * "CoreWeave" "Investment in CoreWeave" ^deal-stake
  deal: "stake"
  leg: 1
  counterparty: "CoreWeave"
  kind: "equity"
  status: "realized"
  Assets:Investments:CoreWeave   250,000,000.00 USD
  Assets:Cash                   -250,000,000.00 USD
"""
    ]
    assert entries(legs, "CoreWeave") == [
        """\
2025-03-31 * "Nvidia" "Investment from Nvidia" ^deal-stake
  deal: "stake"
  leg: 1
  counterparty: "Nvidia"
  kind: "equity"
  status: "realized"
  Assets:Cash            250,000,000.00 USD
  Equity:Issued:Nvidia  -250,000,000.00 USD
"""
    ]


def test_a_loan_is_a_receivable_at_the_lender_and_debt_at_the_borrower_until_repaid():
    """ASC 310 at the lender, ASC 470 at the borrower; the repayment reverses both."""
    legs = [
        leg("debt", "Bank", "SPV", "loan", "12500000000"),
        leg("debt", "SPV", "Bank", "repayment", "2500000000", n=2, day=date(2026, 3, 31)),
    ]
    assert entries(legs, "SPV") == [
        """\
2025-03-31 * "Bank" "Loan from Bank" ^deal-debt
  deal: "debt"
  leg: 1
  counterparty: "Bank"
  kind: "loan"
  status: "realized"
  Assets:Cash              12,500,000,000.00 USD
  Liabilities:Loans:Bank  -12,500,000,000.00 USD
""",
        """\
2026-03-31 * "Bank" "Loan repayment to Bank" ^deal-debt
  deal: "debt"
  leg: 2
  counterparty: "Bank"
  kind: "repayment"
  status: "realized"
  Liabilities:Loans:Bank   2,500,000,000.00 USD
  Assets:Cash             -2,500,000,000.00 USD
""",
    ]
    bank = entries(legs, "Bank")
    assert "  Assets:Loans:SPV   12,500,000,000.00 USD\n" in bank[0]
    assert "  Assets:Loans:SPV  -2,500,000,000.00 USD\n" in bank[1]


def test_tax_is_an_expense_of_the_payer_and_a_receipt_of_the_government():
    legs = [leg("china", "Nvidia", "USGov", "tax", "2250000000")]
    assert "  Expenses:Tax:USGov   2,250,000,000.00 USD\n" in entries(legs, "Nvidia")[0]
    assert entries(legs, "USGov") == [
        """\
2025-03-31 * "Nvidia" "Tax from Nvidia" ^deal-china
  deal: "china"
  leg: 1
  counterparty: "Nvidia"
  kind: "tax"
  status: "realized"
  Assets:Cash         2,250,000,000.00 USD
  Income:Tax:Nvidia  -2,250,000,000.00 USD
"""
    ]


def test_a_dividend_reduces_the_payers_equity_and_is_income_apart_from_revenue():
    legs = [leg("payout", "CoreWeave", "Nvidia", "dividend", "10000000")]
    assert entries(legs, "CoreWeave") == [
        """\
2025-03-31 * "Nvidia" "Dividend to Nvidia" ^deal-payout
  deal: "payout"
  leg: 1
  counterparty: "Nvidia"
  kind: "dividend"
  status: "realized"
  Equity:Dividends:Nvidia   10,000,000.00 USD
  Assets:Cash              -10,000,000.00 USD
"""
    ]
    assert "  Income:Dividends:CoreWeave  -10,000,000.00 USD\n" in entries(legs, "Nvidia")[0]


def test_an_undrawn_backstop_is_disclosed_not_booked_and_a_draw_is_a_purchase():
    """ASC 460: a contingent obligation posts nothing until drawn; its amount is metadata in
    the commitments file. A drawn backstop is bought capacity."""
    legs = [
        leg("guarantee", "Nvidia", "CoreWeave", "backstop", "6300000000",
            status=Status.CONTRACTED),
        leg("guarantee", "Nvidia", "CoreWeave", "backstop", "100000000", n=2,
            day=date(2026, 3, 31)),
    ]  # fmt: skip
    assert entries(legs, "Nvidia", "commitments") == [
        """\
2025-03-31 ! "CoreWeave" "Capacity guarantee to CoreWeave (undrawn)" #contracted ^deal-guarantee
  deal: "guarantee"
  leg: 1
  counterparty: "CoreWeave"
  kind: "backstop"
  status: "contracted"
  amount: 6,300,000,000.00 USD
"""
    ]
    assert entries(legs, "Nvidia") == [
        """\
2026-03-31 * "CoreWeave" "Backstop drawn: capacity from CoreWeave" ^deal-guarantee
  deal: "guarantee"
  leg: 2
  counterparty: "CoreWeave"
  kind: "backstop"
  status: "realized"
  Expenses:Backstop:CoreWeave   100,000,000.00 USD
  Assets:Cash                  -100,000,000.00 USD
"""
    ]
    assert "(undrawn)" in entries(legs, "CoreWeave", "commitments")[0]


def test_a_warrant_is_held_in_its_own_commodity_at_its_grant_date_value():
    """The holder holds 40M AMDW at cost; the grantor has issued equity (ASC 505/718)."""
    legs = [
        leg("warrant", "AMD", "OpenAI", "warrant", "6600000000", units=D(40000000),
            commodity="AMDW", status=Status.CONTRACTED, day=date(2026, 7, 1))
    ]  # fmt: skip
    assert entries(legs, "OpenAI", "commitments") == [
        """\
2026-07-01 ! "AMD" "Warrant from AMD" #contracted ^deal-warrant
  deal: "warrant"
  leg: 1
  counterparty: "AMD"
  kind: "warrant"
  status: "contracted"
  units: 40000000
  commodity: "AMDW"
  Assets:Warrants:AMD  40,000,000 AMDW {{6,600,000,000.00 USD}}
  Income:Grants:AMD    -6,600,000,000.00 USD
"""
    ]
    assert entries(legs, "AMD", "commitments") == [
        """\
2026-07-01 ! "OpenAI" "Warrant granted to OpenAI" #contracted ^deal-warrant
  deal: "warrant"
  leg: 1
  counterparty: "OpenAI"
  kind: "warrant"
  status: "contracted"
  units: 40000000
  commodity: "AMDW"
  Expenses:Warrants:OpenAI   6,600,000,000.00 USD
  Equity:Warrants:OpenAI    -6,600,000,000.00 USD
"""
    ]


def test_a_signed_contract_not_yet_delivered_is_a_commitment_tagged_contracted():
    """ASC 606-10-50-13: a remaining performance obligation stays out of the book."""
    legs = [leg("rpo", "OpenAI", "Oracle", "cloud", "60000000000", status=Status.CONTRACTED)]
    assert entries(legs, "Oracle") == []
    assert entries(legs, "Oracle", "commitments") == [
        """\
2025-03-31 ! "OpenAI" "Cloud services to OpenAI" #contracted ^deal-rpo
  deal: "rpo"
  leg: 1
  counterparty: "OpenAI"
  kind: "cloud"
  status: "contracted"
  Assets:Cash           60,000,000,000.00 USD
  Income:Cloud:OpenAI  -60,000,000,000.00 USD
"""
    ]


# --------------------------------------------------------------------------------------------
# What the books hold agrees with what the engine computes from legs


@pytest.fixture(scope="module")
def shipped():
    legs, marks, companies, errors = read_deals(BOOKS / "deals.yaml")
    assert errors == []
    return legs, marks, companies


def _balance(entries, account: str, currency: str = "USD", cost: bool = False) -> Decimal:
    total = inventory.Inventory()
    for entry in entries:
        for posting in getattr(entry, "postings", ()):
            if posting.account.startswith(account):
                total.add_position(posting)
    units = total.reduce(convert.get_cost) if cost else total.reduce(convert.get_units)
    return units.get_currency_units(currency).number


@pytest.mark.parametrize(
    "company",
    ["Amazon", "AMD", "CoreWeave", "Intel", "Microsoft", "Nvidia", "OpenAI", "Oracle", "USGov",
     "xAI", "xAI-SPV"],
)  # fmt: skip
def test_booked_cash_is_the_books_cash_balance(shipped, company):
    """booked_cash(legs, company) is Assets:Cash in the company's book, at every quarter end."""
    legs, _, _ = shipped
    slug = {"xAI-SPV": "xai-spv"}.get(company, company.lower())
    entries, errors, _ = load([BOOKS / f"{slug}.beancount"])
    assert errors == ()
    for as_of in (date(2024, 12, 31), date(2025, 6, 30), date(2025, 12, 31), None):
        kept = [e for e in entries if as_of is None or e.date <= as_of]
        assert booked_cash(legs, company, as_of) == _balance(kept, "Assets:Cash"), as_of


def test_the_books_mark_the_warrant_to_the_gain_the_audit_reports(shipped):
    """OpenAI's forward view holds 160M AMDW at 26.4B and prices marking them at 256.12:
    market value - cost, as beancount (and Fava) compute it, is audit's paper gain."""
    legs, marks, _ = shipped
    entries, errors, _ = load([BOOKS / "openai.forward.beancount"])
    assert errors == ()
    price_map = prices.build_price_map(entries)
    held = inventory.Inventory()
    for entry in entries:
        for posting in getattr(entry, "postings", ()):
            if posting.account.startswith("Assets:Warrants:"):
                held.add_position(posting)
    value = held.reduce(convert.get_value, price_map).get_currency_units("USD").number
    cost = held.reduce(convert.get_cost).get_currency_units("USD").number
    gains = paper_gains(legs, marks, Period(), Basis.ANNOUNCED)
    assert value - cost == Decimal(gains["OpenAI"]) / 100
    assert (value, cost) == (D("41329200000.00"), D("26750000000.00"))


def test_paper_gains_are_zero_without_a_mark_above_the_grant_value():
    grant = leg("g", "AMD", "OpenAI", "warrant", "10", units=D(2), commodity="AMDW")
    assert paper_gains([grant], [Price(date(2025, 4, 1), "AMDW", D("5"))]) == {"OpenAI": 0}
    assert paper_gains([grant], [Price(date(2025, 4, 1), "AMDW", D("8"))]) == {"OpenAI": 600}
    assert paper_gains([grant]) == {"OpenAI": 0}
