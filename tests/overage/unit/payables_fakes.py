"""In-memory adapters of the vendor payables ports and a unit of work over them (unit tests' fakes
at the bootstrap seam: `bootstrap(unit_of_work=...)` takes a factory of these)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from libs.platform.clock import Clock, FixedClock
from libs.platform.pagination import Page, PageRequest
from overage.domain.customer_billing import BilledLine
from overage.domain.margins import BilledAmount
from overage.domain.resold_subscriptions import (
    CostBookVersion,
    PriceVersion,
    ResoldProduct,
    ResoldSubscription,
)
from overage.domain.vendor_commitments import ExpectedVendorInvoice, VendorCommitment
from overage.domain.vendor_invoices import VendorInvoice, VendorInvoiceConflict
from overage.handlers.customer_billing_port import CustomerBilling
from overage.handlers.resold_subscriptions_port import ResaleReadModel
from overage.handlers.unit_of_work import OverageUnitOfWork
from overage.handlers.vendor_payables_port import (
    CommitmentFilters,
    CommitmentTaken,
    VendorCommitmentRepository,
    VendorInvoiceFilters,
    VendorInvoiceRepository,
)
from tests.support.fake_unit_of_work import FakeUnitOfWorkBase

NOW = datetime(2026, 3, 2, 15, tzinfo=UTC)


@dataclass
class PayablesStore:
    """Everything the fakes keep, shared by the units of work of one test."""

    products: dict[str, ResoldProduct] = field(default_factory=dict)
    prices: dict[tuple[str, int], PriceVersion] = field(default_factory=dict)
    cost_books: dict[tuple[str, int], CostBookVersion] = field(default_factory=dict)
    subscriptions: dict[str, ResoldSubscription] = field(default_factory=dict)
    lines: dict[tuple[str, str], BilledLine] = field(default_factory=dict)
    void: set[str] = field(default_factory=set)
    commitments: dict[str, VendorCommitment] = field(default_factory=dict)
    invoices: dict[str, VendorInvoice] = field(default_factory=dict)


class FakeResaleReadModel(ResaleReadModel):
    def __init__(self, store: PayablesStore) -> None:
        self.store = store

    async def apply_product(self, product: ResoldProduct) -> bool:
        stored = self.store.products.get(product.product_id)
        if stored is not None and stored.event_at > product.event_at:
            return False
        self.store.products[product.product_id] = product
        return True

    async def apply_price(self, price: PriceVersion) -> None:
        self.store.prices[(price.price_id, price.version)] = price

    async def apply_cost_book(self, book: CostBookVersion) -> None:
        self.store.cost_books[(book.cost_book_id, book.version)] = book

    async def apply_subscription(self, subscription: ResoldSubscription) -> bool:
        stored = self.store.subscriptions.get(subscription.subscription_id)
        if stored is not None and stored.event_at > subscription.event_at:
            return False
        self.store.subscriptions[subscription.subscription_id] = subscription
        return True

    async def subscription(self, subscription_id: str) -> ResoldSubscription | None:
        return self.store.subscriptions.get(subscription_id)

    async def product(self, product_id: str) -> ResoldProduct | None:
        return self.store.products.get(product_id)

    async def price(self, price_id: str, version: int) -> PriceVersion | None:
        return self.store.prices.get((price_id, version))

    async def cost_book_versions(self, cost_book_id: str) -> list[CostBookVersion]:
        return [b for (i, _), b in self.store.cost_books.items() if i == cost_book_id]

    async def vendor_cost_books(self, vendor_id: str) -> list[CostBookVersion]:
        return [b for b in self.store.cost_books.values() if b.vendor_id == vendor_id]

    async def uncommitted_subscriptions(
        self,
        *,
        product_ids: Sequence[str] = (),
        price_ids: Sequence[str] = (),
        subscription_ids: Sequence[str] = (),
    ) -> list[ResoldSubscription]:
        committed = {c.subscription_id for c in self.store.commitments.values()}
        return sorted(
            (
                s
                for s in self.store.subscriptions.values()
                if (
                    s.product_id in product_ids
                    or s.price_id in price_ids
                    or s.subscription_id in subscription_ids
                )
                and s.state == "active"
                and s.subscription_id not in committed
            ),
            key=lambda s: s.subscription_id,
        )

    async def products_of_vendor(self, vendor_id: str) -> list[str]:
        return [p.product_id for p in self.store.products.values() if p.vendor_id == vendor_id]

    async def prices_of_cost_book(self, cost_book_id: str) -> list[str]:
        return sorted({p.price_id for p in self.store.prices.values() if p.cost_book_id == cost_book_id})


class FakeCustomerBilling(CustomerBilling):
    def __init__(self, store: PayablesStore) -> None:
        self.store = store

    async def add_lines(self, lines: list[BilledLine]) -> None:
        for line in lines:
            self.store.lines.setdefault((line.invoice_id, line.charge_key), line)

    async def credit_lines(
        self, *, credit_note_id: str, invoice_id: str, credits: list[tuple[str, Decimal]], note_date: date
    ) -> None:
        for key, amount in credits:
            original = self.store.lines.get((invoice_id, key))
            if original is not None:
                self.store.lines.setdefault(
                    (credit_note_id, key),
                    replace(original, invoice_id=credit_note_id, invoice_date=note_date, amount=-amount),
                )

    async def void_invoice(self, invoice_id: str) -> None:
        self.store.void.add(invoice_id)

    async def resale_amounts(self, start: date, end: date, account_id: str | None) -> list[BilledAmount]:
        committed = {c.subscription_id for c in self.store.commitments.values()}
        return [
            BilledAmount(line.account_id, line.currency, line.period_start, line.amount)
            for line in self.store.lines.values()
            if start <= line.period_start < end
            and line.invoice_id not in self.store.void
            and (account_id is None or line.account_id == account_id)
            and (line.subscription_id in committed or line.is_overage_rebill)
        ]


class FakeVendorCommitments(VendorCommitmentRepository):
    def __init__(self, store: PayablesStore) -> None:
        self.store = store

    async def find(self, commitment_id: str) -> VendorCommitment | None:
        return self.store.commitments.get(commitment_id)

    async def of_subscription(self, subscription_id: str) -> VendorCommitment | None:
        return next(
            (c for c in self.store.commitments.values() if c.subscription_id == subscription_id), None
        )

    async def add(self, commitment: VendorCommitment) -> None:
        if await self.of_subscription(commitment.subscription_id) is not None:
            raise CommitmentTaken(commitment.subscription_id)
        self.store.commitments[commitment.id] = commitment

    async def save_seats(self, commitment: VendorCommitment, changed: list[ExpectedVendorInvoice]) -> None:
        self.store.commitments[commitment.id] = commitment

    async def page(self, filters: CommitmentFilters, page: PageRequest) -> Page[VendorCommitment]:
        data = [
            c
            for c in sorted(self.store.commitments.values(), key=lambda c: c.id)
            if filters.account_id in (None, c.account_id)
            and filters.vendor_id in (None, c.vendor_id)
            and filters.subscription_id in (None, c.subscription_id)
        ]
        return Page[VendorCommitment](
            data=data[: page.limit], next_cursor=None, has_more=len(data) > page.limit
        )

    async def unmatched_expected(
        self, *, vendor_id: str, period_start: date, subscription_id: str | None, account_id: str
    ) -> list[ExpectedVendorInvoice]:
        matched = {i.expected_invoice_id for i in self.store.invoices.values()}
        return [
            e
            for c in self.store.commitments.values()
            for e in c.expected_invoices
            if e.vendor_id == vendor_id
            and e.period_start == period_start
            and e.account_id == account_id
            and subscription_id in (None, e.subscription_id)
            and e.id not in matched
        ]


class FakeVendorInvoices(VendorInvoiceRepository):
    def __init__(self, store: PayablesStore) -> None:
        self.store = store

    async def find(self, vendor_invoice_id: str) -> VendorInvoice | None:
        return self.store.invoices.get(vendor_invoice_id)

    async def add(self, invoice: VendorInvoice) -> None:
        if any(
            i.vendor_id == invoice.vendor_id and i.number == invoice.number
            for i in self.store.invoices.values()
        ):
            raise VendorInvoiceConflict(
                f"vendor {invoice.vendor_id!r} invoice {invoice.number!r} is recorded already"
            )
        self.store.invoices[invoice.id] = invoice

    async def save(self, invoice: VendorInvoice) -> None:
        self.store.invoices[invoice.id] = invoice

    async def page(self, filters: VendorInvoiceFilters, page: PageRequest) -> Page[VendorInvoice]:
        data = sorted(self.store.invoices.values(), key=lambda i: i.id)
        return Page[VendorInvoice](data=data[: page.limit], next_cursor=None, has_more=len(data) > page.limit)

    async def matching(self, expected_ids: list[str]) -> dict[str, VendorInvoice]:
        return {
            i.expected_invoice_id: i
            for i in self.store.invoices.values()
            if i.expected_invoice_id is not None and i.expected_invoice_id in expected_ids
        }

    async def billed_amounts(self, start: date, end: date, account_id: str | None) -> list[BilledAmount]:
        return [
            BilledAmount(i.account_id, i.currency, i.period_start, i.amount)
            for i in self.store.invoices.values()
            if start <= i.period_start < end and account_id in (None, i.account_id)
        ]


class FakeOverageUnitOfWork(FakeUnitOfWorkBase, OverageUnitOfWork):
    """A unit of work on a `PayablesStore` (a new one unless given); committed events in `envelopes`."""

    producer = "overage"

    def __init__(
        self, store: PayablesStore | None = None, *, clock: Clock | None = None, actor: str = "finance"
    ) -> None:
        self.start_fake(actor, clock or FixedClock(NOW))
        self.store = store = store if store is not None else PayablesStore()
        self.resale = FakeResaleReadModel(store)
        self.customer_billing = FakeCustomerBilling(store)
        self.vendor_commitments = FakeVendorCommitments(store)
        self.vendor_invoices = FakeVendorInvoices(store)

    def stage_recorded_events(self) -> None:
        """Nothing: the payables handlers emit their events themselves before committing."""
