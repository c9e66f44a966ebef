"""Overage running in-process on a real database (SQLite always, PostgreSQL when reachable).

Notices are worked and cases escalated by the tests themselves (`runtime.work_notices()`,
`runtime.escalate_overdue()`): the timers are off, so each test says when the work happens.
The payables tests use `overage` (its clock fixed on 2026-03-02, events delivered through the
payables read model's own handlers); the notice and case tests use `client` on a `MovableClock`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import spec_of
from libs.platform.clock import FixedClock
from libs.platform.outbox import OutboxMessage, build_envelope
from overage.app import create_app
from overage.bootstrap import OverageRuntime
from overage.config import OverageSettings
from overage.consumers import PAYABLES_READ_MODEL_GROUP
from tests.support.services import running_app, service_settings


@pytest.fixture
def migrated_service() -> str:
    """The databases of these tests come migrated to overage's head (copies of a template)."""
    return "overage"


START = datetime(2026, 8, 2, 12, tzinfo=UTC)
MARCH_2 = FixedClock(datetime(2026, 3, 2, 15, tzinfo=UTC))


@dataclass
class MovableClock:
    """A clock the test moves forward (deadlines, secret overlaps, stale timestamps)."""

    at: datetime = START

    def now(self) -> datetime:
        """The current test instant."""
        return self.at

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.at += delta


def overage_settings(database_url: str, broker: str | None = None, **extra: object) -> OverageSettings:
    """Settings for overage under test (bus off when no broker is given; timers off unless given)."""
    extra.setdefault("notice_worker_interval_s", 0)
    extra.setdefault("escalation_interval_s", 0)
    return service_settings(OverageSettings, database_url=database_url, bootstrap=broker, **extra)


def runtime_of(app: FastAPI) -> OverageRuntime:
    """The overage runtime of an app."""
    runtime = app.state.runtime
    assert isinstance(runtime, OverageRuntime)
    return runtime


@pytest.fixture
def clock() -> MovableClock:
    """A fresh movable clock at 2026-08-02 12:00 UTC."""
    return MovableClock()


@pytest.fixture
def overage_app(database_url: str, clock: MovableClock) -> FastAPI:
    """Overage on SQLite and on PostgreSQL, bus off."""
    return create_app(overage_settings(database_url), clock=clock)


@pytest.fixture
async def client(overage_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the running `overage_app`."""
    async with running_app(overage_app) as http:
        yield http


@dataclass
class Overage:
    """The running service: its app and a client."""

    app: FastAPI
    client: httpx.AsyncClient

    @property
    def runtime(self) -> OverageRuntime:
        return runtime_of(self.app)

    async def deliver(self, *payloads: EventPayload) -> None:
        """Apply events as the payables read model's consumer does (its own handlers), each in its
        own transaction, without the broker."""
        (spec,) = [s for s in self.runtime.consumer_specs if s.group_id == PAYABLES_READ_MODEL_GROUP]
        for payload in payloads:
            envelope = build_envelope(payload, producer="test", key="k")
            async with self.runtime.db.session() as session:
                await spec.handlers[spec_of(payload).type](session, envelope)
                await session.commit()

    async def outbox(self, event_type: str) -> list[dict[str, Any]]:
        """Payloads of one type in the outbox, oldest first."""
        async with self.runtime.db.session() as session:
            rows = (
                await session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.event_type == event_type)
                    .order_by(col(OutboxMessage.id))
                )
            ).all()
        return [json.loads(row.body)["payload"] for row in rows]


@pytest.fixture
async def overage(database_url: str) -> AsyncIterator[Overage]:
    """Overage on SQLite and on PostgreSQL, bus off, its clock on 2026-03-02."""
    app = create_app(overage_settings(database_url), clock=MARCH_2)
    async with running_app(app) as client:
        yield Overage(app, client)
