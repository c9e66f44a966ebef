"""In-memory adjustments, credit notes and disputes: the same answers and unique keys as the SQL
repositories. Writes are staged in the unit of work and reach the tables when it commits.

An adjustment's "applied" is derived, as in SQL, from the invoices' lines keyed
`adjustment:{id}` on invoices that are not void (`InvoiceTables`).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from operator import attrgetter

from invoicing.domain.adjustments import Adjustment, AdjustmentState
from invoicing.domain.billing_inputs import PendingAdjustment
from invoicing.domain.credit_notes import CreditNote
from invoicing.domain.disputes import ACTIVE_STATES, Dispute, DisputeConflict
from invoicing.domain.invoices import InvoiceState
from invoicing.handlers.adjustments_port import AdjustmentFilters, AdjustmentRepository
from invoicing.handlers.credit_notes_port import CreditNoteFilters, CreditNoteRepository
from invoicing.handlers.disputes_port import DisputeFilters, DisputeRepository
from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest
from tests.invoicing.unit.fakes_invoices import InvoiceTables
from tests.support.fake_pages import page_of

_BY_ID = attrgetter("id")


@dataclass
class CreditTables:
    """The adjustments, credit notes and disputes the database would hold."""

    adjustments: dict[str, Adjustment] = field(default_factory=dict)
    credit_notes: dict[str, CreditNote] = field(default_factory=dict)
    disputes: dict[str, Dispute] = field(default_factory=dict)


class FakeAdjustmentRepository(AdjustmentRepository):
    """Adjustments of one unit of work; applied derived from the invoices' lines."""

    def __init__(self, tables: CreditTables, invoices: InvoiceTables) -> None:
        self.tables = tables
        self.invoices = invoices
        self.staged: dict[str, Adjustment] = {}
        self.pending_calls = 0

    def _applied(self) -> dict[str, str]:
        return {
            line.charge_key: invoice.id
            for invoice in self.invoices.invoices.values()
            if invoice.state is not InvoiceState.VOID
            for line in invoice.lines
            if line.charge_key.startswith("adjustment:")
        }

    def _all(self) -> list[Adjustment]:
        applied = self._applied()
        found = []
        for adjustment in {**self.tables.adjustments, **self.staged}.values():
            copied = adjustment if adjustment.id in self.staged else copy.deepcopy(adjustment)
            copied.applied_invoice_id = applied.get(copied.charge_key)
            found.append(copied)
        return found

    async def find(self, adjustment_id: str, *, lock: bool = False) -> Adjustment | None:
        return next((a for a in self._all() if a.id == adjustment_id), None)

    async def add(self, adjustment: Adjustment) -> None:
        adjustment.version = 1
        self.staged[adjustment.id] = adjustment

    async def save(self, adjustment: Adjustment) -> None:
        stored = self.tables.adjustments.get(adjustment.id)
        if adjustment.id not in self.staged and (stored is None or stored.version != adjustment.version):
            raise Conflict(f"adjustment {adjustment.id!r} changed meanwhile")
        adjustment.version += 1
        self.staged[adjustment.id] = adjustment

    async def page(self, filters: AdjustmentFilters, page: PageRequest) -> Page[Adjustment]:
        found = [
            a
            for a in self._all()
            if (filters.account_id is None or a.account_id == filters.account_id)
            and (filters.state is None or a.state is filters.state)
            and (filters.kind is None or a.kind is filters.kind)
            and (filters.direction is None or a.direction is filters.direction)
            and (filters.subscription_id is None or a.subscription_id == filters.subscription_id)
        ]
        return page_of(found, _BY_ID, page)

    async def pending_adjustments(self, account_ids: Collection[str]) -> dict[str, list[PendingAdjustment]]:
        """Counted: the bill run asks once per chunk."""
        self.pending_calls += 1
        found: dict[str, list[PendingAdjustment]] = defaultdict(list)
        for a in sorted(self._all(), key=lambda a: (a.account_id, a.effective_date, a.id)):
            if a.account_id in account_ids and a.state is AdjustmentState.PENDING:
                found[a.account_id].append(a.pending())
        return found

    def commit(self) -> None:
        for adjustment in self.staged.values():
            stored = copy.deepcopy(adjustment)
            stored.events, stored.applied_invoice_id = [], None
            self.tables.adjustments[adjustment.id] = stored
        self.staged = {}

    def rollback(self) -> None:
        self.staged = {}


