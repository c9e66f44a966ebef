"""Bill runs on the real invoice engine, SQLite and PostgreSQL: the read model fed with the events
other services send, a run started over the API, invoices issued once, numbered without gaps.

Expected amounts are worked out here from the business rules, not by the code under test:
- EXAMPLES §6: 300.00 a month in advance from 2026-04-16, cycle day 1 → 150.00 for the 15
  remaining days of April (billed back on the first invoice) and 300.00 for May; California
  sales tax 7.25 % on each line, rounded per line: 10.875 → 10.88 and 21.75.
- EXAMPLES §3: a completed workshop fulfillment, 15 x 150.00 + 12 x 400.00 + 1 x 5,000.00 =
  12,050.00, invoiced at once on its own invoice (tax-exempt products here: no rate for them).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from invoicing.app import create_app
from invoicing.bootstrap import InvoicingRuntime
from invoicing.handlers import billing_inputs as read_model
from libs.contracts import invoicing as invoicing_contracts
from libs.contracts import provisioning
from libs.contracts.envelope import Envelope
from libs.platform.clock import FixedClock
from libs.platform.outbox import OutboxMessage
from tests.invoicing.integration.conftest import invoicing_settings
from tests.invoicing.upstream_events import (
    account_opened,
    fulfillment_completed,
    product_changed,
    subscription_event,
)
from tests.support.polling import eventually
from tests.support.services import auth, running_app

AT = datetime(2026, 4, 16, 12, tzinfo=UTC)
FINANCE = auth("finance")


@pytest.fixture
async def invoicing(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, InvoicingRuntime]]:
    """Invoicing with its real account billing, bus off (a run bills each chunk as it pages it)."""
    app = create_app(
        invoicing_settings(database_url), clock=FixedClock(datetime(2026, 6, 12, 18, tzinfo=UTC))
    )
    async with running_app(app) as client:
        runtime = app.state.runtime
        assert isinstance(runtime, InvoicingRuntime)
        yield client, runtime


async def _feed(runtime: InvoicingRuntime, *account_ids: str) -> None:
    """What provisioning and the catalog publish: the plan product, the accounts, one subscription each."""
    for account_id in account_ids:
        async with runtime.invoicing_unit_of_work() as uow:
            await read_model.apply_account_event(uow=uow, profile=account_opened(account_id), occurred_at=AT)
        async with runtime.invoicing_unit_of_work() as uow:
            await read_model.apply_subscription_event(
                uow=uow,
                event=subscription_event(provisioning.SubscriptionActivated, f"sub_{account_id}", account_id),
                event_id=str(uuid.uuid4()),
                occurred_at=AT,
                event_kind="subscription.activated",
            )
    async with runtime.invoicing_unit_of_work() as uow:
        await read_model.apply_product_changed(
            uow=uow,
            event=product_changed("prod_plan", name="Scheduling plan", tax_code="SW050000"),
            occurred_at=AT,
        )


async def _run(client: httpx.AsyncClient, bill_date: str) -> dict[str, Any]:
    started = await client.post("/v1/bill-runs", json={"bill_date": bill_date}, headers=FINANCE)
    assert started.status_code == 202, started.text

    async def probe() -> dict[str, Any]:
        response = await client.get(f"/v1/bill-runs/{started.json()['id']}", headers=FINANCE)
        return dict(response.json())

    return await eventually(probe, until=lambda run: run["state"].startswith("completed"), timeout_s=60)


async def _invoices(client: httpx.AsyncClient, account_id: str) -> list[dict[str, Any]]:
    listed = await client.get("/v1/invoices", params={"account_id": account_id}, headers=FINANCE)
    assert listed.status_code == 200, listed.text
    return list(listed.json()["data"])


async def _outbox(runtime: InvoicingRuntime, event_type: str) -> list[str]:
    """The bodies of the outbox's events of one type, oldest first."""
    async with runtime.db.session() as session:
        rows = await session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.event_type == event_type)
            .order_by(col(OutboxMessage.id))
        )
        return [row.body for row in rows.all()]


