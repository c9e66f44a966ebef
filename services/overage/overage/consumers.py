"""What the overage service consumes.

Each consumer group is listed in `consumer_specs`; each event is parsed into its contract and
handed to one handler with a unit of work on the consumer's transaction, so its effects, the
inbox entry and the outbox rows of the events it causes commit together (a redelivered event
changes nothing twice); an event older than the state it would replace changes nothing either.

- `overage.read_model` (`provisioning.events`, `catalog.events`): each subscription's licensed
  quantity (subscription.activated / changed / renewed / ...) — a notice whose licensed count
  differs from it is flagged on its case — and each vendor cost book's markup and currency
  (`catalog.cost_book_published`), which re-bills are priced with.
- `overage.payables_read_model` (`provisioning.events`, `catalog.events`, `invoicing.events`):
  subscriptions, products, price versions and vendor cost books (what a vendor commitment is
  priced from — an active resold subscription is committed as soon as all of it is here), and
  issued customer invoices' lines, less their credit notes and voids (what margin compares with
  the vendor's invoices).
- `overage.case_workflow` (`overage.events`, its own): `vendor.invoice_received` naming an overage
  case moves a case waiting in vendor_informed to vendor_invoice_received.

Notices are worked by the service's background worker from the stored notices (bootstrap's
periodic job), not from a topic: the webhook's acknowledgement needs only the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import catalog, invoicing, provisioning
from libs.contracts.catalog import CostBookPublished
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import spec_of
from libs.contracts.topics import CATALOG_EVENTS, INVOICING_EVENTS, OVERAGE_EVENTS, PROVISIONING_EVENTS
from libs.contracts.vendor_payables import VendorInvoiceReceived
from libs.platform.inbox import EventHandler
from libs.platform.service import ConsumerSpec
from overage.handlers import cases, customer_billing, read_model, resold_subscriptions
from overage.repository.unit_of_work import SqlOverageUnitOfWork

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

READ_MODEL_GROUP = "overage.read_model"
PAYABLES_READ_MODEL_GROUP = "overage.payables_read_model"
CASE_WORKFLOW_GROUP = "overage.case_workflow"

SUBSCRIPTION_EVENTS: tuple[type[provisioning.SubscriptionEvent], ...] = (
    provisioning.SubscriptionActivated,
    provisioning.SubscriptionChanged,
    provisioning.SubscriptionSuspended,
    provisioning.SubscriptionResumed,
    provisioning.SubscriptionCancelled,
    provisioning.SubscriptionExpired,
    provisioning.SubscriptionRenewed,
)


def consumer_specs(runtime: ServiceRuntime) -> list[ConsumerSpec]:
    """The consumer groups of the overage service, bound to its runtime."""
    return [
        read_model_consumer(runtime),
        payables_read_model_consumer(runtime),
        case_workflow_consumer(runtime),
    ]


def read_model_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`overage.read_model`: subscriptions' quantities and cost books' markups, as of their latest event."""

    def unit_of_work(session: AsyncSession) -> SqlOverageUnitOfWork:
        return SqlOverageUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor=READ_MODEL_GROUP,
            session=session,
            clock=runtime.clock,
        )

    def on_subscription(model: type[provisioning.SubscriptionEvent]) -> EventHandler:
        async def handler(session: AsyncSession, envelope: Envelope) -> None:
            await read_model.apply_subscription_event(
                uow=unit_of_work(session), event=envelope.payload_as(model), occurred_at=envelope.occurred_at
            )

        return handler

    async def on_cost_book(session: AsyncSession, envelope: Envelope) -> None:
        await read_model.apply_cost_book_published(
            uow=unit_of_work(session),
            event=envelope.payload_as(CostBookPublished),
            occurred_at=envelope.occurred_at,
        )

    handlers: dict[str, EventHandler] = {spec_of(m).type: on_subscription(m) for m in SUBSCRIPTION_EVENTS}
    handlers[spec_of(CostBookPublished).type] = on_cost_book
    return ConsumerSpec(
        group_id=READ_MODEL_GROUP, topics=[PROVISIONING_EVENTS, CATALOG_EVENTS], handlers=handlers
    )


