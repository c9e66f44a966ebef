"""A bill-run chunk read and drafted before its write turn (issue 9: two invoicing processes on one
SQLite file overlap that work with each other's writes), SQLite and PostgreSQL.

What a user sees: a prepared chunk issues the same invoices as one read in its transaction —
each account's 689.70 (bench seed: 612.34 and its tax), numbers without a gap; an input that
changes between the preparation and the write (usage kept, an adjustment cancelled) is on the
invoice exactly as if the chunk had read it in its transaction; and two workers on one SQLite
file, each preparing its chunks outside the turn while usage keeps arriving, bill every account
exactly once with numbers 1..N.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from bench.billrun_seed import account_id, invoice_total, seed_read_model
from invoicing.app import create_app
from invoicing.bootstrap import InvoicingRuntime, bootstrap
from invoicing.consumers import BILL_RUNS_GROUP
from invoicing.domain.billing_inputs import AdjustmentDirection
from invoicing.handlers import adjustments as adjustment_handlers
from invoicing.handlers import bill_runs
from invoicing.handlers import billing_inputs as read_model
from invoicing.handlers.account_billing import InvoiceEngineBilling
from invoicing.handlers.bill_run_chunks import apply_chunk, prepare_chunk
from invoicing.handlers.bill_runs_port import PreparedBilling
from invoicing.repository.unit_of_work import SqlInvoicingUnitOfWork
from invoicing.schemas.adjustments import AdjustmentCreate
from invoicing.schemas.bill_runs import BillRunCreate
from libs.contracts.bill_runs import BillRunChunkRequested
from libs.platform.db import Database
from libs.platform.service import ConsumerSpec
from libs.platform.write_turns import WriteTurns
from tests.invoicing.integration.conftest import AUGUST_1, invoicing_settings
from tests.invoicing.upstream_events import usage_rated
from tests.support.services import running_app

BILL_DATE = date(2026, 8, 1)
BILLING = InvoiceEngineBilling()
CENT = Decimal("0.01")


SETTINGS = {"bill_run_poll_s": 3600}
"""The tests apply the chunks themselves: the run's job (no bus: it bills them inline) waits."""


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[InvoicingRuntime]:
    app = create_app(invoicing_settings(database_url, **SETTINGS), clock=AUGUST_1)
    async with running_app(app):
        runtime = app.state.runtime
        assert isinstance(runtime, InvoicingRuntime)
        yield runtime


async def _seed(db: Database, accounts: int) -> None:
    async with db.engine.begin() as connection:
        await seed_read_model(connection, accounts)


async def _run(runtime: InvoicingRuntime, accounts: Sequence[str]) -> str:
    async with runtime.invoicing_unit_of_work() as uow:
        started = await bill_runs.start_bill_run(
            uow, command=BillRunCreate(bill_date=BILL_DATE, account_ids=list(accounts))
        )
    return started.id


def _request(run_id: str, chunk_id: int, accounts: Sequence[str]) -> BillRunChunkRequested:
    return BillRunChunkRequested(
        run_id=run_id, chunk_id=chunk_id, bill_date=BILL_DATE, account_ids=list(accounts)
    )


def _uow(runtime: InvoicingRuntime, db: Database, session: object) -> SqlInvoicingUnitOfWork:
    return SqlInvoicingUnitOfWork(
        db, producer="invoicing", actor="invoicing.bill_runs", session=session, clock=AUGUST_1
    )  # type: ignore[arg-type]


async def _prepare(
    runtime: InvoicingRuntime, request: BillRunChunkRequested, db: Database | None = None
) -> PreparedBilling:
    db = db or runtime.db
    async with db.read_only_sessions() as session:
        prepared = await prepare_chunk(_uow(runtime, db, session), billing=BILLING, request=request)
    assert prepared is not None
    return prepared


