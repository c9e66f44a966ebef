"""The general ledger in SQL: `journal_entries` and `journal_lines` <-> `JournalEntry`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, insert
from sqlalchemy import select as select_columns
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.ledger import EntryKind, GlAccount, JournalEntry, JournalLine, TrialBalanceRow
from invoicing.handlers.ledger_port import LedgerRepository
from invoicing.models.ledger import JournalEntryRow, JournalLineRow
from libs.platform.pagination import Page, PageRequest, encode_cursor


class SqlLedgerRepository(LedgerRepository):
    """Journal entries on the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: JournalEntry) -> None:
        """Insert the entry and its lines (the unique source key refuses a second posting)."""
        await self.add_many([entry])

    async def add_many(self, entries: Sequence[JournalEntry]) -> None:
        """Insert the entries and their lines: two multi-row inserts in all."""
        if not entries:
            return
        now = _now()
        connection = await self.session.connection()
        await connection.execute(
            insert(JournalEntryRow),
            [
                {
                    "id": entry.id,
                    "kind": entry.kind.value,
                    "entry_date": entry.entry_date,
                    "currency": entry.currency,
                    "source_id": entry.source_id,
                    "account_id": entry.account_id,
                    "description": entry.description,
                    "created_at": now,
                }
                for entry in entries
            ],
        )
        await connection.execute(
            insert(JournalLineRow),
            [
                {
                    "entry_id": entry.id,
                    "line_no": number,
                    "gl_account": line.account.code,
                    "gl_account_name": line.account.name,
                    "entry_date": entry.entry_date,
                    "currency": entry.currency,
                    "debit": line.debit,
                    "credit": line.credit,
                }
                for entry in entries
                for number, line in enumerate(entry.lines, start=1)
            ],
        )

    async def posted(self, kind: EntryKind, source_id: str) -> bool:
        """True when an entry of this kind books this source."""
        found = await self.session.exec(
            select(JournalEntryRow.id).where(
                col(JournalEntryRow.kind) == kind.value, col(JournalEntryRow.source_id) == source_id
            )
        )
        return found.first() is not None

    async def _with_lines(self, rows: Sequence[JournalEntryRow]) -> list[JournalEntry]:
        ids = [row.id for row in rows]
        lines: dict[str, list[JournalLineRow]] = defaultdict(list)
        if ids:
            found = await self.session.exec(
                select(JournalLineRow)
                .where(col(JournalLineRow.entry_id).in_(ids))
                .order_by(col(JournalLineRow.entry_id), col(JournalLineRow.line_no))
            )
            for line in found.all():
                lines[line.entry_id].append(line)
        return [
            JournalEntry(
                id=row.id,
                kind=EntryKind(row.kind),
                entry_date=row.entry_date,
                currency=row.currency,
                source_id=row.source_id,
                account_id=row.account_id,
                description=row.description,
                lines=tuple(
                    JournalLine(GlAccount(line.gl_account, line.gl_account_name), line.debit, line.credit)
                    for line in lines[row.id]
                ),
            )
            for row in rows
        ]

    async def page(self, page: PageRequest, *, date_from: date, date_to: date) -> Page[JournalEntry]:
        """A page of the period's entries by id (ids are time-sortable: the order they were posted)."""
        stmt = select(JournalEntryRow).where(
            col(JournalEntryRow.entry_date) >= date_from, col(JournalEntryRow.entry_date) <= date_to
        )
        if page.after is not None:
            stmt = stmt.where(col(JournalEntryRow.id) > page.after)
        rows = list(
            (await self.session.exec(stmt.order_by(col(JournalEntryRow.id)).limit(page.limit + 1))).all()
        )
        has_more = len(rows) > page.limit
        rows = rows[: page.limit]
        return Page[JournalEntry](
            data=await self._with_lines(rows),
            next_cursor=encode_cursor(rows[-1].id) if has_more and rows else None,
            has_more=has_more,
        )

    async def between(self, *, date_from: date, date_to: date) -> list[JournalEntry]:
        """Every entry of the period by date, then id."""
        found = await self.session.exec(
            select(JournalEntryRow)
            .where(col(JournalEntryRow.entry_date) >= date_from, col(JournalEntryRow.entry_date) <= date_to)
            .order_by(col(JournalEntryRow.entry_date), col(JournalEntryRow.id))
        )
        return await self._with_lines(found.all())

    async def trial_balance(self, *, as_of: date, currency: str | None) -> list[TrialBalanceRow]:
        """Sums of debits and credits per account and currency, in one query."""
        stmt = (
            select_columns(
                col(JournalLineRow.gl_account),
                col(JournalLineRow.currency),
                func.max(col(JournalLineRow.gl_account_name)),
                func.sum(col(JournalLineRow.debit)),
                func.sum(col(JournalLineRow.credit)),
            )
            .where(col(JournalLineRow.entry_date) <= as_of)
            .group_by(col(JournalLineRow.gl_account), col(JournalLineRow.currency))
            .order_by(col(JournalLineRow.currency), col(JournalLineRow.gl_account))
        )
        if currency is not None:
            stmt = stmt.where(col(JournalLineRow.currency) == currency)
        connection = await self.session.connection()
        found = (await connection.execute(stmt)).all()
        return [
            TrialBalanceRow(GlAccount(code, name), code_currency, Decimal(str(debit)), Decimal(str(credit)))
            for code, code_currency, name, debit, credit in found
        ]


def _now() -> datetime:
    return datetime.now(UTC)
