"""The machine outputs, defined once: pydantic models of every ``--format json`` document.

These models are the source of truth for the shipped JSON Schema files
(``ledger/schemas/*.schema.json``), for the CSV tables (each is a flattening of its JSON
document, :mod:`ledger.records`) and for ``docs/outputs.md``; ``python -m
ledger.schemas.generate`` writes all three and a test checks they are current. The library
itself never imports pydantic to write an output: it builds plain dicts (``to_json_dict``)
that these models describe, and the tests validate real outputs against the generated schemas.

To add a field: add it here (with a description), bump the minor part of
``ledger.schemas.SCHEMA_VERSION`` (a new field is backwards compatible; a renamed or removed
one bumps the major part), then regenerate.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledger.schemas import SCHEMA_VERSION

_MONEY = r"^-?[0-9]+\.[0-9]{2}$"
_RATIO = r"^-?[0-9]+\.[0-9]{4}$"
_DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

Money = Annotated[
    str,
    Field(
        pattern=_MONEY,
        json_schema_extra={"x-type": "money"},
        description="amount, exact: a decimal string with two decimals, no separators",
    ),
]
Ratio = Annotated[
    str,
    Field(
        pattern=_RATIO,
        json_schema_extra={"x-type": "ratio"},
        description="a share or multiple: a decimal string with four decimals (0.2793 = 27.93%)",
    ),
]
Number = Annotated[
    str,
    Field(
        pattern=_DECIMAL,
        json_schema_extra={"x-type": "decimal"},
        description="a decimal string, exact, any number of decimals",
    ),
]
IsoDate = Annotated[str, Field(pattern=_DATE, description="ISO date YYYY-MM-DD")]
Company = Annotated[str, Field(description="company name as booked (External: outsiders)")]


class _Model(BaseModel):
    """Every object is closed: a field the model does not name is an error in the tests."""

    model_config = ConfigDict(extra="forbid")


def _desc(text: str) -> object:
    return Field(description=text)


class PeriodModel(_Model):
    """The period a report covers: ``[start, end)``, open ends ``null``."""

    label: str = _desc("the period as given: all, 2025, 2025Q3, 2025-09, A..B")
    start: IsoDate | None = _desc("first day, inclusive; null: no start")
    end: IsoDate | None = _desc("day after the last, exclusive; null: no end")


Basis = Annotated[
    Literal["realized", "contracted", "announced"],
    Field(description="which statuses count: realized ⊂ contracted ⊂ announced"),
]
Version = Annotated[
    Literal[SCHEMA_VERSION],  # type: ignore[valid-type]
    Field(description="MAJOR.MINOR of this schema; a reader should check the major part"),
]

# --------------------------------------------------------------------------------------------
# net


class NetCompany(_Model):
    """One company's revenue, netted."""

    company: Company
    gross: Money = _desc("all revenue of the period (sales, cloud, leases, drawn backstops)")
    external: Money = _desc("revenue from External")
    web: Money = _desc("revenue from web companies; gross = external + web")
    circular: Money = _desc("revenue that is the web's money come back round")
    organic: Money = _desc("gross - circular")
    circular_share: Ratio = _desc("circular / gross")
    estimated: bool = _desc("some figure rests on an estimated leg")
    paper_gains: Money = _desc("unrealized gain on warrants and marked stakes held")
    circular_min: Money | None = _desc("least circular over all max circulations (--bounds)")
    circular_max: Money | None = _desc("most circular over all max circulations (--bounds)")


class CycleModel(_Model):
    """A cycle witness: money going round ``path`` (first == last) along edges of ``kinds``."""

    path: list[Company] = _desc("companies in order, the first repeated at the end")
    kinds: list[str] = _desc("kind of each edge: kinds[i] goes from path[i] to path[i+1]")
    amount: Money = _desc("the amount going round")


# --------------------------------------------------------------------------------------------
# sensitivity: what a headline rests on (net, and audit --fail)


