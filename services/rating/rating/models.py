"""Tables of the rating service (its own database; the platform tables come from libs).

Money and quantities use `ExactDecimal`, timestamps `UtcDateTime`. Each concept's tables sit
under its own heading; the read model of other services' data (accounts, subscriptions) is
kept from their events and never written by this service's API.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

import libs.platform.audit
import libs.platform.idempotency
import libs.platform.inbox
import libs.platform.outbox  # noqa: F401
from libs.platform.db import ExactDecimal, UtcDateTime


def _timestamp() -> Column[datetime]:
    return Column(UtcDateTime(), nullable=False)


# --- read model: accounts and subscriptions, from provisioning's events -----------------------


class RatedAccount(SQLModel, table=True):
    """An account as rating needs it: its currency, bill-cycle day, time zone and parent."""

    __tablename__ = "rating_accounts"

    account_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    parent_account_id: str | None = Field(default=None, max_length=64)
    currency: str = Field(max_length=3)
    bill_cycle_day: int = Field(sa_column=Column(Integer, nullable=False))
    time_zone: str = Field(max_length=64)
    event_at: datetime = Field(sa_column=_timestamp())
    """`occurred_at` of the event last applied; an older event changes nothing."""


class RatedSubscription(SQLModel, table=True):
    """A subscription as rating needs it: the pinned price version, its period and its state."""

    __tablename__ = "rating_subscriptions"
    __table_args__ = (Index("ix_rating_subscriptions_account_product", "account_id", "product_id"),)

    subscription_id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=64)
    product_id: str = Field(max_length=64)
    price_id: str = Field(max_length=64)
    price_version: int = Field(sa_column=Column(Integer, nullable=False))
    currency: str = Field(max_length=3)
    charge_type: str | None = Field(default=None, max_length=20)
    billing_period: str | None = Field(default=None, max_length=20)
    state: str = Field(max_length=20)
    quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    term_start: date = Field(sa_column=Column(Date, nullable=False))
    term_end: date = Field(sa_column=Column(Date, nullable=False))
    effective_date: date = Field(sa_column=Column(Date, nullable=False))
    event_at: datetime = Field(sa_column=_timestamp())
    """`occurred_at` of the event last applied; an older event changes nothing."""
    event_kind: str = Field(sa_column=Column(String(40), nullable=False))
    """The type of the event last applied (`subscription.activated`, ...)."""


class ReadModelGeneration(SQLModel, table=True):
    """One row: bumped by triggers on every change of the two tables above (migration 0010)."""

    __tablename__ = "rating_read_model_generation"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    generation: int = Field(sa_column=Column(BigInteger, nullable=False))


# --- meters ------------------------------------------------------------------------------------


class Meter(SQLModel, table=True):
    """What is counted and how: a code events name, an aggregation, a filter, the product priced."""

    __tablename__ = "meters"
    __table_args__ = (UniqueConstraint("code", name="uq_meters_code"),)

    id: str = Field(primary_key=True, max_length=40)
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    unit_of_measure: str = Field(max_length=40)
    aggregation: str = Field(max_length=20)
    """sum | count | max | unique_count | latest"""
    property: str | None = Field(default=None, max_length=64)
    """The event property a unique_count meter counts distinct values of."""
    filter: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """JSON {property: [allowed values]}: an event is counted only if it matches every entry."""
    product_id: str = Field(max_length=64)
    """The catalog product whose usage price rates this meter."""
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=_timestamp())
    updated_at: datetime = Field(sa_column=_timestamp())


# --- usage: accepted events (the dedup of both doors) and their aggregates --------------------


class UsageEventRow(SQLModel, table=True):
    """One accepted usage event; the primary key is the producer's event_id (a duplicate is ignored)."""

    __tablename__ = "usage_events"
    __table_args__ = (
        Index("ix_usage_events_series", "subscription_id", "meter", "period_start"),
        Index(
            "ix_usage_events_review",
            "received_at",
            sqlite_where=text("status = 'unmatched'"),
            postgresql_where=text("status = 'unmatched'"),
        ),
    )

    event_id: str = Field(primary_key=True, max_length=128)
    meter: str = Field(max_length=64)
    subscription_id: str | None = Field(default=None, max_length=64)
    account_id: str | None = Field(default=None, max_length=64)
    quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    occurred_at: datetime = Field(sa_column=_timestamp())
    usage_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    """The account-local date of `occurred_at` (null while unmatched: no account known)."""
    period_start: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    """The period it was counted in (the next open one when late); null unless counted."""
    status: str = Field(max_length=12)
    """counted | late | unmatched | filtered"""
    properties: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """JSON object of the event's properties."""
    source: str = Field(max_length=12)
    """rest | topic | file"""
    load_id: str | None = Field(default=None, max_length=40)
    received_at: datetime = Field(sa_column=_timestamp())
    # usage changes (migration 0008):
    review_reason: str | None = Field(default=None, max_length=200)
    """Why an unmatched event found no subscription (the review queue shows it)."""