async def _apply(
    runtime: InvoicingRuntime,
    request: BillRunChunkRequested,
    prepared: PreparedBilling | None,
    db: Database | None = None,
) -> None:
    db = db or runtime.db
    async with db.session() as session:
        await apply_chunk(_uow(runtime, db, session), billing=BILLING, request=request, prepared=prepared)
        await session.commit()


async def _invoices(db: Database) -> list[tuple[str, str, str]]:
    """(account, total, number in its series) of every invoice, by number."""
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT account_id, total, sequence_number FROM invoices ORDER BY sequence_number")
        )
        return [(str(a), str(Decimal(str(t)).quantize(CENT)), int(n)) for a, t, n in rows.all()]  # type: ignore[misc]


async def _lines(db: Database, account: str) -> list[tuple[str, str, str]]:
    """An invoice's lines: charge key (the account's number blanked), amount, tax."""
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT charge_key, amount, tax_amount FROM invoice_lines WHERE account_id = :a"),
            {"a": account},
        )
        return sorted(
            (
                re.sub(r"\d{8}", "#", str(k)),
                str(Decimal(str(a)).normalize()),
                str(Decimal(str(t)).normalize()),
            )
            for k, a, t in rows.all()
        )


async def _charge_keys(db: Database, account: str) -> set[str]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT charge_key FROM invoice_lines WHERE account_id = :a"), {"a": account}
        )
        return {str(key) for (key,) in rows.all()}


async def _kept_usage(runtime: InvoicingRuntime, account: str, usage_id: str) -> None:
    async with runtime.invoicing_unit_of_work() as uow:
        await read_model.apply_usage_rated(uow=uow, events=[usage_rated(usage_id, account_id=account)])


async def _adjust(runtime: InvoicingRuntime, account: str) -> str:
    async with runtime.invoicing_unit_of_work() as uow:
        adjustment = await adjustment_handlers.create_adjustment(
            uow=uow,
            command=AdjustmentCreate(
                account_id=account,
                currency="USD",
                direction=AdjustmentDirection.CREDIT,
                amount=Decimal("50.00"),
                reason="Goodwill credit",
                effective_date=date(2026, 7, 15),
            ).command(),
        )
    return adjustment.id


async def _cancel(runtime: InvoicingRuntime, adjustment_id: str) -> None:
    async with runtime.invoicing_unit_of_work() as uow:
        await adjustment_handlers.cancel_adjustment(
            uow=uow, adjustment_id=adjustment_id, reason="entered twice"
        )


async def test_a_prepared_chunk_issues_the_invoices_a_chunk_read_in_its_transaction_does(
    runtime: InvoicingRuntime,
) -> None:
    await _seed(runtime.db, 6)
    accounts = [account_id(n) for n in range(6)]
    run_id = await _run(runtime, accounts)
    first, second = _request(run_id, 1, accounts[:3]), _request(run_id, 2, accounts[3:])

    await _apply(runtime, first, await _prepare(runtime, first))
    await _apply(runtime, second, None)  # read in its transaction, as before

    total = str(invoice_total())
    assert await _invoices(runtime.db) == [(a, total, n) for n, a in enumerate(accounts, start=1)]
    lines = [await _lines(runtime.db, a) for a in accounts]
    assert lines[:3] == lines[3:] and len(lines[0]) == 3  # the same lines, taxed the same


async def test_usage_kept_between_preparation_and_write_is_on_the_invoice(runtime: InvoicingRuntime) -> None:
    await _seed(runtime.db, 3)
    accounts = [account_id(n) for n in range(3)]
    run_id = await _run(runtime, accounts)
    chunk = _request(run_id, 1, accounts)
    prepared = await _prepare(runtime, chunk)

    await _kept_usage(runtime, accounts[1], "ru_late")  # commits before the chunk's write turn
    await _apply(runtime, chunk, prepared)

    invoices = await _invoices(runtime.db)
    assert [(a, n) for a, _, n in invoices] == [(a, n) for n, a in enumerate(accounts, start=1)]
    totals = {a: Decimal(t) for a, t, _ in invoices}
    assert totals[accounts[0]] == totals[accounts[2]] == invoice_total()
    assert totals[accounts[1]] > invoice_total() + Decimal("107.59") - Decimal("0.01")
    assert any("ru_late" in key for key in await _charge_keys(runtime.db, accounts[1]))
    # Billed and marked: a rerun of the date reads none of them (the usage was billed).
    async with runtime.invoicing_unit_of_work() as uow:
        assert await uow.billing_inputs.account_ids_page(None, 10, due_on=BILL_DATE) == []