class HeadlineFigure(_Model):
    """One headline company's figure with everything booked."""

    company: Company
    value: Money = _desc("its circular revenue (net) or its total loss (audit --fail)")


class RestsOn(_Model):
    """A removal that moves the headline total by a tenth of it or more."""

    label: str = _desc("the deal, or deal#leg for one estimated leg")
    change: Money = _desc("total without it - total with everything")


class RemovalCompany(_Model):
    """One headline company's figure without the removed item."""

    company: Company
    value: Money = _desc("its figure solved again without the item")
    change: Money = _desc("value without - value with everything")


class RemovalModel(_Model):
    """The headline solved again from scratch without one estimated leg or one deal."""

    removed: Literal["estimate", "deal"] = _desc(
        "estimate: one of the largest estimated legs; deal: all the counted legs of one of "
        "the largest deals"
    )
    label: str = _desc("the deal, with #leg for a single leg")
    amount: Money = _desc("what was removed (the leg, or the deal's counted legs)")
    estimated: bool = _desc("what was removed includes an estimated leg")
    total: Money = _desc("the headline total without it")
    change: Money = _desc("total without - total with everything")
    companies: list[RemovalCompany] = _desc("the headline companies, in headline order")


class EdgeValueModel(_Model):
    """The marginal value of one edge of the max circulation (exact one-cent differences)."""

    payer: Company
    payee: Company
    kind: str = _desc("kind of the edge (parallel legs merged)")
    amount: Money = _desc("the edge's amount: its capacity in the circulation")
    flow: Money = _desc("circulation on the edge in the max solution")
    gain_per_dollar: int = _desc(
        "circular revenue one more cent on the edge explains, in cents (the LP dual: 2 = "
        "each extra dollar is revenue twice round a cycle)"
    )
    loss_per_dollar: int = _desc("circular revenue one cent less takes away, in cents")


class SensitivityModel(_Model):
    """What a headline figure rests on (``ledger.sensitivity``).

    The figure solved again without each of the largest estimated legs and deals (legs with
    External are not tried), and, for netting, the marginal value of the busiest edges.
    """

    figure: Literal["total circular revenue", "loss to others"] = _desc(
        "the headline figure: the web's max circular revenue (net) or a failure's loss to "
        "the other web companies (audit --fail)"
    )
    total: Money = _desc("the headline total with everything booked")
    top: int = _desc("how many estimated legs, deals and edges were tried (--sensitivity)")
    headline: list[HeadlineFigure] = _desc(
        "the top companies with the largest non-zero figures, largest first"
    )
    rests_on: list[RestsOn] = _desc(
        "the removals that move the total by a tenth of it or more, largest move first"
    )
    removals: list[RemovalModel] = _desc(
        "the largest estimated legs, then the largest deals, each largest amount first"
    )
    edges: list[EdgeValueModel] = _desc(
        "the edges carrying the most circulation, most first (net only; empty for a failure)"
    )


class NetReport(_Model):
    """Organic vs circular revenue per company, with the cycle witnesses."""

    schema_version: Version
    method: Literal["max", "pro-rata"] = _desc("the netting method")
    basis: Basis
    period: PeriodModel = _desc("the period covered")
    currency: str = _desc("the one currency of the legs used")
    split_rule: str | None = _desc("how circular revenue was split among companies (max)")
    companies: list[NetCompany] = _desc("one row per company, by name")
    total_circular: Money = _desc("the web's circular revenue: the parts add up to it")
    cycle_count: int = _desc("how many cycle witnesses there are (cycles lists the largest)")
    cycles: list[CycleModel] = _desc("the largest witnesses first (--cycles N or all)")
    sensitivity: SensitivityModel | None = Field(
        default=None,
        description="what total_circular rests on (max method; --sensitivity, auto: webs of "
        "up to 5,000 legs); absent when not computed",
    )


# --------------------------------------------------------------------------------------------
# audit: exposure


class CounterpartyShare(_Model):
    """One counterparty's part of a total."""

    counterparty: Company
    amount: Money
    share: Ratio = _desc("amount / the total")


