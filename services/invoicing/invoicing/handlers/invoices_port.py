"""The port of the invoices' repository (SQL: `invoicing.repository.invoices`; fake in the unit tests)."""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from invoicing.domain.billing_inputs import BilledCharge
from invoicing.domain.invoices import Invoice, InvoiceState, RunKind
from libs.platform.errors import Conflict, NotFound
from libs.platform.pagination import Page, PageRequest


@dataclass(frozen=True)
class InvoiceFilters:
    """What a list of invoices is narrowed to (None = any); dates are invoice dates, inclusive."""

    account_id: str | None = None
    state: InvoiceState | None = None
    currency: str | None = None
    invoice_date_from: date | None = None
    invoice_date_to: date | None = None


@dataclass(frozen=True)
class BillingPeriodKey:
    """What makes an invoice unique among those not void: account, currency, period and run."""

    account_id: str
    currency: str
    period_start: date
    period_end: date
    run_kind: RunKind
    run_source_id: str


class InvoiceKeyTaken(Conflict):
    """Another invoice that is not void holds the billing-period key (the draft was not stored)."""


class ChargeBilledMeanwhile(Conflict):
    """A line's charge was billed by another run after this one computed it: recompute (409)."""


class InvoiceRepository(abc.ABC):
    """Invoices with their lines, and the counters of the number series."""

    @abc.abstractmethod
    async def find(self, invoice_id: str) -> Invoice | None:
        """One invoice with its lines, if it exists."""

    @abc.abstractmethod
    async def find_by_key(self, key: BillingPeriodKey) -> Invoice | None:
        """The invoice that is not void holding `key`, if any."""

    @abc.abstractmethod
    async def add(self, invoice: Invoice) -> None:
        """Store a new draft and its lines, or change nothing and raise `InvoiceKeyTaken` (its key is
        held) or `ChargeBilledMeanwhile` (a line's charge was billed after the run computed it);
        the rest of the transaction stays usable either way."""

    @abc.abstractmethod
    async def save(self, invoice: Invoice) -> None:
        """Write a changed invoice (state, number, dates, payments, note); a concurrent change is a 409."""

    @abc.abstractmethod
    async def next_number(self, series: str) -> int:
        """The next number of `series`, counted in this transaction: a rollback gives it back."""

    @abc.abstractmethod
    async def billed_charges(self, account_ids: Collection[str]) -> dict[str, list[BilledCharge]]:
        """What the invoices of these accounts (not void) billed, line by line, by invoiced account:
        what the charge calculation compares with so that nothing is billed twice (one query)."""

    @abc.abstractmethod
    async def page(self, filters: InvoiceFilters, page: PageRequest) -> Page[Invoice]:
        """A page of invoices ordered by id (creation order)."""

    async def find_by_keys(self, keys: Collection[BillingPeriodKey]) -> dict[BillingPeriodKey, Invoice]:
        """The invoices that are not void holding any of `keys` (SQL: one query for them all)."""
        found = {key: await self.find_by_key(key) for key in keys}
        return {key: invoice for key, invoice in found.items() if invoice is not None}

    async def next_numbers(self, series: str, count: int) -> int:
        """Take `count` numbers of `series` at once; the last one (the first is last - count + 1)."""
        last = 0
        for _ in range(count):
            last = await self.next_number(series)
        return last

    async def add_issued(self, invoices: Sequence[Invoice]) -> None:
        """Store new invoices (drafts, numbered later in the transaction: `save_numbered`) with their
        lines at once (SQL: one statement for the invoices, one for the lines), or store none and
        raise `InvoiceKeyTaken` or `ChargeBilledMeanwhile`: the caller's savepoint is then to be
        rolled back."""
        for invoice in invoices:
            await self.add(invoice)

    async def save_numbered(self, invoices: Sequence[Invoice]) -> None:
        """Write invoices `add_issued` stored as drafts, now finalized: their state, number and dates
        (SQL: one statement for them all)."""
        for invoice in invoices:
            await self.save(invoice)

    async def lock(self, invoice_id: str) -> Invoice:
        """One invoice read with its row locked until the transaction ends (404 when unknown): what
        may still be credited on it is checked by one transaction at a time."""
        return await self.get(invoice_id)

    async def get(self, invoice_id: str) -> Invoice:
        """One invoice, or NotFound (404)."""
        invoice = await self.find(invoice_id)
        if invoice is None:
            raise NotFound("invoice", invoice_id)
        return invoice
