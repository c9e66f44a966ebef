"""What the invoicing service consumes.

Each consumer group is listed in `consumer_specs`; each event is parsed into its contract and
handed to one handler with a unit of work on the consumer's transaction, so its effect and the
inbox entry commit together (a redelivered event changes nothing twice).

- `invoicing.read_model` (`provisioning.events`, `rating.events`, `catalog.events`): the billing
  inputs bill runs read — accounts and their billing profiles, every subscription change (and a
  cancellation's termination fee), approved order lines (one-time ones are order fees), completed
  fulfillments, rated usage, catalog products (name, tax code) and price versions
  (`invoicing.handlers.billing_inputs`). Other event types of those topics are ignored.
  Overage re-bills will come from `overage.events` once the overage service publishes them.
- `invoicing.bill_runs` (`invoicing.events`): `bill_run.chunk_requested`, the chunks of accounts
  a bill run fans out; each is billed once on the consumer's transaction, together with its
  inbox row and the chunk's counts (`invoicing.handlers.bill_run_chunks.apply_chunk`). Every
  invoicing replica joins the group, so a run's chunks are shared by all of them. A chunk that
  arrives before this process has account billing wired is retried, then parked as a dead
  letter (replay it once wired).
- `invoicing.ledger` (`invoicing.events`): the general ledger and the revenue schedules, booked
  from invoicing's own events — `invoice.finalized` (a schedule per line, by its product's revenue
  rule), `invoice.voided`, `credit_note.issued`, `payment.received`, `payment.refunded`,
  `payment.reversed`, `invoice.written_off` (`invoicing.handlers.ledger_postings`). Payments and
  collections publish their events and never call the ledger; each event is posted once (the
  inbox, and the journal's unique source key). Other event types of the topic are ignored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.ledger import DEFAULT_CHART_OF_ACCOUNTS
from invoicing.handlers import billing_inputs, ledger_postings
from invoicing.handlers.bill_run_chunks import apply_chunk
from invoicing.repository.unit_of_work import SqlInvoicingUnitOfWork
from libs.contracts import catalog, payments, provisioning
from libs.contracts import invoicing as invoicing_contracts
from libs.contracts.bill_runs import BillRunChunkRequested
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import spec_of
from libs.contracts.topics import CATALOG_EVENTS, INVOICING_EVENTS, PROVISIONING_EVENTS, RATING_EVENTS
from libs.contracts.usage import UsageRated
from libs.platform.batch_handlers import BatchEventHandler
from libs.platform.errors import RetryableError
from libs.platform.inbox import EventHandler
from libs.platform.service import ConsumerSpec

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

READ_MODEL_GROUP = "invoicing.read_model"
BILL_RUNS_GROUP = "invoicing.bill_runs"
LEDGER_GROUP = "invoicing.ledger"

SUBSCRIPTION_EVENTS: tuple[type[provisioning.SubscriptionEvent], ...] = (
    provisioning.SubscriptionActivated,
    provisioning.SubscriptionChanged,
    provisioning.SubscriptionSuspended,
    provisioning.SubscriptionResumed,
    provisioning.SubscriptionCancelled,
    provisioning.SubscriptionExpired,
    provisioning.SubscriptionRenewed,
)
ACCOUNT_EVENTS: tuple[type[provisioning.AccountProfile], ...] = (
    provisioning.AccountOpened,
    provisioning.AccountChanged,
)


def consumer_specs(runtime: ServiceRuntime) -> list[ConsumerSpec]:
    """The consumer groups of the invoicing service, bound to its runtime."""
    return [read_model_consumer(runtime), bill_runs_consumer(runtime), ledger_consumer(runtime)]


def read_model_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`invoicing.read_model`: the billing inputs, each event applied once."""

    def unit_of_work(session: AsyncSession) -> SqlInvoicingUnitOfWork:
        return SqlInvoicingUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor=READ_MODEL_GROUP,
            session=session,
            clock=runtime.clock,
        )

    def on(
        model: type[EventPayload], apply: Callable[[SqlInvoicingUnitOfWork, Envelope], Awaitable[object]]
    ) -> tuple[str, EventHandler]:
        async def handler(session: AsyncSession, envelope: Envelope) -> None:
            await apply(unit_of_work(session), envelope)

        return spec_of(model).type, handler

    async def account_event(uow: SqlInvoicingUnitOfWork, envelope: Envelope) -> None:
        model = next(m for m in ACCOUNT_EVENTS if spec_of(m).type == envelope.type)
        await billing_inputs.apply_account_event(
            uow=uow, profile=envelope.payload_as(model), occurred_at=envelope.occurred_at
        )

    async def subscription_event(uow: SqlInvoicingUnitOfWork, envelope: Envelope) -> None:
        model = next(m for m in SUBSCRIPTION_EVENTS if spec_of(m).type == envelope.type)
        await billing_inputs.apply_subscription_event(
            uow=uow,
            event=envelope.payload_as(model),
            event_id=str(envelope.event_id),
            occurred_at=envelope.occurred_at,
            event_kind=envelope.type,
        )

    async def order_approved(uow: SqlInvoicingUnitOfWork, envelope: Envelope) -> None:
        event = envelope.payload_as(provisioning.OrderApproved)
        await billing_inputs.apply_order_approved(uow=uow, event=event, occurred_at=envelope.occurred_at)

    async def fulfillment_completed(uow: SqlInvoicingUnitOfWork, envelope: Envelope) -> None:
        event = envelope.payload_as(provisioning.FulfillmentCompleted)
        await billing_inputs.apply_fulfillment_completed(uow=uow, event=event)

    async def usage_rated(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        events = [envelope.payload_as(UsageRated) for envelope in envelopes]
        await billing_inputs.apply_usage_rated(uow=unit_of_work(session), events=events)

    async def product_changed(uow: SqlInvoicingUnitOfWork, envelope: Envelope) -> None:
        event = envelope.payload_as(catalog.ProductChanged)
        await billing_inputs.apply_product_changed(uow=uow, event=event, occurred_at=envelope.occurred_at)

    async def price_published(uow: SqlInvoicingUnitOfWork, envelope: Envelope) -> None:
        await billing_inputs.apply_price_published(uow=uow, event=envelope.payload_as(catalog.PricePublished))

    handlers: dict[str, EventHandler] = dict(
        [
            *(on(model, account_event) for model in ACCOUNT_EVENTS),
            *(on(model, subscription_event) for model in SUBSCRIPTION_EVENTS),
            on(provisioning.OrderApproved, order_approved),
            on(provisioning.FulfillmentCompleted, fulfillment_completed),
            on(catalog.ProductChanged, product_changed),
            on(catalog.PricePublished, price_published),
        ]
    )
    # Rated usage comes many to a message and is kept by its own id: one call and one inbox row
    # per message (`libs.platform.batch_handlers`).
    handlers[spec_of(UsageRated).type] = BatchEventHandler(usage_rated, idempotent=True)
    return ConsumerSpec(
        group_id=READ_MODEL_GROUP,
        topics=[PROVISIONING_EVENTS, RATING_EVENTS, CATALOG_EVENTS],
        handlers=handlers,
    )


def bill_runs_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`invoicing.bill_runs`: bills each chunk of a run once (see the module)."""

    async def on_chunk(session: AsyncSession, envelope: Envelope) -> None:
        billing = getattr(runtime, "account_billing", None)
        if billing is None:
            raise RetryableError("no account billing is wired in this process")
        uow = SqlInvoicingUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor=BILL_RUNS_GROUP,
            session=session,
            clock=runtime.clock,
        )
        await apply_chunk(uow, billing=billing, request=envelope.payload_as(BillRunChunkRequested))

    return ConsumerSpec(
        group_id=BILL_RUNS_GROUP,
        topics=[INVOICING_EVENTS],
        handlers={spec_of(BillRunChunkRequested).type: on_chunk},
    )


LEDGER_POSTINGS: tuple[tuple[type[EventPayload], Callable[..., Awaitable[object]]], ...] = (
    (invoicing_contracts.InvoiceFinalized, ledger_postings.post_invoice_finalized),
    (invoicing_contracts.InvoiceVoided, ledger_postings.post_invoice_voided),
    (invoicing_contracts.CreditNoteIssued, ledger_postings.post_credit_note),
    (payments.PaymentReceived, ledger_postings.post_payment_received),
    (payments.PaymentRefunded, ledger_postings.post_payment_refunded),
    (payments.PaymentReversed, ledger_postings.post_payment_reversed),
    (payments.InvoiceWrittenOff, ledger_postings.post_invoice_written_off),
)
"""Each event type the ledger books, with its posting."""


def ledger_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`invoicing.ledger`: revenue schedules and journal entries from invoicing's events (see the module)."""
    chart = getattr(runtime, "chart", None) or DEFAULT_CHART_OF_ACCOUNTS

    def on(model: type[EventPayload], post: Callable[..., Awaitable[object]]) -> tuple[str, EventHandler]:
        async def handler(session: AsyncSession, envelope: Envelope) -> None:
            uow = SqlInvoicingUnitOfWork(
                runtime.db,
                producer=runtime.settings.service_name,
                actor=LEDGER_GROUP,
                session=session,
                clock=runtime.clock,
            )
            await post(uow=uow, event=envelope.payload_as(model), chart=chart)

        return spec_of(model).type, handler

    return ConsumerSpec(
        group_id=LEDGER_GROUP,
        topics=[INVOICING_EVENTS],
        handlers=dict(on(model, post) for model, post in LEDGER_POSTINGS),
    )