class UsageAggregate(SQLModel, table=True):
    """A subscription's meter over one billing period: the running aggregated quantity."""

    __tablename__ = "usage_aggregates"

    subscription_id: str = Field(primary_key=True, max_length=64)
    meter: str = Field(primary_key=True, max_length=64)
    period_start: date = Field(sa_column=Column(Date, primary_key=True))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    """Exclusive: the period is [period_start, period_end)."""
    account_id: str = Field(max_length=64)
    quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    """The meter's aggregation over the period's events (sum, count, max, distinct count, latest)."""
    event_count: int = Field(sa_column=Column(Integer, nullable=False))
    late_quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    """Sum of the quantities of late events counted here (informational)."""
    late_count: int = Field(sa_column=Column(Integer, nullable=False))
    latest_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    """Timestamp of the latest event (a `latest` meter's quantity is that event's)."""
    updated_at: datetime = Field(sa_column=_timestamp())
    rated_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    """Set when the period is rated and closed; later events for it go to the next open period."""


class UsageUniqueValue(SQLModel, table=True):
    """A distinct property value seen by a unique_count meter in one period of one subscription."""

    __tablename__ = "usage_unique_values"

    subscription_id: str = Field(primary_key=True, max_length=64)
    meter: str = Field(primary_key=True, max_length=64)
    period_start: date = Field(sa_column=Column(Date, primary_key=True))
    value: str = Field(primary_key=True, max_length=256)


# --- support contracts and requests (seed 004): templates from the catalog, contracts, requests,
# time logged and where its hours went ---------------------------------------------------------


class SupportContractTemplateRow(SQLModel, table=True):
    """A catalog support-contract template, kept from `catalog.contract_template_changed`."""

    __tablename__ = "support_contract_templates"

    template_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    """subscription | time_limited | support_hours | per_incident"""
    period_months: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    hours: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    on_expiry: str = Field(max_length=10)
    """rollover | ignore"""
    product_id: str | None = Field(default=None, max_length=64)
    event_at: datetime = Field(sa_column=_timestamp())
    """`occurred_at` of the event last applied; an older event changes nothing."""


class SupportContractRow(SQLModel, table=True):
    """A support contract held by a subscription (the item) or an account (customer or org unit)."""

    __tablename__ = "support_contracts"
    __table_args__ = (Index("ix_support_contracts_holder", "holder_id", "holder_type"),)

    id: str = Field(primary_key=True, max_length=40)
    template_id: str = Field(max_length=64)
    kind: str = Field(max_length=20)
    holder_type: str = Field(max_length=12)
    """subscription | account"""
    holder_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    """The holder's account (the holder itself for an account)."""
    request_id: str | None = Field(default=None, max_length=40)
    """The request a per-incident contract covers."""
    product_id: str | None = Field(default=None, max_length=64)
    time_zone: str = Field(max_length=64)
    starts_on: date = Field(sa_column=Column(Date, nullable=False))
    ends_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    """Exclusive end of the period; null when the kind has none."""
    hours_granted: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    hours_used: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    on_expiry: str = Field(max_length=10)
    ended_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    """Set when its hours ran out or its per-incident request closed."""
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    """Bumped on every change; a change made on a stale copy is refused."""
    created_at: datetime = Field(sa_column=_timestamp())
    updated_at: datetime = Field(sa_column=_timestamp())


class SupportRequestRow(SQLModel, table=True):
    """A service request on a subscription and the contract covering it."""

    __tablename__ = "support_requests"
    __table_args__ = (Index("ix_support_requests_subscription", "subscription_id"),)

    id: str = Field(primary_key=True, max_length=40)
    subscription_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    opened_at: datetime = Field(sa_column=_timestamp())
    closed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    contract_id: str = Field(max_length=40)
    """The contract covering it now."""
    coverage_contract_id: str = Field(max_length=40)
    coverage_step: str = Field(max_length=20)
    """The step of the validation order that found its contract when it was opened."""
    hours_logged: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    hours_covered: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    hours_rolled_over: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    hours_uncovered: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=_timestamp())
    updated_at: datetime = Field(sa_column=_timestamp())


