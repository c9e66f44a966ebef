"""A bill run's chunk numbers its invoices last, when its transaction commits (issue 9: more
invoicing processes finish a run sooner only if a chunk does not hold the series' counter while it
writes its rows).

What a user sees: the chunk's invoices are issued — finalized, numbered in their order, with
`invoice.finalized` — once its transaction commits; numbers follow the order in which transactions
commit, without a gap, even when another invoice of the series is finalized while the chunk is
still writing; a chunk that fails in its savepoint leaves no number taken and no event.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from invoicing.app import create_app
from invoicing.domain.invoices import InvoiceState
from invoicing.handlers.invoices import DraftRequest, stage_issued
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from tests.invoicing.factories import AUGUST, billing_account, invoice_line
from tests.invoicing.integration.conftest import AUGUST_1, Invoicing, invoicing_settings
from tests.support.services import running_app


def _request(account_id: str) -> DraftRequest:
    return DraftRequest(
        account=billing_account(account_id),
        currency="USD",
        period_start=AUGUST[0],
        period_end=AUGUST[1],
        lines=[invoice_line(f"sub_{account_id}:2026-08", account_id=account_id)],
    )


async def _stage_chunk(uow: InvoicingUnitOfWork, *accounts: str) -> list[str]:
    outcomes = await stage_issued(uow=uow, requests=[_request(a) for a in accounts], invoice_date=AUGUST[0])
    return [outcome.invoice.id for outcome in outcomes]


async def _numbers(invoicing: Invoicing, invoice_ids: list[str]) -> list[str | None]:
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        return [(await uow.invoices.get(i)).number_text for i in invoice_ids]


class _Refused(Exception):
    pass


async def test_a_chunks_invoices_are_numbered_and_finalized_when_it_commits(invoicing: Invoicing) -> None:
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        ids = await _stage_chunk(uow, "acct_1", "acct_2", "acct_3")
        staged = [await uow.invoices.get(i) for i in ids]
        assert [i.state for i in staged] == [InvoiceState.DRAFT] * 3  # not numbered yet
        await uow.commit()

    assert await _numbers(invoicing, ids) == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    finalized = await invoicing.outbox("invoice.finalized")
    assert [(e["invoice_id"], e["number"]) for e in finalized] == [
        (ids[0], "INV-2026-000001"),
        (ids[1], "INV-2026-000002"),
        (ids[2], "INV-2026-000003"),
    ]
    assert await invoicing.audit_actions(ids[0]) == ["invoice.drafted", "invoice.finalized"]


async def test_a_chunk_rolled_back_in_its_savepoint_takes_no_number(invoicing: Invoicing) -> None:
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        with pytest.raises(_Refused):
            async with uow.savepoint():
                await _stage_chunk(uow, "acct_1", "acct_2")
                raise _Refused
        kept = await _stage_chunk(uow, "acct_3")
        await uow.commit()

    assert await _numbers(invoicing, kept) == ["INV-2026-000001"]
    assert [e["invoice_id"] for e in await invoicing.outbox("invoice.finalized")] == kept
    assert len(await invoicing.outbox("invoice.drafted")) == 1


@pytest.fixture
async def on_postgres(postgres_url: str) -> Any:
    app = create_app(invoicing_settings(postgres_url), clock=AUGUST_1)
    async with running_app(app) as client:
        yield Invoicing(app, client)


async def test_an_invoice_finalized_while_a_chunk_writes_does_not_wait_and_numbers_stay_gap_free(
    on_postgres: Invoicing,
) -> None:
    """PostgreSQL (SQLite has one writer at a time): the chunk holds no lock on the series until it
    commits, so another invoice is finalized meanwhile without waiting; it takes number 1, and the
    chunk, committing after it, the next ones."""
    invoicing = on_postgres
    other = (await invoicing.draft_for("acct_9")).invoice
    async with invoicing.runtime.invoicing_unit_of_work() as chunk:
        ids = await _stage_chunk(chunk, "acct_1", "acct_2")
        finalized = await asyncio.wait_for(invoicing.finalize(other.id), timeout=10)
        assert finalized.number_text == "INV-2026-000001"
        await chunk.commit()

    assert await _numbers(invoicing, ids) == ["INV-2026-000002", "INV-2026-000003"]
