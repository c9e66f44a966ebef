"""Invoicing running in-process on a real database (SQLite always, PostgreSQL when reachable)."""

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

from invoicing.app import create_app
from invoicing.bootstrap import InvoicingRuntime
from invoicing.config import InvoicingSettings
from invoicing.handlers import invoices as handlers
from libs.platform.audit import AuditRecord
from libs.platform.clock import FixedClock
from libs.platform.outbox import OutboxMessage
from tests.invoicing.factories import AUGUST, billing_account, invoice_line
from tests.support.services import running_app, service_settings


@pytest.fixture
def migrated_service() -> str:
    """The databases of these tests come migrated to invoicing's head (copies of a template)."""
    return "invoicing"


AUGUST_1 = FixedClock(datetime(2026, 8, 1, 16, tzinfo=UTC))
"""Noon in New York on the first day of August: the bill date of the tests."""


def invoicing_settings(database_url: str, broker: str | None = None, **extra: object) -> InvoicingSettings:
    """Settings for invoicing under test (bus off when no broker is given); no scheduled runs, runs
    picked up at once, chunks of 100 accounts unless said otherwise."""
    extra.setdefault("bill_run_schedule_enabled", False)
    extra.setdefault("collections_schedule_enabled", False)
    extra.setdefault("bill_run_poll_s", 0.05)
    extra.setdefault("bill_run_chunk_accounts", 100)
    extra.setdefault("issuer_name", "Northwind Reseller LLC")
    extra.setdefault("issuer_address", "200 Park Avenue, Suite 1700\nNew York, NY 10166\nUnited States")
    extra.setdefault("issuer_tax_id", "US 12-3456789")
    return service_settings(InvoicingSettings, database_url=database_url, bootstrap=broker, **extra)


@dataclass
class Invoicing:
    """The running service: its app, a client and its runtime."""

    app: FastAPI
    client: httpx.AsyncClient

    @property
    def runtime(self) -> InvoicingRuntime:
        runtime = self.app.state.runtime
        assert isinstance(runtime, InvoicingRuntime)
        return runtime

    async def draft(self, **kwargs: Any) -> handlers.DraftOutcome:
        """What the bill run does: a draft for an account's period (August on acct_1 unless told)."""
        values: dict[str, Any] = {
            "account": billing_account(),
            "currency": "USD",
            "period_start": AUGUST[0],
            "period_end": AUGUST[1],
            "lines": [
                invoice_line("sub_1:2026-08"),
                invoice_line("ru_1", quantity="12345", unit_price="0.0075"),
            ],
        }
        values.update(kwargs)
        async with self.runtime.invoicing_unit_of_work() as uow:
            return await handlers.draft_invoice(uow=uow, **values)

    async def draft_for(self, account_id: str) -> handlers.DraftOutcome:
        """A one-line August draft for another account."""
        return await self.draft(
            account=billing_account(account_id), lines=[invoice_line("x", account_id=account_id)]
        )

    async def finalize(self, invoice_id: str) -> Any:
        async with self.runtime.invoicing_unit_of_work() as uow:
            return await handlers.finalize_invoice(uow=uow, invoice_id=invoice_id)

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

    async def audit_actions(self, entity_id: str) -> list[str]:
        async with self.runtime.db.session() as session:
            rows = (
                await session.exec(
                    select(AuditRecord)
                    .where(AuditRecord.entity_id == entity_id)
                    .order_by(col(AuditRecord.id))
                )
            ).all()
        return [row.action for row in rows]


@pytest.fixture
async def invoicing(database_url: str) -> AsyncIterator[Invoicing]:
    """Invoicing on SQLite and on PostgreSQL, bus off, its clock on 2026-08-01."""
    app = create_app(invoicing_settings(database_url), clock=AUGUST_1)
    async with running_app(app) as client:
        yield Invoicing(app, client)


@pytest.fixture
async def any_db_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Invoicing on SQLite and on PostgreSQL, bus off."""
    async with running_app(create_app(invoicing_settings(database_url))) as http:
        yield http
