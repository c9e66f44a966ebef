"""Factories of the support-contract tests: catalog template events delivered through the real
`rating.support` consumer (inbox and all, minus the broker), API calls (the read model and the
outbox: `factories.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeAlias

import httpx
from aiokafka.structs import ConsumerRecord
from fastapi import FastAPI

from libs.contracts.catalog import ContractTemplateChanged
from libs.contracts.envelope import Envelope
from libs.contracts.topics import CATALOG_EVENTS
from libs.platform.clock import FixedClock
from libs.platform.inbox import IdempotentConsumer
from libs.platform.outbox import build_envelope
from libs.platform.settings import Role
from rating.app import create_app
from rating.bootstrap import RatingRuntime
from rating.consumers import SUPPORT_GROUP
from tests.rating.integration.conftest import rating_settings
from tests.support.services import auth, running_app

FINANCE = auth(Role.FINANCE)
CRM = auth(Role.CRM)
OPS = auth(Role.OPS)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
"""The service's fixed clock in these tests."""


@dataclass
class SupportService:
    """Rating running on a real database with a fixed clock, and a client of it."""

    app: FastAPI
    client: httpx.AsyncClient

    @property
    def runtime(self) -> RatingRuntime:
        runtime = self.app.state.runtime
        assert isinstance(runtime, RatingRuntime)
        return runtime


@asynccontextmanager
async def support_service(database_url: str, *, now: datetime = NOW) -> AsyncIterator[SupportService]:
    """Rating on `database_url` (bus off), its clock stopped at `now`."""
    app = create_app(rating_settings(database_url), clock=FixedClock(now))
    async with running_app(app) as client:
        yield SupportService(app, client)


Target: TypeAlias = SupportService | RatingRuntime
"""A running service, or a runtime of its database (the fuzz test's seed)."""


def _runtime(target: Target) -> RatingRuntime:
    return target.runtime if isinstance(target, SupportService) else target


# --- catalog templates, through the consumer ---------------------------------------------------


def template_event(
    template_id: str,
    kind: str,
    *,
    period_months: int | None = None,
    hours: int | str | None = None,
    on_expiry: str = "ignore",
    product_id: str | None = "prod_support",
    occurred_at: datetime = NOW,
    change: str = "created",
) -> Envelope:
    """The catalog's `catalog.contract_template_changed` as it travels."""
    payload = ContractTemplateChanged(
        template_id=template_id,
        change=change,
        name=f"{kind} support",
        kind=kind,
        period_months=period_months,
        hours=None if hours is None else Decimal(hours),
        on_expiry=on_expiry,
        product_id=product_id,
    )
    envelope = build_envelope(payload, producer="catalog", key=template_id)
    return envelope.model_copy(update={"occurred_at": occurred_at})


async def deliver(target: Target, *envelopes: Envelope) -> int:
    """Apply envelopes through the `rating.support` group's handlers and inbox; how many took effect."""
    runtime = _runtime(target)
    (spec,) = [s for s in runtime.consumer_specs if s.group_id == SUPPORT_GROUP]
    consumer = IdempotentConsumer(
        runtime.db,
        group_id=spec.group_id,
        topics=spec.topics,
        handlers=spec.handlers,
        bootstrap_servers="127.0.0.1:1",
    )
    records: list[Any] = [
        ConsumerRecord(CATALOG_EVENTS, 0, offset, 0, 0, e.key.encode(), e.to_bytes(), None, 0, 0, [])
        for offset, e in enumerate(envelopes)
    ]
    return await consumer.apply(records)


# --- API -----------------------------------------------------------------------------------------


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have `status`."""
    assert response.status_code == status, response.text
    return response.json()


async def open_contract(
    service: SupportService,
    template_id: str,
    holder: tuple[str, str],
    starts_on: str,
    **overrides: Any,
) -> dict[str, Any]:
    """POST a contract for `holder` = (holder_type, holder_id)."""
    body = {
        "template_id": template_id,
        "holder_type": holder[0],
        "holder_id": holder[1],
        "starts_on": starts_on,
    }
    response = await service.client.post("/v1/support-contracts", json=body | overrides, headers=FINANCE)
    return ok(response, 201)


async def open_request(
    service: SupportService, subscription_id: str, opened_at: str, **extra: Any
) -> dict[str, Any]:
    """POST a support request on a subscription."""
    body = {"subscription_id": subscription_id, "opened_at": opened_at, "summary": "The scheduler is down"}
    response = await service.client.post("/v1/support-requests", json=body | extra, headers=CRM)
    return ok(response, 201)


async def log_time(
    service: SupportService, request_id: str, hours: int | str, logged_at: str
) -> dict[str, Any]:
    """POST time spent on a request."""
    body = {"hours": hours, "logged_at": logged_at}
    response = await service.client.post(f"/v1/support-requests/{request_id}/time", json=body, headers=CRM)
    return ok(response, 201)


async def contract_view(service: SupportService, contract_id: str) -> dict[str, Any]:
    """GET one contract."""
    return ok(await service.client.get(f"/v1/support-contracts/{contract_id}", headers=OPS))
