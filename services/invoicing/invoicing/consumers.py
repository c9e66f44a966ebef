"""What the invoicing service consumes.

Each consumer group is listed in `consumer_specs`; each event is parsed into its contract and
handed to one handler with a unit of work on the consumer's transaction, so its effect and the
inbox entry commit together (a redelivered event changes nothing twice).

- `invoicing.read_model` (`provisioning.events`, `rating.events`, `catalog.events`): the billing
  inputs bill runs read — accounts and their billing profiles, every subscription change (and a
  cancellation's termination fee), approved order lines (one-time ones are order fees), completed
  fulfillments, rated usage, catalog products (name, tax code) and price versions
  (`invoicing.handlers.billing_inputs`); and from `overage.events`, each vendor overage
  re-bill (`overage.rebill_requested`) as a one-time charge of the next monthly run. Other event
  types of those topics are ignored.
- `invoicing.bill_runs` (`invoicing.events`): `bill_run.chunk_requested`, the chunks of accounts
  a bill run fans out; each is billed once on the consumer's transaction, together with its
  inbox row and the chunk's counts (`invoicing.handlers.bill_run_chunks.apply_chunk`). Every
  invoicing replica joins the group, so a run's chunks are shared by all of them. A chunk that
  arrives before this process has account billing wired is retried, then parked as a dead
  letter (replay it once wired).
- `invoicing.ledger` (`invoicing.events`): the general ledger and the revenue schedules, booked
  from invoicing's own events — `invoice.finalized` (a schedule per line, by its product's revenue
  rule; the consecutive ones of a poll in one call), `invoice.voided`, `credit_note.issued`,
  `payment.received`, `payment.refunded`, `payment.reversed`, `invoice.written_off`
  (`invoicing.handlers.ledger_postings`). Payments and collections publish their events and never
  call the ledger; each event is posted once (the inbox, and the journal's unique source key).
  Other event types of the topic are ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.ledger import DEFAULT_CHART_OF_ACCOUNTS
from invoicing.handlers import billing_inputs, ledger_postings
from invoicing.handlers.bill_run_chunks import apply_chunk, prepare_chunk
from invoicing.handlers.bill_runs_port import PreparedBilling
from invoicing.repository.unit_of_work import SqlInvoicingUnitOfWork
from libs.contracts import invoicing as invoicing_contracts
from libs.contracts import payments
from libs.contracts.bill_runs import BillRunChunkRequested
from libs.contracts.catalog import PricePublished, ProductChanged
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.invoicing import InvoiceFinalized
from libs.contracts.overage import OverageRebillRequested
from libs.contracts.provisioning import (
    ACCOUNT_PROFILE_EVENTS,
    SUBSCRIPTION_EVENTS,
    AccountProfile,
    FulfillmentCompleted,
    OrderApproved,
    SubscriptionEvent,
)
from libs.contracts.registry import spec_of
from libs.contracts.topics import (
    CATALOG_EVENTS,
    INVOICING_EVENTS,
    OVERAGE_EVENTS,
    PROVISIONING_EVENTS,
    RATING_EVENTS,
)
from libs.contracts.usage import UsageRated
from libs.platform.errors import RetryableError
from libs.platform.event_routes import EventRoutes
from libs.platform.service import ConsumerSpec

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

READ_MODEL_GROUP = "invoicing.read_model"
BILL_RUNS_GROUP = "invoicing.bill_runs"
LEDGER_GROUP = "invoicing.ledger"


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

    async def account_event(uow: SqlInvoicingUnitOfWork, profile: AccountProfile, envelope: Envelope) -> None:
        await billing_inputs.apply_account_event(uow=uow, profile=profile, occurred_at=envelope.occurred_at)

    async def subscription_event(
        uow: SqlInvoicingUnitOfWork, event: SubscriptionEvent, envelope: Envelope
    ) -> None:
        await billing_inputs.apply_subscription_event(
            uow=uow,
            event=event,
            event_id=str(envelope.event_id),
            occurred_at=envelope.occurred_at,
            event_kind=envelope.type,
        )

    async def order_approved(uow: SqlInvoicingUnitOfWork, event: OrderApproved, envelope: Envelope) -> None:
        await billing_inputs.apply_order_approved(uow=uow, event=event, occurred_at=envelope.occurred_at)

    async def fulfillment_completed(
        uow: SqlInvoicingUnitOfWork, event: FulfillmentCompleted, _envelope: Envelope
    ) -> None:
        await billing_inputs.apply_fulfillment_completed(uow=uow, event=event)

    async def usage_rated(uow: SqlInvoicingUnitOfWork, events: list[UsageRated]) -> None:
        await billing_inputs.apply_usage_rated(uow=uow, events=events)

    async def product_changed(uow: SqlInvoicingUnitOfWork, event: ProductChanged, envelope: Envelope) -> None:
        await billing_inputs.apply_product_changed(uow=uow, event=event, occurred_at=envelope.occurred_at)

    async def price_published(
        uow: SqlInvoicingUnitOfWork, event: PricePublished, _envelope: Envelope
    ) -> None:
        await billing_inputs.apply_price_published(uow=uow, event=event)

    async def overage_rebill(
        uow: SqlInvoicingUnitOfWork, event: OverageRebillRequested, _envelope: Envelope
    ) -> None:
        await billing_inputs.apply_overage_rebill(uow=uow, event=event)

    routes = EventRoutes(unit_of_work)
    routes.on(ACCOUNT_PROFILE_EVENTS, account_event)
    routes.on(SUBSCRIPTION_EVENTS, subscription_event)
    routes.on(OrderApproved, order_approved)
    routes.on(FulfillmentCompleted, fulfillment_completed)
    routes.on(ProductChanged, product_changed)
    routes.on(PricePublished, price_published)
    routes.on(OverageRebillRequested, overage_rebill)
    # Rated usage comes many to a message and is kept by its own id: one call and one inbox row
    # per message (`libs.platform.batch_handlers`).
    routes.on_batch(UsageRated, usage_rated)
    return ConsumerSpec(
        group_id=READ_MODEL_GROUP,
        topics=[PROVISIONING_EVENTS, RATING_EVENTS, CATALOG_EVENTS, OVERAGE_EVENTS],
        handlers=routes.handlers,
    )


def bill_runs_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`invoicing.bill_runs`: bills each chunk of a run once (see the module).

    With `BILL_RUN_PREPARED_CHUNKS` on SQLite, the chunks of every process on the database file
    take turns to write (a `flock` of `<database>.bill-run-turn`, `libs.platform.write_turns`),
    and a poll's chunks are read and drafted before the turn, on a read-only session
    (`bill_run_chunks.prepare_chunk`), so that a process prepares its next chunk while another
    writes. Otherwise (the default, and PostgreSQL, which has concurrent writers) a chunk is read
    and billed in its transaction alone."""
    chunk_type = spec_of(BillRunChunkRequested).type
    prepared: dict[uuid.UUID, PreparedBilling] = {}

    def unit_of_work(session: AsyncSession) -> SqlInvoicingUnitOfWork:
        return SqlInvoicingUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor=BILL_RUNS_GROUP,
            session=session,
            clock=runtime.clock,
        )

    async def prepare(envelopes: Sequence[Envelope]) -> None:
        prepared.clear()  # what a failed poll left: its redo reads in its transaction
        billing = getattr(runtime, "account_billing", None)
        if billing is None:
            return
        for envelope in envelopes:
            if envelope.type != chunk_type:
                continue
            async with runtime.db.read_only_sessions() as session:
                ready = await prepare_chunk(
                    unit_of_work(session), billing=billing, request=envelope.payload_as(BillRunChunkRequested)
                )
            if ready is not None:
                prepared[envelope.event_id] = ready

    async def on_chunk(session: AsyncSession, envelope: Envelope) -> None:
        billing = getattr(runtime, "account_billing", None)
        if billing is None:
            raise RetryableError("no account billing is wired in this process")
        await apply_chunk(
            unit_of_work(session),
            billing=billing,
            request=envelope.payload_as(BillRunChunkRequested),
            prepared=prepared.pop(envelope.event_id, None),
        )

    prepared_chunks = runtime.db.dialect == "sqlite" and getattr(
        runtime.settings, "bill_run_prepared_chunks", False
    )
    return ConsumerSpec(
        group_id=BILL_RUNS_GROUP,
        topics=[INVOICING_EVENTS],
        handlers={chunk_type: on_chunk},
        write_turn=getattr(runtime, "bill_run_write_turn", None) if prepared_chunks else None,
        prepare=prepare if prepared_chunks else None,
    )


