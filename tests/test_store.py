"""The store: idempotent, atomic, exact loads on SQLite and on a real PostgreSQL.

Every test that takes ``engine`` runs twice: on a SQLite file and on PostgreSQL, in a schema of
its own that is dropped afterwards. PostgreSQL comes from ``ROUNDTRIP_TEST_PG_URL`` (default
``postgresql+psycopg://root@127.0.0.1:5432/test``); its tests are skipped only when no server
answers at that address, and fail instead when ``CI=true``.
"""

from __future__ import annotations

import doctest
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

import ledger.store as store
from ledger.model import BadInput, Kind, Leg, Period, Price, Status
from ledger.store import (
    CompanyTable,
    DealTable,
    LegTable,
    NettingResultTable,
    NettingRunTable,
    PostingTable,
    PriceTable,
    SchemaVersionTable,
    StoredCompany,
    StoreMissing,
    create_schema,
    engine_for,
    leg_postings,
    legs_digest,
    load_legs,
    query_companies,
    query_deals,
    query_legs,
    query_prices,
    save_netting,
    schema_version,
)

PG_URL = os.environ.get("ROUNDTRIP_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
TABLES = (
    SchemaVersionTable,
    CompanyTable,
    DealTable,
    LegTable,
    PostingTable,
    PriceTable,
    NettingRunTable,
    NettingResultTable,
)
D = Decimal

# A tiny web, hand-checkable: 5 legs, 4 deals, 5 companies (External included).
WEB: tuple[Leg, ...] = (
    Leg(
        date(2025, 9, 22), "nv-oai", 1, "Nvidia", "OpenAI", Kind.EQUITY, D("100000000000.00"),
        status=Status.ANNOUNCED, source="Reuters 2025-09-22", filename="deals.yaml", lineno=3,
    ),
    Leg(
        date(2025, 10, 1), "nv-oai", 2, "OpenAI", "Nvidia", Kind.SALE, D("60.05"),
        estimate=True, note="systems tied to the investment", source="CNBC",
        filename="deals.yaml", lineno=9,
    ),
    Leg(
        date(2025, 9, 23), "oai-orcl", 1, "OpenAI", "Oracle", Kind.CLOUD,
        D("9999999999999999.99"), status=Status.CONTRACTED, filename="deals.yaml", lineno=15,
    ),
    Leg(
        date(2025, 10, 6), "amd-oai", 1, "AMD", "OpenAI", Kind.WARRANT, D("97000000000.00"),
        units=D("160000000"), commodity="AMD.WARRANT", filename="deals.yaml", lineno=21,
    ),
    Leg(
        date(2025, 1, 31), "ext-nv", 1, "External", "Nvidia", Kind.SALE, D("130500000000.00"),
        estimate=True, note="fiscal 2025 revenue", filename="deals.yaml", lineno=27,
    ),
)  # fmt: skip
PRICES = (Price(date(2025, 10, 6), "AMD.WARRANT", D("606.2500000000000000001"), "USD", "p", 1),)


def by_date(legs: tuple[Leg, ...] | list[Leg]) -> tuple[Leg, ...]:
    return tuple(sorted(legs, key=lambda leg: (leg.date, leg.deal, leg.leg)))


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every store table, in key order, with values as exact text."""
    out = {}
    with engine.connect() as connection:
        for model in TABLES:
            table = model.__table__  # type: ignore[attr-defined]
            rows = connection.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(map(repr, row)) for row in rows]
    return out


# --------------------------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------------------------


def _pg_unreachable() -> str | None:
    """Why the PostgreSQL tests cannot run, or None when a server answers."""
    url = make_url(PG_URL)
    host, port = url.host or "127.0.0.1", url.port or 5432
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        return f"no PostgreSQL server answers at {host}:{port} ({exc}); set ROUNDTRIP_TEST_PG_URL"
    return None


def _pg_engine() -> Iterator[Engine]:
    """An engine on a fresh schema of its own, dropped afterwards."""
    reason = _pg_unreachable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    schema = f"rt_test_{uuid.uuid4().hex[:16]}"
    admin = engine_for(PG_URL, poolclass=NullPool)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = engine_for(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        create_schema(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    if request.param == "postgresql":
        yield from _pg_engine()
        return
    engine = engine_for(f"sqlite:///{tmp_path / 'store.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    yield from _pg_engine()


# --------------------------------------------------------------------------------------------
# Engine and schema
# --------------------------------------------------------------------------------------------


def test_engine_for_reads_urls_and_paths(tmp_path: Any) -> None:
    assert str(engine_for(None).url) == "sqlite:///roundtrip.db"
    assert str(engine_for(str(tmp_path / "x.db")).url) == f"sqlite:///{tmp_path / 'x.db'}"
    assert engine_for("postgresql://u@h/db").url.drivername == "postgresql+psycopg"
    assert engine_for("postgres://u@h/db").url.drivername == "postgresql+psycopg"


def test_create_schema_is_versioned_and_idempotent(engine: Engine) -> None:
    before = dump(engine)
    assert schema_version(engine) == store.SCHEMA_VERSION == 1
    assert create_schema(engine) == 1
    assert dump(engine) == before


def test_a_database_without_the_schema_is_refused(tmp_path: Any) -> None:
    engine = engine_for(str(tmp_path / "empty.db"))
    with pytest.raises(StoreMissing, match="holds no roundtrip store"):
        load_legs(engine, WEB)
    with pytest.raises(StoreMissing):
        query_legs(engine)
    assert schema_version(engine) == 0


def test_failing_migration_leaves_the_schema_as_it_was(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(connection: Any) -> None:
        connection.execute(text("CREATE TABLE half_done (x INTEGER)"))
        raise RuntimeError("migration 2 fails after its first statement")

    migrations = (*store._MIGRATIONS, store._Migration(2, "broken", broken))
    monkeypatch.setattr(store, "_MIGRATIONS", migrations)
    with pytest.raises(RuntimeError):
        create_schema(engine)
    assert schema_version(engine) == 1
    with engine.connect() as connection:
        assert not connection.dialect.has_table(connection, "half_done")


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def test_load_inserts_every_row(engine: Engine) -> None:
    summary = load_legs(engine, WEB, PRICES, companies=["Microsoft"])
    assert summary.leg.inserted == 5
    assert summary.deal.inserted == 4
    assert summary.company.inserted == 6  # AMD External Microsoft Nvidia OpenAI Oracle
    assert summary.posting.inserted == 4 * 4 + 2  # External keeps no book
    assert summary.price.inserted == 1
    assert query_legs(engine) == by_date(WEB)


def test_decimals_round_trip_exactly(engine: Engine) -> None:
    load_legs(engine, WEB, PRICES)
    amounts = {leg.key: str(leg.amount) for leg in query_legs(engine)}
    assert amounts[("oai-orcl", 1)] == "9999999999999999.99"
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
    load_legs(engine, WEB, titles={"nv-oai": "Nvidia invests up to $100B in OpenAI"})
    deal = {d.id: d for d in query_deals(engine)}["nv-oai"]
    assert (deal.first_date, deal.last_date) == (date(2025, 9, 22), date(2025, 10, 1))
    assert deal.source == "Reuters 2025-09-22; CNBC"
    assert deal.title == "Nvidia invests up to $100B in OpenAI"
    assert deal.legs == 2
    assert [d.id for d in query_deals(engine)] == ["ext-nv", "nv-oai", "oai-orcl", "amd-oai"]


def test_loading_twice_changes_nothing(engine: Engine) -> None:
    load_legs(engine, WEB, PRICES, companies=["Microsoft"])
    before = dump(engine)
    again = load_legs(engine, WEB, PRICES, companies=["Microsoft"])
    assert not again.changed
    assert (again.leg.unchanged, again.posting.unchanged, again.company.unchanged) == (5, 18, 6)
    assert dump(engine) == before


def test_legs_absent_from_a_later_load_are_kept(engine: Engine) -> None:
    load_legs(engine, WEB[:2])
    load_legs(engine, WEB[2:])
    assert query_legs(engine) == by_date(WEB)


def test_a_changed_amount_updates_the_leg_its_postings_and_its_deal(engine: Engine) -> None:
    load_legs(engine, WEB)
    changed = replace(WEB[1], amount=D("70.00"), date=date(2025, 12, 1))
    summary = load_legs(engine, [changed])
    assert (summary.leg.updated, summary.leg.inserted, summary.deal.updated) == (1, 0, 1)
    assert (summary.posting.updated, summary.posting.inserted, summary.posting.deleted) == (4, 0, 0)
    assert {leg.key: leg for leg in query_legs(engine)}[("nv-oai", 2)] == changed
    assert {d.id: d for d in query_deals(engine)}["nv-oai"].last_date == date(2025, 12, 1)


def test_a_changed_payer_moves_the_postings_to_its_book(engine: Engine) -> None:
    load_legs(engine, WEB)
    summary = load_legs(engine, [replace(WEB[1], payer="Oracle")])
    # Nvidia's income posting names another account (its cash posting stays), OpenAI's two
    # go, Oracle's two come.
    assert (summary.posting.inserted, summary.posting.updated, summary.posting.deleted) == (3, 0, 3)
    with engine.connect() as connection:
        rows = connection.execute(
            select(PostingTable.book, PostingTable.account)
            .where(PostingTable.deal == "nv-oai", PostingTable.leg == 2)
            .order_by(PostingTable.book, PostingTable.account)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("Nvidia", "Assets:Cash"),
        ("Nvidia", "Income:Sales:Oracle"),
        ("Oracle", "Assets:Cash"),
        ("Oracle", "Expenses:Purchases:Nvidia"),
    ]


def test_bulk_inserts_by_copy_store_the_same_rows(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_legs(engine, WEB, PRICES)
    by_insert = dump(engine)
    with engine.begin() as connection:
        for model in reversed(TABLES[1:]):
            connection.execute(model.__table__.delete())  # type: ignore[attr-defined]
    monkeypatch.setattr(store, "_COPY_MIN", 1)
    load_legs(engine, WEB, PRICES)
    assert dump(engine) == by_insert


def test_postings_balance_in_every_book(engine: Engine) -> None:
    load_legs(engine, WEB)
    with engine.connect() as connection:
        key = (PostingTable.book, PostingTable.deal, PostingTable.leg)
        sums = connection.execute(select(*key, func.sum(PostingTable.amount)).group_by(*key)).all()
    assert len(sums) == 2 * 4 + 1
    assert {total for *_, total in sums} == {D("0.00")}


def test_postings_follow_the_chart_of_accounts(engine: Engine) -> None:
    load_legs(engine, WEB[:1])
    with engine.connect() as connection:
        rows = connection.execute(
            select(PostingTable.book, PostingTable.account, PostingTable.amount).order_by(
                PostingTable.book, PostingTable.account
            )
        ).all()
    big = D("100000000000.00")
    assert [tuple(row) for row in rows] == [
        ("Nvidia", "Assets:Cash", -big),
        ("Nvidia", "Assets:Investments:OpenAI", big),
        ("OpenAI", "Assets:Cash", big),
        ("OpenAI", "Equity:Issued:Nvidia", -big),
    ]


# --------------------------------------------------------------------------------------------
# Atomic: a failing load changes nothing
# --------------------------------------------------------------------------------------------


def test_duplicate_leg_key_changes_nothing_and_names_file_line_deal(engine: Engine) -> None:
    load_legs(engine, WEB[:2])
    before = dump(engine)
    twice = replace(WEB[0], amount=D("1.00"), lineno=40)
    with pytest.raises(BadInput) as caught:
        load_legs(engine, [*WEB, twice])
    (error,) = caught.value.errors
    assert (error.filename, error.lineno, error.deal) == ("deals.yaml", 40, "nv-oai")
    assert "defined twice (first at deals.yaml:3)" in error.message
    assert dump(engine) == before


def test_every_bad_leg_is_reported_at_once(engine: Engine) -> None:
    base = WEB[0]
    bad = [
        replace(base, leg=11, amount=D("-1.00"), lineno=1),
        replace(base, leg=12, amount=D("1.005"), lineno=2),
        replace(base, leg=13, payee="Nvidia", lineno=3),
        replace(base, leg=14, kind="gift", lineno=4),  # type: ignore[arg-type]
        replace(base, leg=15, amount=D("1E+16"), lineno=5),
    ]
    with pytest.raises(BadInput) as caught:
        load_legs(engine, [*WEB, *bad])
    assert [error.lineno for error in caught.value.errors] == [1, 2, 3, 4, 5]
    assert "negative" in caught.value.errors[0].message
    assert "more than 2 decimals" in caught.value.errors[1].message
    assert all(error.deal == "nv-oai" for error in caught.value.errors)
    assert query_legs(engine) == ()


def test_failure_mid_transaction_rolls_everything_back(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_legs(engine, WEB[:2])
    before = dump(engine)
    real = store._apply_plan

    def fail_at_postings(connection: Any, plan: Any) -> None:
        if plan.table.name == "posting":
            raise RuntimeError("disk full")
        real(connection, plan)  # companies, deals and legs are written before this

    monkeypatch.setattr(store, "_apply_plan", fail_at_postings)
    monkeypatch.setattr(store, "_COPY_MIN", 1)  # legs go in by COPY on PostgreSQL
    with pytest.raises(RuntimeError, match="disk full"):
        load_legs(engine, [replace(WEB[0], amount=D("5.00")), *WEB[1:]], PRICES)
    assert dump(engine) == before


def test_a_name_clashing_with_a_stored_company_changes_nothing(engine: Engine) -> None:
    load_legs(engine, [replace(WEB[0], payee="US Gov")])
    before = dump(engine)
    with pytest.raises(BadInput) as caught:
        load_legs(engine, [replace(WEB[1], payer="US-Gov", lineno=77)])
    (error,) = caught.value.errors
    assert (error.filename, error.lineno, error.deal) == ("deals.yaml", 77, "nv-oai")
    assert "'US Gov' and 'US-Gov' both map to account component 'US-Gov'" in error.message
    assert dump(engine) == before


def test_contradicting_prices_are_rejected(engine: Engine) -> None:
    same = replace(PRICES[0], filename="q", lineno=2)
    other = replace(PRICES[0], amount=D("1.00"), filename="q", lineno=3)
    assert load_legs(engine, WEB, [*PRICES, same]).price.inserted == 1
    with pytest.raises(BadInput, match="q:3: price of AMD.WARRANT on 2025-10-06 contradicts p:1"):
        load_legs(engine, WEB, [*PRICES, other])


# --------------------------------------------------------------------------------------------
# Netting runs
# --------------------------------------------------------------------------------------------


def fake_result(basis: str = "realized", circular: str = "70.00") -> SimpleNamespace:
    """Duck-typed like ledger.netting.NettingResult (vendor_financing.csv, max method)."""
    graph = SimpleNamespace(basis=basis, period=Period(date(2025, 1, 1), date(2026, 1, 1)))
    companies = (
        SimpleNamespace(
            company="Nvidia", gross=D("70.00"), external=D("0.00"), web=D("70.00"),
            circular=D(circular), organic=D("70.00") - D(circular),
            circular_share=D(circular) / D("70.00"), estimated=False,
        ),
        SimpleNamespace(
            company="OpenAI", gross=D("13.00"), external=D("13.00"), web=D("0.00"),
            circular=D("0.00"), organic=D("13.00"), circular_share=D("0"), estimated=True,
        ),
    )  # fmt: skip
    return SimpleNamespace(
        method="max",
        graph=graph,
        total_circular=D(circular),
        split_rule="canonical: lexicographic by company name",
        companies=companies,
    )


def test_save_netting_is_idempotent(engine: Engine) -> None:
    load_legs(engine, WEB)
    first = save_netting(engine, fake_result())
    before = dump(engine)
    second = save_netting(engine, fake_result())
    assert second.run_id == first.run_id
    assert first.changed and not second.changed
    assert dump(engine) == before


def test_saved_netting_figures_are_exact(engine: Engine) -> None:
    load_legs(engine, WEB)
    run_id = save_netting(engine, fake_result(circular="7.00")).run_id
    with engine.connect() as connection:
        run = connection.execute(select(NettingRunTable.__table__)).one()  # type: ignore[attr-defined]
        rows = connection.execute(
            select(NettingResultTable.company, NettingResultTable.circular_share)
            .where(NettingResultTable.run_id == run_id)
            .order_by(NettingResultTable.company)
        ).all()
    assert (run.method, run.basis, run.total_circular) == ("max", "realized", D("7.00"))
    assert (run.period_start, run.period_end) == (date(2025, 1, 1), date(2026, 1, 1))
    assert run.created == date(2025, 10, 6)  # the newest leg netted, not the wall clock
    assert rows[0] == ("Nvidia", D("0.1"))
    assert rows[1] == ("OpenAI", D("0"))


def test_changed_figures_of_the_same_run_replace_the_stored_ones(engine: Engine) -> None:
    load_legs(engine, WEB)
    first = save_netting(engine, fake_result(circular="70.00"))
    second = save_netting(engine, fake_result(circular="60.00"))
    assert second.run_id == first.run_id
    assert (second.run.updated, second.results.updated, second.results.unchanged) == (1, 1, 1)
    with engine.connect() as connection:
        total = connection.execute(select(NettingRunTable.total_circular)).scalar_one()
    assert total == D("60.00")


def test_run_id_depends_on_what_was_netted_not_where_it_was_read() -> None:
    engine = engine_for("sqlite://")
    create_schema(engine)
    moved = [replace(leg, filename="other.yaml", lineno=leg.lineno + 100) for leg in WEB]
    base = save_netting(engine, fake_result(), WEB).run_id
    assert save_netting(engine, fake_result(), reversed(moved)).run_id == base
    assert save_netting(engine, fake_result(basis="announced"), WEB).run_id != base
    assert save_netting(engine, fake_result(), WEB[1:]).run_id != base
    assert legs_digest(WEB) == legs_digest(reversed(moved))
    assert legs_digest(WEB) != legs_digest([replace(WEB[0], amount=D("1.00")), *WEB[1:]])


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_NAMES = ("Nvidia", "OpenAI", "Oracle", "AMD", "xAI", "External")


@st.composite
def webs(draw: st.DrawFn, min_size: int = 0) -> list[Leg]:
    """Random legs with unique keys over a handful of companies and deals."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(("d1", "d2", "d3", "d4")), st.integers(1, 3)),
            unique=True,
            min_size=min_size,
            max_size=10,
        )
    )
    legs = []
    for lineno, (deal, number) in enumerate(keys, start=1):
        payer, payee = draw(st.permutations(_NAMES))[:2]
        units = draw(st.none() | st.decimals(0, 10**9, places=3))
        legs.append(
            Leg(
                date=draw(st.dates(date(2024, 1, 1), date(2026, 12, 31))),
                deal=deal,
                leg=number,
                payer=payer,
                payee=payee,
                kind=draw(st.sampled_from(Kind)),
                amount=draw(st.decimals(0, D("9999999999999999.99"), places=2)),
                status=draw(st.sampled_from(Status)),
                estimate=draw(st.booleans()),
                note=draw(st.sampled_from(("", "est.", "ünïcode ✓"))),
                source=draw(st.sampled_from(("", "Reuters", "FT"))),
                units=units,
                commodity=None if units is None else "X.WARRANT",
                filename="web.csv",
                lineno=lineno,
            )
        )
    return legs


