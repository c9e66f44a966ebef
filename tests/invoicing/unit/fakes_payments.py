"""The in-memory payments and lockbox repositories: the same answers as the SQL ones.

Writes are staged in the unit of work and reach the tables when it commits (a rollback drops them).
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter

from invoicing.domain.invoices import InvoiceState
from invoicing.domain.lockbox import ImportedLine, LockboxFile
from invoicing.domain.payment_methods import PaymentMethod
from invoicing.domain.payments import OpenInvoice, Payment, PaymentState, Refund
from invoicing.handlers.lockbox_port import LockboxRepository
from invoicing.handlers.payments_port import PaymentFilters, PaymentRepository
from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest
from tests.invoicing.unit.fakes_invoices import FakeInvoiceRepository
from tests.support.fake_pages import page_of

_BY_ID = attrgetter("id")


@dataclass
class PaymentTables:
    """What the payments and lockbox tables would hold."""

    methods: dict[str, PaymentMethod] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    refunds: dict[str, tuple[Refund, str, str]] = field(default_factory=dict)
    lockbox: dict[str, LockboxFile] = field(default_factory=dict)


class FakePaymentRepository(PaymentRepository):
    """Payments of one unit of work over `PaymentTables`; open invoices from the unit's invoices."""

    def __init__(self, tables: PaymentTables, invoices: FakeInvoiceRepository) -> None:
        self.tables = tables
        self.invoices = invoices
        self.staged: PaymentTables = PaymentTables()

    def _methods(self) -> dict[str, PaymentMethod]:
        return {**self.tables.methods, **self.staged.methods}

    def _payments(self) -> dict[str, Payment]:
        return {**self.tables.payments, **self.staged.payments}

    async def find_method(self, method_id: str) -> PaymentMethod | None:
        found = self._methods().get(method_id)
        return copy.deepcopy(found) if found is not None else None

    async def add_method(self, method: PaymentMethod) -> None:
        method.version = 1
        self.staged.methods[method.id] = copy.deepcopy(method)

    async def save_method(self, method: PaymentMethod) -> None:
        if self._methods()[method.id].version != method.version:
            raise Conflict("changed meanwhile")
        method.version += 1
        self.staged.methods[method.id] = copy.deepcopy(method)

    async def page_methods(self, account_id: str | None, page: PageRequest) -> Page[PaymentMethod]:
        mine = [m for m in self._methods().values() if account_id is None or m.account_id == account_id]
        return page_of(mine, _BY_ID, page)

    async def find(self, payment_id: str, *, lock: bool = False) -> Payment | None:
        found = self._payments().get(payment_id)
        return copy.deepcopy(found) if found is not None else None

    async def add(self, payment: Payment) -> None:
        payment.version = 1
        self.staged.payments[payment.id] = copy.deepcopy(payment)

    async def save(self, payment: Payment) -> None:
        if self._payments()[payment.id].version != payment.version:
            raise Conflict("changed meanwhile")
        payment.version += 1
        self.staged.payments[payment.id] = copy.deepcopy(payment)

    async def page(self, filters: PaymentFilters, page: PageRequest) -> Page[Payment]:
        mine = [
            p
            for p in self._payments().values()
            if (filters.account_id is None or p.account_id == filters.account_id)
            and (filters.state is None or p.state is filters.state)
            and (filters.invoice_id is None or any(a.invoice_id == filters.invoice_id for a in p.allocations))
        ]
        return page_of(mine, _BY_ID, page)

    async def credit_holders(self, account_id: str, currency: str) -> list[Payment]:
        held = [
            p
            for p in self._payments().values()
            if p.account_id == account_id
            and p.currency == currency
            and p.state is PaymentState.RECEIVED
            and p.unapplied > 0
        ]
        return [copy.deepcopy(p) for p in sorted(held, key=lambda p: (p.received_at, p.id))]

    async def accounts_holding_credit(self, account_ids: Collection[str]) -> set[tuple[str, str]]:
        return {
            (p.account_id, p.currency)
            for p in self._payments().values()
            if p.account_id in account_ids and p.state is PaymentState.RECEIVED and p.unapplied > 0
        }

    async def retries_due(self, on: date, *, limit: int) -> list[str]:
        due = [
            p.id
            for p in self._payments().values()
            if p.state is PaymentState.DECLINED and p.next_retry_on is not None and p.next_retry_on <= on
        ]
        return sorted(due)[:limit]

    async def add_refund(self, refund: Refund, *, account_id: str) -> None:
        self.staged.refunds[refund.id] = (refund, account_id, refund.currency)

    async def refunds_of(self, payment_id: str) -> list[Refund]:
        every = {**self.tables.refunds, **self.staged.refunds}
        return [r for r, _, _ in every.values() if r.payment_id == payment_id]

    async def open_invoices(self, account_id: str, currency: str) -> list[OpenInvoice]:
        open_ = [
            i
            for i in self.invoices._all().values()
            if i.account_id == account_id
            and i.currency == currency
            and i.state in (InvoiceState.FINALIZED, InvoiceState.PARTIALLY_PAID)
            and i.invoice_date is not None
        ]
        open_.sort(key=lambda i: (i.invoice_date, i.number_text))
        return [OpenInvoice(i.id, i.number_text or i.id, i.invoice_date, i.amount_due) for i in open_]  # type: ignore[arg-type]

    async def invoice_id_of_number(self, number: str) -> str | None:
        return next((i.id for i in self.invoices._all().values() if i.number_text == number), None)

    def commit(self) -> None:
        self.tables.methods.update(self.staged.methods)
        self.tables.payments.update(self.staged.payments)
        self.tables.refunds.update(self.staged.refunds)
        self.staged = PaymentTables()

    def rollback(self) -> None:
        self.staged = PaymentTables()


class FakeLockboxRepository(LockboxRepository):
    """Lockbox files in `PaymentTables` (written at once: the fakes' lockbox has no rollback)."""

    def __init__(self, tables: PaymentTables) -> None:
        self.tables = tables

    async def find(self, file_id: str) -> LockboxFile | None:
        found = self.tables.lockbox.get(file_id)
        return copy.deepcopy(found) if found is not None else None

    async def find_by_hash(self, content_hash: str) -> LockboxFile | None:
        found = next((f for f in self.tables.lockbox.values() if f.content_hash == content_hash), None)
        return copy.deepcopy(found) if found is not None else None

    async def add(self, file: LockboxFile) -> bool:
        if any(f.content_hash == file.content_hash for f in self.tables.lockbox.values()):
            return False
        self.tables.lockbox[file.id] = copy.deepcopy(file)
        return True

    async def save_line(self, file_id: str, line: ImportedLine) -> None:
        stored = self.tables.lockbox[file_id]
        stored.lines = [copy.deepcopy(line) if x.line.number == line.line.number else x for x in stored.lines]

    async def page(self, page: PageRequest) -> Page[LockboxFile]:
        return page_of(self.tables.lockbox.values(), _BY_ID, page)