class SupportTimeEntryRow(SQLModel, table=True):
    """Time logged on a request: covered, rolled over or not covered."""

    __tablename__ = "support_time_entries"
    __table_args__ = (Index("ix_support_time_entries_request", "request_id"),)

    id: str = Field(primary_key=True, max_length=40)
    request_id: str = Field(max_length=40)
    hours: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    logged_at: datetime = Field(sa_column=_timestamp())
    uncovered_hours: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    expired_contract_ids: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of the contracts found expired or used up while this time was drawn."""
    contract_id: str = Field(max_length=40)
    """The contract covering the request after this entry."""
    created_at: datetime = Field(sa_column=_timestamp())


class SupportTimeAllocationRow(SQLModel, table=True):
    """Hours of one time entry drawn from one contract (the covering one, or one rolled over to)."""

    __tablename__ = "support_time_allocations"
    __table_args__ = (Index("ix_support_time_allocations_contract", "contract_id"),)

    entry_id: str = Field(primary_key=True, max_length=40)
    position: int = Field(sa_column=Column(Integer, primary_key=True))
    contract_id: str = Field(max_length=40)
    hours: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    rule: str = Field(max_length=10)
    """covering | rollover"""


# --- balances: prepaid money or units, their grants and every movement ----------------------


class BalanceRow(SQLModel, table=True):
    """A prepaid balance of an account (optionally of one subscription): its terms and totals."""

    __tablename__ = "balances"
    __table_args__ = (
        Index("ix_balances_owner", "account_id", "subscription_id"),
        Index("ix_balances_due", "due_on"),
    )

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(max_length=64)
    subscription_id: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=10)
    """money | units"""
    currency: str = Field(max_length=3)
    """The money balance's currency; for units, the currency of the prices paid (refunds)."""
    meter: str | None = Field(default=None, max_length=64)
    unit_label: str | None = Field(default=None, max_length=40)
    rollover_policy: str = Field(max_length=10)
    """none | all | up_to"""
    rollover_limit: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    thresholds: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of percents (decimal strings)."""
    expires_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    """First day of the current period; the next period end to book follows it."""
    granted: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    used: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    expired: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    refunded: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    rolled_over: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    cycle_base: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    """What was usable just after the last grant or top-up (thresholds are percents of it)."""
    cycle_used: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    thresholds_crossed: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of the thresholds already reported in this grant cycle."""
    closed_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    closing_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    """The effective date of its subscription's cancellation: refunded and closed then."""
    closing_event_id: str | None = Field(default=None, max_length=64)
    """The `subscription.cancelled` event that closes it."""
    due_on: date = Field(sa_column=Column(Date, nullable=False))
    """The next date something is to be booked (a period end, a grant's expiry): what the job looks for."""
    created_at: datetime = Field(sa_column=_timestamp())
    updated_at: datetime = Field(sa_column=_timestamp())


