"""Several batches recorded in one transaction (the `usage.raw` consumer records a poll in chunks
of a REST batch's size, then commits once): each chunk's new events count once, the others are
duplicates, whichever dialect stores them (PostgreSQL copies each chunk through a temporary table)."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.platform.clock import FixedClock
from rating.app import create_app
from rating.domain.usage import UsageSource
from rating.handlers.usage import record_usage
from rating.repository.unit_of_work import SqlRatingUnitOfWork
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import create_meter, rated_account, rated_subscription, usage_event
from tests.support.services import auth, running_app

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


async def test_chunks_in_one_transaction_count_each_event_once(database_url: str) -> None:
    app = create_app(rating_settings(database_url), clock=FixedClock(NOW))
    async with running_app(app) as client:
        runtime = app.state.runtime
        meter = (await create_meter(client))["code"]
        account = await rated_account(runtime.db)
        sub = await rated_subscription(runtime.db, account_id=account, product_id="prod_api")
        first = [usage_event(meter, subscription_id=sub, quantity=2) for _ in range(5)]
        second = [*first[:2], *(usage_event(meter, subscription_id=sub, quantity=7) for _ in range(3))]
        async with runtime.db.session() as session:
            uow = SqlRatingUnitOfWork(
                runtime.db, producer="rating", actor="test", session=session, clock=FixedClock(NOW)
            )
            async with uow:
                one = await record_usage(uow=uow, events=first, source=UsageSource.TOPIC)
                two = await record_usage(uow=uow, events=second, source=UsageSource.TOPIC)
            await session.commit()
        assert (one.counted, one.duplicates) == (5, 0)
        assert (two.counted, two.duplicates) == (3, 2)
        response = await client.get(f"/v1/subscriptions/{sub}/usage", headers=auth("ops"))
        (july,) = [p for p in response.json()["periods"] if p["meter"] == meter]
        # 5 events of 2 and 3 of 7; the two repeated events once.
        assert (july["quantity"], july["event_count"]) == (str(5 * 2 + 3 * 7), 8)
