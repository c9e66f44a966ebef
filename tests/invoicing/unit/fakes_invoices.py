"""The in-memory invoice repository: the same answers and the same unique keys as the SQL one.

Writes are staged in the unit of work and reach the store when it commits (a rollback drops them,
numbers included, as the database's transaction would).
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field

from invoicing.domain.billing_inputs import BilledCharge
from invoicing.domain.invoices import Invoice, InvoiceState
from invoicing.handlers.invoices_port import (
    BillingPeriodKey,
    ChargeBilledMeanwhile,
    InvoiceFilters,
    InvoiceKeyTaken,
    InvoiceRepository,
)
from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest, encode_cursor


@dataclass
class InvoiceTables:
    """The invoices and series counters the database would hold."""

    invoices: dict[str, Invoice] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)


def key_of(invoice: Invoice) -> BillingPeriodKey:
    """The billing-period key an invoice holds."""
    return BillingPeriodKey(
        invoice.account_id,
        invoice.currency,
        invoice.period_start,
        invoice.period_end,
        invoice.run_kind,
        invoice.run_source_id,
    )


class FakeInvoiceRepository(InvoiceRepository):
    """Invoices of one unit of work over `InvoiceTables`."""

    def __init__(self, tables: InvoiceTables) -> None:
        self.tables = tables
        self.staged: dict[str, Invoice] = {}
        self.counters: dict[str, int] = {}

    def _all(self) -> dict[str, Invoice]:
        return {**self.tables.invoices, **self.staged}

    async def find(self, invoice_id: str) -> Invoice | None:
        """One invoice, a copy private to this unit of work."""
        if invoice_id in self.staged:
            return self.staged[invoice_id]
        stored = self.tables.invoices.get(invoice_id)
        return None if stored is None else copy.deepcopy(stored)

    async def find_by_key(self, key: BillingPeriodKey) -> Invoice | None:
        """The invoice that is not void holding `key`."""
        for invoice in self._all().values():
            if key_of(invoice) == key and invoice.state is not InvoiceState.VOID:
                return await self.find(invoice.id)
        return None

    async def add(self, invoice: Invoice) -> None:
        """Stage a draft; the unique keys of the tables are checked as the database would."""
        live = [i for i in self._all().values() if i.state is not InvoiceState.VOID]
        if any(key_of(i) == key_of(invoice) for i in live):
            raise InvoiceKeyTaken(f"an invoice already holds {key_of(invoice)}")
        billed = {(i.account_id, line.charge_key, line.billed_after) for i in live for line in i.lines}
        if any((invoice.account_id, line.charge_key, line.billed_after) in billed for line in invoice.lines):
            raise ChargeBilledMeanwhile("a charge of this invoice was billed meanwhile")
        invoice.version = 1
        self.staged[invoice.id] = invoice

    async def save(self, invoice: Invoice) -> None:
        """Stage a change; a copy older than the stored one is a 409."""
        stored = self.tables.invoices.get(invoice.id)
        if invoice.id not in self.staged and (stored is None or stored.version != invoice.version):
            raise Conflict(f"invoice {invoice.id!r} changed meanwhile; read it and retry")
        invoice.version += 1
        self.staged[invoice.id] = invoice

    async def next_number(self, series: str) -> int:
        """The next number of the series, counted in this unit of work."""
        number = self.counters.get(series, self.tables.counters.get(series, 0)) + 1
        self.counters[series] = number
        return number

    async def billed_charges(self, account_ids: Collection[str]) -> dict[str, list[BilledCharge]]:
        """What the invoices of these accounts (not void) billed, line by line."""
        billed: dict[str, list[BilledCharge]] = {}
        for invoice in self._all().values():
            if invoice.account_id in account_ids and invoice.state is not InvoiceState.VOID:
                billed.setdefault(invoice.account_id, []).extend(
                    BilledCharge(line.charge_key, line.amount, invoice.id, list_amount=line.list_amount)
                    for line in invoice.lines
                )
        return billed

    async def page(self, filters: InvoiceFilters, page: PageRequest) -> Page[Invoice]:
        """A page in id order."""
        found = sorted((i for i in self._all().values() if _matches(i, filters)), key=lambda i: i.id)
        if page.after is not None:
            found = [i for i in found if i.id > page.after]
        more = len(found) > page.limit
        data = [copy.deepcopy(i) for i in found[: page.limit]]
        return Page[Invoice](
            data=data, next_cursor=encode_cursor(data[-1].id) if more else None, has_more=more
        )

    def commit(self) -> None:
        """Write what was staged into the tables."""
        for invoice in self.staged.values():
            stored = copy.deepcopy(invoice)
            stored.events = []
            self.tables.invoices[invoice.id] = stored
        self.tables.counters.update(self.counters)
        self.staged, self.counters = {}, {}

    def rollback(self) -> None:
        """Forget what was staged."""
        self.staged, self.counters = {}, {}


def _matches(invoice: Invoice, filters: InvoiceFilters) -> bool:
    day = invoice.invoice_date
    return (
        (filters.account_id is None or invoice.account_id == filters.account_id)
        and (filters.state is None or invoice.state is filters.state)
        and (filters.currency is None or invoice.currency == filters.currency)
        and (filters.invoice_date_from is None or (day is not None and day >= filters.invoice_date_from))
        and (filters.invoice_date_to is None or (day is not None and day <= filters.invoice_date_to))
    )
