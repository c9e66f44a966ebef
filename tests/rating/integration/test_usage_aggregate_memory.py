"""The aggregates a process keeps in memory never stand in for rows someone else changed.

Ingestion keeps the aggregates its batches wrote while the table's generation is the token its
last batch stamped (`rating.handlers.usage_aggregates`, migration 0011). Each case first counts
a batch (so the memory holds the row), then changes the table another way — a statement of
another writer, a second rating process on the same database, a batch that rolled back — and
checks that the next batch folds into what the table holds. SQLite and PostgreSQL; the clock
is fixed at 2026-07-15T12:00Z.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from libs.platform.clock import FixedClock
from libs.platform.db import Database
from rating.app import create_app
from rating.domain.usage import AggregateState, UsageSource
from rating.handlers.usage import stage_usage
from rating.handlers.usage_aggregates import AggregateChange
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import (
    create_meter,
    period_usage,
    post_usage,
    rated_account,
    rated_subscription,
    usage_event,
)
from tests.support.services import running_app

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@dataclass
class Rating:
    client: httpx.AsyncClient
    db: Database
    app: object

    async def july(self, subscription_id: str, meter: str) -> tuple[str, int]:
        """(quantity, event count) of the subscription's July period."""
        return await period_usage(self.client, subscription_id, meter)


@pytest.fixture
async def rating(database_url: str) -> AsyncIterator[Rating]:
    app = create_app(rating_settings(database_url), clock=FixedClock(NOW))
    async with running_app(app) as client:
        yield Rating(client, app.state.runtime.db, app)


async def _counted_once(rating: Rating) -> tuple[str, str]:
    meter = (await create_meter(rating.client))["code"]
    sub = await rated_subscription(rating.db, account_id=await rated_account(rating.db))
    first = await post_usage(rating.client, [usage_event(meter, subscription_id=sub, quantity=2)])
    assert first["counted"] == 1
    return meter, sub


async def test_a_change_by_another_writer_is_folded_into_not_overwritten(rating: Rating) -> None:
    meter, sub = await _counted_once(rating)
    async with rating.db.session() as session:
        await session.execute(
            text(
                "UPDATE usage_aggregates SET quantity = quantity + 10, event_count = event_count + 1"
                " WHERE subscription_id = :sub"
            ),
            {"sub": sub},
        )
        await session.commit()

    await post_usage(rating.client, [usage_event(meter, subscription_id=sub, quantity=3)])

    assert await rating.july(sub, meter) == ("15", 3)


async def test_two_rating_processes_on_one_database_count_every_event_once(
    rating: Rating, database_url: str
) -> None:
    meter, sub = await _counted_once(rating)
    other = create_app(rating_settings(database_url), clock=FixedClock(NOW))
    async with running_app(other) as second:
        for quantity in (3, 4, 5):
            await post_usage(second, [usage_event(meter, subscription_id=sub, quantity=quantity)])
            await post_usage(rating.client, [usage_event(meter, subscription_id=sub, quantity=quantity)])

    assert await rating.july(sub, meter) == ("26", 7)


async def test_a_batch_that_rolled_back_after_writing_leaves_nothing_behind(rating: Rating) -> None:
    meter, sub = await _counted_once(rating)
    runtime = rating.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.rating_unit_of_work() as uow:
        receipt = await stage_usage(
            uow=uow, events=[usage_event(meter, subscription_id=sub, quantity=100)], source=UsageSource.REST
        )
        assert receipt.counted == 1
        await uow.rollback()

    await post_usage(rating.client, [usage_event(meter, subscription_id=sub, quantity=3)])

    assert await rating.july(sub, meter) == ("5", 2)


async def _generation(rating: Rating) -> int:
    async with rating.db.session() as session:
        return int(
            (await session.execute(text("SELECT generation FROM rating_usage_generation"))).scalar_one()
        )


async def test_a_batch_leaves_its_token_and_another_writer_still_moves_the_generation(
    rating: Rating,
) -> None:
    _, sub = await _counted_once(rating)
    runtime = rating.app.state.runtime  # type: ignore[attr-defined]
    stamped = await _generation(rating)
    assert stamped == runtime.aggregate_memory.token  # never left marked (negative) by the batch
    async with rating.db.session() as session:
        await session.execute(
            text("UPDATE usage_aggregates SET event_count = event_count WHERE subscription_id = :sub"),
            {"sub": sub},
        )
        await session.commit()
    assert await _generation(rating) not in (stamped, runtime.aggregate_memory.token)


async def test_a_batch_s_own_aggregate_writes_move_the_generation_once_on_sqlite(rating: Rating) -> None:
    if rating.db.dialect != "sqlite":
        pytest.skip("PostgreSQL's triggers bump the generation once a statement already")
    meter, sub = await _counted_once(rating)
    account = await rated_account(rating.db)
    others = [await rated_subscription(rating.db, account_id=account) for _ in range(3)]
    runtime = rating.app.state.runtime  # type: ignore[attr-defined]
    before = await _generation(rating)
    state = AggregateState(Decimal(1), 1, Decimal(0), 0, NOW)
    period_end = date(2026, 8, 1)
    changes = [
        AggregateChange((s, meter, date(2026, 7, 1)), period_end, account, state, False) for s in others
    ]
    changes.append(AggregateChange((sub, meter, date(2026, 7, 1)), period_end, account, state, True))
    async with runtime.rating_unit_of_work() as uow:
        await uow.usage.write_aggregates(changes, now=NOW)
        generation = await uow.usage.aggregate_generation(lock=False)
        await uow.commit()
    assert generation == before + 1  # one bump for four rows: the row triggers skipped them
    assert await _generation(rating) == before + 1
    assert await rating.july(others[0], meter) == ("1", 1)


async def test_rows_are_updated_by_the_rowid_kept_and_a_stale_rowid_touches_no_other_row(
    rating: Rating,
) -> None:
    if rating.db.dialect != "sqlite":
        pytest.skip("rowids are SQLite's")
    meter, sub = await _counted_once(rating)
    other = await rated_subscription(rating.db, account_id=await rated_account(rating.db))
    await post_usage(rating.client, [usage_event(meter, subscription_id=other, quantity=7)])
    runtime = rating.app.state.runtime  # type: ignore[attr-defined]
    kept = runtime.aggregate_memory.rows
    async with rating.db.session() as session:
        rows = await session.execute(text("SELECT subscription_id, rowid FROM usage_aggregates"))
        rowids = dict(rows.tuples().all())
    key = (sub, meter, date(2026, 7, 1))
    assert kept[key].rowid == rowids[sub]  # as numbered at its insert
    assert kept[(other, meter, date(2026, 7, 1))].rowid == rowids[other]

    kept[key].rowid = rowids[other]  # as if the table had been renumbered (VACUUM)
    await post_usage(rating.client, [usage_event(meter, subscription_id=sub, quantity=3)])

    assert await rating.july(sub, meter) == ("5", 2)
    assert await rating.july(other, meter) == ("7", 1)
