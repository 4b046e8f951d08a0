"""The store: schema 2 and its migration, a load that follows its input, runs, on two backends.

Every test that takes ``engine`` runs twice: on a SQLite file and on PostgreSQL, in a schema of
its own that is dropped afterwards. PostgreSQL comes from ``ROUNDTRIP_TEST_PG_URL`` (default
``postgresql+psycopg://root@127.0.0.1:5432/test``); its tests are skipped only when no server
answers at that address, and fail instead when ``CI=true``.
"""

from __future__ import annotations

import doctest
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine
from store_backends import BOOKS, dump, empty_store, pg_engine, sqlite_engine

import ledger.store as store
import ledger.store.load as store_load
from ledger.accounts import Role, leg_postings
from ledger.inputs import read_web
from ledger.model import BadInput, Basis, Kind, Leg, Period, Price, Status
from ledger.store import (
    VIEWS,
    NettingRunTable,
    StoredCompany,
    StoreMissing,
    create_schema,
    engine_for,
    load_legs,
    load_web,
    query_companies,
    query_deals,
    query_legs,
    query_prices,
    save_netting,
    schema_version,
)
from ledger.store.schema import MIGRATIONS, Migration

D = Decimal
V1_STORE = Path(__file__).parent / "fixtures" / "store" / "v1.db"

# A tiny web, hand-checkable: 5 legs, 4 deals, 5 companies (External included).
WEB: tuple[Leg, ...] = (
    Leg(
        date(2025, 9, 22), "nv-oai", 1, "Nvidia", "OpenAI", Kind.EQUITY, D("100000000000.00"),
        status=Status.ANNOUNCED, source="Reuters 2025-09-22", title="Nvidia invests in OpenAI",
    ),
    Leg(
        date(2025, 10, 1), "nv-oai", 2, "OpenAI", "Nvidia", Kind.SALE, D("60.05"),
        estimate=True, note="systems tied to the investment", source="CNBC", capex=True,
    ),
    Leg(
        date(2025, 9, 23), "oai-orcl", 1, "OpenAI", "Oracle", Kind.CLOUD,
        D("9999999999999.99"), status=Status.CONTRACTED,
    ),
    Leg(
        date(2025, 10, 6), "amd-oai", 1, "AMD", "OpenAI", Kind.WARRANT, D("97000000000.00"),
        units=D("160000000"), commodity="AMDW",
    ),
    Leg(
        date(2025, 1, 31), "ext-nv", 1, "External", "Nvidia", Kind.SALE, D("130500000000.00"),
        estimate=True, note="fiscal 2025 revenue",
    ),
)  # fmt: skip
PRICES = (Price(date(2025, 10, 6), "AMDW", D("606.2500000000000000001"), "USD", "p", 1),)


