"""Invoices in SQL: `invoices`, `invoice_lines` and `invoice_number_series` rows <-> domain objects.

A draft is inserted in a savepoint, so a taken key (`uq_invoices_billing_period`) or a charge
billed meanwhile (`uq_invoice_lines_charge_billed`) is answered, and the rest of the transaction
goes on (models/invoices.py says what each key guarantees). Each save bumps `version`; a write
made on a stale copy is a 409. The series counter is one upsert that increments and returns the
number: on PostgreSQL it holds the row lock until the finalizing transaction ends, on SQLite the
transaction holds the database's write lock (BEGIN IMMEDIATE) — so numbers are handed out one
transaction at a time, and a rollback takes its number back. A bill run's chunk stores its
invoices as drafts (`add_issued`) and numbers them at the end of its transaction
(`save_numbered`: one UPDATE, on PostgreSQL from arrays joined by the key), so that the lock is
held for the numbering alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.billing_inputs import BilledCharge
from invoicing.domain.invoices import Invoice, InvoiceLine, InvoiceState
from invoicing.handlers.invoices_port import (
    BillingPeriodKey,
    ChargeBilledMeanwhile,
    InvoiceFilters,
    InvoiceKeyTaken,
    InvoiceRepository,
)
from invoicing.models.invoices import InvoiceLineRow, InvoiceNumberSeries, InvoiceRow
from invoicing.repository.billing_watermarks import clear_watermarks
from invoicing.repository.invoice_rows import (
    INVOICE_COLUMNS,
    LINE_COLUMNS,
    invoice_line,
    invoice_of,
    invoice_row,
    invoice_values,
    line_row,
    line_row_values,
    row_key,
)
from libs.platform.driver_rows import driver_insert, driver_rows
from libs.platform.errors import Conflict, NotFound
from libs.platform.pagination import Page, PageRequest, paginate
from libs.platform.value_sets import in_values

Row = InvoiceRow
LineRow = InvoiceLineRow


class SqlInvoiceRepository(InvoiceRepository):
    """Invoices over the invoicing database; an invoice loaded twice in a unit of work is one object."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: dict[str, Invoice] = {}

    async def find(self, invoice_id: str) -> Invoice | None:
        """One invoice with its lines, if it exists."""
        if invoice_id in self.seen:
            return self.seen[invoice_id]
        found = await self._invoices(col(Row.id) == invoice_id)
        return found[0] if found else None

    async def lock(self, invoice_id: str) -> Invoice:
        """The invoice read afresh with its row locked (FOR UPDATE; SQLite's write lock is held since
        BEGIN IMMEDIATE), so a concurrent credit waits and then sees this one's credited total."""
        stmt = select(Row).where(col(Row.id) == invoice_id).with_for_update()
        row = (await self.session.exec(stmt.execution_options(populate_existing=True))).first()
        if row is None:
            raise NotFound("invoice", invoice_id)
        self.seen.pop(invoice_id, None)
        return (await self._load([row]))[0]

    async def find_by_key(self, key: BillingPeriodKey) -> Invoice | None:
        """The invoice that is not void holding `key`, if any."""
        found = await self._invoices(
            col(Row.account_id) == key.account_id,
            col(Row.currency) == key.currency,
            col(Row.period_start) == key.period_start,
            col(Row.period_end) == key.period_end,
            col(Row.run_kind) == key.run_kind.value,
            col(Row.run_source_id) == key.run_source_id,
            col(Row.state) != InvoiceState.VOID.value,
        )
        return found[0] if found else None

    async def find_by_keys(self, keys: Collection[BillingPeriodKey]) -> dict[BillingPeriodKey, Invoice]:
        """The invoices that are not void holding any of `keys`, in one query (and one for lines)."""
        if not keys:
            return {}
        wanted = set(keys)
        rows = (
            await self.session.exec(
                select(Row).where(
                    in_values(col(Row.account_id), {k.account_id for k in wanted}),
                    col(Row.period_start).in_(sorted({k.period_start for k in wanted})),
                    col(Row.state) != InvoiceState.VOID.value,
                )
            )
        ).all()
        held = [row for row in rows if row_key(row) in wanted]
        return {_key_of(invoice): invoice for invoice in await self._load(held)}

    async def next_numbers(self, series: str, count: int) -> int:
        """Take `count` numbers of `series` in one statement; the last one."""
        dialect = self.session.get_bind().dialect.name
        module: Any = postgresql if dialect == "postgresql" else sqlite
        table: Any = InvoiceNumberSeries.__table__  # type: ignore[attr-defined]
        stmt = (
            module.insert(table)
            .values(series=series, last_number=count)
            .on_conflict_do_update(
                index_elements=[table.c.series], set_={"last_number": table.c.last_number + count}
            )
            .returning(table.c.last_number)
        )
        return int((await self.session.exec(stmt)).scalar_one())

    async def add_issued(self, invoices: Sequence[Invoice]) -> None:
        """Insert the invoices, then their lines, one statement each (see the port)."""
        if not invoices:
            return
        row_table: Any = Row.__table__  # type: ignore[attr-defined]
        line_table: Any = LineRow.__table__  # type: ignore[attr-defined]
        # Straight to the driver's executemany (as the outbox stages its rows): SQLAlchemy's
        # per-row parameter processing cost more than SQLite's inserts of a chunk.
        connection = await self.session.connection()
        dialect = connection.dialect
        rows = [(*invoice_row(invoice), 1) for invoice in invoices]
        lines = [
            line_row_values(invoice, position, line)
            for invoice in invoices
            for position, line in enumerate(invoice.lines)
        ]
        try:
            row_columns = (*INVOICE_COLUMNS, "version")
            await connection.exec_driver_sql(
                driver_insert(row_table, row_columns, dialect),
                driver_rows(row_table, row_columns, dialect, rows),
            )
            if lines:
                await connection.exec_driver_sql(
                    driver_insert(line_table, LINE_COLUMNS, dialect),
                    driver_rows(line_table, LINE_COLUMNS, dialect, lines),
                )
        except IntegrityError:
            raise ChargeBilledMeanwhile(
                "an invoice of this chunk was made, or one of its charges billed, by another run "
                "meanwhile; bill its accounts again"
            ) from None
        for invoice in invoices:
            invoice.version = 1
            self.seen[invoice.id] = invoice

    async def save_numbered(self, invoices: Sequence[Invoice]) -> None:
        """Write the state, number and dates of invoices `add_issued` stored as drafts, now
        finalized, in one statement (each only at the version it was stored with)."""
        if not invoices:
            return
        connection = await self.session.connection()
        dialect = connection.dialect
        row_table: Any = Row.__table__  # type: ignore[attr-defined]
        values = driver_rows(
            row_table,
            _NUMBERED_COLUMNS,
            dialect,
            [(*_numbered_values(invoice), invoice.id, invoice.version) for invoice in invoices],
        )
        if dialect.name == "postgresql":
            arrays = tuple(list(column) for column in zip(*values, strict=True))
            await connection.exec_driver_sql(_PG_SAVE_NUMBERED, arrays)
        else:
            await connection.exec_driver_sql(_SQLITE_SAVE_NUMBERED, values)
        for invoice in invoices:
            invoice.version += 1
            self.seen[invoice.id] = invoice

    async def add(self, invoice: Invoice) -> None:
        """Insert the draft and its lines in a savepoint; a taken key or a charge billed meanwhile
        changes nothing and is raised as its own 409."""
        try:
            async with self.session.begin_nested():
                self.session.add(Row(**invoice_values(invoice), version=1))
                await self.session.flush()
                self.session.add_all(
                    line_row(invoice, position, line) for position, line in enumerate(invoice.lines)
                )
                await self.session.flush()
        except IntegrityError:
            holder = await self.find_by_key(_key_of(invoice))
            if holder is not None:
                raise InvoiceKeyTaken(
                    f"invoice {holder.id!r} already bills account {invoice.account_id!r} in "
                    f"{invoice.currency} for [{invoice.period_start}, {invoice.period_end})"
                ) from None
            raise ChargeBilledMeanwhile(
                "a charge of this invoice was billed by another run meanwhile; compute the charges again"
            ) from None
        invoice.version = 1
        self.seen[invoice.id] = invoice

    async def save(self, invoice: Invoice) -> None:
        """Write a changed invoice; its lines follow a void; a stale copy is a 409."""
        values = invoice_values(invoice)
        result: Any = await self.session.exec(
            update(Row)
            .where(col(Row.id) == invoice.id, col(Row.version) == invoice.version)
            .values(**values, version=invoice.version + 1)
        )
        if result.rowcount != 1:
            raise Conflict(f"invoice {invoice.id!r} changed meanwhile; read it and retry")
        if invoice.state is InvoiceState.VOID:
            await self.session.exec(
                update(LineRow).where(col(LineRow.invoice_id) == invoice.id).values(voided=True)
            )
            await clear_watermarks(self.session, [invoice.account_id])  # its charges are due again
        invoice.version += 1
        self.seen[invoice.id] = invoice

    async def next_number(self, series: str) -> int:
        """Increment the series' counter (creating it at 1) and return the new value."""
        dialect = self.session.get_bind().dialect.name
        module: Any = postgresql if dialect == "postgresql" else sqlite
        table: Any = InvoiceNumberSeries.__table__  # type: ignore[attr-defined]
        stmt = (
            module.insert(table)
            .values(series=series, last_number=1)
            .on_conflict_do_update(
                index_elements=[table.c.series], set_={"last_number": table.c.last_number + 1}
            )
            .returning(table.c.last_number)
        )
        result = await self.session.exec(stmt)
        return int(result.scalar_one())

    async def billed_charges(self, account_ids: Collection[str]) -> dict[str, list[BilledCharge]]:
        """What the invoices of these accounts (not void) billed, line by line (one query)."""
        if not account_ids:
            return {}
        statement = (
            select(  # type: ignore[call-overload]
                col(Row.account_id),
                col(LineRow.charge_key),
                col(LineRow.amount),
                col(LineRow.list_amount),
                col(Row.id),
            )
            .join(LineRow, col(LineRow.invoice_id) == col(Row.id))
            .where(in_values(col(Row.account_id), account_ids), col(Row.state) != InvoiceState.VOID.value)
        )
        billed: dict[str, list[BilledCharge]] = defaultdict(list)
        for account_id, charge_key, amount, list_amount, invoice_id in await self.session.exec(statement):
            billed[account_id].append(BilledCharge(charge_key, amount, invoice_id, list_amount=list_amount))
        return dict(billed)

    async def page(self, filters: InvoiceFilters, page: PageRequest) -> Page[Invoice]:
        """A page of invoices ordered by id, their lines read in one more query."""
        rows = await paginate(self.session, select(Row).where(*_filters(filters)), Row.id, page, lambda r: r)
        invoices = await self._load(rows.data)
        return Page[Invoice](data=invoices, next_cursor=rows.next_cursor, has_more=rows.has_more)

    async def _invoices(self, *where: ColumnElement[bool]) -> list[Invoice]:
        rows = (await self.session.exec(select(Row).where(*where).order_by(col(Row.id)))).all()
        return await self._load(rows)

    async def _load(self, rows: Sequence[Row]) -> list[Invoice]:
        missing = [row.id for row in rows if row.id not in self.seen]
        lines: dict[str, list[InvoiceLine]] = defaultdict(list)
        if missing:
            stmt = (
                select(LineRow)
                .where(col(LineRow.invoice_id).in_(missing))
                .order_by(col(LineRow.invoice_id), col(LineRow.position))
            )
            for line in (await self.session.exec(stmt)).all():
                lines[line.invoice_id].append(invoice_line(line))
        for row in rows:
            if row.id not in self.seen:
                self.seen[row.id] = invoice_of(row, lines[row.id])
        return [self.seen[row.id] for row in rows]


