"""The `invoicing.ledger` consumer group over the real broker: invoicing's own events published on
`invoicing.events` (as the invoice engine, payments and collections publish them) are booked once
each — a redelivered event, and the same payment under a new event id, change nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from invoicing.app import create_app
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import EVENT_TYPES
from libs.platform.broker import KafkaPublisher
from libs.platform.clock import FixedClock
from libs.platform.outbox import OutboundMessage, build_envelope
from libs.platform.settings import Role
from tests.invoicing.factories_ledger import (
    balances,
    credit_note_issued,
    invoice_finalized,
    invoice_line,
    payment_received,
)
from tests.invoicing.integration.conftest import invoicing_settings
from tests.invoicing.upstream_events import product_changed
from tests.support.polling import eventually
from tests.support.services import auth, running_app

OPS, FINANCE = auth(Role.OPS), auth(Role.FINANCE)


def _envelope(payload: EventPayload, key: str) -> Envelope:
    return build_envelope(payload, producer="test", key=key)


async def _send(publisher: KafkaPublisher, *envelopes: Envelope) -> None:
    messages = [OutboundMessage(EVENT_TYPES[e.type].topic, e.key, e.to_bytes()) for e in envelopes]
    assert await publisher.publish(messages) == [None] * len(messages)


async def test_invoicing_events_on_the_bus_are_booked_once(broker: str, sqlite_url: str) -> None:
    account = f"acct_{uuid.uuid4().hex[:8]}"
    app = create_app(
        invoicing_settings(sqlite_url, broker), clock=FixedClock(datetime(2026, 12, 1, tzinfo=UTC))
    )
    publisher = KafkaPublisher(broker, client_id="test-invoicing")
    await publisher.start()
    try:
        async with running_app(app) as client:

            async def get(path: str, **params: Any) -> Any:
                response = await client.get(path, params=params, headers=OPS)
                assert response.status_code == 200, response.text
                return response.json()

            async def trial_balance() -> dict[str, str]:
                return balances(await get("/v1/gl/trial-balance", as_of="2026-12-31"))

            await _send(
                publisher, _envelope(product_changed("prod_seats", revenue_rule="ratable"), "prod_seats")
            )
            await eventually(
                lambda: get("/v1/revenue-schedules", account_id=account),
                until=lambda page: page["data"] == [],
            )
            invoice = invoice_finalized(
                f"inv_{account}",
                "INV-2026-000001",
                date(2026, 3, 1),
                [
                    invoice_line(
                        "recurring:sub_1:2026-03-01", "36000.00", period=(date(2026, 3, 1), date(2027, 3, 1))
                    )
                ],
                account_id=account,
            )
            finalized = _envelope(invoice, account)
            payment = payment_received(
                "pay_1", "36000.00", date(2026, 3, 20), [(invoice.invoice_id, "36000.00")]
            )
            paid = _envelope(payment.model_copy(update={"account_id": account}), account)
            again = _envelope(payment.model_copy(update={"account_id": account}), account)  # a new event id
            note = _envelope(
                credit_note_issued(
                    "cn_000001",
                    invoice,
                    date(2026, 9, 15),
                    [("recurring:sub_1:2026-03-01", "12000.00", "0.00")],
                    account_credit="12000.00",
                ),
                account,
            )
            await _send(publisher, finalized, finalized, paid, again, paid, note, note)

            # The credit note on the paid invoice went to the customer's credit: Dr revenue 6,049.31
            # (March-August recognised), Dr deferred 5,950.69, Cr customer credit 12,000.00.
            expected = {
                "1000": "36000.00",
                "1100": "0.00",
                "2300": "-12000.00",
                "2400": "-30049.31",
                "4000": "6049.31",
            }
            assert (
                await eventually(trial_balance, until=lambda found: found == expected, timeout_s=30)
                == expected
            )
            journal = await get("/v1/gl/journal", **{"from": "2026-01-01", "to": "2026-12-31"})
            assert [e["kind"] for e in journal["data"]] == ["invoice", "payment", "credit_note"]
            schedules = await get("/v1/revenue-schedules", account_id=account)
            assert [(s["amount"], s["credited"]) for s in schedules["data"]] == [("36000.00", "12000.00")]
    finally:
        await publisher.stop()