def _count(engine: Engine, what: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {what}")).scalar())


def by_date(legs: tuple[Leg, ...] | list[Leg]) -> tuple[Leg, ...]:
    return tuple(sorted(legs, key=lambda leg: (leg.date, leg.deal, leg.leg)))


def stored(legs: tuple[Leg, ...] | list[Leg]) -> tuple[Leg, ...]:
    """The legs as the store gives them back: no provenance, no deal title."""
    return by_date([replace(leg, filename="<store>", lineno=0, title="") for leg in legs])


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    make = pg_engine if request.param == "postgresql" else sqlite_engine
    yield from make(tmp_path)


# --------------------------------------------------------------------------------------------
# Schema 2
# --------------------------------------------------------------------------------------------


def test_engine_for_reads_urls_and_paths(tmp_path: Path) -> None:
    assert str(engine_for(None).url) == "sqlite:///roundtrip.db"
    assert str(engine_for(str(tmp_path / "x.db")).url) == f"sqlite:///{tmp_path / 'x.db'}"
    assert engine_for("postgresql://u@h/db").url.drivername == "postgresql+psycopg"
    assert engine_for("postgres://u@h/db").url.drivername == "postgresql+psycopg"


def test_create_schema_is_versioned_and_idempotent(engine: Engine) -> None:
    before = dump(engine)
    assert schema_version(engine) == store.SCHEMA_VERSION == 2
    assert create_schema(engine) == 2
    assert dump(engine) == before


def test_amounts_are_integer_cents_and_shares_integers(engine: Engine) -> None:
    columns = {
        (table, column["name"]): column["type"]
        for table in ("leg", "netting_run", "netting_result", "netting_cycle")
        for column in inspect(engine).get_columns(table)
    }
    cents = [key for key in columns if key[1].endswith("_cents")]
    assert len(cents) == 11
    assert all(columns[key].python_type is int for key in cents)
    assert columns[("netting_result", "circular_share_bp")].python_type is int
    assert not [key for key in columns if key[1] in ("amount", "gross", "total_circular")]


def test_every_view_exists_and_reads(engine: Engine) -> None:
    with engine.connect() as connection:
        for view in VIEWS:
            assert connection.execute(text(f"SELECT COUNT(*) FROM {view}")).scalar() == 0


def test_a_database_without_the_schema_is_refused(tmp_path: Path) -> None:
    engine = engine_for(str(tmp_path / "empty.db"))
    with pytest.raises(StoreMissing, match="holds no roundtrip store"):
        load_legs(engine, WEB)
    with pytest.raises(StoreMissing):
        query_legs(engine)
    assert schema_version(engine) == 0


def test_failing_migration_leaves_the_schema_as_it_was(engine: Engine) -> None:
    def broken(connection: Any) -> None:
        connection.execute(text("CREATE TABLE half_done (x INTEGER)"))
        raise RuntimeError("migration 3 fails after its first statement")

    with pytest.raises(RuntimeError):
        create_schema(engine, (*MIGRATIONS, Migration(3, "broken", broken)))
    assert schema_version(engine) == 2
    assert not inspect(engine).has_table("half_done")


# --------------------------------------------------------------------------------------------
# Migration from schema 1
# --------------------------------------------------------------------------------------------


def test_a_store_made_by_schema_1_code_is_taken_forward(tmp_path: Path) -> None:
    """tests/fixtures/store/v1.db was written by the schema-1 code: the shipped books and one
    max run (realized). After the migration it holds what loading the books gives, but capex."""
    copy = tmp_path / "v1.db"
    shutil.copy(V1_STORE, copy)
    engine = engine_for(str(copy))
    assert schema_version(engine) == 1
    assert create_schema(engine) == 2
    books = read_web(BOOKS)
    assert query_legs(engine) == stored([replace(leg, capex=False) for leg in books.legs])
    assert [p.amount for p in query_prices(engine)] == [D("40"), D("203.71"), D("256.12")]
    with engine.connect() as connection:
        run = connection.execute(text("SELECT * FROM run_dollars")).mappings().one()
        rows = connection.execute(
            text("SELECT company, circular, circular_share FROM run_company_dollars")
        ).all()
        undrawn = connection.execute(
            text(
                "SELECT COUNT(*) FROM posting p JOIN leg l ON l.deal = p.deal AND l.leg = p.leg "
                "WHERE l.kind = 'backstop' AND l.status <> 'realized'"
            )
        ).scalar()
    assert run["total_circular"] == pytest.approx(930000000.0)
    assert run["created"] is None  # schema 1 kept no time
    assert ("CoreWeave", pytest.approx(290000000.0), pytest.approx(0.1198)) in rows
    assert undrawn == 0  # schema 1 posted undrawn backstops; schema 2 follows the accounts


def test_a_schema_1_store_on_postgresql_is_taken_forward(tmp_path: Path) -> None:
    for engine in pg_engine(tmp_path, create=False):
        create_schema(engine, MIGRATIONS[:1])
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO company VALUES ('Nvidia', 'Nvidia', true), "
                    "('OpenAI', 'OpenAI', true); "
                    "INSERT INTO deal VALUES ('d', NULL, '2025-01-01', '2025-01-01', 'FT'); "
                    "INSERT INTO leg VALUES ('d', 1, '2025-01-01', 'Nvidia', 'OpenAI', 'equity', "
                    "12.34, 'USD', 'realized', false, '', 'FT', 7.5, 'OAI', 'x.csv', 2); "
                    "INSERT INTO netting_run VALUES ('r', 'max', 'realized', NULL, NULL, 1.50, "
                    "'rule', 'abc', '2025-01-01'); "
                    "INSERT INTO netting_result VALUES ('r', 'OpenAI', 3.00, 0, 3.00, 1.50, "
                    "1.50, 0.5, false)"
                )
            )
        assert create_schema(engine) == 2
        (leg,) = query_legs(engine)
        assert (leg.amount, leg.units, leg.commodity) == (D("12.34"), D("7.5"), "OAI")
        with engine.connect() as connection:
            result = connection.execute(text("SELECT * FROM netting_result")).mappings().one()
            run = connection.execute(text("SELECT * FROM netting_run")).mappings().one()
            dollars = connection.execute(text("SELECT circular FROM run_company_dollars"))
            assert dollars.scalar() == D("1.50")
        assert (result["circular_cents"], result["circular_share_bp"]) == (150, 5000)
        assert (run["total_circular_cents"], run["graph_hash"]) == (150, "v1:abc")


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def test_load_inserts_every_row(engine: Engine) -> None:
    summary = load_legs(engine, WEB, PRICES, companies=["Microsoft"])
    assert summary.leg.inserted == 5
    assert summary.deal_title.inserted == 1
    assert len(query_deals(engine)) == 4
    assert summary.company.inserted == 6  # AMD External Microsoft Nvidia OpenAI Oracle
    assert _count(engine, "posting") == 4 * 4 + 2  # External keeps no book
    assert summary.price.inserted == 1
    assert query_legs(engine) == stored(WEB)


