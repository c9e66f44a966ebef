"""`/v1/usage`: the REST door of usage ingestion, the review queue, the summary; a subscription's usage."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request

from libs.platform.edge import edge_body
from rating.api.deps import UsageUow, runtime_from
from rating.config import RatingSettings
from rating.domain.usage import UsageSource
from rating.handlers import usage as handlers
from rating.handlers.usage import IngestionRules
from rating.schemas.usage import USAGE_MAX_BODY_BYTES, UsageReceipt, batch_request_body, parse_usage_body

router = APIRouter(tags=["usage"])


def ingestion_rules(request: Request) -> IngestionRules:
    """The ingestion settings of the service serving `request`."""
    settings = runtime_from(request).settings
    minutes = settings.usage_max_future_minutes if isinstance(settings, RatingSettings) else 60
    return IngestionRules(max_future=timedelta(minutes=minutes))


@router.post(
    "/v1/usage",
    response_model=UsageReceipt,
    summary="Record a batch of usage events",
    description="Up to 10,000 events as JSON `{\"events\": [...]}` or NDJSON (`Content-Type: "
    "application/x-ndjson`). Each event is accepted or refused on its own: the answer counts the "
    "accepted ones (counted, late, unmatched, filtered), the duplicates (an `event_id` already "
    "stored, from either door) and lists each refused event with its reasons. A 200 means the "
    "accepted events are committed; sending the same batch again changes nothing.",
    max_body_size=USAGE_MAX_BODY_BYTES,
    openapi_extra={"requestBody": batch_request_body()},
)
@edge_body(json_members=None)  # bounded by the parser itself (schemas/usage.py), at C speed
async def record_usage(request: Request, uow: UsageUow) -> UsageReceipt:
    received = parse_usage_body(await request.body(), request.headers.get("content-type"))
    return await handlers.record_usage(
        uow=uow, events=received, source=UsageSource.REST, rules=ingestion_rules(request)
    )
