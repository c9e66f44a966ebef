"""Use cases of disputes: open one on an issued invoice (or a line), take it under review, resolve
it with a credit note or a rejection, read and list them. A credit resolution issues its credit
note in the same transaction (`credit_notes.stage_credit_note`), so the dispute never says
"resolved with a credit" without the note, nor the other way round.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from invoicing.domain.credit_notes import CreditRequest
from invoicing.domain.disputes import Dispute, DisputeOutcome, credit_amount_of
from invoicing.events.disputes import outgoing_of
from invoicing.handlers.credit_notes import stage_credit_note
from invoicing.handlers.disputes_port import DisputeFilters
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


async def open_dispute(
    *,
    uow: InvoicingUnitOfWork,
    invoice_id: str,
    reason: str,
    charge_key: str | None = None,
    disputed_amount: Decimal | None = None,
) -> Dispute:
    """Open a dispute (`dispute.opened`): 404 unknown invoice, 409 a draft or void one or a line
    disputed already, 422 a line not on the invoice."""
    invoice = await uow.invoices.get(invoice_id)
    dispute = Dispute.open(
        id=new_id("dsp"),
        invoice=invoice,
        reason=reason,
        at=uow.clock.now(),
        charge_key=charge_key,
        disputed_amount=disputed_amount,
    )
    await uow.disputes.add(dispute)
    await _commit(uow, dispute, "dispute.opened", {"invoice_id": invoice.id, "charge_key": charge_key})
    return dispute


async def start_review(*, uow: InvoicingUnitOfWork, dispute_id: str) -> Dispute:
    """Take an open dispute under review (`dispute.review_started`); any other state is a 409."""
    dispute = await uow.disputes.get(dispute_id)
    dispute.start_review()
    await uow.disputes.save(dispute)
    await _commit(uow, dispute, "dispute.review_started", {"state": ["open", "under_review"]})
    return dispute


async def resolve_dispute(
    *,
    uow: InvoicingUnitOfWork,
    dispute_id: str,
    outcome: DisputeOutcome,
    note: str | None = None,
    amount: Decimal | None = None,
) -> Dispute:
    """Resolve a dispute (`dispute.resolved`): a credit issues a credit note for `amount` (net; default
    what was disputed) on the disputed line or the invoice; a rejection changes no money."""
    dispute = await uow.disputes.get(dispute_id)
    dispute.require_active()
    before = dispute.state.value
    if outcome is DisputeOutcome.CREDIT:
        credited = credit_amount_of(dispute, amount)
        credit_note = await stage_credit_note(
            uow=uow,
            invoice_id=dispute.invoice_id,
            lines=[
                CreditRequest(credited, dispute.charge_key, f"Dispute {dispute.id}: {dispute.reason}"[:500])
            ],
            reason=note or f"Dispute {dispute.id} resolved with a credit",
            dispute_id=dispute.id,
        )
        dispute.resolve(
            outcome=outcome,
            note=note,
            at=uow.clock.now(),
            credited_amount=credited,
            credit_note_id=credit_note.id,
        )
    else:
        dispute.resolve(outcome=outcome, note=note, at=uow.clock.now())
    await uow.disputes.save(dispute)
    await _commit(
        uow,
        dispute,
        "dispute.resolved",
        {"state": [before, dispute.state.value], "credit_note_id": dispute.credit_note_id, "note": note},
    )
    return dispute


async def get_dispute(*, uow: InvoicingUnitOfWork, dispute_id: str) -> Dispute:
    """One dispute (404 when unknown)."""
    return await uow.disputes.get(dispute_id)


async def list_disputes(
    *, uow: InvoicingUnitOfWork, filters: DisputeFilters, page: PageRequest
) -> Page[Dispute]:
    """A page of disputes in creation order, narrowed by account, invoice and state."""
    return await uow.disputes.page(filters, page)


async def _commit(
    uow: InvoicingUnitOfWork, dispute: Dispute, action: str, changes: dict[str, object]
) -> None:
    uow.emit_recorded(dispute.events, outgoing_of)
    uow.audit(action, "dispute", dispute.id, changes)
    await uow.commit()