class FakeCreditNoteRepository(CreditNoteRepository):
    """Credit notes of one unit of work."""

    def __init__(self, tables: CreditTables) -> None:
        self.tables = tables
        self.staged: dict[str, CreditNote] = {}

    def _all(self) -> list[CreditNote]:
        return list({**self.tables.credit_notes, **self.staged}.values())

    async def find(self, credit_note_id: str) -> CreditNote | None:
        note = next((n for n in self._all() if n.id == credit_note_id), None)
        return None if note is None else copy.deepcopy(note)

    async def of_invoice(self, invoice_id: str) -> list[CreditNote]:
        return sorted(
            (copy.deepcopy(n) for n in self._all() if n.invoice_id == invoice_id), key=lambda n: n.id
        )

    async def add(self, note: CreditNote) -> None:
        taken = {(n.number.series, n.number.sequence) for n in self._all()}
        if (note.number.series, note.number.sequence) in taken:
            raise Conflict(f"credit note number {note.number_text} is taken")
        self.staged[note.id] = note

    async def page(self, filters: CreditNoteFilters, page: PageRequest) -> Page[CreditNote]:
        found = [
            n
            for n in self._all()
            if (filters.account_id is None or n.account_id == filters.account_id)
            and (filters.invoice_id is None or n.invoice_id == filters.invoice_id)
            and (filters.currency is None or n.currency == filters.currency)
            and (filters.note_date_from is None or n.note_date >= filters.note_date_from)
            and (filters.note_date_to is None or n.note_date <= filters.note_date_to)
        ]
        return page_of(found, _BY_ID, page)

    def commit(self) -> None:
        for note in self.staged.values():
            stored = copy.deepcopy(note)
            stored.events = []
            self.tables.credit_notes[note.id] = stored
        self.staged = {}

    def rollback(self) -> None:
        self.staged = {}


class FakeDisputeRepository(DisputeRepository):
    """Disputes of one unit of work; one active dispute per invoice line, as `uq_disputes_open_line`."""

    def __init__(self, tables: CreditTables) -> None:
        self.tables = tables
        self.staged: dict[str, Dispute] = {}

    def _all(self) -> list[Dispute]:
        return list({**self.tables.disputes, **self.staged}.values())

    async def find(self, dispute_id: str) -> Dispute | None:
        if dispute_id in self.staged:
            return self.staged[dispute_id]
        stored = self.tables.disputes.get(dispute_id)
        return None if stored is None else copy.deepcopy(stored)

    async def add(self, dispute: Dispute) -> None:
        if any(
            d.invoice_id == dispute.invoice_id and d.line_key == dispute.line_key and d.state in ACTIVE_STATES
            for d in self._all()
        ):
            raise DisputeConflict(
                f"invoice {dispute.invoice_number} line {dispute.line_key!r} is disputed already"
            )
        dispute.version = 1
        self.staged[dispute.id] = dispute

    async def save(self, dispute: Dispute) -> None:
        stored = self.tables.disputes.get(dispute.id)
        if dispute.id not in self.staged and (stored is None or stored.version != dispute.version):
            raise Conflict(f"dispute {dispute.id!r} changed meanwhile")
        dispute.version += 1
        self.staged[dispute.id] = dispute

    async def page(self, filters: DisputeFilters, page: PageRequest) -> Page[Dispute]:
        found = [
            d
            for d in self._all()
            if (filters.account_id is None or d.account_id == filters.account_id)
            and (filters.invoice_id is None or d.invoice_id == filters.invoice_id)
            and (filters.state is None or d.state is filters.state)
        ]
        return page_of(found, _BY_ID, page)

    def commit(self) -> None:
        for dispute in self.staged.values():
            stored = copy.deepcopy(dispute)
            stored.events = []
            self.tables.disputes[dispute.id] = stored
        self.staged = {}

    def rollback(self) -> None:
        self.staged = {}
