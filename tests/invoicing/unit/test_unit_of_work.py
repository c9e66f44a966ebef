"""The fake unit of work keeps events and audit records only once committed, as the SQL one does."""

from __future__ import annotations

from tests.invoicing.unit.fakes import FakeInvoicingUnitOfWork


async def test_audit_records_count_only_after_commit() -> None:
    uow = FakeInvoicingUnitOfWork()
    async with uow:
        uow.audit("invoice.drafted", "invoice", "inv_1", {"total": "10.00"})
        assert uow.audits == []
        await uow.commit()
    assert [entry.action for entry in uow.audits] == ["invoice.drafted"]