LEDGER_POSTINGS: tuple[tuple[type[EventPayload], Callable[..., Awaitable[object]]], ...] = (
    (invoicing_contracts.InvoiceFinalized, ledger_postings.post_invoice_finalized),
    (invoicing_contracts.InvoiceVoided, ledger_postings.post_invoice_voided),
    (invoicing_contracts.CreditNoteIssued, ledger_postings.post_credit_note),
    (payments.PaymentReceived, ledger_postings.post_payment_received),
    (payments.PaymentCreditApplied, ledger_postings.post_payment_credit_applied),
    (payments.PaymentRefunded, ledger_postings.post_payment_refunded),
    (payments.PaymentReversed, ledger_postings.post_payment_reversed),
    (payments.InvoiceWrittenOff, ledger_postings.post_invoice_written_off),
)
"""Each event type the ledger books, with its posting."""


def ledger_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`invoicing.ledger`: revenue schedules and journal entries from invoicing's events (see the module)."""
    chart = getattr(runtime, "chart", None) or DEFAULT_CHART_OF_ACCOUNTS

    def unit_of_work(session: AsyncSession) -> SqlInvoicingUnitOfWork:
        return SqlInvoicingUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor=LEDGER_GROUP,
            session=session,
            clock=runtime.clock,
        )

    def posting(
        post: Callable[..., Awaitable[object]],
    ) -> Callable[[SqlInvoicingUnitOfWork, EventPayload, Envelope], Awaitable[object]]:
        async def apply(uow: SqlInvoicingUnitOfWork, event: EventPayload, _envelope: Envelope) -> object:
            return await post(uow=uow, event=event, chart=chart)

        return apply

    async def invoices_finalized(uow: SqlInvoicingUnitOfWork, events: list[InvoiceFinalized]) -> None:
        await ledger_postings.post_invoices_finalized(uow=uow, events=events, chart=chart)

    routes = EventRoutes(unit_of_work)
    for model, post in LEDGER_POSTINGS:
        routes.on(model, posting(post))
    # A bill run finalizes invoices by the thousand: the consecutive ones of a poll are booked in
    # one call (one look-up of rules, one insert per table; `libs.platform.batch_handlers`), each
    # still once — by its invoice's schedules and the journal's unique source key.
    routes.on_batch(InvoiceFinalized, invoices_finalized)
    return ConsumerSpec(group_id=LEDGER_GROUP, topics=[INVOICING_EVENTS], handlers=routes.handlers)
