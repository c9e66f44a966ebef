"""A savepoint that rolls back takes back the events emitted inside it: the outbox gets only what
the committed transaction did (a bill run's chunk that fails and is billed again account by
account must not publish `invoice.finalized` for invoices its rolled-back attempt made)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.contracts.payments import InvoicePaid
from tests.invoicing.integration.conftest import Invoicing


def _paid(invoice_id: str) -> InvoicePaid:
    return InvoicePaid(
        invoice_id=invoice_id,
        invoice_number=f"INV-2026-{invoice_id[-6:]}",
        account_id="acct_1",
        currency="USD",
        total="10.00",  # type: ignore[arg-type]
        paid_at=datetime(2026, 8, 1, tzinfo=UTC),
    )


class _Refused(Exception):
    pass


async def test_events_emitted_in_a_rolled_back_savepoint_are_not_published(invoicing: Invoicing) -> None:
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        uow.emit(_paid("inv_000001"), key="acct_1")
        with pytest.raises(_Refused):
            async with uow.savepoint():
                uow.emit(_paid("inv_000002"), key="acct_1")
                raise _Refused
        async with uow.savepoint():
            uow.emit(_paid("inv_000003"), key="acct_1")
        await uow.commit()

    published = [payload["invoice_id"] for payload in await invoicing.outbox("invoice.paid")]
    assert published == ["inv_000001", "inv_000003"]
