"""Provisioning over the real broker: its events reach a consumer exactly once, and collections
requests from invoicing suspend and resume an account's subscriptions exactly once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.collections import ResumeRequested, SuspendRequested
from libs.contracts.envelope import Envelope
from libs.contracts.overage import OverageLicensesKept
from libs.contracts.registry import EVENT_TYPES
from libs.contracts.topics import INVOICING_EVENTS, OVERAGE_EVENTS, PROVISIONING_EVENTS
from libs.platform.broker import KafkaPublisher
from libs.platform.db import Database
from libs.platform.inbox import DeadLetter, IdempotentConsumer, InboxEntry
from libs.platform.outbox import OutboundMessage, OutboxMessage, build_envelope
from provisioning.app import create_app
from tests.provisioning.fakes import InMemoryCatalog
from tests.provisioning.integration.conftest import provisioning_settings
from tests.provisioning.integration.factories import CRM, OPS, active_subscription, customer_with_account, ok
from tests.support.polling import eventually
from tests.support.services import GROUP_TIMEOUTS, running_app


class ReceivedEvent(SQLModel, table=True):
    """What the downstream test consumer applied: one row per event (a second one would fail)."""

    __tablename__ = "test_provisioning_received"

    event_id: str = Field(sa_column=Column(String(36), primary_key=True))
    event_type: str
    key: str
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))


@pytest.fixture
async def downstream(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/downstream.db")
    tables = [t.__table__ for t in (InboxEntry, DeadLetter, ReceivedEvent)]  # type: ignore[attr-defined]
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=tables))
    yield db
    await db.dispose()


async def _record(session: AsyncSession, envelope: Envelope) -> None:
    session.add(
        ReceivedEvent(
            event_id=str(envelope.event_id),
            event_type=envelope.type,
            key=envelope.key,
            payload=json.dumps(envelope.payload),
        )
    )


async def _received(db: Database, key: str) -> list[tuple[str, str]]:
    async with db.session() as session:
        rows = (await session.exec(select(ReceivedEvent).where(ReceivedEvent.key == key))).all()
    return sorted((r.event_id, r.event_type) for r in rows)


async def _published(app: FastAPI, key: str) -> list[tuple[str, str]]:
    async with app.state.runtime.db.session() as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.key == key, OutboxMessage.published_at.is_not(None))  # type: ignore[union-attr]
            )
        ).all()
    return sorted((r.event_id, r.event_type) for r in rows)


async def _send(publisher: KafkaPublisher, envelope: Envelope) -> None:
    await publisher.publish([OutboundMessage(INVOICING_EVENTS, envelope.key, envelope.to_bytes())])  # type: ignore[call-arg]


async def _state(client: httpx.AsyncClient, subscription_id: str) -> str:
    response = await client.get(f"/v1/subscriptions/{subscription_id}", headers=OPS)
    return str(response.json()["state"])


def _downstream_consumer(downstream: Database, broker: str) -> IdempotentConsumer:
    """A billing-like consumer of every provisioning event type, in its own group."""
    consumer_types = {name for name, spec in EVENT_TYPES.items() if spec.topic == PROVISIONING_EVENTS}
    return IdempotentConsumer(
        downstream,
        group_id=f"billing-test-{uuid.uuid4().hex[:8]}",
        topics=[PROVISIONING_EVENTS],
        handlers=dict.fromkeys(consumer_types, _record),
        bootstrap_servers=broker,
        **GROUP_TIMEOUTS,
    )


async def test_events_reach_a_consumer_exactly_once_and_collections_requests_apply_once(
    broker: str, sqlite_url: str, catalog: InMemoryCatalog, downstream: Database
) -> None:
    app = create_app(provisioning_settings(sqlite_url, broker), catalog=catalog)
    consumer = _downstream_consumer(downstream, broker)
    publisher = KafkaPublisher(broker, client_id="test-invoicing")
    await publisher.start()
    stop = asyncio.Event()
    async with running_app(app) as client:
        task = asyncio.create_task(consumer.run(stop))
        try:
            _, account_id = await customer_with_account(client)
            subscription_id = await active_subscription(client, account_id)

            expected = await eventually(
                lambda: _published(app, account_id), until=lambda rows: len(rows) >= 6
            )
            types = [t for _, t in expected]
            assert {"account.opened", "order.approved", "workflow.started", "subscription.activated"} <= set(
                types
            )
            assert types.count("subscription.activated") == 1
            await eventually(lambda: _received(downstream, account_id), until=lambda rows: rows == expected)

            # Redelivery: the relay publishes everything again; the consumer applies nothing twice.
            await app.state.runtime.relay.republish()
            await eventually(
                lambda: asyncio.sleep(0, consumer.skipped_duplicates), until=lambda n: n >= len(expected)
            )
            assert await _received(downstream, account_id) == expected

            # Invoicing asks for a suspension, and the message is delivered twice.
            requested_at = datetime(2027, 5, 3, 9, 30, tzinfo=UTC)
            suspend = build_envelope(
                SuspendRequested(account_id=account_id, reason="61 days past due", requested_at=requested_at),
                producer="invoicing",
                key=account_id,
            )
            await _send(publisher, suspend)
            await _send(publisher, suspend)
            await eventually(lambda: _state(client, subscription_id), until=lambda s: s == "suspended")
            resume = build_envelope(
                ResumeRequested(
                    account_id=account_id, reason="paid", requested_at=requested_at.replace(day=10)
                ),
                producer="invoicing",
                key=account_id,
            )
            await _send(publisher, resume)
            await eventually(lambda: _state(client, subscription_id), until=lambda s: s == "active")

            history = (
                await ok(await client.get(f"/v1/subscriptions/{subscription_id}/history", headers=OPS))
            )["data"]
            assert [(h["kind"], h["effective_date"], h["by"]) for h in history] == [
                ("activate", "2027-01-01", history[0]["by"]),
                ("suspend", "2027-05-03", "collections"),
                ("resume", "2027-05-10", "collections"),
            ]
            # The suspension and resumption reach billing too, each once.
            received = await eventually(
                lambda: _received(downstream, account_id),
                until=lambda rows: {"subscription.suspended", "subscription.resumed"} <= {t for _, t in rows},
            )
            assert [t for _, t in received].count("subscription.suspended") == 1
        finally:
            stop.set()
            await task
            await consumer.stop()
            await publisher.stop()


async def _payloads(db: Database, key: str, event_type: str) -> list[dict[str, Any]]:
    async with db.session() as session:
        rows = (
            await session.exec(
                select(ReceivedEvent).where(ReceivedEvent.key == key, ReceivedEvent.event_type == event_type)
            )
        ).all()
    return [json.loads(r.payload) for r in rows]


async def test_named_user_events_reach_a_consumer_exactly_once(
    broker: str, sqlite_url: str, catalog: InMemoryCatalog, downstream: Database
) -> None:
    app = create_app(provisioning_settings(sqlite_url, broker), catalog=catalog)
    # Only the relay is under test: without its collections consumer the app need not wait to
    # take over the consumer group the previous test's app left behind.
    app.state.runtime.consumer_specs = []
    consumer = _downstream_consumer(downstream, broker)
    stop = asyncio.Event()
    async with running_app(app) as client:
        task = asyncio.create_task(consumer.run(stop))
        try:
            _, account_id = await customer_with_account(client)
            pool = await ok(
                await client.post(
                    "/v1/named-users/pools",
                    json={
                        "account_id": account_id,
                        "size": 10,
                        "programs_per_user": 2,
                        "contract_programs": ["sales", "service", "leadership"],
                        "contract_start": "2026-01-01",
                    },
                    headers=CRM,
                ),
                201,
            )
            base = f"/v1/named-users/pools/{pool['id']}"
            for user, programs in (("ada", ["sales"]), ("ada", ["service"]), ("bo", ["leadership"])):
                body = {"user_id": user, "programs": programs}
                await ok(await client.post(f"{base}/assignments", json=body, headers=CRM), 201)
            transfer = {"from_user": "ada", "to_user": "cy", "on_date": "2027-06-01"}
            await ok(await client.post(f"{base}/transfers", json=transfer, headers=CRM), 201)
            # A refused change publishes nothing.
            refused = {"from_user": "bo", "to_user": "di", "on_date": "2027-07-01"}
            assert (await client.post(f"{base}/transfers", json=refused, headers=CRM)).status_code == 422

            named_user_types = {"named_user_pool.created", "named_user.assigned", "named_user.transferred"}
            expected = await eventually(
                lambda: _published(app, account_id),
                until=lambda rows: len([t for _, t in rows if t in named_user_types]) >= 5,
            )
            await eventually(lambda: _received(downstream, account_id), until=lambda rows: rows == expected)
            assert sorted(t for _, t in expected if t in named_user_types) == [
                "named_user.assigned",
                "named_user.assigned",
                "named_user.assigned",
                "named_user.transferred",
                "named_user_pool.created",
            ]

            (created,) = await _payloads(downstream, account_id, "named_user_pool.created")
            assert created == {
                "pool_id": pool["id"],
                "account_id": account_id,
                "subscription_id": None,
                "size": 10,
                "programs_per_user": 2,
                "contract_programs": ["leadership", "sales", "service"],
                "contract_start": "2026-01-01",
                "transfer_percent": "10",
                "transfers_per_year": 1,
            }
            assigned = await _payloads(downstream, account_id, "named_user.assigned")
            assert sorted(
                (a["user_id"], a["programs"], a["seats_used"], a["seats_available"]) for a in assigned
            ) == [
                ("ada", ["sales"], 1, 9),
                ("ada", ["sales", "service"], 1, 9),
                ("bo", ["leadership"], 2, 8),
            ]
            (moved,) = await _payloads(downstream, account_id, "named_user.transferred")
            assert moved == {
                "pool_id": pool["id"],
                "account_id": account_id,
                "from_user": "ada",
                "to_user": "cy",
                "programs": ["sales", "service"],
                "on_date": "2027-06-01",
                "contract_year": 2,
                "transfers_remaining": 0,
            }
        finally:
            stop.set()
            await task
            await consumer.stop()


async def test_licenses_kept_after_a_vendor_overage_raise_the_subscription_once(
    broker: str, sqlite_url: str, catalog: InMemoryCatalog
) -> None:
    """Overage decides the customer keeps 12 licenses of a 10-license subscription (seed 000): the
    subscription goes to 12 from the account's local date of the decision, by `overage`, once —
    the decision delivered twice, and a second decision for a quantity it holds, change nothing."""
    app = create_app(provisioning_settings(sqlite_url, broker), catalog=catalog)
    publisher = KafkaPublisher(broker, client_id="test-overage")
    await publisher.start()
    try:
        async with running_app(app) as client:
            _, account_id = await customer_with_account(client)
            subscription_id = await active_subscription(client, account_id, quantity=10)

            def decision(new_quantity: int) -> Envelope:
                return build_envelope(
                    OverageLicensesKept(
                        case_id="ovc_1",
                        account_id=account_id,
                        subscription_id=subscription_id,
                        vendor_id="vnd_1",
                        tenant_id="tenant-7",
                        previous_quantity=Decimal(10),
                        new_quantity=Decimal(new_quantity),
                        decided_at=datetime(2027, 3, 15, 16, tzinfo=UTC),
                    ),
                    producer="overage",
                    key=account_id,
                )

            kept = decision(12)
            for envelope in (kept, kept, decision(12)):
                await publisher.publish([OutboundMessage(OVERAGE_EVENTS, account_id, envelope.to_bytes())])  # type: ignore[call-arg]

            async def quantity() -> str:
                response = await client.get(f"/v1/subscriptions/{subscription_id}", headers=OPS)
                return str(response.json()["quantity"])

            await eventually(quantity, until=lambda q: q == "12")
            await asyncio.sleep(1)  # the repeated decisions arrive after the first
            history = (
                await ok(await client.get(f"/v1/subscriptions/{subscription_id}/history", headers=OPS))
            )["data"]
            assert [(h["kind"], h["effective_date"], h["by"]) for h in history] == [
                ("activate", "2027-01-01", history[0]["by"]),
                ("upgrade", "2027-03-15", "overage"),
            ]
            assert await quantity() == "12"
    finally:
        await publisher.stop()
