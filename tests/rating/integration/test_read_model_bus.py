"""Rating over the real broker: the catalog's and provisioning's events build the read model
(an older event changes nothing, a redelivered one nothing twice), and a closed period reaches
a consumer of `rating.events` as exactly one usage.rated, however often it is closed."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import provisioning
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import EVENT_TYPES, spec_of
from libs.contracts.topics import RATING_EVENTS
from libs.contracts.usage import UsageRated
from libs.platform.broker import KafkaPublisher
from libs.platform.clock import FixedClock
from libs.platform.db import Database
from libs.platform.inbox import DeadLetter, IdempotentConsumer, InboxEntry
from libs.platform.outbox import OutboundMessage, build_envelope
from libs.platform.settings import Role
from rating.app import create_app
from rating.consumers import READ_MODEL_GROUP
from rating.models import RatedAccount, RatedCostBook, RatedPrice, RatedSubscription
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import add_rows, aggregate_row, meter_row
from tests.rating.upstream_events import (
    account_opened,
    cost_book_published,
    price_published,
    subscription_event,
)
from tests.support.polling import eventually
from tests.support.services import GROUP_TIMEOUTS, auth, running_app

AUGUST_2 = FixedClock(datetime(2026, 8, 2, 12, tzinfo=UTC))
T0 = datetime(2026, 7, 1, 9, tzinfo=UTC)


class ReceivedRating(SQLModel, table=True):
    """What the downstream (invoicing-like) consumer applied: one row per event."""

    __tablename__ = "test_rating_received"

    event_id: str = Field(sa_column=Column(String(36), primary_key=True))
    key: str
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))


@pytest.fixture
async def downstream(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/downstream.db")
    tables = [t.__table__ for t in (InboxEntry, DeadLetter, ReceivedRating)]  # type: ignore[attr-defined]
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=tables))
    yield db
    await db.dispose()


async def _record(session: AsyncSession, envelope: Envelope) -> None:
    session.add(
        ReceivedRating(
            event_id=str(envelope.event_id), key=envelope.key, payload=json.dumps(envelope.payload)
        )
    )


async def _received(db: Database, key: str) -> list[UsageRated]:
    async with db.session() as session:
        rows = (await session.exec(select(ReceivedRating).where(ReceivedRating.key == key))).all()
    return [UsageRated.model_validate(json.loads(r.payload)) for r in rows]


def _envelope(payload: EventPayload, key: str, occurred_at: datetime) -> Envelope:
    return build_envelope(payload, producer="test", key=key).model_copy(update={"occurred_at": occurred_at})


async def _send(publisher: KafkaPublisher, *envelopes: Envelope) -> None:
    messages = [OutboundMessage(EVENT_TYPES[e.type].topic, e.key, e.to_bytes()) for e in envelopes]
    outcomes = await publisher.publish(messages)
    assert all(outcome is None for outcome in outcomes), outcomes


async def _rows(app: FastAPI, model: type[SQLModel]) -> list[SQLModel]:
    async with app.state.runtime.db.session() as session:
        return list((await session.exec(select(model))).all())


async def test_catalog_and_provisioning_events_build_the_read_model_and_rated_usage_goes_out_once(
    broker: str, sqlite_url: str, downstream: Database
) -> None:
    run = uuid.uuid4().hex[:8]
    account_id, subscription_id = f"acct_{run}", f"sub_{run}"
    app = create_app(rating_settings(sqlite_url, broker, period_close_interval_s=0), clock=AUGUST_2)
    publisher = KafkaPublisher(broker, client_id="test-upstream")
    await publisher.start()
    consumer = IdempotentConsumer(
        downstream,
        group_id=f"invoicing-test-{run}",
        topics=[RATING_EVENTS],
        handlers={spec_of(UsageRated).type: _record},
        bootstrap_servers=broker,
        **GROUP_TIMEOUTS,
    )
    stop = asyncio.Event()
    async with running_app(app) as client:
        task = asyncio.create_task(consumer.run(stop))
        try:
            price = price_published()
            book = cost_book_published()
            activated = _envelope(
                subscription_event(
                    provisioning.SubscriptionActivated, subscription_id, account_id, state="active"
                ),
                account_id,
                T0,
            )
            suspended = _envelope(
                subscription_event(
                    provisioning.SubscriptionSuspended, subscription_id, account_id, state="suspended"
                ),
                account_id,
                T0 + timedelta(days=2),
            )
            resumed = _envelope(
                subscription_event(
                    provisioning.SubscriptionResumed, subscription_id, account_id, state="active"
                ),
                account_id,
                T0 + timedelta(days=3),
            )
            await _send(
                publisher,
                _envelope(price, "prod_ringtones", T0),
                _envelope(book, "ven_wfm", T0),
                _envelope(account_opened(account_id, time_zone="America/New_York"), account_id, T0),
                suspended,
                activated,  # older than the suspension: changes nothing
                suspended,  # redelivered: applied once
            )

            async def subscription_state() -> str | None:
                rows = [
                    r for r in await _rows(app, RatedSubscription) if r.subscription_id == subscription_id
                ]  # type: ignore[attr-defined]
                return rows[0].state if rows else None  # type: ignore[attr-defined]

            async def applied() -> set[str]:
                # The read model's own inbox: other groups (balances) read the same topic.
                entries = await _rows(app, InboxEntry)
                return {r.event_id for r in entries if r.consumer_group == READ_MODEL_GROUP}  # type: ignore[attr-defined]

            # Every event applied (the older activation included), and the suspension stands.
            await eventually(
                applied, until=lambda ids: {str(activated.event_id), str(suspended.event_id)} <= ids
            )
            assert await subscription_state() == "suspended"
            accounts = [r for r in await _rows(app, RatedAccount) if r.account_id == account_id]  # type: ignore[attr-defined]
            assert [(a.currency, a.bill_cycle_day, a.time_zone) for a in accounts] == [  # type: ignore[attr-defined]
                ("USD", 1, "America/New_York")
            ]
            prices = [r for r in await _rows(app, RatedPrice) if r.price_id == "price_ringtones"]  # type: ignore[attr-defined]
            assert [(p.version, p.model, json.loads(p.terms)["included_quantity"]) for p in prices] == [  # type: ignore[attr-defined]
                (1, "per_unit", "10")
            ]

            # Only this test's cost book: the worker's broker also carries other tests' catalog
            # events (the overage bus test publishes cb_monet), which this group reads too.
            async def own_books() -> list[Any]:
                return [r for r in await _rows(app, RatedCostBook) if r.cost_book_id == book.cost_book_id]  # type: ignore[attr-defined]

            books = await eventually(own_books, until=lambda rows: len(rows) == 1)
            assert books[0].markup_percent == 20

            # Suspended: the check says no; resumed: the 11th ringtone costs 0.50.
            await add_rows(
                app,
                meter_row("ringtones", "prod_ringtones", "ringtone"),
                aggregate_row(
                    "10", subscription_id=subscription_id, meter="ringtones", account_id=account_id
                ),
            )
            check = {"subscription_id": subscription_id, "meter": "ringtones", "quantity": 1}
            refused = await client.post("/v1/entitlements/check", json=check, headers=auth(Role.CRM))
            assert refused.json()["reason"] == "subscription_not_active"
            await _send(publisher, resumed)
            await eventually(subscription_state, until=lambda s: s == "active")
            # The consumer's commit dropped the cached subscription: the next check sees it resumed.
            # August has just begun (New York): none of its 10 free ringtones used yet.
            allowed = (await client.post("/v1/entitlements/check", json=check, headers=auth(Role.CRM))).json()
            assert (allowed["allowed"], allowed["period_start"], allowed["included_remaining"]) == (
                True,
                "2026-08-01",
                "10",
            )
            assert allowed["cost_rounded"] == "0.00"

            # July has ended in New York on 2026-08-02: closing twice publishes one usage.rated.
            for _ in range(2):
                closed = await client.post("/v1/rated-usage/close", json={}, headers=auth(Role.FINANCE))
                assert closed.status_code == 200
            received = await eventually(
                lambda: _received(downstream, account_id), until=lambda rows: len(rows) >= 1
            )
            await app.state.runtime.relay.republish()
            await eventually(lambda: asyncio.sleep(0, consumer.skipped_duplicates), until=lambda n: n >= 1)
            received = await _received(downstream, account_id)
            assert len(received) == 1
            (rated,) = received
            # 10 ringtones, all included: nothing to bill.
            assert (rated.subscription_id, rated.quantity, rated.billable_quantity, rated.amount) == (
                subscription_id,
                10,
                0,
                0,
            )
            assert (rated.period_start, rated.period_end, rated.price_id, rated.price_version) == (
                date(2026, 7, 1),
                date(2026, 8, 1),
                "price_ringtones",
                1,
            )
        finally:
            stop.set()
            await task
            await consumer.stop()
            await publisher.stop()