class Concentration(_Model):
    """A total split by counterparty (largest first), with its HHI."""

    total: Money
    hhi: Ratio | None = _desc("Σ share², 0-1 (1: a single counterparty); null: no total")
    by_counterparty: list[CounterpartyShare]


class FinancedSale(_Model):
    """The part of one buyer's purchases that was the seller's own money coming back."""

    buyer: Company
    financed: Money = _desc("pro-rata circular revenue on the buyer's edges into the seller")
    bought: Money = _desc("all the buyer bought from the seller")
    share: Ratio = _desc("financed / bought")


class CustomerInvestment(_Model):
    """Equity and loans put into one of the company's own customers."""

    customer: Company
    invested: Money
    bought: Money = _desc("what that customer bought from the investor")


class CommitmentModel(_Model):
    """Commitments outstanding with one counterparty, in one direction."""

    counterparty: Company
    contracted: Money
    announced: Money
    total: Money = _desc("contracted + announced")
    contingent: Money = _desc("the part that is undrawn backstops")
    multiple_of_revenue: Ratio | None = _desc("total / the company's revenue; null: none")


class PaperGainModel(_Model):
    """One non-cash holding (a warrant, a marked stake) marked to its latest price."""

    deal: str
    leg: int
    kind: str
    counterparty: Company = _desc("the grantor of a warrant or the company invested in")
    commodity: str | None = _desc("units' commodity; null: no units")
    units: Number | None
    cost: Money = _desc("booked value")
    price: Number | None = _desc("latest price before the end of the period")
    price_date: IsoDate | None
    value: Money = _desc("units × price, or cost when not marked")
    gain: Money = _desc("value - cost")
    marked: bool = _desc("a price was found")
    estimate: bool = _desc("the leg is an estimate")


class CompanyExposure(_Model):
    """One company's exposure profile."""

    company: Company
    revenue: Concentration = _desc("revenue by counterparty")
    revenue_external: Money
    revenue_web: Money
    web_share: Ratio | None = _desc("revenue_web / revenue total")
    web_hhi: Ratio | None = _desc("HHI over revenue from web companies only")
    funding: Concentration = _desc("equity and loans received, by counterparty")
    vendor_financed: Money = _desc("pro-rata circular revenue: its own money come back")
    vendor_financed_max: Money = _desc("the upper bound (max method)")
    vendor_financed_share: Ratio | None = _desc("vendor_financed / revenue")
    vendor_financed_by_buyer: list[FinancedSale]
    customer_investments: list[CustomerInvestment]
    invested_in_customers: Money
    commitments_to_pay: list[CommitmentModel]
    commitments_to_receive: list[CommitmentModel]
    committed_to_pay: Money
    committed_to_receive: Money
    commitment_multiple: Ratio | None = _desc("committed_to_pay / revenue; null: no revenue")
    paper: list[PaperGainModel]
    paper_value: Money
    paper_gain: Money
    estimated: bool = _desc("some figure rests on an estimated leg")


class VelocityModel(_Model):
    """How hard the web's money works."""

    web_revenue: Money = _desc("revenue booked between web companies")
    new_money: Money = _desc("money from External: revenue + financing")
    new_money_revenue: Money
    new_money_financing: Money
    velocity: Ratio | None = _desc("web_revenue / new_money; null: no new money")
    circular_revenue: Money = _desc("pro-rata circular revenue of the web")
    circular_revenue_max: Money = _desc("max circular revenue of the web")
    rounds: Ratio | None = _desc("circular_revenue / new_money")
    rounds_max: Ratio | None = _desc("circular_revenue_max / new_money")


class Exposure(_Model):
    """The exposure profile of the web (``roundtrip audit`` without ``--fail``)."""

    period: PeriodModel = _desc("the period covered")
    basis: Basis
    currency: str
    hhi_scale: str = _desc("the HHI scale: 0-1")
    velocity: VelocityModel = _desc("the web's velocity")
    estimated_deals: list[str] = _desc("deals whose estimated legs some figure rests on")
    companies: list[CompanyExposure]