def test_decimals_round_trip_exactly(engine: Engine) -> None:
    load_legs(engine, WEB, PRICES)
    amounts = {leg.key: str(leg.amount) for leg in query_legs(engine)}
    assert amounts[("oai-orcl", 1)] == "9999999999999.99"
    assert amounts[("nv-oai", 2)] == "60.05"
    (warrant,) = (leg for leg in query_legs(engine) if leg.kind is Kind.WARRANT)
    assert warrant.units == D("160000000")
    assert str(query_prices(engine)[0].amount) == "606.2500000000000000001"


def test_companies_get_account_components_and_books(engine: Engine) -> None:
    leg = Leg(date(2025, 1, 1), "nv-xai", 1, "Nvidia", "xAI", Kind.EQUITY, D("2.00"))
    load_legs(engine, [leg, replace(leg, leg=2, payer="External")])
    assert query_companies(engine) == (
        StoredCompany("External", "External", False),
        StoredCompany("Nvidia", "Nvidia", True),
        StoredCompany("xAI", "XAI", True),
    )


def test_deals_span_their_legs_and_cite_their_sources(engine: Engine) -> None:
    load_legs(engine, WEB)
    deal = {d.id: d for d in query_deals(engine)}["nv-oai"]
    assert (deal.first_date, deal.last_date) == (date(2025, 9, 22), date(2025, 10, 1))
    assert deal.source == "Reuters 2025-09-22; CNBC"
    assert deal.title == "Nvidia invests in OpenAI"
    assert deal.legs == 2
    assert [d.id for d in query_deals(engine)] == ["ext-nv", "nv-oai", "oai-orcl", "amd-oai"]


def test_loading_twice_changes_nothing(engine: Engine) -> None:
    load_legs(engine, WEB, PRICES, companies=["Microsoft"])
    before = dump(engine)
    again = load_legs(engine, WEB, PRICES, companies=["Microsoft"])
    assert not again.changed
    assert (again.leg.unchanged, again.deal_title.unchanged, again.company.unchanged) == (5, 1, 6)
    assert dump(engine) == before


def test_the_same_legs_from_another_file_change_nothing(engine: Engine) -> None:
    load_legs(engine, WEB)
    moved = [replace(leg, filename="other.csv", lineno=leg.lineno + 100) for leg in WEB]
    assert not load_legs(engine, moved).changed


