"""`/v1/usage`: the REST door of usage ingestion, the review queue, the summary; a subscription's usage."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from libs.contracts.types import IsoDate
from libs.contracts.usage import METER_CODE_PATTERN
from libs.platform.db import retrying_conflicts
from libs.platform.edge import edge_body
from libs.platform.errors import ValidationFailed
from libs.platform.memory import gc_paused
from libs.platform.pagination import PageParams
from rating.api.deps import ID_PATTERN, ReadUow, UsageCaller, UsageUow, id_path, runtime_from
from rating.config import RatingSettings
from rating.domain.usage import UsageSource
from rating.handlers import usage as handlers
from rating.handlers import usage_reports as reports
from rating.handlers.usage import IngestionRules
from rating.handlers.usage_preparation import prepare_usage
from rating.handlers.usage_reports import SummaryQuery, UnmatchedSelection
from rating.schemas.meters import PROPERTY_NAME_PATTERN
from rating.schemas.usage import USAGE_MAX_BODY_BYTES, UsageReceipt, batch_request_body, parse_usage_body
from rating.schemas.usage_reports import (
    ReprocessRequest,
    ReprocessResult,
    SubscriptionUsage,
    UnmatchedPage,
    UsageSummary,
)

router = APIRouter(tags=["usage"])
SubscriptionId = Annotated[str, id_path("Subscription id (sub_…).")]


def ingestion_rules(request: Request) -> IngestionRules:
    """The ingestion settings of the service serving `request`."""
    settings = runtime_from(request).settings
    minutes = settings.usage_max_future_minutes if isinstance(settings, RatingSettings) else 60
    return IngestionRules(max_future=timedelta(minutes=minutes))


@router.post(
    "/v1/usage",
    response_model=UsageReceipt,
    summary="Record a batch of usage events",
    description='Up to 10,000 events as JSON `{"events": [...]}` or NDJSON (`Content-Type: '
    "application/x-ndjson`). Each event is accepted or refused on its own: the answer counts the "
    "accepted ones (counted, late, unmatched, filtered), the duplicates (an `event_id` already "
    "stored, from either door) and lists each refused event with its reasons. A 200 means the "
    "accepted events are committed; sending the same batch again changes nothing.",
    max_body_size=USAGE_MAX_BODY_BYTES,
    openapi_extra={"requestBody": batch_request_body()},
)
@edge_body(json_members=None)  # bounded by the parser itself (schemas/usage.py), at C speed
async def record_usage(request: Request, caller: UsageCaller) -> UsageReceipt:
    body = await request.body()
    with gc_paused():  # the parsed batch's objects die by reference counting (libs/platform/memory.py)
        received = parse_usage_body(body, request.headers.get("content-type"))
    runtime, rules = runtime_from(request), ingestion_rules(request)

    async def attempt() -> UsageReceipt:
        # Validated and guided on a read-only unit of work first: on SQLite outside the write
        # lock, beside another process's batch (rating.handlers.usage_preparation).
        async with runtime.rating_read_unit_of_work(caller) as reader:
            prepared = await prepare_usage(uow=reader, events=received, rules=rules)
        async with runtime.usage_write_turn(), runtime.rating_unit_of_work(caller) as uow:
            return await handlers.record_usage(uow=uow, events=prepared, source=UsageSource.REST, rules=rules)

    # Batches at once on PostgreSQL may cross on rows both lock; the one the server aborts runs
    # again (recording is idempotent by event_id), so no batch answers 500.
    return await retrying_conflicts(attempt)


@router.get(
    "/v1/usage/review",
    response_model=UnmatchedPage,
    summary="List unmatched usage (the review queue)",
    description="Events no subscription was found for, oldest first, with the reason. They are kept "
    "and counted once `POST /v1/usage/review/reprocess` finds their subscription.",
)
async def list_unmatched_usage(
    uow: ReadUow,
    page: PageParams,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    subscription_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    meter: Annotated[str | None, Query(pattern=METER_CODE_PATTERN)] = None,
) -> UnmatchedPage:
    selection = UnmatchedSelection(account_id, subscription_id, meter)
    return await reports.list_unmatched(uow=uow, page=page, selection=selection)


@router.post(
    "/v1/usage/review/reprocess",
    response_model=ReprocessResult,
    summary="Guide unmatched usage again",
    description="Looks for the subscription of each unmatched event again (read model as it is "
    "now): found ones are counted (late if their period is rated), the others stay in the queue. "
    "At most `limit` events per call; go on with `next_cursor`.",
)
async def reprocess_unmatched_usage(uow: UsageUow, body: ReprocessRequest | None = None) -> ReprocessResult:
    return await handlers.reprocess_unmatched(uow=uow, request=body or ReprocessRequest())


@router.get(
    "/v1/usage/summary",
    response_model=UsageSummary,
    summary="Usage grouped by meter, day or month, and a property",
    description="Counted and late usage whose account-local date is in [from, to), grouped by meter, "
    "day or month, and the values of one property; each group's quantity is its meter's aggregation.",
)
async def usage_summary(
    uow: ReadUow,
    start: Annotated[date, Query(alias="from", description="First day included.")],
    end: Annotated[date, Query(alias="to", description="First day not included.")],
    group_by: Annotated[Literal["day", "month"], Query()] = "day",
    meter: Annotated[str | None, Query(pattern=METER_CODE_PATTERN)] = None,
    subscription_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    property: Annotated[str | None, Query(pattern=PROPERTY_NAME_PATTERN)] = None,
) -> UsageSummary:
    if end <= start:
        raise ValidationFailed.single("to", "must be after `from`")
    query = SummaryQuery(start, end, group_by, meter, subscription_id, account_id, property)
    return await reports.usage_summary(uow=uow, query=query)


@router.get(
    "/v1/subscriptions/{subscription_id}/usage",
    response_model=SubscriptionUsage,
    summary="A subscription's usage and running charge in its open periods",
    description="Per meter, each period not rated yet: quantity so far, events, late events, and the "
    "running charge — the period priced as if it closed now (price, tiers, included units left, "
    "minimum shortfall, prepaid available; `unpriced_reason` while rating does not know the price). "
    "404 when rating does not know the subscription.",
)
async def subscription_usage(
    subscription_id: SubscriptionId,
    uow: ReadUow,
    on: Annotated[
        IsoDate | None,
        Query(description="Only the periods containing this account-local date (YYYY-MM-DD); default: all."),
    ] = None,
) -> SubscriptionUsage:
    return await reports.subscription_usage(uow=uow, subscription_id=subscription_id, on=on)
