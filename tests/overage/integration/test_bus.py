"""Overage over the real broker: provisioning's and the catalog's events build its read model
(`overage.read_model`), the notice worker runs on its timer, and the re-bill it publishes lands in
invoicing's read model as one one-time charge of 144.00 — however often it is delivered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import select

from invoicing.app import create_app as create_invoicing_app
from invoicing.models.billing_inputs import OneTimeChargeRow
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import EVENT_TYPES
from libs.platform.broker import KafkaPublisher
from libs.platform.outbox import OutboundMessage, build_envelope
from libs.platform.settings import Role
from overage.app import create_app
from tests.invoicing.integration.conftest import invoicing_settings
from tests.overage.integration.conftest import overage_settings, runtime_of
from tests.overage.integration.factories import (
    cost_book_published,
    create_vendor,
    map_tenant,
    notice_body,
    signed_headers,
    subscription_activated,
)
from tests.support.polling import eventually
from tests.support.services import auth, running_app

T0 = datetime(2026, 7, 1, 9, tzinfo=UTC)


def _envelope(payload: EventPayload, key: str) -> Envelope:
    return build_envelope(payload, producer="test", key=key).model_copy(update={"occurred_at": T0})


async def _send(publisher: KafkaPublisher, *envelopes: Envelope) -> None:
    messages = [OutboundMessage(EVENT_TYPES[e.type].topic, e.key, e.to_bytes()) for e in envelopes]
    assert all(outcome is None for outcome in await publisher.publish(messages))


async def test_a_notice_goes_from_the_signed_webhook_to_invoicing_s_next_run(
    broker: str, tmp_path: object
) -> None:
    run = uuid.uuid4().hex[:8]
    account_id, subscription_id = f"acct_{run}", f"sub_{run}"
    overage = create_app(
        overage_settings(f"sqlite+aiosqlite:///{tmp_path}/overage.db", broker, notice_worker_interval_s=0.1)
    )
    invoicing = create_invoicing_app(
        invoicing_settings(f"sqlite+aiosqlite:///{tmp_path}/invoicing.db", broker)
    )
    publisher = KafkaPublisher(broker, client_id="test-upstream")
    await publisher.start()
    try:
        async with running_app(overage) as client, running_app(invoicing) as invoicing_client:
            activated = _envelope(subscription_activated(subscription_id, account_id, "250"), account_id)
            book = _envelope(cost_book_published(f"cb_{run}"), "ven_wfm")
            await _send(publisher, activated, book, activated)  # redelivered: applied once
            vendor_id, secret = await create_vendor(client, cost_book_id=f"cb_{run}")
            tenant_id = await map_tenant(client, vendor_id, f"tenant-{run}", account_id, subscription_id)

            async def licensed() -> object:
                tenant = await client.get(f"/v1/vendor-tenants/{tenant_id}", headers=auth(Role.OPS))
                return tenant.json()["licensed_quantity"]

            assert await eventually(licensed, until=lambda q: q == "250") == "250"

            async def markup_known() -> bool:
                async with runtime_of(overage).overage_unit_of_work() as uow:
                    return await uow.read_model.cost_book(f"cb_{run}") is not None

            await eventually(markup_known, until=bool)

            body = notice_body(f"n-{run}", tenant=f"tenant-{run}")
            url = f"/v1/webhooks/vendors/{vendor_id}/overage"
            posted = await client.post(
                url, content=body, headers=signed_headers(secret, body, datetime.now(UTC))
            )
            assert posted.status_code == 202, posted.text

            async def charges() -> list[OneTimeChargeRow]:
                async with invoicing.state.runtime.db.session() as session:
                    stmt = select(OneTimeChargeRow).where(OneTimeChargeRow.account_id == account_id)
                    return list((await session.exec(stmt)).all())

            (charge,) = await eventually(charges, until=lambda rows: len(rows) == 1)
            assert (charge.kind, charge.quantity, charge.unit_price, charge.amount, charge.currency) == (
                "overage_rebill",
                Decimal(12),
                Decimal(12),
                Decimal("144.00"),
                "USD",
            )
            assert charge.charge_id == f"overage:{vendor_id}:n-{run}"
            assert "2026-07" in charge.description and "12 over" in charge.description
            ready = await invoicing_client.get("/readyz")
            assert ready.json()["checks"]["consumer:invoicing.read_model"] == "ok", ready.text
            overage_ready = await client.get("/readyz")
            assert overage_ready.json()["checks"]["consumer:overage.read_model"] == "ok", overage_ready.text
    finally:
        await publisher.stop()