async def test_a_bill_run_issues_each_account_one_invoice_and_a_rerun_adds_none(
    invoicing: tuple[httpx.AsyncClient, InvoicingRuntime],
) -> None:
    client, runtime = invoicing
    rate = await client.post(
        "/v1/tax-rates",
        json={
            "country": "US",
            "region": "CA",
            "rate": "7.25",
            "name": "Sales tax",
            "effective_from": "2026-01-01",
        },
        headers=FINANCE,
    )
    assert rate.status_code == 201, rate.text
    await _feed(runtime, "acct_a", "acct_b", "acct_c")

    run = await _run(client, "2026-05-01")

    assert run["state"] == "completed", run
    assert (run["accounts_total"], run["accounts_done"], run["invoices_created"]) == (3, 3, 3)
    numbers = []
    for account_id in ("acct_a", "acct_b", "acct_c"):
        (invoice,) = await _invoices(client, account_id)
        assert invoice["state"] == "finalized"
        assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == ("450.00", "32.63", "482.63")
        assert [(line["period_start"], line["amount"], line["tax_amount"]) for line in invoice["lines"]] == [
            ("2026-04-16", "150.00", "10.88"),
            ("2026-05-01", "300.00", "21.75"),
        ]
        assert invoice["invoice_date"] == "2026-05-01" and invoice["due_date"] == "2026-05-31"
        numbers.append(invoice["number"])
    assert sorted(numbers) == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    # What the chunk serialized for its events is the contract's, and says what the API shows.
    issued = [Envelope.model_validate_json(body) for body in await _outbox(runtime, "invoice.finalized")]
    finalized = [envelope.payload_as(invoicing_contracts.InvoiceFinalized) for envelope in issued]
    assert sorted((f.number, f.account_id, f.total, f.tax_total) for f in finalized) == [
        ("INV-2026-000001", "acct_a", Decimal("482.63"), Decimal("32.63")),
        ("INV-2026-000002", "acct_b", Decimal("482.63"), Decimal("32.63")),
        ("INV-2026-000003", "acct_c", Decimal("482.63"), Decimal("32.63")),
    ]
    assert [[(line.amount, line.tax_amount) for line in f.lines] for f in finalized] == 3 * [
        [(Decimal("150.00"), Decimal("10.88")), (Decimal("300.00"), Decimal("21.75"))]
    ]
    assert {e.key for e in issued} == {"acct_a", "acct_b", "acct_c"}
    drafted = await _outbox(runtime, "invoice.drafted")
    assert [
        Envelope.model_validate_json(body).payload_as(invoicing_contracts.InvoiceDrafted).line_count
        for body in drafted
    ] == [2, 2, 2]

    again = await _run(client, "2026-05-01")

    assert (again["state"], again["invoices_created"]) == ("completed", 0)
    assert [len(await _invoices(client, a)) for a in ("acct_a", "acct_b", "acct_c")] == [1, 1, 1]

    june = await _run(client, "2026-06-01")

    assert june["invoices_created"] == 3
    (_, newest) = sorted(await _invoices(client, "acct_a"), key=lambda invoice: invoice["number"])
    assert (newest["subtotal"], newest["tax_total"], newest["number"][:9]) == ("300.00", "21.75", "INV-2026-")


async def test_a_completed_fulfillment_is_invoiced_at_once_on_its_own_invoice(
    invoicing: tuple[httpx.AsyncClient, InvoicingRuntime],
) -> None:
    client, runtime = invoicing
    async with runtime.invoicing_unit_of_work() as uow:
        await read_model.apply_account_event(uow=uow, profile=account_opened("acct_ws"), occurred_at=AT)

    async with runtime.invoicing_unit_of_work() as uow:
        await read_model.apply_fulfillment_completed(
            uow=uow, event=fulfillment_completed("ful_ws", "acct_ws")
        )

    async def issued() -> list[dict[str, Any]]:
        return [invoice for invoice in await _invoices(client, "acct_ws") if invoice["state"] == "finalized"]

    (invoice,) = await eventually(issued, until=lambda found: len(found) == 1, timeout_s=60)
    assert invoice["total"] == "12050.00"  # 2,250.00 + 4,800.00 + 5,000.00, no tax rate for these
    assert sorted(line["amount"] for line in invoice["lines"]) == ["2250.00", "4800.00", "5000.00"]
    assert invoice["invoice_date"] == "2026-06-12"

    async with runtime.invoicing_unit_of_work() as uow:  # redelivered: nothing more
        await read_model.apply_fulfillment_completed(
            uow=uow, event=fulfillment_completed("ful_ws", "acct_ws")
        )
    runs = (await client.get("/v1/bill-runs", headers=FINANCE)).json()["data"]
    assert [run["kind"] for run in runs] == ["fulfillment"]
    assert len(await _invoices(client, "acct_ws")) == 1
