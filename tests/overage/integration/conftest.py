"""Overage running in-process on a real database (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
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

MARCH_2 = FixedClock(datetime(2026, 3, 2, 15, tzinfo=UTC))


def overage_settings(database_url: str, broker: str | None = None, **extra: object) -> OverageSettings:
    """Settings for overage under test (bus off when no broker is given)."""
    return service_settings(OverageSettings, database_url=database_url, bootstrap=broker, **extra)


@dataclass
class Overage:
    """The running service: its app and a client."""

    app: FastAPI
    client: httpx.AsyncClient

    @property
    def runtime(self) -> OverageRuntime:
        runtime = self.app.state.runtime
        assert isinstance(runtime, OverageRuntime)
        return runtime

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
