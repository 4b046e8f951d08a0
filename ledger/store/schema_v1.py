"""Schema 1, frozen: the DDL that migration 1 runs, exactly as schema 1 shipped it.

Schema 1 held amounts as ``NUMERIC(20,2)`` on PostgreSQL and integer cents on SQLite under the
name ``amount``, units and shares as decimal text on SQLite, no capex, and provenance (file,
line) on each leg. Migration 2 (:mod:`ledger.store.migrate`) takes it forward. Never edit this
module: a store made by an older roundtrip must meet the same step.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

__all__ = ["create_v1"]

_DDL = """
CREATE TABLE company (
    name VARCHAR NOT NULL, account VARCHAR NOT NULL, has_book BOOLEAN NOT NULL,
    PRIMARY KEY (name), UNIQUE (account)
);
CREATE TABLE deal (
    id VARCHAR NOT NULL, title VARCHAR, first_date DATE NOT NULL, last_date DATE NOT NULL,
    source VARCHAR NOT NULL, PRIMARY KEY (id)
);
CREATE TABLE leg (
    deal VARCHAR NOT NULL, leg INTEGER NOT NULL, date DATE NOT NULL, payer VARCHAR NOT NULL,
    payee VARCHAR NOT NULL, kind VARCHAR NOT NULL, amount {money} NOT NULL,
    currency VARCHAR NOT NULL, status VARCHAR NOT NULL, estimate BOOLEAN NOT NULL,
    note VARCHAR NOT NULL, source VARCHAR NOT NULL, units {decimal}, commodity VARCHAR,
    filename VARCHAR NOT NULL, lineno INTEGER NOT NULL,
    PRIMARY KEY (deal, leg),
    CONSTRAINT leg_number_positive CHECK (leg >= 1),
    CONSTRAINT leg_amount_not_negative CHECK (amount >= 0),
    CONSTRAINT leg_two_parties CHECK (payer <> payee),
    CONSTRAINT leg_kind_known CHECK (kind IN ('sale', 'cloud', 'lease', 'equity', 'loan',
        'repayment', 'warrant', 'backstop', 'tax', 'dividend')),
    CONSTRAINT leg_status_known CHECK (status IN ('announced', 'contracted', 'realized')),
    FOREIGN KEY(deal) REFERENCES deal (id),
    FOREIGN KEY(payer) REFERENCES company (name),
    FOREIGN KEY(payee) REFERENCES company (name)
);
CREATE INDEX ix_leg_date ON leg (date);
CREATE TABLE posting (
    book VARCHAR NOT NULL, deal VARCHAR NOT NULL, leg INTEGER NOT NULL,
    account VARCHAR NOT NULL, amount {money} NOT NULL, currency VARCHAR NOT NULL,
    PRIMARY KEY (book, deal, leg, account),
    CONSTRAINT posting_leg FOREIGN KEY(deal, leg) REFERENCES leg (deal, leg),
    FOREIGN KEY(book) REFERENCES company (name)
);
CREATE INDEX ix_posting_deal_leg ON posting (deal, leg);
CREATE TABLE price (
    date DATE NOT NULL, commodity VARCHAR NOT NULL, amount {decimal} NOT NULL,
    currency VARCHAR NOT NULL, PRIMARY KEY (date, commodity)
);
CREATE TABLE netting_run (
    id VARCHAR NOT NULL, method VARCHAR NOT NULL, basis VARCHAR NOT NULL, period_start DATE,
    period_end DATE, total_circular {money} NOT NULL, split_rule VARCHAR NOT NULL,
    legs_hash VARCHAR NOT NULL, created DATE, PRIMARY KEY (id)
);
CREATE TABLE netting_result (
    run_id VARCHAR NOT NULL, company VARCHAR NOT NULL, gross {money} NOT NULL,
    external {money} NOT NULL, web {money} NOT NULL, circular {money} NOT NULL,
    organic {money} NOT NULL, circular_share {decimal}, estimated BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, company),
    FOREIGN KEY(run_id) REFERENCES netting_run (id),
    FOREIGN KEY(company) REFERENCES company (name)
)
"""

#: Schema 1's types per dialect: cents on SQLite, exact NUMERIC on PostgreSQL.
_TYPES = {
    "sqlite": {"money": "BIGINT", "decimal": "VARCHAR"},
    "postgresql": {"money": "NUMERIC(20, 2)", "decimal": "NUMERIC"},
}


def create_v1(connection: Connection) -> None:
    """Create schema 1's tables (migration 1)."""
    ddl = _DDL.format(**_TYPES[connection.dialect.name])
    for statement in ddl.split(";"):
        connection.exec_driver_sql(statement)
