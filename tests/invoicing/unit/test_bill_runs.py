"""Bill run handlers on the fake unit of work: start, enumerate into chunks, bill each chunk once,
isolate a failing account, complete; fulfillment, scheduled and retry runs; previews."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from invoicing.domain.bill_runs import BillRunKind, BillRunState
from invoicing.handlers import bill_runs
from invoicing.handlers.bill_run_chunks import (
    BillRunSettings,
    apply_chunk,
    complete_runs,
    enumerate_run,
    enumerate_runs,
    take_next_run,
)
from invoicing.schemas.bill_runs import BillRunCreate, BillRunPublic
from libs.contracts.bill_runs import BillRunChunkRequested, BillRunCompleted
from libs.platform.errors import Conflict, ValidationFailed
from libs.platform.pagination import PageRequest
from tests.invoicing.unit.fakes import (
    FakeAccountBilling,
    FakeAccountsDirectory,
    FakeInvoicingUnitOfWork,
    InvoicingStore,
    units_of_work,
)

BILL_DATE = date(2026, 8, 1)
SETTINGS = BillRunSettings(chunk_accounts=100, chunks_per_transaction=3)


def accounts(n: int) -> list[str]:
    return [f"acct_{i:05d}" for i in range(n)]


async def start(store: InvoicingStore, **body: object) -> BillRunPublic:
    async with FakeInvoicingUnitOfWork(store) as uow:
        return await bill_runs.start_bill_run(uow, command=BillRunCreate(bill_date=BILL_DATE, **body))


async def report(store: InvoicingStore, run_id: str) -> BillRunPublic:
    async with FakeInvoicingUnitOfWork(store) as uow:
        return await bill_runs.get_bill_run(uow, run_id=run_id)


async def enumerate_all(
    store: InvoicingStore, directory: FakeAccountsDirectory, billing: FakeAccountBilling, *, local: bool
) -> list[FakeInvoicingUnitOfWork]:
    factory, made = units_of_work(store)
    await enumerate_runs(
        units_of_work=factory,
        accounts_of=lambda _uow: directory,
        billing=billing,
        worker="w1",
        settings=SETTINGS,
        local=local,
    )
    return made


def chunk_messages(made: list[FakeInvoicingUnitOfWork]) -> list[tuple[str, BillRunChunkRequested]]:
    return [
        (e.key, e.payload_as(BillRunChunkRequested))
        for uow in made
        for e in uow.envelopes
        if e.type == "bill_run.chunk_requested"
    ]


async def consume(
    store: InvoicingStore, billing: FakeAccountBilling, request: BillRunChunkRequested
) -> list[str]:
    async with FakeInvoicingUnitOfWork(store, actor="invoicing.bill_runs") as uow:
        await apply_chunk(uow, billing=billing, request=request)
    return uow.event_types


async def test_a_run_fans_out_in_chunks_and_each_chunk_counts_once() -> None:
    store, billing = InvoicingStore(), FakeAccountBilling()
    directory = FakeAccountsDirectory(accounts(2000))
    started = await start(store)
    assert started.state is BillRunState.PENDING
    assert started.accounts_listed is None and started.percent is None

    made = await enumerate_all(store, directory, billing, local=False)
    messages = chunk_messages(made)
    assert [m.chunk_id for _, m in messages] == list(range(1, 21))
    assert all(key == m.account_ids[0] for key, m in messages)  # keyed by the chunk's first account
    assert sum(len(m.account_ids) for _, m in messages) == 2000
    after_enumeration = await report(store, started.id)
    assert after_enumeration.state is BillRunState.RUNNING
    assert (after_enumeration.accounts_total, after_enumeration.chunks_total) == (2000, 20)
    assert after_enumeration.accounts_done == 0 and after_enumeration.percent == 0.0

    events: list[str] = []
    for _, message in messages:
        events += await consume(store, billing, message)
    events += await consume(store, billing, messages[3][1])  # a chunk delivered again
    done = await report(store, started.id)
    assert done.state is BillRunState.COMPLETED
    assert (done.accounts_done, done.chunks_done, done.invoices_created, done.failures) == (2000, 20, 2000, 0)
    assert [(a.currency, a.invoices, a.amount) for a in done.amounts] == [("USD", 2000, Decimal("200000.00"))]
    assert done.percent == 100.0
    assert events.count("bill_run.completed") == 1
    assert len(store.fake_billed) == 2000
    assert len(billing.calls) == 20  # the redelivered chunk was not billed again


async def test_a_failing_account_is_recorded_and_the_others_are_billed() -> None:
    store = InvoicingStore()
    billing = FakeAccountBilling(
        raising={"acct_00042": "no price for product prd_9"},
        refused={"acct_00150": "currency EUR does not match the parent's USD"},
        nothing_due={"acct_00007"},
    )
    started = await start(store)
    await enumerate_all(store, FakeAccountsDirectory(accounts(250)), billing, local=True)
    done = await report(store, started.id)
    assert done.state is BillRunState.COMPLETED_WITH_FAILURES
    assert (done.accounts_done, done.accounts_invoiced, done.accounts_without_invoice) == (250, 247, 1)
    assert (done.invoices_created, done.failures) == (247, 2)
    assert [(f.account_id, f.reason) for f in done.failures_sample] == [
        ("acct_00042", "no price for product prd_9"),
        ("acct_00150", "currency EUR does not match the parent's USD"),
    ]
    assert ("acct_00042", "USD", date(2026, 8, 1)) not in store.fake_billed
    assert ("acct_00041", "USD", date(2026, 8, 1)) in store.fake_billed  # its chunk neighbours are billed
    assert len(store.fake_billed) == 247


async def test_retrying_the_failures_bills_only_the_failed_accounts() -> None:
    store = InvoicingStore()
    billing = FakeAccountBilling(raising={"acct_00003": "no price"})
    started = await start(store)
    await enumerate_all(store, FakeAccountsDirectory(accounts(5)), billing, local=True)
    billing.raising.clear()
    async with FakeInvoicingUnitOfWork(store) as uow:
        retry = await bill_runs.retry_failures(uow, run_id=started.id)
    assert retry.retry_of == started.id and retry.accounts_listed == 1
    await enumerate_all(store, FakeAccountsDirectory([]), billing, local=True)
    done = await report(store, retry.id)
    assert (done.state, done.invoices_created, done.failures) == (BillRunState.COMPLETED, 1, 0)
    async with FakeInvoicingUnitOfWork(store) as uow:
        with pytest.raises(Conflict):
            await bill_runs.retry_failures(uow, run_id=retry.id)


async def test_a_repeated_run_finds_every_invoice_existing() -> None:
    store, billing = InvoicingStore(), FakeAccountBilling()
    directory = FakeAccountsDirectory(accounts(300))
    first = await start(store)
    await enumerate_all(store, directory, billing, local=True)
    again = await start(store)
    await enumerate_all(store, directory, billing, local=True)
    repeated = await report(store, again.id)
    assert (await report(store, first.id)).invoices_created == 300
    assert (repeated.state, repeated.invoices_created, repeated.invoices_existing) == (
        BillRunState.COMPLETED,
        0,
        300,
    )
    assert repeated.amounts == []
    assert len(store.fake_billed) == 300


async def test_a_dry_run_reports_the_invoices_and_stores_none() -> None:
    store, billing = InvoicingStore(), FakeAccountBilling()
    started = await start(store, dry_run=True)
    await enumerate_all(store, FakeAccountsDirectory(accounts(120)), billing, local=True)
    done = await report(store, started.id)
    assert (done.dry_run, done.invoices_created) == (True, 120)
    assert store.fake_billed == {}


async def test_a_run_of_listed_accounts_bills_only_those() -> None:
    store, billing = InvoicingStore(), FakeAccountBilling()
    started = await start(store, account_ids=["acct_00009", "acct_00002"])
    await enumerate_all(store, FakeAccountsDirectory(accounts(50)), billing, local=True)
    done = await report(store, started.id)
    assert (done.accounts_listed, done.accounts_total, done.invoices_created) == (2, 2, 2)
    assert sorted(a for a, _, _ in store.fake_billed) == ["acct_00002", "acct_00009"]


async def test_a_run_with_no_accounts_completes_at_once() -> None:
    store = InvoicingStore()
    started = await start(store)
    await enumerate_all(store, FakeAccountsDirectory([]), FakeAccountBilling(), local=False)
    done = await report(store, started.id)
    assert (done.state, done.accounts_total, done.chunks_total) == (BillRunState.COMPLETED, 0, 0)


async def test_enumeration_taken_over_after_a_crash_goes_on_from_the_cursor() -> None:
    store, billing = InvoicingStore(), FakeAccountBilling()
    directory = FakeAccountsDirectory(accounts(1000))
    started = await start(store)
    factory, made = units_of_work(store)
    run = await take_next_run(factory, worker="w1", lease=SETTINGS.lease)
    assert run is not None
    # w1 commits one page (3 chunks) and dies: its lease runs out and w2 takes the run over.
    dying = _DyingDirectory(directory, pages=1)
    with pytest.raises(AssertionError, match="the worker died"):
        await enumerate_run(
            units_of_work=factory,
            accounts_of=lambda _uow: dying,
            billing=billing,
            run=run,
            settings=SETTINGS,
            local=False,
        )
    assert store.bill_runs[run.id].chunks_total == 3
    store.bill_runs[run.id].lease_until = store.bill_runs[run.id].created_at - timedelta(minutes=1)
    later_factory, later = units_of_work(store)
    await enumerate_runs(
        units_of_work=later_factory,
        accounts_of=lambda _uow: directory,
        billing=billing,
        worker="w2",
        settings=SETTINGS,
        local=False,
    )
    messages = chunk_messages(made) + chunk_messages(later)
    assert [m.chunk_id for _, m in messages] == list(range(1, 11))
    assert sorted(a for _, m in messages for a in m.account_ids) == accounts(1000)
    for _, message in messages:
        await consume(store, billing, message)
    done = await report(store, started.id)
    assert (done.state, done.accounts_done, done.invoices_created) == (BillRunState.COMPLETED, 1000, 1000)


class _DyingDirectory:
    """Answers `pages` pages, then the process 'dies' (an assertion, nothing committed)."""

    def __init__(self, directory: FakeAccountsDirectory, *, pages: int) -> None:
        self.directory, self.left = directory, pages

    async def accounts_page(
        self, after_account_id: str | None, limit: int, *, due_on: date | None = None
    ) -> list[str]:
        assert self.left > 0, "the worker died"
        self.left -= 1
        return await self.directory.accounts_page(after_account_id, limit)


async def test_the_last_chunks_counted_at_once_are_completed_by_the_job() -> None:
    store, billing = InvoicingStore(), FakeAccountBilling()
    started = await start(store)
    made = await enumerate_all(store, FakeAccountsDirectory(accounts(150)), billing, local=False)
    for _, message in chunk_messages(made):
        await consume(store, billing, message)
    # As if two replicas had each missed that theirs was the last chunk:
    store.bill_runs[started.id].state = BillRunState.RUNNING
    factory, completing = units_of_work(store)
    assert await complete_runs(factory) == 1
    assert await complete_runs(factory) == 0
    completed = [e for uow in completing for e in uow.envelopes if e.type == "bill_run.completed"]
    assert completed[0].payload_as(BillRunCompleted).invoices_created == 150


async def test_a_fulfillment_run_bills_its_one_account_once() -> None:
    store = InvoicingStore()
    async with FakeInvoicingUnitOfWork(store) as uow:
        run = await bill_runs.bill_fulfillment(uow, fulfillment_id="ful_1", account_id="acct_7")
    async with FakeInvoicingUnitOfWork(store) as uow:
        again = await bill_runs.bill_fulfillment(uow, fulfillment_id="ful_1", account_id="acct_7")
    assert again.id == run.id and len(store.bill_runs) == 1
    assert (run.kind, run.account_ids, run.bill_date) == (BillRunKind.FULFILLMENT, ("acct_7",), BILL_DATE)
    await enumerate_all(store, FakeAccountsDirectory(accounts(10)), FakeAccountBilling(), local=True)
    done = await report(store, run.id)
    assert (done.fulfillment_id, done.accounts_done, done.invoices_created) == ("ful_1", 1, 1)


async def test_the_scheduled_run_of_a_date_starts_once() -> None:
    store = InvoicingStore()
    async with FakeInvoicingUnitOfWork(store) as uow:
        first = await bill_runs.start_scheduled_run(uow, bill_date=BILL_DATE)
    async with FakeInvoicingUnitOfWork(store) as uow:
        second = await bill_runs.start_scheduled_run(uow, bill_date=BILL_DATE)
    assert first is not None and first.kind is BillRunKind.SCHEDULED
    assert second is None and len(store.bill_runs) == 1


async def test_runs_are_listed_by_page() -> None:
    store = InvoicingStore()
    ids = [(await start(store)).id for _ in range(3)]
    async with FakeInvoicingUnitOfWork(store) as uow:
        first = await bill_runs.list_bill_runs(uow, page=PageRequest(limit=2), state=None)
    assert [r.id for r in first.data] == ids[:2] and first.has_more


async def test_a_preview_shows_the_next_invoice_and_stores_nothing() -> None:
    store, billing = InvoicingStore(), FakeAccountBilling(charges={"acct_1": [("JPY", Decimal("1235"))]})
    async with FakeInvoicingUnitOfWork(store) as uow:
        preview = await bill_runs.preview_invoice(
            uow, billing=billing, account_id="acct_1", bill_date=BILL_DATE
        )
        assert uow.commits == 0
    assert [(i.currency, i.total, i.period_start, i.period_end) for i in preview.invoices] == [
        ("JPY", Decimal("1235"), date(2026, 8, 1), date(2026, 9, 1))
    ]
    assert preview.invoices[0].lines[0].description == "Monthly fee"
    assert store.fake_billed == {} and store.bill_runs == {}


async def test_a_preview_of_an_account_that_cannot_be_billed_says_why() -> None:
    billing = FakeAccountBilling(refused={"acct_1": "no price for product prd_1"})
    async with FakeInvoicingUnitOfWork() as uow:
        with pytest.raises(ValidationFailed) as refused:
            await bill_runs.preview_invoice(uow, billing=billing, account_id="acct_1", bill_date=BILL_DATE)
    assert refused.value.errors[0].message == "no price for product prd_1"