def test_legs_removed_from_the_input_are_removed_from_the_store(engine: Engine) -> None:
    load_legs(engine, WEB)
    summary = load_legs(engine, [WEB[0], *WEB[2:]])  # nv-oai leg 2 is gone
    assert summary.leg.deleted == 1
    assert _count(engine, "posting WHERE deal = 'nv-oai'") == 4
    assert query_legs(engine) == stored([WEB[0], *WEB[2:]])
    deal = {d.id: d for d in query_deals(engine)}["nv-oai"]
    assert deal.last_date == date(2025, 9, 22)


def test_a_deal_left_without_legs_is_removed(engine: Engine) -> None:
    load_legs(engine, WEB)
    load_legs(engine, [leg for leg in WEB if leg.deal != "oai-orcl"])
    assert "oai-orcl" not in {d.id for d in query_deals(engine)}


def test_legs_of_companies_the_input_does_not_cover_are_kept(engine: Engine) -> None:
    other = Leg(date(2025, 2, 1), "ms-amzn", 1, "Microsoft", "Amazon", Kind.CLOUD, D("5.00"))
    load_legs(engine, [*WEB, other])
    load_legs(engine, WEB[:1])  # covers Nvidia and OpenAI only
    kept = {leg.key for leg in query_legs(engine)}
    assert kept == {("nv-oai", 1), ("ms-amzn", 1)}


def test_a_changed_amount_replaces_the_leg_its_postings_and_its_deal(engine: Engine) -> None:
    load_legs(engine, WEB)
    changed = replace(WEB[1], amount=D("70.00"), date=date(2025, 12, 1))
    summary = load_legs(engine, [WEB[0], changed, *WEB[2:]])
    assert (summary.leg.updated, summary.leg.inserted, summary.leg.unchanged) == (1, 0, 4)
    assert {leg.key: leg for leg in query_legs(engine)}[("nv-oai", 2)] == stored([changed])[0]
    assert {d.id: d for d in query_deals(engine)}["nv-oai"].last_date == date(2025, 12, 1)


def test_postings_follow_the_chart_of_accounts(engine: Engine) -> None:
    load_legs(engine, WEB[:2])
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT book, account, amount_cents FROM posting WHERE leg = 2 ORDER BY book, account"
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("Nvidia", "Assets:Cash", 6005),
        ("Nvidia", "Income:Sales:OpenAI", -6005),
        ("OpenAI", "Assets:Cash", -6005),
        ("OpenAI", "Assets:Equipment:Nvidia", 6005),  # capex: the buyer installs the systems
    ]


def _posting_rows(engine: Engine) -> set[tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT deal, leg, book, account, amount_cents, currency, units, commodity "
                 "FROM posting")
        ).all()  # fmt: skip
    return {
        (deal, int(number), book, account, int(cents), currency,
         None if units is None else D(units), commodity)
        for deal, number, book, account, cents, currency, units, commodity in rows
    }  # fmt: skip


def test_postings_agree_with_the_accounts_on_the_shipped_books(engine: Engine) -> None:
    web = read_web(BOOKS)
    load_web(engine, web)
    expected = set()
    for leg in web.legs:
        for role, book in ((Role.PAYER, leg.payer), (Role.PAYEE, leg.payee)):
            if book == "External":
                continue
            for p in leg_postings(leg, role):
                cents = int(p.number * 100)
                expected.add(
                    (leg.deal, leg.leg, book, p.account, cents, p.currency, p.units, p.commodity)
                )
    assert any(leg.capex for leg in web.legs) and any(p[6] is not None for p in expected)
    assert _posting_rows(engine) == expected


def test_postings_balance_in_every_book(engine: Engine) -> None:
    load_web(engine, read_web(BOOKS))
    with engine.connect() as connection:
        sums = connection.execute(
            text("SELECT book, deal, leg, SUM(amount_cents) FROM posting GROUP BY book, deal, leg")
        ).all()
    assert len(sums) > 100
    assert {int(total) for *_, total in sums} == {0}


