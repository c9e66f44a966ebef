"""Stand-ins the bill-run benchmark bills with until the real per-account billing is wired.

`StandInBilling` is NOT the charge calculation: it writes one 100.00 USD invoice row per account
and month into `bench_invoices`, whose primary key (account, currency, period start) is the same
database-enforced "one invoice per account, currency and period" the real invoices table has, and
reports an invoice that existed as existing. What the benchmark measures with it is the run's
machinery — enumeration, the outbox, Kafka, the consumer group, chunk claims and counts — plus one
bulk insert per chunk. `NumberedAccounts` pages `acct_00000000 … acct_<n-1>` without holding them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Column, Date, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from invoicing.domain.bill_runs import AccountInvoiced, BilledInvoice, BillRun, ChunkResult
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from invoicing.repository.unit_of_work import SqlInvoicingUnitOfWork
from libs.platform.db import ExactDecimal

AMOUNT: Final = Decimal("100.00")
PREFIX: Final = "acct_"
WIDTH: Final = 8
METADATA: Final = MetaData()


def invoice_table(name: str) -> Table:
    """A table of stand-in invoices (the benchmark's baseline fills a second one)."""
    return Table(
        name,
        METADATA,
        Column("account_id", String(64), primary_key=True),
        Column("currency", String(3), primary_key=True),
        Column("period_start", Date, primary_key=True),
        Column("invoice_id", String(80), nullable=False),
        Column("run_id", String(40), nullable=False),
        Column("total", ExactDecimal(), nullable=False),
    )


BENCH_INVOICES: Final = invoice_table("bench_invoices")
BASELINE_INVOICES: Final = invoice_table("bench_invoices_baseline")


def account_id(number: int) -> str:
    """The id of the account numbered `number`."""
    return f"{PREFIX}{number:0{WIDTH}d}"


def _month(bill_date: date) -> tuple[date, date]:
    start = bill_date.replace(day=1)
    return start, date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def invoice_rows(account_ids: Sequence[str], *, start: date, run_id: str) -> list[dict[str, Any]]:
    """The stand-in invoice rows of some accounts."""
    return [
        {
            "account_id": a,
            "currency": "USD",
            "period_start": start,
            "invoice_id": f"inv_{a}_{start:%Y%m}",
            "run_id": run_id,
            "total": AMOUNT,
        }
        for a in account_ids
    ]


def insert_ignoring_duplicates(connection: AsyncConnection, table: Table) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect."""
    dialect: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


@dataclass(frozen=True)
class NumberedAccounts:
    """Accounts `acct_00000000` … numbered below `count`, paged in id order."""

    count: int

    async def accounts_page(self, after_account_id: str | None, limit: int) -> list[str]:
        """The next `limit` ids after `after_account_id`."""
        first = 0 if after_account_id is None else int(after_account_id.removeprefix(PREFIX)) + 1
        return [account_id(n) for n in range(first, min(first + limit, self.count))]


class StandInBilling:
    """One invoice row per account and month, once (see the module); no charge calculation."""

    async def bill_chunk(
        self, uow: InvoicingUnitOfWork, run: BillRun, account_ids: Sequence[str]
    ) -> ChunkResult:
        """Insert the chunk's rows (existing ones untouched) and report each as created or existing."""
        assert isinstance(uow, SqlInvoicingUnitOfWork)
        start, end = _month(run.bill_date)
        connection = await uow.session.connection()
        if not run.dry_run:
            rows = invoice_rows(account_ids, start=start, run_id=run.id)
            await connection.execute(insert_ignoring_duplicates(connection, BENCH_INVOICES), rows)
        statement = select(BENCH_INVOICES.c.account_id, BENCH_INVOICES.c.run_id).where(
            BENCH_INVOICES.c.account_id.in_(list(account_ids)), BENCH_INVOICES.c.period_start == start
        )
        made_by = {row.account_id: row.run_id for row in await connection.execute(statement)}
        return ChunkResult(
            tuple(
                AccountInvoiced(
                    a,
                    (BilledInvoice("USD", AMOUNT, start, end, created=made_by.get(a, run.id) == run.id),),
                )
                for a in account_ids
            )
        )
