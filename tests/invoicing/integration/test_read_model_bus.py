"""Invoicing over the real broker: provisioning's, rating's and the catalog's events published to
their topics build the read model of billing inputs (an older account event changes nothing, a
redelivered subscription event adds no second version, a batch message of rated usage delivered
twice is kept once, event types it does not read are ignored)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from invoicing.app import create_app
from invoicing.domain.billing_inputs import BillingInputs, OneTimeChargeKind
from invoicing.repository.unit_of_work import SqlInvoicingUnitOfWork
from libs.contracts import provisioning
from libs.contracts.batch import BATCH_HEADERS, encode_batch
from libs.contracts.catalog import QuoteCreated
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import EVENT_TYPES
from libs.contracts.topics import RATING_EVENTS
from libs.platform.broker import KafkaPublisher
from libs.platform.db import Database
from libs.platform.outbox import OutboundMessage, build_envelope
from tests.invoicing.integration.conftest import invoicing_settings
from tests.invoicing.upstream_events import (
    account_opened,
    fulfillment_completed,
    order_approved,
    order_line,
    price_published,
    product_changed,
    subscription_cancelled,
    subscription_event,
    usage_rated,
)
from tests.support.polling import eventually
from tests.support.services import running_app

T0 = datetime(2026, 4, 16, 9, tzinfo=UTC)


def _envelope(payload: EventPayload, key: str, occurred_at: datetime) -> Envelope:
    return build_envelope(payload, producer="test", key=key).model_copy(update={"occurred_at": occurred_at})


async def _send(publisher: KafkaPublisher, *envelopes: Envelope) -> None:
    messages = [OutboundMessage(EVENT_TYPES[e.type].topic, e.key, e.to_bytes()) for e in envelopes]
    outcomes = await publisher.publish(messages)
    assert all(outcome is None for outcome in outcomes), outcomes


def _batch(envelopes: list[Envelope]) -> OutboundMessage:
    """One batch message of rated usage, as rating's relay packs it."""
    value = encode_batch([e.to_bytes() for e in envelopes], event_ids=[str(e.event_id) for e in envelopes])
    return OutboundMessage(RATING_EVENTS, envelopes[0].key, value, BATCH_HEADERS)


async def _inputs(db: Database, account_id: str) -> BillingInputs | None:
    async with db.session() as session:
        uow = SqlInvoicingUnitOfWork(db, producer="invoicing", actor="test", session=session)
        return (await uow.billing_inputs.billing_inputs([account_id])).get(account_id)


async def test_events_on_the_three_topics_build_the_read_model(broker: str, sqlite_url: str) -> None:
    run = uuid.uuid4().hex[:8]
    parent, child, subscription_id = f"acct_{run}", f"acct_{run}_child", f"sub_{run}"
    app = create_app(invoicing_settings(sqlite_url, broker))
    publisher = KafkaPublisher(broker, client_id="test-upstream")
    await publisher.start()
    try:
        async with running_app(app):
            db = app.state.runtime.db
            changed = _envelope(
                account_opened(parent, model=provisioning.AccountChanged, bill_cycle_day=15),
                parent,
                T0 + timedelta(1),
            )
            activated = _envelope(
                subscription_event(provisioning.SubscriptionActivated, subscription_id, child), child, T0
            )
            cancelled = _envelope(
                subscription_cancelled(subscription_id, child, on=date(2026, 9, 20)),
                child,
                T0 + timedelta(157),
            )
            onboarding = order_approved(f"ord_{run}", parent, lines=[order_line(f"ol_{run}")])
            await _send(
                publisher,
                _envelope(product_changed(), "prod_plan", T0),
                _envelope(price_published(), "prod_onboarding", T0),
                _envelope(
                    QuoteCreated(
                        quote_id="quo_1",
                        currency="USD",
                        as_of=date(2026, 4, 1),
                        line_count=0,
                        subtotal=Decimal(0),
                        discount_total=Decimal(0),
                        total=Decimal(0),
                        needs_approval=False,
                    ),
                    "quo_1",
                    T0,
                ),
                changed,
                _envelope(account_opened(parent, bill_cycle_day=1), parent, T0),  # older: changes nothing
                _envelope(account_opened(child, parent_account_id=parent, bills_to_parent=True), child, T0),
                activated,
                cancelled,
                activated,  # redelivered: one version
                _envelope(onboarding, parent, T0),
                _envelope(fulfillment_completed(f"ful_{run}", child), child, T0 + timedelta(57)),
            )
            # July to September's usage in one batch message, delivered twice.
            rated = _batch(
                [
                    _envelope(usage_rated(f"ru_{run}_{month}", subscription_id, child, **period), child, T0)
                    for month, period in (
                        (7, {"period_start": date(2026, 7, 1), "period_end": date(2026, 8, 1)}),
                        (
                            8,
                            {
                                "period_start": date(2026, 8, 1),
                                "period_end": date(2026, 9, 1),
                                "amount": "92.59",
                            },
                        ),
                        (
                            9,
                            {
                                "period_start": date(2026, 9, 1),
                                "period_end": date(2026, 10, 1),
                                "amount": "0.01",
                            },
                        ),
                    )
                ]
            )
            assert await publisher.publish([rated, rated]) == [None, None]

            def complete(inputs: BillingInputs | None) -> bool:
                return (
                    inputs is not None
                    and len(inputs.one_time_charges) == 2
                    and len(inputs.fulfillments) == 3
                    and len(inputs.rated_usage) == 3
                    and sum(len(s.versions) for s in inputs.subscriptions) == 2
                )

            inputs = await eventually(lambda: _inputs(db, parent), until=complete)
            assert inputs is not None
            assert inputs.account.bill_cycle_day == 15
            (subscription,) = inputs.subscriptions
            assert (subscription.account_id, subscription.product_name) == (child, "Workforce plan")
            assert [(v.state, v.effective_date) for v in subscription.versions] == [
                ("active", date(2026, 4, 16)),
                ("cancelled", date(2026, 9, 20)),
            ]
            assert sorted((c.kind, c.amount) for c in inputs.one_time_charges) == [
                (OneTimeChargeKind.ORDER_FEE, Decimal("2250.00")),
                (OneTimeChargeKind.TERMINATION_FEE, Decimal("1250.00")),
            ]
            assert [(u.account_id, u.period_start.month, u.amount) for u in inputs.rated_usage] == [
                (child, 7, Decimal("107.59")),
                (child, 8, Decimal("92.59")),
                (child, 9, Decimal("0.01")),
            ]
            assert sum(f.billable_quantity * f.unit_price for f in inputs.fulfillments) == Decimal("12050.00")
            # The child is invoiced with its parent, never on its own.
            assert await _inputs(db, child) is None
    finally:
        await publisher.stop()
