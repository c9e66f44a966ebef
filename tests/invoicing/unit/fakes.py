"""The in-memory invoicing unit of work of every unit test: one `FakeInvoicingUnitOfWork` holding
a fake of each repository of the port, on an `InvoicingStore` that holds what the database would.

Units of work on one store see one world. Each concept adds its fake repository to the store and
binds it in `FakeInvoicingUnitOfWork.__init__`, answering as its SQL counterpart does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from invoicing.domain.tax import TaxRate, TaxRateKey, region_key
from invoicing.handlers.tax_rates import TaxRateRepository
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from libs.platform.clock import Clock, FixedClock
from libs.platform.pagination import Page, PageRequest, encode_cursor
from tests.invoicing.unit.fake_billing_inputs import BillingInputsStore, FakeBillingInputsReadModel
from tests.invoicing.unit.fakes_credits import (
    CreditTables,
    FakeAdjustmentRepository,
    FakeCreditNoteRepository,
    FakeDisputeRepository,
)
from tests.invoicing.unit.fakes_invoices import FakeInvoiceRepository, InvoiceTables
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


class FakeInvoicingUnitOfWork(FakeUnitOfWorkBase, InvoicingUnitOfWork):
    """A unit of work on an `InvoicingStore` (a new one unless given); committed events in `envelopes`."""

    producer = "invoicing"
    tax_rates: FakeTaxRateRepository

    def __init__(
        self, store: InvoicingStore | None = None, *, clock: Clock | None = None, actor: str = "test"
    ) -> None:
        self.start_fake(actor, clock or FixedClock(DEFAULT_NOW))
        self.store = store if store is not None else InvoicingStore()
        self.billing_inputs = FakeBillingInputsReadModel(self.store.billing_inputs)
        self.tax_rates = FakeTaxRateRepository(self.store)
        self.invoices: FakeInvoiceRepository = FakeInvoiceRepository(self.store.invoices)
        self.account_ledger = FakeAccountLedger(self.store.invoices, self.store.activity)
        self.adjustments: FakeAdjustmentRepository = FakeAdjustmentRepository(
            self.store.credits, self.store.invoices
        )
        self.credit_notes: FakeCreditNoteRepository = FakeCreditNoteRepository(self.store.credits)
        self.disputes: FakeDisputeRepository = FakeDisputeRepository(self.store.credits)

    async def commit(self) -> None:
        """Write the staged rows, then keep the staged events and audit records."""
        self.invoices.commit()
        self.adjustments.commit()
        self.credit_notes.commit()
        self.disputes.commit()
        await super().commit()

    def drop_uncommitted(self) -> None:
        """A unit of work left without committing changes nothing."""
        self.invoices.rollback()
        self.adjustments.rollback()
        self.credit_notes.rollback()
        self.disputes.rollback()


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
        self.invoices: FakeInvoiceRepository = FakeInvoiceRepository(self.store.invoices)
        self.account_ledger = FakeAccountLedger(self.store.invoices, self.store.activity)

    async def commit(self) -> None:
        """Write the staged rows, then keep the staged events and audit records."""
        self.invoices.commit()
        await super().commit()

    def drop_uncommitted(self) -> None:
        """A unit of work left without committing changes nothing."""
        self.invoices.rollback()


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