def _assert_load_twice_equals_load_once(engine: Engine, legs: list[Leg]) -> None:
    first = load_legs(engine, legs)
    once = dump(engine)
    second = load_legs(engine, list(reversed(legs)))
    assert dump(engine) == once
    assert not second.changed
    assert first.leg.inserted == second.leg.unchanged == len(legs)
    assert query_legs(engine) == by_date(legs)


@settings(max_examples=40, deadline=None)
@given(legs=webs())
def test_property_load_twice_equals_load_once(legs: list[Leg]) -> None:
    """Invariant: loading legs, then loading them again in any order, leaves every table exactly
    as one load did, writes nothing the second time, and gives the legs back exactly."""
    engine = engine_for("sqlite://")
    create_schema(engine)
    _assert_load_twice_equals_load_once(engine, legs)


@settings(
    max_examples=1, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(legs=webs(min_size=6))
def test_property_load_twice_equals_load_once_on_postgresql(
    pg_engine: Engine, legs: list[Leg]
) -> None:
    """Invariant: as above, on PostgreSQL, for one random web (tables emptied per example)."""
    with pg_engine.begin() as connection:
        for model in reversed(TABLES[1:]):
            connection.execute(model.__table__.delete())  # type: ignore[attr-defined]
    _assert_load_twice_equals_load_once(pg_engine, legs)


@settings(max_examples=40, deadline=None)
@given(legs=webs(min_size=1))
def test_property_every_book_balances(legs: list[Leg]) -> None:
    """Invariant: every leg's postings sum to zero in each book that keeps them, and a leg
    between two companies appears in both books."""
    for leg in legs:
        postings = leg_postings(leg)
        books = {p.book for p in postings}
        assert books == {leg.payer, leg.payee} - {"External"}
        for book in books:
            assert sum(p.amount for p in postings if p.book == book) == 0


def test_module_example_runs() -> None:
    result = doctest.testmod(store)
    assert result.attempted > 0
    assert result.failed == 0
