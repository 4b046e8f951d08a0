"""The store: companies, deals, legs, their postings, price marks and netting runs in SQL.

SQLite file by default (no set-up); PostgreSQL by URL; both behave the same (SPEC §5). The
package, by job:

=====================  =======================================================================
module                 job
=====================  =======================================================================
``schema``             tables (schema 2), views in dollars, engine, write lock, migrations
``schema_v1``          schema 1's DDL, frozen (migration 1)
``migrate``            migration 2: a schema-1 store taken forward
``load``               ``roundtrip load``: the store follows its input, in bulk, atomically
``postings``           the ``posting`` view, by the rules of :mod:`ledger.accounts`
``queries``            legs, prices, companies, deals back; edges aggregated in SQL
``runs``               ``net --save``: runs, per-company figures, cycles
``errors``             store problems as one line, exit 2 (input) or 1 (environment)
=====================  =======================================================================

docs/store.md documents every table, column and view, and the load's design.

Example::

    >>> from datetime import date
    >>> from decimal import Decimal
    >>> from ledger.model import Kind, Leg
    >>> engine = engine_for("sqlite://")
    >>> create_schema(engine)
    2
    >>> leg = Leg(date(2025, 9, 22), "nv-oai", 1, "Nvidia", "OpenAI", Kind.EQUITY,
    ...           Decimal("100.00"))
    >>> load_legs(engine, [leg]).leg.inserted
    1
    >>> load_legs(engine, [leg]).changed      # the same legs again: nothing to do
    False
    >>> query_legs(engine)[0].amount
    Decimal('100.00')
"""

from __future__ import annotations

from ledger.store.errors import StoreError, opened
from ledger.store.load import LoadSummary, TableCounts, load_frame, load_legs, load_web
from ledger.store.queries import (
    NettingInput,
    StoredCompany,
    StoredDeal,
    netting_input,
    query_companies,
    query_deals,
    query_legs,
    query_prices,
    stored_web,
)
from ledger.store.runs import NettingSaved, graph_hash, save_netting
from ledger.store.schema import (
    DEFAULT_URL,
    SCHEMA_VERSION,
    VIEWS,
    CompanyTable,
    CycleTable,
    DealTitleTable,
    LegTable,
    NettingResultTable,
    NettingRunTable,
    PriceTable,
    SchemaVersionTable,
    StoreMissing,
    create_schema,
    engine_for,
    schema_version,
)

__all__ = [
    "DEFAULT_URL",
    "SCHEMA_VERSION",
    "VIEWS",
    "CompanyTable",
    "CycleTable",
    "DealTitleTable",
    "LegTable",
    "LoadSummary",
    "NettingInput",
    "NettingResultTable",
    "NettingRunTable",
    "NettingSaved",
    "PriceTable",
    "SchemaVersionTable",
    "StoreError",
    "StoreMissing",
    "StoredCompany",
    "StoredDeal",
    "TableCounts",
    "create_schema",
    "engine_for",
    "graph_hash",
    "load_frame",
    "load_legs",
    "load_web",
    "netting_input",
    "opened",
    "query_companies",
    "query_deals",
    "query_legs",
    "query_prices",
    "save_netting",
    "schema_version",
    "stored_web",
]
