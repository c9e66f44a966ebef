"""The port of the general ledger's repository (SQL: `invoicing.repository.ledger`)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import date

from invoicing.domain.ledger import EntryKind, JournalEntry, TrialBalanceRow
from libs.platform.pagination import Page, PageRequest


class LedgerRepository(abc.ABC):
    """Journal entries with their lines."""

    @abc.abstractmethod
    async def add(self, entry: JournalEntry) -> None:
        """Stage a new entry with its lines."""

    async def add_many(self, entries: Sequence[JournalEntry]) -> None:
        """Stage many new entries with their lines."""
        for entry in entries:
            await self.add(entry)

    @abc.abstractmethod
    async def posted(self, kind: EntryKind, source_id: str) -> bool:
        """True when an entry of this kind was posted for this source."""

    @abc.abstractmethod
    async def page(self, page: PageRequest, *, date_from: date, date_to: date) -> Page[JournalEntry]:
        """A page of entries dated in [date_from, date_to] (inclusive), by id."""

    @abc.abstractmethod
    async def between(self, *, date_from: date, date_to: date) -> list[JournalEntry]:
        """Every entry dated in [date_from, date_to], by date then id (the ERP export)."""

    @abc.abstractmethod
    async def trial_balance(self, *, as_of: date, currency: str | None) -> list[TrialBalanceRow]:
        """Debits and credits per account and currency of every entry dated on or before `as_of`."""
