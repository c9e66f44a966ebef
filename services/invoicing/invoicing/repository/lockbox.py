"""Lockbox files in SQL: `lockbox_files` and `lockbox_lines` rows <-> domain objects.

`uq_lockbox_files_content_hash` makes a file importable once: a second import of the same bytes
that raced the first fails on insert (`add` answers False, nothing of it stored).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.lockbox import ImportedLine, LineStatus, LockboxFile, LockboxLine
from invoicing.handlers.lockbox_port import LockboxRepository
from invoicing.models.lockbox import LockboxFileRow, LockboxLineRow
from libs.platform.pagination import Page, PageRequest, paginate


class SqlLockboxRepository(LockboxRepository):
    """Lockbox files over the invoicing database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, file_id: str) -> LockboxFile | None:
        """One file with its lines."""
        row = (
            await self.session.exec(select(LockboxFileRow).where(col(LockboxFileRow.id) == file_id))
        ).first()
        return (await self._load([row]))[0] if row is not None else None

    async def find_by_hash(self, content_hash: str) -> LockboxFile | None:
        """The file imported with these bytes."""
        stmt = select(LockboxFileRow).where(col(LockboxFileRow.content_hash) == content_hash)
        row = (await self.session.exec(stmt)).first()
        return (await self._load([row]))[0] if row is not None else None

    async def add(self, file: LockboxFile) -> bool:
        """Insert the file and its lines in a savepoint; False when the hash is taken."""
        try:
            async with self.session.begin_nested():
                self.session.add(
                    LockboxFileRow(
                        id=file.id,
                        content_hash=file.content_hash,
                        filename=file.filename,
                        imported_at=file.imported_at,
                    )
                )
                await self.session.flush()
                self.session.add_all(_line_row(file.id, imported) for imported in file.lines)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def save_line(self, file_id: str, line: ImportedLine) -> None:
        """Write the line's status, reason and payment."""
        await self.session.exec(
            update(LockboxLineRow)
            .where(col(LockboxLineRow.file_id) == file_id, col(LockboxLineRow.number) == line.line.number)
            .values(
                status=line.status.value,
                reason=line.reason,
                payment_id=line.payment_id,
                currency=line.line.currency,
            )
        )

    async def page(self, page: PageRequest) -> Page[LockboxFile]:
        """A page of files by id, their lines in one more query."""
        rows = await paginate(self.session, select(LockboxFileRow), LockboxFileRow.id, page, lambda r: r)
        return Page[LockboxFile](
            data=await self._load(rows.data), next_cursor=rows.next_cursor, has_more=rows.has_more
        )

    async def _load(self, rows: Sequence[LockboxFileRow]) -> list[LockboxFile]:
        lines: dict[str, list[ImportedLine]] = defaultdict(list)
        if rows:
            stmt = (
                select(LockboxLineRow)
                .where(col(LockboxLineRow.file_id).in_([row.id for row in rows]))
                .order_by(col(LockboxLineRow.file_id), col(LockboxLineRow.number))
            )
            for r in (await self.session.exec(stmt)).all():
                line = LockboxLine(
                    r.number,
                    r.check_number,
                    r.amount,
                    r.invoice_number,
                    r.account_id,
                    r.deposit_date,
                    r.currency,
                    problem=r.reason if r.amount is None or r.deposit_date is None else None,
                )
                lines[r.file_id].append(ImportedLine(line, LineStatus(r.status), r.reason, r.payment_id))
        return [
            LockboxFile(row.id, row.content_hash, row.filename, row.imported_at, lines[row.id])
            for row in rows
        ]


def _line_row(file_id: str, imported: ImportedLine) -> LockboxLineRow:
    line = imported.line
    return LockboxLineRow(
        file_id=file_id,
        number=line.number,
        check_number=line.check_number,
        amount=line.amount,
        currency=line.currency,
        invoice_number=line.invoice_number,
        account_id=line.account_id,
        deposit_date=line.deposit_date,
        status=imported.status.value,
        reason=imported.reason,
        payment_id=imported.payment_id,
    )