# --------------------------------------------------------------------------------------------
# Atomic: a failing load changes nothing
# --------------------------------------------------------------------------------------------


def test_a_repeated_leg_key_changes_nothing(engine: Engine) -> None:
    load_legs(engine, WEB[:2])
    before = dump(engine)
    twice = replace(WEB[0], amount=D("1.00"), filename="x.csv", lineno=40)
    with pytest.raises(BadInput) as caught:
        load_legs(engine, [*WEB, twice])
    assert any(error.deal == "nv-oai" for error in caught.value.errors)
    assert dump(engine) == before


def test_failure_mid_transaction_rolls_everything_back(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_legs(engine, WEB[:2])
    before = dump(engine)

    def fail_at_prices(self: Any, prices: Any) -> None:
        raise RuntimeError("disk full")  # companies, deals and legs are written before this

    monkeypatch.setattr(store_load._Writer, "write_prices", fail_at_prices)
    with pytest.raises(RuntimeError, match="disk full"):
        load_legs(engine, [replace(WEB[0], amount=D("5.00")), *WEB[2:]], PRICES)
    assert dump(engine) == before


def test_a_name_clashing_with_a_stored_company_changes_nothing(engine: Engine) -> None:
    load_legs(engine, [replace(WEB[0], payee="US Gov")])
    before = dump(engine)
    with pytest.raises(BadInput) as caught:
        load_legs(engine, [replace(WEB[1], payer="US-Gov")])
    (error,) = caught.value.errors
    assert "'US-Gov' would share account component 'US-Gov' with 'US Gov'" in error.message
    assert dump(engine) == before


def test_contradicting_prices_are_rejected(engine: Engine) -> None:
    same = replace(PRICES[0], filename="q", lineno=2)
    other = replace(PRICES[0], amount=D("1.00"), filename="q", lineno=3)
    assert load_legs(engine, WEB, [*PRICES, same]).price.inserted == 1
    with pytest.raises(BadInput, match="q:3: price of AMDW on 2025-10-06 contradicts p:1"):
        load_legs(engine, WEB, [*PRICES, other])


# --------------------------------------------------------------------------------------------
# Netting runs
# --------------------------------------------------------------------------------------------


def _net_books(period: Period | None = None) -> Any:
    from ledger.audit import paper_gains
    from ledger.flows import build_flow_graph
    from ledger.netting import net

    web = read_web(BOOKS)
    graph = build_flow_graph(web.frame, period, Basis.CONTRACTED)
    gains = paper_gains(web.grants, web.prices, period, Basis.CONTRACTED)
    return net(graph, "max", bounds=True, paper_gains=gains)


def test_a_run_stores_its_time_figures_bounds_gains_and_largest_cycles(engine: Engine) -> None:
    result = _net_books(Period(date(2025, 1, 1), date(2026, 1, 1)))
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    saved = save_netting(engine, result, source="books", cycles=3, now=moment)
    with engine.connect() as connection:
        run = connection.execute(select(NettingRunTable.__table__)).mappings().one()  # type: ignore[attr-defined]
        figures = (
            connection.execute(
                text("SELECT * FROM netting_result WHERE run_id = :r ORDER BY company"),
                {"r": saved.run_id},
            )
            .mappings()
            .all()
        )
        cycles = (
            connection.execute(text("SELECT * FROM netting_cycle ORDER BY rank")).mappings().all()
        )
    assert run["created"].replace(tzinfo=UTC) == moment
    assert (run["basis"], run["period_start"], run["source"]) == (
        "contracted",
        date(2025, 1, 1),
        "books",
    )
    assert run["total_circular_cents"] == int(result.total_circular * 100)
    assert run["cycle_count"] == len(result.witnesses) and run["bounds"]
    assert len(cycles) == min(3, len(result.witnesses)) >= 1
    by_name = {f.company: f for f in result.companies}
    for row in figures:
        mine = by_name[row["company"]]
        assert row["circular_cents"] == int(mine.circular * 100)
        assert row["circular_share_bp"] == int(mine.circular_share * 10000)
        assert row["paper_gains_cents"] == int(mine.paper_gains * 100)
        assert row["circular_max_cents"] == int(mine.circular_max * 100)
    assert [c["amount_cents"] for c in cycles] == [c.cents for c in result.top_cycles(3)]
    assert cycles[0]["path"] == " → ".join(next(iter(result.top_cycles(1))).path)


def test_two_saves_of_the_same_netting_are_two_runs_of_one_graph(engine: Engine) -> None:
    result = _net_books()
    first = save_netting(engine, result)
    second = save_netting(engine, result)
    assert first.run_id != second.run_id
    with engine.connect() as connection:
        hashes = connection.execute(text("SELECT graph_hash FROM netting_run")).scalars().all()
    assert len(hashes) == 2 and len(set(hashes)) == 1


def test_the_dollar_views_give_the_figures_of_the_cents_columns(engine: Engine) -> None:
    result = _net_books()
    save_netting(engine, result)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT company, organic, circular FROM run_company_dollars")
        ).all()
    by_name = {f.company: f for f in result.companies}
    for company, organic, circular in rows:
        assert D(str(organic)).quantize(D("0.01")) == by_name[company].organic
        assert D(str(circular)).quantize(D("0.01")) == by_name[company].circular


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_NAMES = ("Nvidia", "OpenAI", "Oracle", "AMD", "xAI", "External")


