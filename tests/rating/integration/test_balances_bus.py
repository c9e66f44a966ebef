"""Over the real broker: a `subscription.cancelled` published on `provisioning.events`, twice,
refunds the subscription's prepaid balances once, and `balance.refunded` is published."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select

from libs.contracts.envelope import Envelope
from libs.contracts.topics import PROVISIONING_EVENTS
from libs.platform.broker import KafkaPublisher
from libs.platform.outbox import OutboundMessage, OutboxMessage, build_envelope
from rating.app import create_app
from rating.consumers import BALANCES_GROUP
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import (
    rated_account,
    rated_subscription,
)
from tests.rating.integration.factories_balances import (
    FINANCE,
    OPS,
    clock_on,
    create,
    ok,
    units_balance,
)
from tests.rating.upstream_events import subscription_cancelled
from tests.support.polling import eventually
from tests.support.services import running_app


async def _published_refunds(app: object, account_id: str) -> list[str]:
    async with app.state.runtime.db.session() as session:  # type: ignore[attr-defined]
        rows = (
            await session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.key == account_id,
                    OutboxMessage.event_type == "balance.refunded",
                    col(OutboxMessage.published_at).is_not(None),
                )
            )
        ).all()
    return [Envelope.from_bytes(row.body.encode()).payload["amount"] for row in rows]


async def test_a_cancellation_on_the_bus_refunds_once(broker: str, sqlite_url: str) -> None:
    app = create_app(rating_settings(sqlite_url, broker), clock=clock_on(date(2026, 3, 20)))
    publisher = KafkaPublisher(broker, client_id="test-provisioning")
    await publisher.start()
    try:
        async with running_app(app) as client:
            account = await rated_account(app)
            subscription = await rated_subscription(app, account_id=account, product_id="prod_support")
            hours = await create(client, units_balance(account, 10, "150.00", subscription_id=subscription))
            body = {"quantity": 4, "reference": "tickets"}
            await ok(
                await client.post(f"/v1/balances/{hours['id']}/drawdowns", json=body, headers=FINANCE), 201
            )

            cancelled = subscription_cancelled(subscription, account, on=date(2026, 3, 20))
            envelope = build_envelope(cancelled, producer="provisioning", key=account)
            message = OutboundMessage(PROVISIONING_EVENTS, envelope.key, envelope.to_bytes())
            await publisher.publish([message])
            await publisher.publish([message])  # delivered twice

            # 6 unused hours x 150.00, published for invoicing to credit.
            assert await eventually(lambda: _published_refunds(app, account), until=bool, timeout_s=60) == [
                "900.00"
            ]

            async def state() -> str:
                view = await ok(await client.get(f"/v1/balances/{hours['id']}", headers=OPS))
                return str(view["state"])

            assert await state() == "closed"
            (inbox,) = [c for c in app.state.runtime.consumers if c.group_id == BALANCES_GROUP]
            await eventually(lambda: _skipped(inbox), until=lambda n: n >= 1, timeout_s=30)
            assert await _published_refunds(app, account) == ["900.00"]
    finally:
        await publisher.stop()


async def _skipped(consumer: object) -> int:
    return int(consumer.skipped_duplicates)  # type: ignore[attr-defined]