class BalanceTransactionRow(SQLModel, table=True):
    """One movement of a balance; grants (grant, top_up, rollover_in) also carry what is open of them.

    The unique key books each movement once: a drawdown reference once per grant, a grant's
    expiry once, a period end's rollover once per grant, a cancellation's refund once per grant.
    """

    __tablename__ = "balance_transactions"
    __table_args__ = (
        UniqueConstraint("balance_id", "kind", "reference", "grant_id", name="uq_balance_transactions_once"),
        Index("ix_balance_transactions_balance", "balance_id", "id"),
        Index("ix_balance_transactions_reference", "account_id", "reference"),
        Index(
            "ix_balance_transactions_open",
            "balance_id",
            sqlite_where=text("open_quantity IS NOT NULL"),
            postgresql_where=text("open_quantity IS NOT NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    balance_id: str = Field(max_length=40, foreign_key="balances.id")
    account_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    unit_price: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    amount: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    """Money value of a refund."""
    grant_id: str | None = Field(default=None, max_length=40)
    """The grant a drawdown, expiry, rollover or refund consumed (for rollover_in: where it came from)."""
    open_quantity: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    """On grants: what is still open of them; null once nothing is (and on other movements)."""
    expires_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    reference: str | None = Field(default=None, max_length=128)
    occurred_on: date = Field(sa_column=Column(Date, nullable=False))
    """The account-local business date of the movement."""
    created_at: datetime = Field(sa_column=_timestamp())


# --- read model: prices and cost books, from the catalog's events; rated usage (period close) --


class RatedPrice(SQLModel, table=True):
    """A published catalog price version as rating prices usage with it (from `catalog.price_published`)."""

    __tablename__ = "rating_prices"
    __table_args__ = (Index("ix_rating_prices_product", "product_id", "currency", "charge_type"),)

    price_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(sa_column=Column(Integer, primary_key=True))
    product_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    charge_type: str = Field(max_length=20)
    billing_period: str | None = Field(default=None, max_length=20)
    model: str = Field(max_length=20)
    terms: str = Field(sa_column=Column(Text, nullable=False))
    """JSON of the pricing terms, decimals as strings (unit_price, amount, tiers, package_size,
    included_quantity, minimum_commitment, cost_book_id)."""
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    effective_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    """Exclusive; set by the successor's `previous_version_effective_to`."""
    event_at: datetime = Field(sa_column=_timestamp())
    """`occurred_at` of the event last applied; an older event changes nothing."""


class RatedCostBook(SQLModel, table=True):
    """A vendor cost book version a cost-plus price is priced with (from `catalog.cost_book_published`)."""

    __tablename__ = "rating_cost_books"

    cost_book_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(sa_column=Column(Integer, primary_key=True))
    vendor_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    mode: str = Field(max_length=20)
    tier_period: str = Field(max_length=20)
    markup_percent: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    tiers: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of {up_to, unit_price, flat_fee}, decimals as strings."""
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    effective_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    event_at: datetime = Field(sa_column=_timestamp())


class RatedUsageRow(SQLModel, table=True):
    """One closed billing period of a subscription's meter, priced: what `usage.rated` carried.

    Unique per (subscription, meter, period start): closing a period twice cannot rate it twice.
    """

    __tablename__ = "rated_usage"
    __table_args__ = (
        UniqueConstraint("subscription_id", "meter", "period_start", name="uq_rated_usage_series"),
        Index("ix_rated_usage_account", "account_id", "period_start"),
    )

    id: str = Field(primary_key=True, max_length=40)
    subscription_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    product_id: str = Field(max_length=64)
    meter: str = Field(max_length=64)
    unit_of_measure: str = Field(max_length=40)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    event_count: int = Field(sa_column=Column(Integer, nullable=False))
    late_quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    included_quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    prepaid_quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    billable_quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    currency: str = Field(max_length=3)
    price_id: str = Field(max_length=64)
    price_version: int = Field(sa_column=Column(Integer, nullable=False))
    pricing_model: str = Field(max_length=20)
    tiers: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of the unrounded tier breakdown (band_from, band_to, quantity, unit_price, fee, amount)."""
    charge_amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    minimum_shortfall: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    prepaid_amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    rated_at: datetime = Field(sa_column=_timestamp())


# The period close scans the aggregates still to rate in key order: a partial index holds only
# those, so the scan never walks the rated history.
Index(
    "ix_usage_aggregates_unrated",
    UsageAggregate.__table__.c.subscription_id,  # type: ignore[attr-defined]
    UsageAggregate.__table__.c.meter,  # type: ignore[attr-defined]
    UsageAggregate.__table__.c.period_start,  # type: ignore[attr-defined]
    sqlite_where=text("rated_at IS NULL"),
    postgresql_where=text("rated_at IS NULL"),
)


# --- usage loads: mediation files (POST /v1/usage/files) and the rejected rows kept for each ---


class UsageLoadRow(SQLModel, table=True):
    """One uploaded mediation file: where its loading stands, the position reached and the counts."""

    __tablename__ = "usage_loads"
    __table_args__ = (
        Index("ix_usage_loads_state", "state"),
        Index("ix_usage_loads_sha256", "sha256"),
    )

    load_id: str = Field(primary_key=True, max_length=40)
    name: str | None = Field(default=None, max_length=255)
    format: str = Field(max_length=8)
    """csv | ndjson"""
    state: str = Field(max_length=12)
    """received | loading | completed | failed"""
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(max_length=64)
    same_content_as: str | None = Field(default=None, max_length=40)
    actor: str = Field(max_length=80)
    failure_reason: str | None = Field(default=None, max_length=500)
    bytes_done: int = Field(sa_column=Column(BigInteger, nullable=False))
    """The byte just after the last committed chunk: where a resumed load goes on."""
    lines_done: int = Field(sa_column=Column(BigInteger, nullable=False))
    rows_read: int = Field(sa_column=Column(BigInteger, nullable=False))
    accepted: int = Field(sa_column=Column(BigInteger, nullable=False))
    counted: int = Field(sa_column=Column(BigInteger, nullable=False))
    late: int = Field(sa_column=Column(BigInteger, nullable=False))
    unmatched: int = Field(sa_column=Column(BigInteger, nullable=False))
    filtered: int = Field(sa_column=Column(BigInteger, nullable=False))
    duplicates: int = Field(sa_column=Column(BigInteger, nullable=False))
    rejected: int = Field(sa_column=Column(BigInteger, nullable=False))
    rejections_kept: int = Field(sa_column=Column(Integer, nullable=False))
    worker: str | None = Field(default=None, max_length=100)
    """The process loading it, while its lease runs."""
    lease_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    created_at: datetime = Field(sa_column=_timestamp())
    started_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    updated_at: datetime = Field(sa_column=_timestamp())


class UsageLoadRejectionRow(SQLModel, table=True):
    """A row of a mediation file that was not recorded (the first 1,000 of a load), with its reasons."""

    __tablename__ = "usage_load_rejections"

    load_id: str = Field(primary_key=True, max_length=40)
    line: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: str | None = Field(default=None, max_length=128)
    errors: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of {field, message, code}."""
