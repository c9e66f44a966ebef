"""Stand-ins on a real database for what the integrator wires into bill runs: `SqlFakeAccountBilling`
(NOT the charge calculation: each account gets one 100.00 USD invoice per month, in a test table
whose primary key is (account, currency, period start) — the same database-enforced "one invoice
per account, currency and period" the real invoices table has) and `FakeAccountsDirectory`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Date, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from invoicing.domain.bill_runs import (
    AccountInvoiced,
    AccountOutcome,
    BilledInvoice,
    BillRun,
    ChunkResult,
)
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from invoicing.repository.unit_of_work import SqlInvoicingUnitOfWork
from libs.platform.db import Database, ExactDecimal
from libs.platform.errors import ValidationFailed
from tests.invoicing.unit.fakes import FakeAccountsDirectory, month_of

__all__ = ["TEST_INVOICES", "FakeAccountsDirectory", "SqlFakeAccountBilling", "create_test_invoices"]

_METADATA = MetaData()
TEST_INVOICES = Table(
    "test_invoices",
    _METADATA,
    Column("account_id", String(64), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("invoice_id", String(80), nullable=False),
    Column("run_id", String(40), nullable=False),
    Column("total", ExactDecimal(), nullable=False),
)
AMOUNT = Decimal("100.00")


async def create_test_invoices(db: Database) -> None:
    """Create the stand-in invoices table (after the service's migrations)."""
    async with db.engine.begin() as connection:
        await connection.run_sync(_METADATA.create_all)


@dataclass
class SqlFakeAccountBilling:
    """Bills each account 100.00 USD for the month of the bill date, once per (account, currency,
    period) by the table's primary key; `raising` accounts make the call raise."""

    raising: dict[str, str] = field(default_factory=dict)
    accounts_billed: int = 0
    calls: int = 0

    async def bill_chunk(
        self, uow: InvoicingUnitOfWork, run: BillRun, account_ids: Sequence[str]
    ) -> ChunkResult:
        assert isinstance(uow, SqlInvoicingUnitOfWork)
        self.calls += 1
        for account_id in account_ids:
            if account_id in self.raising:
                raise ValidationFailed(self.raising[account_id])
        start, end = month_of(run.bill_date)
        connection = await uow.session.connection()
        if not run.dry_run:
            dialect: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
            rows = [
                {
                    "account_id": a,
                    "currency": "USD",
                    "period_start": start,
                    "invoice_id": f"inv_{a}_{start:%Y%m}",
                    "run_id": run.id,
                    "total": AMOUNT,
                }
                for a in account_ids
            ]
            await connection.execute(dialect.insert(TEST_INVOICES).on_conflict_do_nothing(), rows)
        found = {
            row.account_id: row
            for row in await connection.execute(
                select(TEST_INVOICES.c.account_id, TEST_INVOICES.c.invoice_id, TEST_INVOICES.c.run_id).where(
                    TEST_INVOICES.c.account_id.in_(list(account_ids)), TEST_INVOICES.c.period_start == start
                )
            )
        }
        outcomes: list[AccountOutcome] = []
        for account_id in account_ids:
            row = found.get(account_id)
            created = row is None or row.run_id == run.id
            invoice = BilledInvoice(
                "USD", AMOUNT, start, end, invoice_id=row.invoice_id if row else None, created=created
            )
            outcomes.append(AccountInvoiced(account_id, (invoice,)))
        uow.after_commit(lambda: self._billed(len(account_ids)))
        return ChunkResult(tuple(outcomes))

    def _billed(self, accounts: int) -> None:
        self.accounts_billed += accounts