async def test_an_adjustment_cancelled_between_preparation_and_write_is_not_on_the_invoice(
    runtime: InvoicingRuntime,
) -> None:
    await _seed(runtime.db, 2)
    accounts = [account_id(0), account_id(1)]
    adjustment = await _adjust(runtime, accounts[0])
    run_id = await _run(runtime, accounts)
    chunk = _request(run_id, 1, accounts)
    prepared = await _prepare(runtime, chunk)

    await _cancel(runtime, adjustment)
    await _apply(runtime, chunk, prepared)

    total = str(invoice_total())
    assert await _invoices(runtime.db) == [(accounts[0], total, 1), (accounts[1], total, 2)]


async def _worker(
    runtime: InvoicingRuntime, database_url: str, chunks: Sequence[BillRunChunkRequested], turns: WriteTurns
) -> None:
    """An invoicing process's bill-run consumer: each chunk prepared outside the turn, written in it."""
    db = Database(database_url)
    try:
        for chunk in chunks:
            prepared = await _prepare(runtime, chunk, db)
            async with turns.turn():
                await _apply(runtime, chunk, prepared, db)
    finally:
        turns.close()
        await db.dispose()


async def test_two_workers_on_one_sqlite_file_bill_every_account_once_while_usage_arrives(
    sqlite_url: str,
) -> None:
    app = create_app(invoicing_settings(sqlite_url, **SETTINGS), clock=AUGUST_1)
    async with running_app(app):
        runtime = app.state.runtime
        assert isinstance(runtime, InvoicingRuntime)
        await _seed(runtime.db, 120)
        accounts = [account_id(n) for n in range(120)]
        run_id = await _run(runtime, accounts)
        chunks = [_request(run_id, c + 1, accounts[c * 10 : c * 10 + 10]) for c in range(12)]
        database = runtime.db.engine.url.database

        async def usage() -> None:
            for n in range(0, 120, 7):
                await _kept_usage(runtime, account_id(n), f"ru_{uuid.uuid4().hex[:8]}")
                await asyncio.sleep(0)

        await asyncio.gather(
            _worker(runtime, sqlite_url, chunks[0::2], WriteTurns(database, name="bill-run")),
            _worker(runtime, sqlite_url, chunks[1::2], WriteTurns(database, name="bill-run")),
            usage(),
        )

        invoices = await _invoices(runtime.db)
        assert sorted(a for a, _, _ in invoices) == accounts  # exactly one each
        assert [n for _, _, n in invoices] == list(range(1, 121))  # no gap, no duplicate
        async with runtime.invoicing_unit_of_work() as uow:
            _, progress = await uow.bill_runs.progress(run_id)
            assert (progress.accounts, progress.invoices_created) == (120, 120)


def test_the_bill_run_group_prepares_its_chunks_only_when_told_to(sqlite_url: str) -> None:
    def spec(**extra: object) -> ConsumerSpec:
        runtime = bootstrap(invoicing_settings(sqlite_url, **extra))
        return next(s for s in runtime.consumer_specs if s.group_id == BILL_RUNS_GROUP)

    default, prepared = spec(), spec(bill_run_prepared_chunks=True)

    assert default.prepare is None and default.write_turn is None
    assert prepared.prepare is not None and prepared.write_turn is not None
