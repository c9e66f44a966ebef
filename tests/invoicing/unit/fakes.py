"""The in-memory invoicing unit of work of every unit test: one `FakeInvoicingUnitOfWork` holding
a fake of each repository of the port, on an `InvoicingStore` that holds what the database would.

Units of work on one store see one world. Each concept adds its fake repository to the store and
binds it in `FakeInvoicingUnitOfWork.__init__`, answering as its SQL counterpart does.

Bill runs also need what the integrator wires later: `FakeAccountBilling` (a stand-in for the real
per-account billing — it bills each account a fixed amount per currency; NOT the charge
calculation) and `FakeAccountsDirectory` (a stand-in for the read model's `accounts_page`).
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from invoicing.domain.bill_runs import (
    TO_ENUMERATE,
    AccountFailure,
    AccountInvoiced,
    AccountOutcome,
    BilledInvoice,
    BillRun,
    BillRunState,
    ChunkResult,
    ChunkTally,
    InvoiceLineSummary,
    RunProgress,
)
from invoicing.domain.tax import TaxRate, TaxRateKey, region_key
from invoicing.handlers.bill_runs_port import BillRunRepository
from invoicing.handlers.tax_rates import TaxRateRepository
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from libs.platform.clock import Clock, FixedClock
from libs.platform.errors import ValidationFailed
from libs.platform.pagination import Page, PageRequest, encode_cursor
from tests.invoicing.unit.fake_billing_inputs import BillingInputsStore, FakeBillingInputsReadModel
from tests.invoicing.unit.fakes_collections import CollectionsTables, FakeCollectionsCaseRepository
from tests.invoicing.unit.fakes_credits import (
    CreditTables,
    FakeAdjustmentRepository,
    FakeCreditNoteRepository,
    FakeDisputeRepository,
)
from tests.invoicing.unit.fakes_invoices import FakeInvoiceRepository, InvoiceTables
from tests.invoicing.unit.fakes_ledger import FakeLedgerRepository, FakeRevenueRepository, LedgerTables
from tests.invoicing.unit.fakes_payments import FakeLockboxRepository, FakePaymentRepository, PaymentTables
from tests.invoicing.unit.fakes_statements import FakeAccountLedger, RecordedActivity
from tests.support.fake_unit_of_work import FakeUnitOfWorkBase

DEFAULT_NOW = datetime(2026, 8, 1, 12, tzinfo=UTC)


@dataclass
class InvoicingStore:
    """Everything the invoicing database would hold, for the fakes."""

    billing_inputs: BillingInputsStore = field(default_factory=BillingInputsStore)
    tax_rates: dict[str, TaxRate] = field(default_factory=dict)
    """Published tax rates by id."""
    invoices: InvoiceTables = field(default_factory=InvoiceTables)
    activity: RecordedActivity = field(default_factory=RecordedActivity)
    """Ledger entries of kinds with no fake of their own yet (payments, credit notes)."""
    credits: CreditTables = field(default_factory=CreditTables)
    payments: PaymentTables = field(default_factory=PaymentTables)
    collections: CollectionsTables = field(default_factory=CollectionsTables)
    bill_runs: dict[str, BillRun] = field(default_factory=dict)
    bill_run_progress: dict[str, RunProgress] = field(default_factory=dict)
    bill_run_failures: dict[str, dict[str, AccountFailure]] = field(default_factory=dict)
    ledger: LedgerTables = field(default_factory=LedgerTables)
    """Revenue schedules, recognition postings and journal entries."""
    fake_billed: dict[tuple[str, str, date], tuple[str, str]] = field(default_factory=dict)
    """What FakeAccountBilling stored: (account, currency, period start) -> (invoice id, run id)."""


class FakeBillRunRepository(BillRunRepository):
    """Bill runs in the store, answering as the SQL repository does."""

    def __init__(self, store: InvoicingStore) -> None:
        self.store = store

    async def add(self, run: BillRun) -> bool:
        for other in self.store.bill_runs.values():
            if (run.fulfillment_id and other.fulfillment_id == run.fulfillment_id) or (
                run.schedule_key and other.schedule_key == run.schedule_key
            ):
                return False
        self.store.bill_runs[run.id] = copy.deepcopy(run)
        self.store.bill_run_progress[run.id] = RunProgress()
        return True

    async def get(self, run_id: str) -> BillRun | None:
        run = self.store.bill_runs.get(run_id)
        return copy.deepcopy(run) if run is not None else None

    async def _first(self, test: Callable[[BillRun], bool]) -> BillRun | None:
        return next((copy.deepcopy(r) for r in self.store.bill_runs.values() if test(r)), None)

    async def by_fulfillment(self, fulfillment_id: str) -> BillRun | None:
        return await self._first(lambda r: r.fulfillment_id == fulfillment_id)

    async def by_schedule_key(self, key: str) -> BillRun | None:
        return await self._first(lambda r: r.schedule_key == key)

    async def page(self, *, after: str | None, limit: int, state: BillRunState | None) -> list[BillRun]:
        runs = sorted(self.store.bill_runs.values(), key=lambda r: r.id)
        chosen = [r for r in runs if (after is None or r.id > after) and (state is None or r.state is state)]
        return [copy.deepcopy(r) for r in chosen[:limit]]

    def _free(self, run: BillRun, worker: str, now: datetime) -> bool:
        return run.lease_until is None or run.lease_until < now or run.worker == worker

    async def to_enumerate(self, *, worker: str, now: datetime, limit: int) -> list[BillRun]:
        runs = sorted(self.store.bill_runs.values(), key=lambda r: r.id)
        chosen = [r for r in runs if r.state in TO_ENUMERATE and self._free(r, worker, now)]
        return [copy.deepcopy(r) for r in chosen[:limit]]

    async def take(self, run: BillRun, *, now: datetime) -> bool:
        stored = self.store.bill_runs[run.id]
        if stored.state not in TO_ENUMERATE or not self._free(stored, run.worker or "", now):
            return False
        stored.state, stored.worker, stored.lease_until = run.state, run.worker, run.lease_until
        stored.started_at, stored.updated_at = run.started_at, run.updated_at
        return True

    async def hold(self, run_id: str, *, worker: str, until: datetime) -> bool:
        stored = self.store.bill_runs[run_id]
        if stored.worker != worker or stored.state is not BillRunState.ENUMERATING:
            return False
        stored.lease_until = until
        return True

    async def save(self, run: BillRun) -> None:
        self.store.bill_runs[run.id] = copy.deepcopy(run)

    async def complete(self, run: BillRun) -> bool:
        if self.store.bill_runs[run.id].state is not BillRunState.RUNNING:
            return False
        self.store.bill_runs[run.id] = copy.deepcopy(run)
        return True

    async def running(self, *, limit: int) -> list[BillRun]:
        return await self.page(after=None, limit=limit, state=BillRunState.RUNNING)

    async def claim_chunk(self, run_id: str, chunk_id: int, *, now: datetime) -> bool:
        return self.store.bill_run_progress[run_id].count(chunk_id, ChunkTally())

    async def count_chunk(
        self, run_id: str, chunk_id: int, chunk: ChunkTally, failures: Sequence[AccountFailure]
    ) -> None:
        progress = self.store.bill_run_progress[run_id]
        progress.totals = progress.totals.plus(chunk)
        for failure in failures:
            self.store.bill_run_failures.setdefault(run_id, {})[failure.account_id] = failure

    async def progress(self, run_id: str) -> tuple[int, ChunkTally]:
        progress = self.store.bill_run_progress[run_id]
        return progress.chunks_done, progress.totals

    async def failures(
        self, run_id: str, *, after_account_id: str | None, limit: int
    ) -> list[AccountFailure]:
        failed = self.store.bill_run_failures.get(run_id, {})
        ids = sorted(a for a in failed if after_account_id is None or a > after_account_id)
        return [failed[a] for a in ids[:limit]]


class FakeInvoicingUnitOfWork(FakeUnitOfWorkBase, InvoicingUnitOfWork):
    """A unit of work on an `InvoicingStore` (a new one unless given); committed events in `envelopes`."""

    producer = "invoicing"
    tax_rates: FakeTaxRateRepository

    def __init__(
        self, store: InvoicingStore | None = None, *, clock: Clock | None = None, actor: str = "test"
    ) -> None:
        self.start_fake(actor, clock or FixedClock(DEFAULT_NOW))
        self.store = store if store is not None else InvoicingStore()
        self.commit_steps = []
        self.billing_inputs = FakeBillingInputsReadModel(self.store.billing_inputs)
        self.tax_rates = FakeTaxRateRepository(self.store)
        self.invoices: FakeInvoiceRepository = FakeInvoiceRepository(self.store.invoices)
        self.account_ledger = FakeAccountLedger(self.store.invoices, self.store.activity)
        self.adjustments: FakeAdjustmentRepository = FakeAdjustmentRepository(
            self.store.credits, self.store.invoices
        )
        self.credit_notes: FakeCreditNoteRepository = FakeCreditNoteRepository(self.store.credits)
        self.disputes: FakeDisputeRepository = FakeDisputeRepository(self.store.credits)
        self.bill_runs = FakeBillRunRepository(self.store)
        self.revenue = FakeRevenueRepository(self.store.ledger)
        self.ledger = FakeLedgerRepository(self.store.ledger)
        self.payments: FakePaymentRepository = FakePaymentRepository(self.store.payments, self.invoices)
        self.lockbox = FakeLockboxRepository(self.store.payments)
        self.collections_cases = FakeCollectionsCaseRepository(self.store.collections)

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        """The store and the rows staged in this unit of work are put back as they were when the
        block raises (a SAVEPOINT's rollback)."""
        return _savepoint(self)

    async def commit(self) -> None:
        """Run the commit steps, write the staged rows, then keep the staged events and audit records."""
        await self.run_commit_steps()
        self.invoices.commit()
        self.adjustments.commit()
        self.credit_notes.commit()
        self.disputes.commit()
        self.payments.commit()
        self.collections_cases.commit()
        await super().commit()

    def drop_uncommitted(self) -> None:
        """A unit of work left without committing changes nothing."""
        self.invoices.rollback()
        self.adjustments.rollback()
        self.credit_notes.rollback()
        self.disputes.rollback()
        self.payments.rollback()
        self.collections_cases.rollback()


class FakeTaxRateRepository(TaxRateRepository):
    """Tax rates in the store, answering as `SqlTaxRateRepository` does (changes are seen at once:
    the fakes have no rollback)."""

    def __init__(self, store: InvoicingStore) -> None:
        self.store = store
        self.in_force_calls = 0

    async def add(self, rate: TaxRate) -> None:
        """Keep the rate."""
        self.store.tax_rates[rate.id] = rate

    async def find(self, rate_id: str) -> TaxRate | None:
        """The rate with this id, if any."""
        return self.store.tax_rates.get(rate_id)

    async def of_key(self, key: TaxRateKey) -> list[TaxRate]:
        """Every rate of this key."""
        return [rate for rate in self.store.tax_rates.values() if rate.key == key]

    async def in_force(self, countries: Collection[str], on: date) -> list[TaxRate]:
        """Every rate of these countries in force on `on` (counted: the bill run asks once per chunk)."""
        self.in_force_calls += 1
        return [r for r in self.store.tax_rates.values() if r.country in countries and r.in_force_on(on)]

    async def page(
        self,
        page: PageRequest,
        *,
        country: str | None,
        region: str | None,
        tax_code: str | None,
        as_of: date | None,
    ) -> Page[TaxRate]:
        """A page of rates ordered by id."""
        found = sorted(
            (
                rate
                for rate in self.store.tax_rates.values()
                if (country is None or rate.country == country)
                and (region is None or region_key(rate.region) == region)
                and (tax_code is None or rate.tax_code == tax_code)
                and (as_of is None or rate.in_force_on(as_of))
                and (page.after is None or rate.id > page.after)
            ),
            key=lambda rate: rate.id,
        )
        data, has_more = found[: page.limit], len(found) > page.limit
        return Page[TaxRate](
            data=data, next_cursor=encode_cursor(data[-1].id) if has_more else None, has_more=has_more
        )


@asynccontextmanager
async def _savepoint(uow: FakeInvoicingUnitOfWork) -> AsyncIterator[object]:
    repositories = (
        uow.invoices,
        uow.adjustments,
        uow.credit_notes,
        uow.disputes,
        uow.payments,
        uow.collections_cases,
    )
    # One deep copy of everything, so what the repositories share with the store stays shared.
    before = copy.deepcopy((uow.store.__dict__, [repository.__dict__ for repository in repositories]))
    emitted, steps = len(uow._staged_envelopes), len(uow.commit_steps)
    try:
        yield uow.store
    except BaseException:
        del uow._staged_envelopes[emitted:]
        del uow.commit_steps[steps:]
        uow.store.__dict__.update(before[0])
        for repository, state in zip(repositories, before[1], strict=True):
            repository.__dict__.update(state)
        raise


def units_of_work(
    store: InvoicingStore, **kwargs: object
) -> tuple[Callable[[], FakeInvoicingUnitOfWork], list[FakeInvoicingUnitOfWork]]:
    """A factory of units of work on `store` and the list of those it made (their events)."""
    made: list[FakeInvoicingUnitOfWork] = []

    def factory() -> FakeInvoicingUnitOfWork:
        uow = FakeInvoicingUnitOfWork(store, **kwargs)  # type: ignore[arg-type]
        made.append(uow)
        return uow

    return factory, made


# --- stand-ins for what the integrator wires --------------------------------------------------------


@dataclass
class FakeAccountsDirectory:
    """A stand-in for the billing read model's `accounts_page`: a sorted list of account ids."""

    account_ids: list[str]
    pages: int = 0

    def __post_init__(self) -> None:
        self.account_ids = sorted(self.account_ids)

    async def accounts_page(
        self, after_account_id: str | None, limit: int, *, due_on: date | None = None
    ) -> list[str]:
        self.pages += 1
        start = bisect.bisect_right(self.account_ids, after_account_id) if after_account_id is not None else 0
        return self.account_ids[start : start + limit]


def month_of(bill_date: date) -> tuple[date, date]:
    """The calendar month `bill_date` falls in: [its first day, the first day of the next month)."""
    start = bill_date.replace(day=1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


@dataclass
class FakeAccountBilling:
    """A stand-in for the real per-account billing, NOT the charge calculation: each account gets one
    invoice per currency of `charges` (default: 100.00 USD) for the month of the bill date, stored in
    `InvoicingStore.invoices` once per (account, currency, period) — an existing one is reported
    `created=False`. `raising` accounts make the call raise (an unexpected error); `refused` ones
    are reported as failures; `nothing_due` ones get no invoice. A dry run stores nothing."""

    charges: dict[str, list[tuple[str, Decimal]]] = field(default_factory=dict)
    raising: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    nothing_due: set[str] = field(default_factory=set)
    calls: list[list[str]] = field(default_factory=list)

    async def bill_chunk(
        self, uow: InvoicingUnitOfWork, run: BillRun, account_ids: Sequence[str]
    ) -> ChunkResult:
        assert isinstance(uow, FakeInvoicingUnitOfWork)
        self.calls.append(list(account_ids))
        store = uow.store
        start, end = month_of(run.bill_date)
        outcomes: list[AccountOutcome] = []
        for account_id in account_ids:
            if account_id in self.raising:
                raise ValidationFailed(self.raising[account_id])
            if account_id in self.refused:
                outcomes.append(AccountFailure(account_id, self.refused[account_id]))
                continue
            if account_id in self.nothing_due:
                outcomes.append(AccountInvoiced(account_id))
                continue
            invoices = []
            for currency, amount in self.charges.get(account_id, [("USD", Decimal("100.00"))]):
                key = (account_id, currency, start)
                existing = store.fake_billed.get(key)
                line = InvoiceLineSummary(
                    "Monthly fee", amount, Decimal(1), amount, f"fee:{account_id}:{start}"
                )
                if existing is None and not run.dry_run:
                    store.fake_billed[key] = (f"inv_{account_id}_{currency}_{start:%Y%m}", run.id)
                invoice_id = store.fake_billed[key][0] if key in store.fake_billed else None
                invoices.append(
                    BilledInvoice(
                        currency, amount, start, end, invoice_id, created=existing is None, lines=(line,)
                    )
                )
            outcomes.append(AccountInvoiced(account_id, tuple(invoices)))
        return ChunkResult(tuple(outcomes))
