"""The payables read model over the real broker, on SQLite and PostgreSQL: the catalog's,
provisioning's and invoicing's events published to their topics commit the seed's resold
subscription (whatever order they come in, redelivered or not) and feed the margin report."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import EVENT_TYPES
from libs.platform.broker import KafkaPublisher
from libs.platform.outbox import OutboundMessage, build_envelope
from overage.app import create_app
from overage.repository.unit_of_work import SqlOverageUnitOfWork
from tests.overage.factories import (
    annual_invoice,
    cost_book_published,
    invoice_finalized,
    invoice_line,
    price_published,
    product_changed,
    subscription_activated,
)
from tests.overage.integration.conftest import MARCH_2, overage_settings
from tests.overage.integration.test_vendor_payables_api import vendor_invoice
from tests.support.polling import eventually
from tests.support.services import auth, running_app

T0 = datetime(2026, 2, 20, 9, tzinfo=UTC)
FINANCE = auth("finance")


def _envelope(payload: EventPayload, key: str, at: datetime = T0) -> Envelope:
    return build_envelope(payload, producer="test", key=key).model_copy(update={"occurred_at": at})


async def _send(publisher: KafkaPublisher, *envelopes: Envelope) -> None:
    messages = [OutboundMessage(EVENT_TYPES[e.type].topic, e.key, e.to_bytes()) for e in envelopes]
    outcomes = await publisher.publish(messages)
    assert all(outcome is None for outcome in outcomes), outcomes


async def _commitments(client: httpx.AsyncClient, account_id: str) -> list[dict[str, Any]]:
    answer = await client.get("/v1/vendor-commitments", params={"account_id": account_id}, headers=FINANCE)
    return list(answer.json()["data"])


async def test_events_commit_the_resold_term_and_feed_the_margin(broker: str, database_url: str) -> None:
    run = uuid.uuid4().hex[:8]
    account, subscription = f"acct_{run}", f"sub_{run}"
    app = create_app(overage_settings(database_url, broker), clock=MARCH_2)
    publisher = KafkaPublisher(broker, client_id="test-upstream")
    await publisher.start()
    try:
        async with running_app(app) as client:
            activated = _envelope(subscription_activated(subscription, account), account)
            # The activation first, twice: its product and cost book are not known yet, so it waits.
            await _send(publisher, activated, activated)
            db = app.state.runtime.db

            async def kept() -> object:
                async with db.session() as session:
                    uow = SqlOverageUnitOfWork(db, producer="overage", session=session)
                    return await uow.resale.subscription(subscription)

            await eventually(kept, until=lambda found: found is not None)
            assert await _commitments(client, account) == []
            await _send(
                publisher,
                _envelope(product_changed(), "prod_wfm_seat"),
                _envelope(price_published(), "prod_wfm_seat"),
                _envelope(cost_book_published(), "cb_monet"),
                # An older state of the subscription changes nothing.
                _envelope(
                    subscription_activated(subscription, account, state="suspended"),
                    account,
                    T0 - timedelta(days=1),
                ),
            )
            (commitment,) = await eventually(
                lambda: _commitments(client, account), until=lambda found: len(found) == 1
            )
            assert [(e["invoice_date"], e["amount"]) for e in commitment["expected_invoices"]] == [
                ("2026-03-01", "30000.00"),
                ("2027-03-01", "30000.00"),
                ("2028-03-01", "30000.00"),
            ]

            issued = [
                invoice_finalized(
                    f"inv_{run}_{y}",
                    f"INV-{y}-{run}",
                    date(y, 3, 1),
                    [annual_invoice(y, subscription_id=subscription)],
                    account,
                )
                for y in (2026, 2027, 2028)
            ]
            rebill = invoice_finalized(
                f"inv_{run}_aug",
                f"INV-2026-{run}-8",
                date(2026, 8, 1),
                [
                    invoice_line(
                        f"overage:case_{run}:2026-07",
                        "144.00",
                        period_start=date(2026, 7, 1),
                        period_end=date(2026, 8, 1),
                        subscription_id=subscription,
                        quantity="12",
                        unit_price="12.00",
                        kind="one_time",
                    )
                ],
                account,
            )
            await _send(publisher, *(_envelope(e, account) for e in [*issued, rebill, issued[0]]))
            for year in (2026, 2027, 2028):
                body = vendor_invoice(year, number=f"MON-{year}-{run}", subscription_id=subscription)
                answer = await client.post("/v1/vendor-invoices", json=body, headers=FINANCE)
                assert (answer.status_code, answer.json()["match"]) == (201, "matched"), answer.text
            overage_bill = vendor_invoice(
                number=f"MON-OVG-{run}",
                kind="overage",
                subscription_id=subscription,
                overage_case_id=f"case_{run}",
                amount="120.00",
                invoice_date="2026-08-03",
                period_start="2026-07-01",
                period_end="2026-08-01",
            )
            assert (
                await client.post("/v1/vendor-invoices", json=overage_bill, headers=FINANCE)
            ).status_code == 201

            async def margins() -> dict[str, Any]:
                params = {"from": "2026-03", "to": "2029-02", "account_id": account}
                return dict((await client.get("/v1/margins", params=params, headers=FINANCE)).json())

            def billed_all(report: dict[str, Any]) -> bool:
                return [t["billed_to_customer"] for t in report["totals"]] == ["108144.00"]

            report = await eventually(margins, until=billed_all)
            assert [
                (
                    line["period"],
                    line["billed_to_customer"],
                    line["billed_by_vendor"],
                    line["margin"],
                    line["margin_percent"],
                )
                for line in report["lines"]
            ] == [
                ("2026-03", "36000.00", "30000.00", "6000.00", "16.67"),
                ("2026-07", "144.00", "120.00", "24.00", "16.67"),
                ("2027-03", "36000.00", "30000.00", "6000.00", "16.67"),
                ("2028-03", "36000.00", "30000.00", "6000.00", "16.67"),
            ]
            (total,) = report["totals"]
            # 108,144.00 - 90,120.00 = 18,024.00; 18,024 / 108,144 = 16.6666...% -> 16.67.
            assert (total["billed_by_vendor"], total["margin"], total["margin_percent"]) == (
                "90120.00",
                "18024.00",
                "16.67",
            )
    finally:
        await publisher.stop()
