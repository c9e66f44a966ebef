"""Invoice use cases on the in-memory unit of work: idempotent drafts, numbering, events, audit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from invoicing.domain.billing_inputs import BilledCharge
from invoicing.domain.invoices import InvoiceConflict, InvoiceState, RunKind
from invoicing.handlers import invoices as handlers
from invoicing.handlers.invoices_port import ChargeBilledMeanwhile, InvoiceFilters
from libs.platform.errors import NotFound
from libs.platform.pagination import PageRequest
from tests.invoicing.factories import AUGUST, billing_account, exempt_account, invoice_line
from tests.invoicing.unit.fakes import FakeInvoicingUnitOfWork, InvoicingStore


async def _draft(store: InvoicingStore, **kwargs: object) -> handlers.DraftOutcome:
    values: dict[str, object] = {
        "account": billing_account(),
        "currency": "USD",
        "period_start": AUGUST[0],
        "period_end": AUGUST[1],
        "lines": [invoice_line("sub_1:2026-08"), invoice_line("ru_1", quantity="10", unit_price="0.5")],
    }
    values.update(kwargs)
    async with FakeInvoicingUnitOfWork(store) as uow:
        return await handlers.draft_invoice(uow=uow, **values)


async def test_a_second_draft_for_the_same_period_answers_the_first() -> None:
    store = InvoicingStore()
    first = await _draft(store)
    again = await _draft(store, lines=[invoice_line("other")])
    assert first.created and not again.created
    assert again.invoice.id == first.invoice.id
    assert [line.charge_key for line in again.invoice.lines] == ["sub_1:2026-08", "ru_1"]
    assert len(store.invoices.invoices) == 1


async def test_an_on_demand_run_has_its_own_key() -> None:
    store = InvoicingStore()
    await _draft(store)
    fulfillment = await _draft(
        store, run_kind=RunKind.ON_DEMAND, run_source_id="ful_1", lines=[invoice_line("ful_1:ol_1")]
    )
    assert fulfillment.created
    assert len(store.invoices.invoices) == 2


async def test_a_charge_billed_by_another_run_meanwhile_is_refused() -> None:
    store = InvoicingStore()
    first = await _draft(store)
    with pytest.raises(ChargeBilledMeanwhile):
        # Computed without seeing the first invoice: the charge would be billed twice.
        await _draft(store, period_start=date(2026, 9, 1), period_end=date(2026, 10, 1))
    difference = await _draft(
        store,
        period_start=date(2026, 9, 1),
        period_end=date(2026, 10, 1),
        lines=[invoice_line("sub_1:2026-08", quantity="10")],
        billed=[BilledCharge("sub_1:2026-08", Decimal("3000.00"), first.invoice.id)],
    )
    assert difference.created and difference.invoice.lines[0].billed_after == first.invoice.id


async def test_finalize_numbers_gap_free_and_publishes_with_audit() -> None:
    store = InvoicingStore()
    first = await _draft(store)
    second = await _draft(
        store, account=billing_account("acct_2"), lines=[invoice_line("x", account_id="acct_2")]
    )
    numbers = []
    for outcome in (first, second):
        async with FakeInvoicingUnitOfWork(store) as uow:
            issued = await handlers.finalize_invoice(uow=uow, invoice_id=outcome.invoice.id)
            numbers.append(issued.number_text)
        assert uow.event_types == ["invoice.finalized"]
        assert [a.action for a in uow.audits] == ["invoice.finalized"]
    assert numbers == ["INV-2026-000001", "INV-2026-000002"]
    payload = uow.envelopes[0].payload
    assert payload["number"] == "INV-2026-000002"
    assert payload["invoice_date"] == "2026-08-01" and payload["due_date"] == "2026-08-31"
    assert payload["total"] == "3266.25"  # 250 x 12.00 + 8.875% tax


async def test_a_refused_finalization_takes_no_number() -> None:
    store = InvoicingStore()
    first = await _draft(store)
    async with FakeInvoicingUnitOfWork(store) as uow:
        await handlers.finalize_invoice(uow=uow, invoice_id=first.invoice.id)
    async with FakeInvoicingUnitOfWork(store) as uow:
        with pytest.raises(InvoiceConflict):
            await handlers.finalize_invoice(uow=uow, invoice_id=first.invoice.id)
    assert store.invoices.counters == {"INV-2026": 1}


async def test_every_change_is_published_and_audited() -> None:
    store = InvoicingStore()
    discarded = await _draft(store)
    async with FakeInvoicingUnitOfWork(store) as uow:
        voided = await handlers.void_invoice(uow=uow, invoice_id=discarded.invoice.id, reason="preview")
    assert voided.state is InvoiceState.VOID and uow.event_types == ["invoice.voided"]
    assert uow.envelopes[0].payload["number"] is None
    assert [a.action for a in uow.audits] == ["invoice.voided"]
    redrafted = await _draft(store)
    assert redrafted.created, "a void invoice frees its period"
    async with FakeInvoicingUnitOfWork(store) as uow:
        await handlers.finalize_invoice(uow=uow, invoice_id=redrafted.invoice.id)
    async with FakeInvoicingUnitOfWork(store) as uow:
        await handlers.void_invoice(uow=uow, invoice_id=redrafted.invoice.id, reason="wrong account")
    assert uow.event_types == ["invoice.voided"]
    assert uow.envelopes[0].payload["number"] == "INV-2026-000001"


async def test_exempt_invoice_shows_the_certificate_and_the_note() -> None:
    store = InvoicingStore()
    outcome = await _draft(
        store,
        account=exempt_account("acct_1"),
        lines=[invoice_line("a", tax_rate="0")],
        tax_exemption_note="Exempt: certificate EX-2026-114",
    )
    assert outcome.invoice.bill_to.tax_certificate == "EX-2026-114"
    assert outcome.invoice.tax_exemption_note == "Exempt: certificate EX-2026-114"


async def test_lists_filter_and_unknown_ids_are_404() -> None:
    store = InvoicingStore()
    first = await _draft(store)
    await _draft(store, account=billing_account("acct_2"), lines=[invoice_line("x", account_id="acct_2")])
    async with FakeInvoicingUnitOfWork(store) as uow:
        await handlers.finalize_invoice(uow=uow, invoice_id=first.invoice.id)
        page = await handlers.list_invoices(
            uow=uow, filters=InvoiceFilters(state=InvoiceState.FINALIZED), page=PageRequest()
        )
        assert [i.id for i in page.data] == [first.invoice.id]
        with pytest.raises(NotFound):
            await handlers.get_invoice(uow=uow, invoice_id="inv_missing")


async def test_a_draft_is_published_once_and_its_note_change_too() -> None:
    store = InvoicingStore()
    made = []
    for _ in range(2):
        async with FakeInvoicingUnitOfWork(store) as uow:
            await handlers.draft_invoice(
                uow=uow,
                account=billing_account(),
                currency="USD",
                period_start=AUGUST[0],
                period_end=AUGUST[1],
                lines=[invoice_line("a")],
            )
        made.append(uow)
    assert [uow.event_types for uow in made] == [["invoice.drafted"], []]
    drafted = made[0].envelopes[0].payload
    assert (drafted["change"], drafted["total"], drafted["line_count"]) == ("drafted", "3266.25", 1)
    async with FakeInvoicingUnitOfWork(store) as uow:
        await handlers.change_draft(uow=uow, invoice_id=drafted["invoice_id"], memo="PO 4711")
    assert uow.event_types == ["invoice.drafted"]
    assert (uow.envelopes[0].payload["change"], uow.envelopes[0].payload["memo"]) == (
        "memo_changed",
        "PO 4711",
    )


async def test_credit_carried_by_a_finalized_invoice_pays_the_next_one() -> None:
    store = InvoicingStore()
    charge = invoice_line("sub_1:2026-08", quantity="1", unit_price="50.00", tax_rate="0")
    credit = invoice_line("adjustment:adj_1", quantity="1", unit_price="-80.00", tax_rate="0")
    carrying = await _draft(store, lines=[charge, credit])
    async with FakeInvoicingUnitOfWork(store) as uow:
        issued = await handlers.finalize_invoice(uow=uow, invoice_id=carrying.invoice.id)
    assert (str(issued.total), str(issued.account_credit_carried), issued.state) == (
        "0.00",
        "30.00",
        InvoiceState.PAID,
    )
    assert "account_credit.carried" in [a.action for a in uow.audits]

    september = await _draft(
        store,
        period_start=AUGUST[1],
        period_end=date(2026, 10, 1),
        lines=[invoice_line("sub_1:2026-09", quantity="1", unit_price="100.00", tax_rate="0")],
    )
    async with FakeInvoicingUnitOfWork(store) as uow:
        next_one = await handlers.finalize_invoice(uow=uow, invoice_id=september.invoice.id)
    assert (next_one.amount_paid, next_one.amount_due) == (Decimal("30.00"), Decimal("70.00"))
    assert "payment.credit_applied" in uow.event_types
    with pytest.raises(InvoiceConflict):
        async with FakeInvoicingUnitOfWork(store) as uow:
            await handlers.void_invoice(uow=uow, invoice_id=carrying.invoice.id)
