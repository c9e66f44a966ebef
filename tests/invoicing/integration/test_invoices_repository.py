"""Invoices on SQLite and PostgreSQL: the database holds one invoice per account, currency, period
and run whatever the runs do, and numbers without gaps under concurrent finalizations."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from invoicing.domain.billing_inputs import BilledCharge
from invoicing.domain.invoices import InvoiceConflict, InvoiceState, RunKind
from invoicing.handlers import invoices as handlers
from invoicing.handlers.invoices_port import ChargeBilledMeanwhile, InvoiceFilters
from invoicing.models.invoices import InvoiceRow
from libs.platform.errors import Conflict
from libs.platform.pagination import PageRequest
from tests.invoicing.factories import billing_account, invoice_line
from tests.invoicing.integration.conftest import Invoicing


async def _count(invoicing: Invoicing, sql: str) -> int:
    async with invoicing.runtime.db.session() as session:
        connection = await session.connection()
        return int((await connection.execute(text(sql))).scalar_one())


async def test_a_stored_invoice_reads_back_to_the_cent(invoicing: Invoicing) -> None:
    drafted = await invoicing.draft()
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        stored = await handlers.get_invoice(uow=uow, invoice_id=drafted.invoice.id)
    assert stored.state is InvoiceState.DRAFT
    assert [(line.charge_key, line.amount, line.tax_amount) for line in stored.lines] == [
        ("sub_1:2026-08", Decimal("3000.00"), Decimal("266.25")),
        ("ru_1", Decimal("92.59"), Decimal("8.22")),
    ]
    assert (stored.subtotal, stored.tax_total, stored.total) == (
        Decimal("3092.59"),
        Decimal("274.47"),
        Decimal("3367.06"),
    )
    assert stored.bill_to.name == "Acme Workforce Inc." and stored.payment_terms_days == 30


async def test_two_runs_at_once_make_one_invoice(invoicing: Invoicing) -> None:
    outcomes = await asyncio.gather(*(invoicing.draft() for _ in range(4)))
    assert sum(outcome.created for outcome in outcomes) == 1
    assert len({outcome.invoice.id for outcome in outcomes}) == 1
    assert await _count(invoicing, "SELECT COUNT(*) FROM invoices") == 1
    assert await _count(invoicing, "SELECT COUNT(*) FROM invoice_lines") == 2


async def test_the_database_itself_refuses_a_second_invoice_for_the_period(invoicing: Invoicing) -> None:
    first = await invoicing.draft()
    # A run that skipped the look-up (or crashed after it) still cannot store a second one.
    columns = ", ".join(c.name for c in InvoiceRow.__table__.columns if c.name != "id")
    copy_sql = (
        f"INSERT INTO invoices (id, {columns}) SELECT 'inv_copy', {columns} FROM invoices "
        f"WHERE id = '{first.invoice.id}'"
    )
    async with invoicing.runtime.db.session() as session:
        connection = await session.connection()
        with pytest.raises(IntegrityError):
            await connection.execute(text(copy_sql))
        await session.rollback()
    on_demand = await invoicing.draft(
        run_kind=RunKind.ON_DEMAND, run_source_id="ful_1", lines=[invoice_line("ful_1:ol_1")]
    )
    assert on_demand.created, "a fulfillment's on-demand invoice has a key of its own"


async def test_a_void_invoice_frees_its_period_and_its_charges(invoicing: Invoicing) -> None:
    first = await invoicing.draft()
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        await handlers.void_invoice(uow=uow, invoice_id=first.invoice.id, reason="preview")
    again = await invoicing.draft()
    assert again.created and again.invoice.id != first.invoice.id


async def test_a_charge_billed_meanwhile_is_refused_by_the_database(invoicing: Invoicing) -> None:
    first = await invoicing.draft()
    september = {"period_start": date(2026, 9, 1), "period_end": date(2026, 10, 1)}
    with pytest.raises(ChargeBilledMeanwhile):
        await invoicing.draft(**september, lines=[invoice_line("sub_1:2026-08")])
    assert await _count(invoicing, "SELECT COUNT(*) FROM invoices") == 1
    difference = await invoicing.draft(
        **september,
        lines=[invoice_line("sub_1:2026-08", quantity="10")],
        billed=[BilledCharge("sub_1:2026-08", Decimal("3000.00"), first.invoice.id)],
    )
    assert difference.created


async def test_concurrent_finalizations_number_without_gaps(invoicing: Invoicing) -> None:
    drafts = [await invoicing.draft_for(f"acct_{n}") for n in range(8)]
    # The first draft is also finalized twice at once: one of those two is refused and takes no number.
    ids = [d.invoice.id for d in drafts] + [drafts[0].invoice.id]
    results = await asyncio.gather(*(invoicing.finalize(i) for i in ids), return_exceptions=True)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], (Conflict, InvoiceConflict)), refused
    numbers = sorted(r.number_text for r in results if not isinstance(r, BaseException))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 9)]
    assert (
        await _count(invoicing, "SELECT last_number FROM invoice_number_series WHERE series = 'INV-2026'")
        == 8
    )


async def test_list_filters_and_pages(invoicing: Invoicing) -> None:
    drafts = [await invoicing.draft_for(f"acct_{n}") for n in range(3)]
    await invoicing.finalize(drafts[1].invoice.id)
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        first = await handlers.list_invoices(uow=uow, filters=InvoiceFilters(), page=PageRequest(limit=2))
        assert [i.id for i in first.data] == [d.invoice.id for d in drafts[:2]] and first.has_more
        issued = await handlers.list_invoices(
            uow=uow,
            filters=InvoiceFilters(invoice_date_from=date(2026, 8, 1), invoice_date_to=date(2026, 8, 1)),
            page=PageRequest(),
        )
        assert [i.number_text for i in issued.data] == ["INV-2026-000001"]
        by_account = await handlers.list_invoices(
            uow=uow, filters=InvoiceFilters(account_id="acct_2", state=InvoiceState.DRAFT), page=PageRequest()
        )
        assert [i.id for i in by_account.data] == [drafts[2].invoice.id]


async def test_a_run_killed_before_its_commit_leaves_no_invoice_and_no_number(invoicing: Invoicing) -> None:
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        await handlers.stage_draft(
            uow=uow,
            account=billing_account(),
            currency="USD",
            period_start=date(2026, 8, 1),
            period_end=date(2026, 9, 1),
            lines=[invoice_line("x")],
        )
        assert await uow.invoices.next_number("INV-2026") == 1
        # ... and the process dies here: the transaction is never committed.
    assert await _count(invoicing, "SELECT COUNT(*) FROM invoices") == 0
    assert await _count(invoicing, "SELECT COUNT(*) FROM invoice_number_series") == 0
    restarted = await invoicing.draft()
    assert restarted.created
    assert (await invoicing.finalize(restarted.invoice.id)).number_text == "INV-2026-000001"
