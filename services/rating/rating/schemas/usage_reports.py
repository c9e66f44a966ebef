"""Views of usage: the review queue and its reprocessing, the summary, a subscription's open periods."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from libs.contracts.types import IntegerRange
from libs.contracts.usage import MeterCode, Reference
from libs.platform.money import decimal_out
from libs.platform.pagination import CURSOR_PATTERN, MAX_CURSOR_LENGTH
from rating.domain.meters import Aggregation
from rating.domain.usage import UsageEvent
from rating.schemas.usage import MAX_BATCH_EVENTS

QuantityOut = Annotated[
    Decimal,
    PlainSerializer(lambda value: format(decimal_out(value), "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "examples": ["12345"]}),
]
"""A quantity as the API shows it: a decimal string in its shortest exact form."""


class UnmatchedUsage(BaseModel):
    """An event no subscription was found for: kept, counted once reprocessed."""

    event_id: str
    meter: str
    subscription_id: str | None
    account_id: str | None
    quantity: QuantityOut
    timestamp: datetime
    properties: dict[str, Any]
    source: str = Field(examples=["rest"])
    received_at: datetime
    reason: str | None = Field(description="Why no subscription was found.")


class UnmatchedPage(BaseModel):
    """A page of the review queue, oldest first."""

    data: list[UnmatchedUsage]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page.")
    has_more: bool = False


def unmatched_public(event: UsageEvent) -> UnmatchedUsage:
    """The review queue's view of an unmatched event."""
    assert event.received_at is not None
    return UnmatchedUsage(
        event_id=event.event_id,
        meter=event.meter,
        subscription_id=event.subscription_id,
        account_id=event.account_id,
        quantity=event.quantity,
        timestamp=event.occurred_at,
        properties=dict(event.properties),
        source=event.source.value,
        received_at=event.received_at,
        reason=event.review_reason,
    )


class ReprocessRequest(BaseModel):
    """Which unmatched events to guide again (all by default), from where, how many at most."""

    model_config = ConfigDict(extra="forbid")

    account_id: Reference | None = None
    subscription_id: Reference | None = None
    meter: MeterCode | None = None
    cursor: Annotated[str, Field(max_length=MAX_CURSOR_LENGTH, pattern=CURSOR_PATTERN)] | None = Field(
        default=None, description="`next_cursor` of the previous answer, to go on after its events."
    )
    limit: Annotated[int, IntegerRange(1, MAX_BATCH_EVENTS)] = Field(
        default=MAX_BATCH_EVENTS, description="Events examined at most by this call."
    )


class ReprocessResult(BaseModel):
    """What reprocessing did: events examined, now counted (on time or late), still unmatched."""

    examined: int
    counted: int
    late: int
    unmatched: int
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to go on.")
    has_more: bool = False


class UsageSummaryGroup(BaseModel):
    """One meter's usage in one day or month (and one value of the grouping property)."""

    meter: str
    period: str = Field(description='The day ("2026-07-01") or month ("2026-07"), account-local.')
    property_value: str | None = Field(
        default=None, description="The grouping property's value as text; null when events lack it."
    )
    quantity: QuantityOut = Field(description="The meter's aggregation over the group's events.")
    event_count: int
    late_count: int = Field(description="Of these events, those counted late (their period was rated).")


class UsageSummary(BaseModel):
    """Counted and late usage over [start, end), grouped for dashboards."""

    start: date
    end: date
    group_by: Literal["day", "month"]
    property: str | None = None
    groups: list[UsageSummaryGroup]
    truncated: bool = Field(description="True when there were more groups than shown (narrow the query).")


class MeterUsagePeriod(BaseModel):
    """A meter of a subscription over a period not rated yet: the quantity so far.

    The rating of the running charge adds its fields here (charge, currency, price version).
    """

    meter: str
    unit_of_measure: str | None
    aggregation: Aggregation | None
    period_start: date
    period_end: date = Field(description="Exclusive: the period is [period_start, period_end).")
    quantity: QuantityOut = Field(description="The meter's aggregation so far.")
    event_count: int
    late_quantity: QuantityOut = Field(description="Sum of the quantities of late events counted here.")
    late_count: int = Field(description="Events of an already-rated period counted here (late).")
    latest_event_at: datetime | None
    updated_at: datetime | None


class SubscriptionUsage(BaseModel):
    """A subscription's usage in its open periods, per meter."""

    subscription_id: str
    account_id: str | None
    as_of: datetime
    periods: list[MeterUsagePeriod]
