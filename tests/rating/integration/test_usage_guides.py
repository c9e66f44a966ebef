"""The usage guide kept in memory per read-model generation never guides with a stale row.

Ingestion keeps the accounts and subscriptions it guided with in memory while the read model
does not change (`rating.handlers.usage_guides`, migration 0010). Each case here first guides a
batch (so the guide holds the rows), then changes the read model the way its consumer does (a
row inserted or updated), and checks that the next batch is guided by the new rows. SQLite and
PostgreSQL; the clock is fixed at 2026-07-15T12:00Z.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import text

from libs.platform.clock import FixedClock
from libs.platform.db import Database
from rating.app import create_app
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import (
    create_meter,
    period_usage,
    post_usage,
    rated_account,
    rated_subscription,
    usage_event,
)
from tests.support.services import auth, running_app

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@dataclass
class Rating:
    client: httpx.AsyncClient
    db: Database

    async def july(self, subscription_id: str, meter: str) -> tuple[str, int]:
        """(quantity, event count) of the subscription's July period."""
        return await period_usage(self.client, subscription_id, meter)

    async def change(self, statement: str, **params: object) -> None:
        async with self.db.session() as session:
            await session.execute(text(statement), params)
            await session.commit()


@pytest.fixture
async def rating(database_url: str) -> AsyncIterator[Rating]:
    app = create_app(rating_settings(database_url), clock=FixedClock(NOW))
    async with running_app(app) as client:
        yield Rating(client, app.state.runtime.db)


async def test_a_subscription_added_after_a_batch_guided_without_it_counts_the_next_batch(
    rating: Rating,
) -> None:
    meter = (await create_meter(rating.client))["code"]
    account = await rated_account(rating.db)
    early = await post_usage(rating.client, [usage_event(meter, account_id=account, quantity=2)])
    assert (early["counted"], early["unmatched"]) == (0, 1)  # no subscription to the product yet
    sub = await rated_subscription(rating.db, account_id=account, subscription_id="sub_guided_later")
    named_first = await post_usage(rating.client, [usage_event(meter, subscription_id="sub_unknown_yet")])
    assert named_first["unmatched"] == 1
    later = await post_usage(
        rating.client,
        [
            usage_event(meter, account_id=account, quantity=3),
            usage_event(meter, subscription_id=sub, quantity=4),
        ],
    )
    assert (later["counted"], later["unmatched"]) == (2, 0)
    assert await rating.july(sub, meter) == ("7", 2)


async def test_a_time_zone_changed_after_a_batch_places_the_next_events_on_the_new_local_date(
    rating: Rating,
) -> None:
    meter = (await create_meter(rating.client))["code"]
    account = await rated_account(rating.db, time_zone="UTC")
    sub = await rated_subscription(rating.db, account_id=account)
    # 2026-07-01T02:00Z is July 1st in UTC ...
    await post_usage(
        rating.client, [usage_event(meter, subscription_id=sub, timestamp="2026-07-01T02:00:00Z")]
    )
    await rating.change(
        "UPDATE rating_accounts SET time_zone = 'America/New_York' WHERE account_id = :id", id=account
    )
    # ... and June 30th, 22:00 in New York: the June period.
    await post_usage(
        rating.client, [usage_event(meter, subscription_id=sub, quantity=5, timestamp="2026-07-01T02:00:01Z")]
    )
    response = await rating.client.get(f"/v1/subscriptions/{sub}/usage", headers=auth("ops"))
    periods = {(p["meter"], p["period_start"]): p["quantity"] for p in response.json()["periods"]}
    assert periods == {(meter, "2026-07-01"): "1", (meter, "2026-06-01"): "5"}


async def test_a_subscription_cancelled_after_a_batch_sends_later_usage_to_review(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    account = await rated_account(rating.db)
    sub = await rated_subscription(rating.db, account_id=account)
    first = await post_usage(
        rating.client, [usage_event(meter, subscription_id=sub, timestamp="2026-07-10T09:00:00Z")]
    )
    assert first["counted"] == 1
    await rating.change(
        "UPDATE rating_subscriptions SET state = 'cancelled', effective_date = :day"
        " WHERE subscription_id = :id",
        day=date(2026, 7, 11),
        id=sub,
    )
    after = await post_usage(
        rating.client, [usage_event(meter, subscription_id=sub, timestamp="2026-07-12T09:00:00Z")]
    )
    assert (after["counted"], after["unmatched"]) == (0, 1)
    assert await rating.july(sub, meter) == ("1", 1)
