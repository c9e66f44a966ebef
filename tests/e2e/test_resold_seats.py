"""EXAMPLES case 1 across processes: resold WFM seats from the catalog to an active subscription."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Column, Integer, String, Text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import Envelope
from libs.contracts.topics import CATALOG_EVENTS, PROVISIONING_EVENTS
from libs.platform.db import Database
from libs.platform.inbox import DeadLetter, IdempotentConsumer, InboxEntry
from tests.e2e.conftest import Stack
from tests.e2e.journeys import (
    WFM_STEPS,
    customer_account,
    order_seats,
    resold_wfm_seats,
    submit,
    walk_workflow,
    workflows_of,
)
from tests.provisioning.integration.factories import OPS, ok
from tests.support.polling import eventually
from tests.support.services import GROUP_TIMEOUTS


async def test_resold_wfm_seats_from_catalog_to_an_active_three_year_subscription(
    catalog: httpx.AsyncClient, provisioning: httpx.AsyncClient
) -> None:
    seats = await resold_wfm_seats(catalog)
    assert seats.price_version == 1
    account = await customer_account(provisioning)

    order = await order_seats(provisioning, account.account_id, seats.price_id)
    (priced,) = order["lines"]
    # 250 seats fall in the vendor's 101-500 band: 10.00 x 1.20 = 12.00 a seat, 3,000.00 a month.
    assert Decimal(priced["unit_price"]) == Decimal("12.00")
    assert (priced["list_amount"], priced["net_amount"]) == ("3000.00", "3000.00")
    assert (priced["price_id"], priced["price_version"], priced["product_id"]) == (
        seats.price_id,
        seats.price_version,
        seats.product_id,
    )
    assert order["status"] == "draft"

    submitted = await submit(provisioning, order["id"])
    assert (submitted["status"], submitted["approval_required"]) == ("approved", False)

    (workflow,) = await workflows_of(provisioning, order["id"])
    assert workflow["template_name"] == "resold_wfm_seats"
    subscription_id = workflow["subscription_id"]
    pending = await ok(await provisioning.get(f"/v1/subscriptions/{subscription_id}", headers=OPS))
    assert pending["state"] == "pending"

    assert await walk_workflow(provisioning, workflow["id"]) == WFM_STEPS

    active = await ok(await provisioning.get(f"/v1/subscriptions/{subscription_id}", headers=OPS))
    assert active["state"] == "active"
    assert (active["account_id"], active["quantity"], active["price_version"]) == (
        account.account_id,
        "250",
        seats.price_version,
    )
    assert (active["term_start"], active["term_end"]) == ("2026-03-01", "2029-03-01")
    assert Decimal(active["unit_price"]) == Decimal("12.00")
    finished = await ok(await provisioning.get(f"/v1/workflows/{workflow['id']}", headers=OPS))
    assert finished["status"] == "completed"
    fulfilled = await ok(await provisioning.get(f"/v1/orders/{order['id']}", headers=OPS))
    assert fulfilled["status"] == "fulfilled"


class ReceivedEvent(SQLModel, table=True):
    """The test consumer's effect: one row per event applied (a second application adds a row)."""

    __tablename__ = "e2e_received_events"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    event_id: str = Field(sa_column=Column(String(36), nullable=False))
    event_type: str = Field(sa_column=Column(String(120), nullable=False))
    key: str = Field(sa_column=Column(String(120), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))


async def _record(session: AsyncSession, envelope: Envelope) -> None:
    session.add(
        ReceivedEvent(
            event_id=str(envelope.event_id),
            event_type=envelope.type,
            key=envelope.key,
            payload=json.dumps(envelope.payload),
        )
    )


@dataclass
class Listener:
    """An idempotent consumer in a group of its own, recording what it applies in SQLite."""

    db: Database
    consumer: IdempotentConsumer

    async def received(self, event_type: str) -> list[tuple[str, dict[str, object]]]:
        """(event_id, payload) of each application of an event type, in the order applied."""
        async with self.db.session() as session:
            rows = await session.exec(
                select(ReceivedEvent)
                .where(col(ReceivedEvent.event_type) == event_type)
                .order_by(col(ReceivedEvent.id))
            )
            return [(row.event_id, json.loads(row.payload)) for row in rows.all()]


@pytest.fixture
async def listener(stack: Stack, tmp_path: Path) -> AsyncIterator[Listener]:
    """Consumes both topics from the beginning while the test runs."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/listener.db")
    tables = [m.__table__ for m in (InboxEntry, DeadLetter, ReceivedEvent)]  # type: ignore[attr-defined]
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=tables))
    interesting = (
        "subscription.activated",
        "order.fulfilled",
        "catalog.price_published",
    )
    consumer = IdempotentConsumer(
        db,
        group_id=f"e2e-listener-{uuid.uuid4().hex[:8]}",
        topics=[PROVISIONING_EVENTS, CATALOG_EVENTS],
        handlers=dict.fromkeys(interesting, _record),
        bootstrap_servers=stack.bootstrap_servers,
        **GROUP_TIMEOUTS,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield Listener(db, consumer)
    finally:
        stop.set()
        await task
        await consumer.stop()
        await db.dispose()


async def test_events_leave_the_processes_and_arrive_exactly_once(
    catalog: httpx.AsyncClient, provisioning: httpx.AsyncClient, listener: Listener
) -> None:
    seats = await resold_wfm_seats(catalog)
    account = await customer_account(provisioning)
    order = await order_seats(provisioning, account.account_id, seats.price_id)
    assert (await submit(provisioning, order["id"]))["status"] == "approved"
    (workflow,) = await workflows_of(provisioning, order["id"])
    await walk_workflow(provisioning, workflow["id"])
    subscription_id = workflow["subscription_id"]

    # order.fulfilled is written after subscription.activated, keyed by the same account, so it
    # travels behind it on the same partition: once it is here, any copy of the activation is too.
    await eventually(
        lambda: listener.received("order.fulfilled"),
        until=lambda events: any(p["order_id"] == order["id"] for _, p in events),
        timeout_s=30,
    )
    activations = [
        (event_id, payload)
        for event_id, payload in await listener.received("subscription.activated")
        if payload["subscription_id"] == subscription_id
    ]
    assert len(activations) == 1, activations
    (_, activated) = activations[0]
    assert (activated["account_id"], Decimal(str(activated["quantity"]))) == (
        account.account_id,
        Decimal(250),
    )
    assert (activated["price_id"], activated["price_version"]) == (seats.price_id, seats.price_version)
    assert (activated["term_start"], activated["term_end"]) == ("2026-03-01", "2029-03-01")

    published = await eventually(
        lambda: listener.received("catalog.price_published"),
        until=lambda events: any(p["price_id"] == seats.price_id for _, p in events),
        timeout_s=30,
    )
    (price_event,) = [p for _, p in published if p["price_id"] == seats.price_id]
    assert (price_event["version"], price_event["model"], price_event["cost_book_id"]) == (
        1,
        "cost_plus",
        seats.cost_book_id,
    )