# --------------------------------------------------------------------------------------------
# audit: contagion and ranking


class Margins(_Model):
    """Gross margin per kind of goods or services: the share of a payment the supplier keeps."""

    sale: Ratio = _desc("margin on sale (default 0.75: Nvidia FY2025 GAAP gross margin)")
    cloud: Ratio = _desc("margin on cloud (default 0.14: Oracle renting Nvidia GPUs)")
    lease: Ratio = _desc("margin on lease (default 1: the equipment is already bought)")


class ConventionsModel(_Model):
    """The conventions of a stress test (README, Stress-test conventions)."""

    horizon_months: int | None = _desc(
        "clear what falls due by as_of + this many months (overdue counts too); null: every "
        "obligation at once, whatever its date (--horizon all)"
    )
    as_of: IsoDate | None = _desc(
        "the scenario's first day: the last realized leg, or the day before the period's end "
        "(--as-of); null: not dated"
    )
    due_by: IsoDate | None = _desc(
        "the last day an obligation can fall due and be cleared; null: no limit"
    )
    loss: Literal["margin", "face"] = _desc(
        "margin: a cancelled sale, cloud or lease costs the supplier its margin (it keeps "
        "that share of each payment towards its debts); face: every dollar at face value"
    )
    margins: Margins = _desc("the margin per kind (all 1.0000 under loss face)")
    baseline: Literal["booked", "given"] = _desc(
        "booked: losses are measured against the web as booked, where companies that cannot "
        "pay are baseline defaults; given: the failing company is handed all it owes (old)"
    )
    means: Literal["books", "outside"] = _desc(
        "books: a company pays with its book's cash and capitalised equipment at as_of, plus "
        "what outsiders owe it within the horizon; outside: its outside revenue only (old)"
    )
    text: str = _desc("the one line a report header carries")


class DefaultRound(_Model):
    """The companies that default in one round of the clearing (round 0: the failed one)."""

    round: int
    companies: list[Company]


class CompanyLoss(_Model):
    """What one company loses when the failed company fails (or cuts its spending)."""

    company: Company
    means: Money = _desc(
        "what it had to pay with in the clearing, set by conventions.means (books: cash, "
        "equipment and what outsiders owe it within the horizon)"
    )
    booked_cash: Money = _desc("its book's cash at the scenario date (as_of)")
    equity_mostly_unbooked: bool = _desc(
        "its booked equity funds less than half the cash and equipment its book holds, so "
        "loss_share_of_equity measures against a small part of its real equity"
    )
    lost_revenue: Money
    unpaid_obligations: Money
    written_down_equity: Money
    total_loss: Money
    exposure: Money = _desc("all it stands to lose from the failed company")
    revenue: Money = _desc("its realized revenue in the period")
    equity: Money = _desc("all equity it has raised")
    loss_share_of_revenue: Ratio | None
    loss_share_of_equity: Ratio | None
    loss_exceeds_equity: bool | None
    revenue_round: int | None = _desc("round in which its revenue is first hit")
    default_round: int | None = _desc("round in which it defaults; null: it does not")
    defaulted_at_baseline: bool = _desc("cannot pay in full even when nobody fails")


class ClearingBaseline(_Model):
    """The clearing figures when nobody fails."""

    paid: Money
    shortfall: Money
    ratio: Ratio
    defaults: bool


class ClearingRowModel(_Model):
    """What one company owes and pays under the Eisenberg-Noe clearing vector."""

    company: Company
    obligations: Money = _desc("all it owes in the clearing")
    paid: Money
    shortfall: Money = _desc("obligations - paid")
    ratio: Ratio = _desc("paid / obligations (1: pays in full)")
    defaults: bool
    baseline: ClearingBaseline = _desc("the same figures when nobody fails")