_NUMBERED_COLUMNS: tuple[str, ...] = (
    "state",
    "series",
    "sequence_number",
    "number",
    "invoice_date",
    "due_date",
    "finalized_at",
    "id",
    "version",
)
"""What `save_numbered` writes (the first seven) of the invoice of an id at a version (the last two)."""
_PG_TYPES = ("varchar", "varchar", "integer", "varchar", "date", "date", "timestamptz", "varchar", "integer")
_PG_SAVE_NUMBERED = (
    "UPDATE invoices AS i SET "
    + ", ".join(f"{name} = v.{name}" for name in _NUMBERED_COLUMNS[:7])
    + ", version = i.version + 1 FROM unnest("
    + ", ".join(f"${n}::{t}[]" for n, t in enumerate(_PG_TYPES, start=1))
    + f") AS v({', '.join(_NUMBERED_COLUMNS)}) WHERE i.id = v.id AND i.version = v.version"
)
_SQLITE_SAVE_NUMBERED = (
    "UPDATE invoices SET "
    + ", ".join(f"{name} = ?" for name in _NUMBERED_COLUMNS[:7])
    + ", version = version + 1 WHERE id = ? AND version = ?"
)


def _numbered_values(invoice: Invoice) -> tuple[Any, ...]:
    number = invoice.number
    return (
        invoice.state.value,
        None if number is None else number.series,
        None if number is None else number.sequence,
        invoice.number_text,
        invoice.invoice_date,
        invoice.due_date,
        invoice.finalized_at,
    )


def _key_of(invoice: Invoice) -> BillingPeriodKey:
    return BillingPeriodKey(
        invoice.account_id,
        invoice.currency,
        invoice.period_start,
        invoice.period_end,
        invoice.run_kind,
        invoice.run_source_id,
    )


def _filters(filters: InvoiceFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.account_id is not None:
        where.append(col(Row.account_id) == filters.account_id)
    if filters.state is not None:
        where.append(col(Row.state) == filters.state.value)
    if filters.currency is not None:
        where.append(col(Row.currency) == filters.currency)
    if filters.invoice_date_from is not None:
        where.append(col(Row.invoice_date) >= filters.invoice_date_from)
    if filters.invoice_date_to is not None:
        where.append(col(Row.invoice_date) <= filters.invoice_date_to)
    return where
