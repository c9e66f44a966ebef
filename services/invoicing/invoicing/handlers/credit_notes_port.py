"""The port of the credit notes' repository (SQL: `invoicing.repository.credit_notes`; fake in unit tests)."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import date

from invoicing.domain.credit_notes import CreditNote
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest


@dataclass(frozen=True)
class CreditNoteFilters:
    """What a list of credit notes is narrowed to (None = any); dates are note dates, inclusive."""

    account_id: str | None = None
    invoice_id: str | None = None
    currency: str | None = None
    note_date_from: date | None = None
    note_date_to: date | None = None


class CreditNoteRepository(abc.ABC):
    """Issued credit notes with their lines."""

    @abc.abstractmethod
    async def find(self, credit_note_id: str) -> CreditNote | None:
        """One credit note with its lines, if it exists."""

    @abc.abstractmethod
    async def of_invoice(self, invoice_id: str) -> list[CreditNote]:
        """Every credit note issued against an invoice, in issue order."""

    @abc.abstractmethod
    async def add(self, note: CreditNote) -> None:
        """Store an issued note and its lines."""

    @abc.abstractmethod
    async def page(self, filters: CreditNoteFilters, page: PageRequest) -> Page[CreditNote]:
        """A page of credit notes ordered by id (issue order)."""

    async def get(self, credit_note_id: str) -> CreditNote:
        """One credit note, or NotFound (404)."""
        note = await self.find(credit_note_id)
        if note is None:
            raise NotFound("credit note", credit_note_id)
        return note
