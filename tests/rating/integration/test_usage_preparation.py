"""A batch validated and guided before its write transaction is written as the write
transaction would have guided it (`rating.handlers.usage_preparation`).

The REST door prepares a batch on a read-only unit of work (on SQLite outside the write lock)
and writes it in a unit of work of its own. Each case prepares a batch, changes what the
preparation read (the read model, a meter) between the two, as another process would, then
writes it: the batch must follow the state its write transaction sees. SQLite and
PostgreSQL; the clock is fixed at 2026-07-15T12:00Z.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from libs.platform.clock import FixedClock
from rating.app import create_app
from rating.bootstrap import RatingRuntime
from rating.domain.usage import UsageSource, UsageStatus
from rating.handlers.usage import Stopwatch, record_usage
from rating.handlers.usage_preparation import PreparedUsage, prepare_usage
from rating.schemas.usage import UsageReceipt
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import (
    create_meter,
    period_usage,
    rated_account,
    rated_subscription,
    usage_event,
)
from tests.support.services import auth, running_app

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@dataclass
class Rating:
    client: httpx.AsyncClient
    runtime: RatingRuntime

    async def prepare(self, events: list[dict[str, Any]]) -> PreparedUsage:
        async with self.runtime.rating_read_unit_of_work() as reader:
            return await prepare_usage(uow=reader, events=events)

    async def record(self, prepared: PreparedUsage, watch: Stopwatch | None = None) -> UsageReceipt:
        async with self.runtime.rating_unit_of_work() as uow:
            return await record_usage(uow=uow, events=prepared, source=UsageSource.REST, stopwatch=watch)

    async def july(self, subscription_id: str, meter: str) -> tuple[str, int]:
        """(quantity, event count) of the subscription's July period."""
        return await period_usage(self.client, subscription_id, meter)


@pytest.fixture
async def rating(database_url: str) -> AsyncIterator[Rating]:
    app = create_app(rating_settings(database_url), clock=FixedClock(NOW))
    async with running_app(app) as client:
        yield Rating(client, app.state.runtime)


async def test_a_batch_prepared_on_an_unchanged_read_model_is_written_as_guided(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    account = await rated_account(rating.runtime.db)
    sub = await rated_subscription(rating.runtime.db, account_id=account)
    prepared = await rating.prepare([usage_event(meter, account_id=account, quantity=5)])
    assert [e.status for e in prepared.accepted] == [UsageStatus.COUNTED]
    watch = Stopwatch()
    receipt = await rating.record(prepared, watch)
    assert receipt.counted == 1
    assert "recheck" in watch.stages and "guide" not in watch.stages  # not guided a second time
    assert await rating.july(sub, meter) == ("5", 1)


async def test_a_subscription_added_between_the_guide_and_the_write_counts_the_batch(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    account = await rated_account(rating.runtime.db)
    prepared = await rating.prepare([usage_event(meter, account_id=account, quantity=3)])
    assert [e.status for e in prepared.accepted] == [UsageStatus.UNMATCHED]  # no subscription yet
    sub = await rated_subscription(rating.runtime.db, account_id=account)  # the read model moves on
    watch = Stopwatch()
    receipt = await rating.record(prepared, watch)
    assert (receipt.counted, receipt.unmatched) == (1, 0)
    assert "guide" in watch.stages  # guided again in the write transaction
    assert await rating.july(sub, meter) == ("3", 1)


async def test_a_subscription_cancelled_between_the_guide_and_the_write_sends_the_usage_to_review(
    rating: Rating,
) -> None:
    meter = (await create_meter(rating.client))["code"]
    account = await rated_account(rating.runtime.db)
    sub = await rated_subscription(rating.runtime.db, account_id=account, subscription_id="sub_prep_cancel")
    later = usage_event(meter, subscription_id=sub, quantity=4, timestamp="2026-07-12T09:00:00Z")
    prepared = await rating.prepare([later])
    assert [e.status for e in prepared.accepted] == [UsageStatus.COUNTED]
    async with rating.runtime.db.session() as session:
        await session.execute(
            text(
                "UPDATE rating_subscriptions SET state = 'cancelled', effective_date = :day"
                " WHERE subscription_id = :id"
            ),
            {"day": date(2026, 7, 11), "id": sub},
        )
        await session.commit()
    receipt = await rating.record(prepared)
    assert (receipt.counted, receipt.unmatched) == (0, 1)


async def test_a_meter_deactivated_between_the_validation_and_the_write_refuses_the_events(
    rating: Rating,
) -> None:
    meter = await create_meter(rating.client)
    account = await rated_account(rating.runtime.db)
    await rated_subscription(rating.runtime.db, account_id=account)
    prepared = await rating.prepare([usage_event(meter["code"], account_id=account)])
    assert len(prepared.accepted) == 1
    response = await rating.client.patch(
        f"/v1/meters/{meter['id']}", json={"active": False}, headers=auth("finance")
    )
    assert response.status_code == 200, response.text
    receipt = await rating.record(prepared)
    assert (receipt.accepted, receipt.refused) == (0, 1)
    assert receipt.refusals[0].errors[0].code == "inactive_meter"