@st.composite
def webs(draw: st.DrawFn, min_size: int = 0) -> list[Leg]:
    """Random legs with unique keys over a handful of companies and deals, dates in order."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(("d1", "d2", "d3", "d4")), st.integers(1, 3)),
            unique=True,
            min_size=min_size,
            max_size=10,
        )
    )
    legs = []
    for lineno, (deal, number) in enumerate(sorted(keys), start=2):
        payer, payee = draw(st.permutations(_NAMES))[:2]
        units = draw(st.none() | st.decimals(1, 10**9, places=3))
        legs.append(
            Leg(
                date=date(2025, 1, 1),
                deal=deal,
                leg=number,
                payer=payer,
                payee=payee,
                kind=draw(st.sampled_from(Kind)),
                amount=draw(st.decimals(D("0.01"), D("9999999999999.99"), places=2)),
                status=draw(st.sampled_from(Status)),
                estimate=draw(st.booleans()),
                note=draw(st.sampled_from(("", "est.", "ünïcode ✓"))),
                source=draw(st.sampled_from(("", "Reuters", "FT"))),
                units=units,
                commodity=None if units is None else "XW",
                filename="web.csv",
                lineno=lineno,
            )
        )
    return legs


@settings(max_examples=30, deadline=None)
@given(first=webs(), second=webs())
def test_property_a_load_makes_the_store_equal_to_its_input(
    first: list[Leg], second: list[Leg]
) -> None:
    """Invariant: after loading A then B, the store's legs are B's legs plus A's legs between
    companies B does not cover, and loading B again writes nothing."""
    engine = empty_store()
    load_legs(engine, first)
    load_legs(engine, second)
    covered = {name for leg in second for name in (leg.payer, leg.payee)} - {"External"}
    kept = [leg for leg in first if not {leg.payer, leg.payee} & covered]
    keys = {leg.key for leg in second}
    assert query_legs(engine) == stored([*second, *(leg for leg in kept if leg.key not in keys)])
    assert not load_legs(engine, list(reversed(second))).changed


@settings(
    max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(legs=webs(min_size=6))
def test_property_load_twice_equals_load_once_on_postgresql(
    tmp_path: Path, legs: list[Leg]
) -> None:
    """Invariant: on PostgreSQL, a second load of the same legs writes nothing."""
    for engine in pg_engine(tmp_path):
        load_legs(engine, legs)
        once = dump(engine)
        assert not load_legs(engine, list(reversed(legs))).changed
        assert dump(engine) == once
        assert query_legs(engine) == stored(legs)


def test_package_example_runs() -> None:
    result = doctest.testmod(store)
    assert result.attempted > 0
    assert result.failed == 0
