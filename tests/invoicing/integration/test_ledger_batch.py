"""`invoice.finalized` booked many at once (the `invoicing.ledger` consumer's batch handler) posts the
same schedules, months and journal entries as booking each on its own, on SQLite and PostgreSQL;
and each invoice once — a repeat in the batch, an invoice booked before, a replayed batch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from invoicing.app import create_app
from invoicing.bootstrap import InvoicingRuntime
from invoicing.handlers import ledger_postings
from invoicing.handlers.billing_inputs import apply_product_changed
from invoicing.models.ledger import JournalEntryRow, JournalLineRow
from invoicing.models.revenue import RevenueScheduleMonthRow, RevenueScheduleRow
from libs.contracts.invoicing import InvoiceFinalized
from tests.invoicing.factories_ledger import invoice_finalized, invoice_line
from tests.invoicing.integration.conftest import invoicing_settings
from tests.invoicing.upstream_events import product_changed
from tests.support.services import running_app

YEAR = (date(2026, 3, 1), date(2027, 2, 28))
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
ON = datetime(2026, 3, 1, tzinfo=UTC)


def _invoices(prefix: str, count: int) -> list[InvoiceFinalized]:
    """Invoices of every shape the ledger books differently: ratable and on-invoice products, a
    product it does not know, usage, tax, excess credit carried to the account, a zero invoice."""
    invoices = []
    for n in range(count):
        lines = [
            invoice_line("seats", f"{1200 + n}.00", period=YEAR, product_id="prod_seats", tax="105.00"),
            invoice_line("setup", "250.00", period=MARCH, product_id="prod_setup", kind="one_time"),
            invoice_line("calls", f"{n}.37", period=MARCH, product_id=None, kind="usage"),
            invoice_line("other", "99.99", period=MARCH, product_id="prod_unknown"),
        ]
        if n % 5 == 0:
            credit = invoice_line("credit", "-10.00", period=MARCH, product_id=None, kind="account_credit")
            lines.append(credit)
        if n % 7 == 3:
            lines = [invoice_line("free", "0.00", period=MARCH, product_id="prod_setup", kind="one_time")]
        invoices.append(
            invoice_finalized(
                f"inv_{prefix}_{n:03}", f"INV-{prefix.upper()}{n:03}", date(2026, 3, 1), lines, f"acct_{n}"
            )
        )
    return invoices


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[InvoicingRuntime]:
    app = create_app(invoicing_settings(database_url))
    async with running_app(app):
        runtime: InvoicingRuntime = app.state.runtime
        async with runtime.invoicing_unit_of_work() as uow:
            for event in (
                product_changed("prod_seats", revenue_rule="ratable"),
                product_changed("prod_setup", revenue_rule="on_invoice"),
            ):
                await apply_product_changed(uow=uow, event=event, occurred_at=ON)
        yield runtime


async def _booked(runtime: InvoicingRuntime, prefix: str) -> list[Any]:
    """What the ledger holds of a prefix's invoices, without ids (the same invoice under the other
    prefix must read the same)."""

    def plain(value: str | None) -> str | None:
        return None if value is None else value.replace(f"_{prefix}_", "_").replace(prefix.upper(), "")

    async with runtime.db.session() as session:
        connection = await session.connection()
        entries = (
            await connection.execute(
                select(JournalEntryRow.__table__).where(  # type: ignore[attr-defined]
                    JournalEntryRow.__table__.c.source_id.like(f"inv_{prefix}_%")  # type: ignore[attr-defined]
                )
            )
        ).all()
        entry_ids = {row.id for row in entries}
        lines = [
            row
            for row in (await connection.execute(select(JournalLineRow.__table__))).all()  # type: ignore[attr-defined]
            if row.entry_id in entry_ids
        ]
        schedules = (
            await connection.execute(
                select(RevenueScheduleRow.__table__).where(  # type: ignore[attr-defined]
                    RevenueScheduleRow.__table__.c.invoice_id.like(f"inv_{prefix}_%")  # type: ignore[attr-defined]
                )
            )
        ).all()
        schedule_ids = {row.id: row for row in schedules}
        months = [
            row
            for row in (await connection.execute(select(RevenueScheduleMonthRow.__table__))).all()  # type: ignore[attr-defined]
            if row.schedule_id in schedule_ids
        ]
    by_entry = {row.id: row for row in entries}
    return [
        sorted(
            (
                row.kind,
                row.entry_date,
                row.currency,
                row.account_id,
                plain(row.source_id),
                plain(row.description),
            )
            for row in entries
        ),
        sorted(
            (plain(by_entry[row.entry_id].source_id), row.line_no, row.gl_account, row.debit, row.credit)
            for row in lines
        ),
        sorted(
            (
                plain(row.invoice_id),
                plain(row.invoice_number),
                row.charge_key,
                row.rule,
                row.amount,
                row.tax_amount,
                row.period_start,
                row.period_end,
            )
            for row in schedules
        ),
        sorted(
            (
                plain(schedule_ids[row.schedule_id].invoice_id),
                schedule_ids[row.schedule_id].charge_key,
                row.month,
                row.recognize_on,
                row.amount,
                row.journal_entry_id is not None
                and by_entry[row.journal_entry_id].source_id == schedule_ids[row.schedule_id].invoice_id,
            )
            for row in months
        ),
    ]


async def test_a_batch_of_invoices_posts_what_one_at_a_time_posts_and_each_once(
    runtime: InvoicingRuntime,
) -> None:
    count = 40
    for event in _invoices("a", count):
        async with runtime.invoicing_unit_of_work() as uow:
            await ledger_postings.post_invoice_finalized(uow=uow, event=event, chart=runtime.chart)

    batch = _invoices("b", count)
    # One of them booked on its own before the batch arrives.
    async with runtime.invoicing_unit_of_work() as uow:
        await ledger_postings.post_invoice_finalized(uow=uow, event=batch[4], chart=runtime.chart)
    async with runtime.invoicing_unit_of_work() as uow:
        # A repeat inside the batch (a republish) is booked once too.
        posted = await ledger_postings.post_invoices_finalized(
            uow=uow, events=[*batch, batch[11]], chart=runtime.chart
        )
    assert posted[4] is None and posted[-1] is None
    assert sum(entry is not None for entry in posted) == count - 1 - sum(n % 7 == 3 for n in range(count))

    one_at_a_time, at_once = await _booked(runtime, "a"), await _booked(runtime, "b")
    assert at_once == one_at_a_time
    assert len(at_once[0]) == count - sum(n % 7 == 3 for n in range(count))  # a zero invoice books nothing
    assert len(at_once[2]) > 3 * len(at_once[0])

    async with runtime.invoicing_unit_of_work() as uow:
        again = await ledger_postings.post_invoices_finalized(uow=uow, events=batch, chart=runtime.chart)
    assert again == [None] * count
    assert await _booked(runtime, "b") == at_once
