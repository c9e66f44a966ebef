"""Adjustments, credit notes and disputes on the in-memory unit of work: events, audit, numbering,
pending adjustments for the bill run and how they become applied, refusals that change nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from invoicing.domain.adjustments import (
    AdjustmentConflict,
    AdjustmentDirection,
    AdjustmentKind,
    NewAdjustment,
)
from invoicing.domain.credit_notes import CreditRequest
from invoicing.domain.disputes import DisputeConflict, DisputeOutcome, DisputeState
from invoicing.domain.invoices import InvoiceConflict
from invoicing.handlers import adjustments, credit_notes, disputes
from invoicing.handlers import invoices as invoice_handlers
from libs.platform.errors import NotFound, ValidationFailed
from libs.platform.money import CurrencyMismatch
from tests.invoicing.factories import AUGUST, billing_account, invoice_line
from tests.invoicing.unit.fakes import FakeInvoicingUnitOfWork, InvoicingStore

D = Decimal


async def _store_with_issued_invoice() -> tuple[InvoicingStore, str]:
    store = InvoicingStore()
    async with FakeInvoicingUnitOfWork(store) as uow:
        await uow.billing_inputs.save_account(billing_account(), event_at=uow.clock.now())
        drafted = await invoice_handlers.draft_invoice(
            uow=uow,
            account=billing_account(),
            currency="USD",
            period_start=AUGUST[0],
            period_end=AUGUST[1],
            lines=[invoice_line("sub_1"), invoice_line("ru_1", quantity="12345", unit_price="0.0075")],
        )
    async with FakeInvoicingUnitOfWork(store) as uow:
        await invoice_handlers.finalize_invoice(uow=uow, invoice_id=drafted.invoice.id)
    return store, drafted.invoice.id


def _credit(**overrides: object) -> NewAdjustment:
    values: dict[str, object] = {
        "account_id": "acct_1",
        "currency": "USD",
        "direction": AdjustmentDirection.CREDIT,
        "amount": D("50.00"),
        "reason": "Goodwill",
    }
    values.update(overrides)
    return NewAdjustment(**values)  # type: ignore[arg-type]


async def test_a_pending_adjustment_is_read_for_the_chunk_and_applied_once_an_invoice_bills_it() -> None:
    store, _ = await _store_with_issued_invoice()
    async with FakeInvoicingUnitOfWork(store) as uow:
        created = await adjustments.create_adjustment(uow=uow, command=_credit())
    assert uow.event_types == ["adjustment.created"]
    assert [a.action for a in uow.audits] == ["adjustment.created"]
    assert created.effective_date == date(2026, 8, 1)  # today in New York

    async with FakeInvoicingUnitOfWork(store) as uow:
        pending = await adjustments.pending_adjustments(uow=uow, account_ids=["acct_1", "acct_2"])
        assert uow.adjustments.pending_calls == 1
    assert [(p.adjustment_id, p.amount) for p in pending["acct_1"]] == [(created.id, D("50.00"))]

    line = invoice_line(f"adjustment:{created.id}", quantity="1", unit_price="-50.00", tax_rate="0")
    async with FakeInvoicingUnitOfWork(store) as uow:
        september = await invoice_handlers.draft_invoice(
            uow=uow,
            account=billing_account(),
            currency="USD",
            period_start=date(2026, 9, 1),
            period_end=date(2026, 10, 1),
            lines=[line],
        )
    async with FakeInvoicingUnitOfWork(store) as uow:
        applied = await adjustments.get_adjustment(uow=uow, adjustment_id=created.id)
        assert await adjustments.pending_adjustments(uow=uow, account_ids=["acct_1"]) == {}
        with pytest.raises(AdjustmentConflict):
            await adjustments.cancel_adjustment(uow=uow, adjustment_id=created.id)
    assert (applied.state.value, applied.applied_invoice_id) == ("applied", september.invoice.id)

    # A voided invoice gives its adjustments back to the next run.
    async with FakeInvoicingUnitOfWork(store) as uow:
        await invoice_handlers.void_invoice(uow=uow, invoice_id=september.invoice.id)
    async with FakeInvoicingUnitOfWork(store) as uow:
        again = await adjustments.get_adjustment(uow=uow, adjustment_id=created.id)
    assert again.state.value == "pending"


async def test_a_pending_adjustment_is_cancelled_once() -> None:
    store, _ = await _store_with_issued_invoice()
    async with FakeInvoicingUnitOfWork(store) as uow:
        created = await adjustments.create_adjustment(
            uow=uow, command=_credit(direction=AdjustmentDirection.DEBIT)
        )
    async with FakeInvoicingUnitOfWork(store) as uow:
        cancelled = await adjustments.cancel_adjustment(uow=uow, adjustment_id=created.id, reason="duplicate")
    assert (cancelled.state.value, uow.event_types) == ("cancelled", ["adjustment.cancelled"])
    async with FakeInvoicingUnitOfWork(store) as uow:
        with pytest.raises(AdjustmentConflict):
            await adjustments.cancel_adjustment(uow=uow, adjustment_id=created.id)
        assert await adjustments.pending_adjustments(uow=uow, account_ids=["acct_1"]) == {}


async def test_adjustment_refusals_change_nothing() -> None:
    store, invoice_id = await _store_with_issued_invoice()
    refusals: list[tuple[NewAdjustment, type[Exception], str]] = [
        (_credit(currency="EUR"), CurrencyMismatch, "currency"),
        (_credit(account_id="acct_unknown"), ValidationFailed, "account_id"),
        (_credit(amount=D("0.00")), ValidationFailed, "amount"),
        (_credit(amount=D("1.005")), ValidationFailed, "amount"),
        (_credit(subscription_id="sub_other"), ValidationFailed, "subscription_id"),
        (
            _credit(invoice_id="inv_other", direction=AdjustmentDirection.DEBIT),
            ValidationFailed,
            "invoice_id",
        ),
        (
            _credit(
                kind=AdjustmentKind.SERVICE_CREDIT,
                service_period_start=date(2026, 7, 1),
                service_period_end=date(2026, 8, 1),
                subscription_id=None,
            ),
            ValidationFailed,
            "service_period_end",
        ),
    ]
    for command, error, field in refusals:
        async with FakeInvoicingUnitOfWork(store) as uow:
            with pytest.raises(error) as refused:
                await adjustments.create_adjustment(uow=uow, command=command)
        assert field in [e.field for e in refused.value.errors], (command, refused.value.errors)  # type: ignore[attr-defined]
    assert store.credits.adjustments == {}
    # A debit correcting the issued invoice is accepted: a one-time charge on the next invoice.
    async with FakeInvoicingUnitOfWork(store) as uow:
        debit = await adjustments.create_adjustment(
            uow=uow, command=_credit(direction=AdjustmentDirection.DEBIT, invoice_id=invoice_id)
        )
    assert (debit.invoice_id, debit.signed_amount) == (invoice_id, D("50.00"))


async def test_credit_notes_are_numbered_gap_free_and_published() -> None:
    store, invoice_id = await _store_with_issued_invoice()
    numbers = []
    for amount in ("100.00", "200.00"):
        async with FakeInvoicingUnitOfWork(store) as uow:
            note = await credit_notes.issue(
                uow=uow,
                invoice_id=invoice_id,
                lines=[CreditRequest(D(amount), "sub_1")],
                reason="seats",
                currency="USD",
            )
        numbers.append(note.number_text)
        assert uow.event_types == ["credit_note.issued"]
        [envelope] = uow.envelopes
        assert envelope.payload["invoice_number"] == "INV-2026-000001"  # type: ignore[index]
    assert numbers == ["CN-2026-000001", "CN-2026-000002"]
    # A refusal takes no number and changes nothing.
    async with FakeInvoicingUnitOfWork(store) as uow:
        with pytest.raises(ValidationFailed):
            await credit_notes.issue(
                uow=uow, invoice_id=invoice_id, lines=[CreditRequest(D("2700.01"), "sub_1")], reason="x"
            )
    async with FakeInvoicingUnitOfWork(store) as uow:
        third = await credit_notes.issue(
            uow=uow, invoice_id=invoice_id, lines=[CreditRequest(D("1.00"))], reason="x"
        )
        invoice = await uow.invoices.get(invoice_id)
    assert third.number_text == "CN-2026-000003"
    # 300.00 + 26.63 tax (266.25 x 100/3,000 = 8.875 -> 8.88; x 200 -> 17.75) + 1.00 + 0.09
    assert invoice.credited == D("100.00") + D("8.88") + D("200.00") + D("17.75") + D("1.00") + D("0.09")


async def test_credit_note_refusals() -> None:
    store, invoice_id = await _store_with_issued_invoice()
    async with FakeInvoicingUnitOfWork(store) as uow:
        with pytest.raises(CurrencyMismatch):
            await credit_notes.issue(
                uow=uow, invoice_id=invoice_id, lines=[CreditRequest(D("1.00"))], reason="x", currency="EUR"
            )
        with pytest.raises(NotFound):
            await credit_notes.issue(
                uow=uow, invoice_id="inv_missing", lines=[CreditRequest(D("1.00"))], reason="x"
            )
        drafted = await invoice_handlers.draft_invoice(
            uow=uow,
            account=billing_account(),
            currency="USD",
            period_start=date(2026, 9, 1),
            period_end=date(2026, 10, 1),
            lines=[invoice_line("sep")],
        )
    async with FakeInvoicingUnitOfWork(store) as uow:
        with pytest.raises(InvoiceConflict):
            await credit_notes.issue(
                uow=uow, invoice_id=drafted.invoice.id, lines=[CreditRequest(D("1.00"))], reason="x"
            )
    assert store.credits.credit_notes == {} and store.invoices.counters.get("CN-2026") is None


async def test_a_dispute_resolved_with_a_credit_issues_the_note_in_the_same_commit() -> None:
    store, invoice_id = await _store_with_issued_invoice()
    async with FakeInvoicingUnitOfWork(store) as uow:
        opened = await disputes.open_dispute(
            uow=uow,
            invoice_id=invoice_id,
            reason="10 seats used, not 12",
            charge_key="sub_1",
            disputed_amount=D("500.00"),
        )
    assert uow.event_types == ["dispute.opened"]
    async with FakeInvoicingUnitOfWork(store) as uow:
        with pytest.raises(DisputeConflict):
            await disputes.open_dispute(uow=uow, invoice_id=invoice_id, reason="again", charge_key="sub_1")
        whole = await disputes.open_dispute(uow=uow, invoice_id=invoice_id, reason="the whole invoice")
    async with FakeInvoicingUnitOfWork(store) as uow:
        await disputes.start_review(uow=uow, dispute_id=opened.id)
    async with FakeInvoicingUnitOfWork(store) as uow:
        resolved = await disputes.resolve_dispute(
            uow=uow, dispute_id=opened.id, outcome=DisputeOutcome.CREDIT, note="agreed"
        )
    assert uow.event_types == ["credit_note.issued", "dispute.resolved"]
    assert (resolved.state, resolved.credited_amount) == (DisputeState.RESOLVED_CREDIT, D("500.00"))
    note = store.credits.credit_notes[resolved.credit_note_id or ""]
    assert (note.dispute_id, note.lines[0].charge_key, note.total) == (opened.id, "sub_1", D("544.38"))
    async with FakeInvoicingUnitOfWork(store) as uow:
        rejected = await disputes.resolve_dispute(
            uow=uow, dispute_id=whole.id, outcome=DisputeOutcome.REJECT, note="no"
        )
        with pytest.raises(DisputeConflict):
            await disputes.resolve_dispute(uow=uow, dispute_id=opened.id, outcome=DisputeOutcome.REJECT)
    assert rejected.state is DisputeState.REJECTED and len(store.credits.credit_notes) == 1
    # Resolved, the line may be disputed again.
    async with FakeInvoicingUnitOfWork(store) as uow:
        await disputes.open_dispute(uow=uow, invoice_id=invoice_id, reason="still wrong", charge_key="sub_1")


async def test_a_credit_resolution_beyond_what_remains_changes_nothing() -> None:
    store, invoice_id = await _store_with_issued_invoice()
    async with FakeInvoicingUnitOfWork(store) as uow:
        opened = await disputes.open_dispute(
            uow=uow, invoice_id=invoice_id, reason="usage", charge_key="ru_1"
        )
    async with FakeInvoicingUnitOfWork(store) as uow:
        with pytest.raises(ValidationFailed):
            await disputes.resolve_dispute(
                uow=uow, dispute_id=opened.id, outcome=DisputeOutcome.CREDIT
            )  # no amount
        with pytest.raises(ValidationFailed):
            await disputes.resolve_dispute(
                uow=uow, dispute_id=opened.id, outcome=DisputeOutcome.CREDIT, amount=D("92.60")
            )
    assert store.credits.disputes[opened.id].state is DisputeState.OPEN
    assert store.credits.credit_notes == {}