class Contagion(_Model):
    """What one company's failure or spending cut costs the others (``--fail``)."""

    failed: Company
    cut: Ratio = _desc("the spending cut, 0-1 (1: failure)")
    conventions: ConventionsModel = _desc("horizon, loss, baseline and means, with the date")
    period: PeriodModel = _desc("the period covered")
    basis: Basis
    currency: str = _desc("the currency of every amount")
    loss_to_others: Money = _desc("the other web companies' total loss")
    external_loss: Money = _desc("what outsiders lose")
    defaults: list[DefaultRound]
    baseline_defaults: list[Company] = _desc("companies in default when nobody fails")
    clearing_rounds: int
    exact: bool = _desc("exact rational arithmetic (else float64)")
    tolerance_cents: float = _desc("the float clearing's tolerance (0 when exact)")
    estimated_deals: list[str]
    losses: list[CompanyLoss] = _desc("largest total loss first")
    clearing: list[ClearingRowModel]
    sensitivity: SensitivityModel | None = Field(
        default=None,
        description="what loss_to_others rests on (--sensitivity, auto: webs of up to 5,000 "
        "legs); absent when not computed",
    )


class SystemicImpact(_Model):
    """What one company's failure alone costs the others."""

    company: Company
    loss_to_others: Money
    defaults_caused: int
    external_loss: Money


class Ranking(_Model):
    """Every company ranked by the loss its failure causes (``--all``)."""

    period: PeriodModel = _desc("the period covered")
    basis: Basis
    currency: str = _desc("the currency of every amount")
    exact: bool
    conventions: ConventionsModel = _desc("horizon, loss, baseline and means, with the date")
    baseline_defaults: list[Company] | None = _desc(
        "companies in default in the web as booked, in no failure's loss; null under "
        "baseline given, where each failure has its own baseline"
    )
    ranking: list[SystemicImpact] = _desc("largest loss first, ties by name")


class AuditReport(_Model):
    """The exposure audit: the parts that ran, null for the others."""

    schema_version: Version
    exposure: Exposure | None = _desc("without --fail")
    contagion: Contagion | None = _desc("with --fail")
    ranking: Ranking | None = _desc("with --all")


# --------------------------------------------------------------------------------------------
# show


class CompanyRow(_Model):
    """One company of the web."""

    company: Company
    account: str = _desc("its name as a beancount account component")
    legs: int = _desc("legs it pays or is paid on")


class DealRow(_Model):
    """One deal: dates, parties, legs and amount by status."""

    deal: str
    first: IsoDate = _desc("date of its first leg")
    last: IsoDate = _desc("date of its last leg")
    parties: list[Company] = _desc("every payer and payee, by name")
    legs: int
    realized: Money
    contracted: Money
    announced: Money
    estimate: bool = _desc("some leg is an estimate")


class LegRow(_Model):
    """One leg, as the legs CSV holds it (docs/legs-csv.md)."""

    date: IsoDate
    deal: str
    leg: int
    payer: Company
    payee: Company
    kind: str
    amount: Money
    currency: str
    status: Literal["realized", "contracted", "announced"]
    estimate: bool
    note: str
    source: str
    units: Number | None
    commodity: str | None
    capex: bool = _desc("a sale the buyer capitalises as equipment (ASC 360)")


class ShowCompanies(_Model):
    """The companies of a web."""

    schema_version: Version
    companies: list[CompanyRow]


class ShowDeals(_Model):
    """The deals of a web."""

    schema_version: Version
    deals: list[DealRow]


class ShowLegs(_Model):
    """The legs of a web (``--format csv`` is the legs CSV itself)."""

    schema_version: Version
    legs: list[LegRow]


#: Every document: ``{name: (model, the command that writes it)}``.
DOCUMENTS: dict[str, tuple[type[BaseModel], str]] = {
    "net": (NetReport, "roundtrip net PATH --format json"),
    "audit": (AuditReport, "roundtrip audit PATH --format json"),
    "show-companies": (ShowCompanies, "roundtrip show PATH companies --format json"),
    "show-deals": (ShowDeals, "roundtrip show PATH deals --format json"),
    "show-legs": (ShowLegs, "roundtrip show PATH legs --format json"),
}
