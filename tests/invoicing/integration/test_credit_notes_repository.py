"""What remains creditable is checked one transaction at a time (SQLite and PostgreSQL): a second
credit note waits on the invoice's row lock (SQLite: the write lock) and then sees the first."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from invoicing.domain.credit_notes import CreditRequest
from invoicing.handlers import credit_notes as handlers
from libs.platform.errors import ValidationFailed
from tests.invoicing.integration.conftest import Invoicing


async def test_a_second_credit_note_waits_for_the_first_and_is_refused_when_too_much(
    invoicing: Invoicing,
) -> None:
    drafted = await invoicing.draft()
    invoice_id = drafted.invoice.id
    await invoicing.finalize(invoice_id)
    asked = [CreditRequest(Decimal("2000.00"), "sub_1:2026-08")]

    async def second_note() -> object:
        async with invoicing.runtime.invoicing_unit_of_work() as uow:
            return await handlers.issue(uow=uow, invoice_id=invoice_id, lines=asked, reason="second")

    async with invoicing.runtime.invoicing_unit_of_work() as first:
        await handlers.stage_credit_note(uow=first, invoice_id=invoice_id, lines=asked, reason="first")
        second = asyncio.create_task(second_note())
        # Not a wait for something to happen: a bounded look that the second is held meanwhile.
        done, _ = await asyncio.wait({second}, timeout=0.5)
        assert not done, "the second credit note did not wait for the first's transaction"
        await first.commit()
    with pytest.raises(ValidationFailed) as refused:
        await second
    assert "remains creditable" in str(refused.value.errors[0].message) or refused.value.errors[
        0
    ].field.startswith("lines")
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        invoice = await uow.invoices.get(invoice_id)
        notes = await uow.credit_notes.of_invoice(invoice_id)
    assert [note.number_text for note in notes] == ["CN-2026-000001"]
    assert (invoice.credited, invoice.amount_due) == (Decimal("2177.50"), Decimal("1189.56"))
