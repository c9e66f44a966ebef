"""Overage running in-process on a real database (SQLite always, PostgreSQL when reachable).

Notices are worked and cases escalated by the tests themselves (`runtime.work_notices()`,
`runtime.escalate_overdue()`): the timers are off, so each test says when the work happens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from overage.app import create_app
from overage.bootstrap import OverageRuntime
from overage.config import OverageSettings
from tests.support.services import running_app, service_settings

START = datetime(2026, 8, 2, 12, tzinfo=UTC)


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