def payables_read_model_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`overage.payables_read_model`: see the module."""

    def on(
        model: type[EventPayload], apply: Callable[[SqlOverageUnitOfWork, Envelope], Awaitable[object]]
    ) -> tuple[str, EventHandler]:
        async def handler(session: AsyncSession, envelope: Envelope) -> None:
            uow = SqlOverageUnitOfWork(
                runtime.db,
                producer=runtime.settings.service_name,
                actor=PAYABLES_READ_MODEL_GROUP,
                session=session,
                clock=runtime.clock,
            )
            await apply(uow, envelope)
            await uow.commit()

        return spec_of(model).type, handler

    async def subscription_event(uow: SqlOverageUnitOfWork, envelope: Envelope) -> None:
        model = next(m for m in SUBSCRIPTION_EVENTS if spec_of(m).type == envelope.type)
        await resold_subscriptions.apply_subscription_event(
            uow, envelope.payload_as(model), envelope.occurred_at
        )

    async def product_changed(uow: SqlOverageUnitOfWork, envelope: Envelope) -> None:
        await resold_subscriptions.apply_product_changed(
            uow, envelope.payload_as(catalog.ProductChanged), envelope.occurred_at
        )

    async def price_published(uow: SqlOverageUnitOfWork, envelope: Envelope) -> None:
        await resold_subscriptions.apply_price_published(uow, envelope.payload_as(catalog.PricePublished))

    async def cost_book_published(uow: SqlOverageUnitOfWork, envelope: Envelope) -> None:
        await resold_subscriptions.apply_cost_book_published(
            uow, envelope.payload_as(catalog.CostBookPublished)
        )

    async def invoice_finalized(uow: SqlOverageUnitOfWork, envelope: Envelope) -> None:
        await customer_billing.apply_invoice_finalized(uow, envelope.payload_as(invoicing.InvoiceFinalized))

    async def credit_note_issued(uow: SqlOverageUnitOfWork, envelope: Envelope) -> None:
        await customer_billing.apply_credit_note_issued(uow, envelope.payload_as(invoicing.CreditNoteIssued))

    async def invoice_voided(uow: SqlOverageUnitOfWork, envelope: Envelope) -> None:
        await customer_billing.apply_invoice_voided(uow, envelope.payload_as(invoicing.InvoiceVoided))

    handlers = dict(
        [
            *(on(model, subscription_event) for model in SUBSCRIPTION_EVENTS),
            on(catalog.ProductChanged, product_changed),
            on(catalog.PricePublished, price_published),
            on(catalog.CostBookPublished, cost_book_published),
            on(invoicing.InvoiceFinalized, invoice_finalized),
            on(invoicing.InvoiceVoided, invoice_voided),
            on(invoicing.CreditNoteIssued, credit_note_issued),
        ]
    )
    return ConsumerSpec(
        group_id=PAYABLES_READ_MODEL_GROUP,
        topics=[PROVISIONING_EVENTS, CATALOG_EVENTS, INVOICING_EVENTS],
        handlers=handlers,
    )


def case_workflow_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`overage.case_workflow`: a vendor's overage invoice moves its case (see the module)."""

    async def on_vendor_invoice_received(session: AsyncSession, envelope: Envelope) -> None:
        uow = SqlOverageUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor=CASE_WORKFLOW_GROUP,
            session=session,
            clock=runtime.clock,
        )
        await cases.apply_vendor_invoice_received(uow=uow, event=envelope.payload_as(VendorInvoiceReceived))

    return ConsumerSpec(
        group_id=CASE_WORKFLOW_GROUP,
        topics=[OVERAGE_EVENTS],
        handlers={spec_of(VendorInvoiceReceived).type: on_vendor_invoice_received},
    )
