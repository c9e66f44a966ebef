"""Bill runs in SQL: `bill_runs` rows <-> `BillRun`, chunk claims and counts, failed accounts.

- A new run, and a chunk's claim, are `INSERT … ON CONFLICT DO NOTHING`: a second scheduled
  run of a date, a second run of a fulfillment, a chunk delivered twice (even to two replicas at
  once — PostgreSQL makes the second insert wait for the first transaction) insert nothing.
- A worker takes a run to enumerate with a conditional UPDATE (still to enumerate, lease run out
  or its own) and renews its lease at the start of each page's transaction, as usage loads do.
- A run's progress is summed from its chunk rows (one indexed range of the primary key); no
  chunk writes the run's row, except the one that completes it (`complete`, conditional).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Table, func, insert, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.bill_runs import (
    TO_ENUMERATE,
    AccountFailure,
    BillRun,
    BillRunKind,
    BillRunState,
    ChunkTally,
    CurrencyTotal,
)
from invoicing.handlers.bill_runs_port import BillRunRepository
from invoicing.models.bill_runs import BillRunAmountRow, BillRunChunkRow, BillRunFailureRow, BillRunRow

RUNS: Final[Table] = BillRunRow.__table__  # type: ignore[attr-defined]
CHUNKS: Final[Table] = BillRunChunkRow.__table__  # type: ignore[attr-defined]
AMOUNTS: Final[Table] = BillRunAmountRow.__table__  # type: ignore[attr-defined]
FAILURES: Final[Table] = BillRunFailureRow.__table__  # type: ignore[attr-defined]
_TO_ENUMERATE: Final = sorted(state.value for state in TO_ENUMERATE)


def run_of(row: BillRunRow) -> BillRun:
    """The run of a row."""
    return BillRun(
        id=row.run_id,
        bill_date=row.bill_date,
        kind=BillRunKind(row.kind),
        created_at=row.created_at,
        actor=row.actor,
        dry_run=row.dry_run,
        account_ids=tuple(json.loads(row.account_ids)) if row.account_ids is not None else None,
        fulfillment_id=row.fulfillment_id,
        retry_of=row.retry_of,
        schedule_key=row.schedule_key,
        state=BillRunState(row.state),
        accounts_total=row.accounts_total,
        chunks_total=row.chunks_total,
        cursor=row.cursor,
        worker=row.worker,
        lease_until=row.lease_until,
        started_at=row.started_at,
        enumerated_at=row.enumerated_at,
        finished_at=row.finished_at,
        updated_at=row.updated_at,
        failure_reason=row.failure_reason,
    )


def _changing(run: BillRun) -> dict[str, Any]:
    """The columns a run's work changes."""
    return {
        "state": run.state.value,
        "accounts_total": run.accounts_total,
        "chunks_total": run.chunks_total,
        "cursor": run.cursor,
        "worker": run.worker,
        "lease_until": run.lease_until,
        "failure_reason": run.failure_reason,
        "started_at": run.started_at,
        "enumerated_at": run.enumerated_at,
        "finished_at": run.finished_at,
        "updated_at": run.updated_at or run.created_at,
    }


class SqlBillRunRepository(BillRunRepository):
    """Bill runs, their chunks and failures over one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _insert(self, table: Table) -> Any:
        # ON CONFLICT DO NOTHING is spelled by each dialect's own insert.
        dialect = (await self.session.connection()).dialect.name
        module: Any = postgresql if dialect == "postgresql" else sqlite
        return module.insert(table)

    async def _rows(self, statement: Any) -> list[Any]:
        connection = await self.session.connection()
        return list((await connection.execute(statement)).all())

    async def add(self, run: BillRun) -> bool:
        """Insert a new run unless its fulfillment or schedule key has one."""
        values = {
            "run_id": run.id,
            "kind": run.kind.value,
            "bill_date": run.bill_date,
            "dry_run": run.dry_run,
            "account_ids": json.dumps(list(run.account_ids)) if run.account_ids is not None else None,
            "fulfillment_id": run.fulfillment_id,
            "retry_of": run.retry_of,
            "schedule_key": run.schedule_key,
            "actor": run.actor[:80],
            "created_at": run.created_at,
            **_changing(run),
        }
        result = await self.session.exec((await self._insert(RUNS)).values(**values).on_conflict_do_nothing())
        return bool(result.rowcount == 1)

    async def get(self, run_id: str) -> BillRun | None:
        """The run of this id."""
        row = await self.session.get(BillRunRow, run_id, populate_existing=True)
        return run_of(row) if row is not None else None

    async def _one(self, *where: Any) -> BillRun | None:
        row = (await self.session.exec(select(BillRunRow).where(*where))).first()
        return run_of(row) if row is not None else None

    async def by_fulfillment(self, fulfillment_id: str) -> BillRun | None:
        """The run of a fulfillment."""
        return await self._one(col(BillRunRow.fulfillment_id) == fulfillment_id)

    async def by_schedule_key(self, key: str) -> BillRun | None:
        """The scheduled run of a date."""
        return await self._one(col(BillRunRow.schedule_key) == key)

    async def page(self, *, after: str | None, limit: int, state: BillRunState | None) -> list[BillRun]:
        """Runs by id after `after`."""
        statement = select(BillRunRow)
        if after is not None:
            statement = statement.where(col(BillRunRow.run_id) > after)
        if state is not None:
            statement = statement.where(col(BillRunRow.state) == state.value)
        statement = statement.order_by(col(BillRunRow.run_id)).limit(limit)
        return [run_of(row) for row in (await self.session.exec(statement)).all()]

    async def to_enumerate(self, *, worker: str, now: datetime, limit: int) -> list[BillRun]:
        """Runs to page, free to take or `worker`'s own, oldest first."""
        statement = (
            select(BillRunRow)
            .where(col(BillRunRow.state).in_(_TO_ENUMERATE), self._free(worker, now))
            .order_by(col(BillRunRow.run_id))
            .limit(limit)
        )
        return [run_of(row) for row in (await self.session.exec(statement)).all()]

    async def take(self, run: BillRun, *, now: datetime) -> bool:
        """Start enumerating `run` for its worker if it is still free."""
        assert run.worker is not None
        statement = (
            update(RUNS)
            .where(RUNS.c.run_id == run.id, RUNS.c.state.in_(_TO_ENUMERATE), self._free(run.worker, now))
            .values(
                state=run.state.value,
                worker=run.worker,
                lease_until=run.lease_until,
                started_at=run.started_at,
                updated_at=run.updated_at,
            )
        )
        result = await self.session.exec(statement)
        return bool(result.rowcount == 1)

    async def hold(self, run_id: str, *, worker: str, until: datetime) -> bool:
        """Renew `worker`'s lease on an enumerating run."""
        statement = (
            update(RUNS)
            .where(
                RUNS.c.run_id == run_id,
                RUNS.c.worker == worker,
                RUNS.c.state == BillRunState.ENUMERATING.value,
            )
            .values(lease_until=until)
        )
        result = await self.session.exec(statement)
        return bool(result.rowcount == 1)

    async def save(self, run: BillRun) -> None:
        """Write the run's state, position, counts and lease."""
        await self.session.exec(update(RUNS).where(RUNS.c.run_id == run.id).values(**_changing(run)))

    async def complete(self, run: BillRun) -> bool:
        """Write a finished run if it is still running."""
        statement = (
            update(RUNS)
            .where(RUNS.c.run_id == run.id, RUNS.c.state == BillRunState.RUNNING.value)
            .values(**_changing(run))
        )
        result = await self.session.exec(statement)
        return bool(result.rowcount == 1)

    async def running(self, *, limit: int) -> list[BillRun]:
        """Runs waiting for their chunks."""
        statement = (
            select(BillRunRow)
            .where(col(BillRunRow.state) == BillRunState.RUNNING.value)
            .order_by(col(BillRunRow.run_id))
            .limit(limit)
        )
        return [run_of(row) for row in (await self.session.exec(statement)).all()]

    async def claim_chunk(self, run_id: str, chunk_id: int, *, now: datetime) -> bool:
        """Insert the chunk's row (zero counts) unless it is there."""
        values = {"run_id": run_id, "chunk_id": chunk_id, "counted_at": now}
        values |= dict.fromkeys(
            (
                "accounts",
                "accounts_invoiced",
                "accounts_without_invoice",
                "invoices_created",
                "invoices_existing",
                "failures",
            ),
            0,
        )
        statement = (await self._insert(CHUNKS)).values(**values).on_conflict_do_nothing()
        result = await self.session.exec(statement)
        return bool(result.rowcount == 1)

    async def count_chunk(
        self, run_id: str, chunk_id: int, chunk: ChunkTally, failures: Sequence[AccountFailure]
    ) -> None:
        """Write a claimed chunk's counts, its amounts per currency and its failed accounts."""
        statement = (
            update(CHUNKS)
            .where(CHUNKS.c.run_id == run_id, CHUNKS.c.chunk_id == chunk_id)
            .values(
                accounts=chunk.accounts,
                accounts_invoiced=chunk.accounts_invoiced,
                accounts_without_invoice=chunk.accounts_without_invoice,
                invoices_created=chunk.invoices_created,
                invoices_existing=chunk.invoices_existing,
                failures=chunk.failures,
            )
        )
        await self.session.exec(statement)
        if chunk.amounts:
            amounts = [
                {
                    "run_id": run_id,
                    "chunk_id": chunk_id,
                    "currency": t.currency,
                    "invoices": t.invoices,
                    "amount": t.amount,
                }
                for t in chunk.amounts
            ]
            await self.session.exec(insert(AMOUNTS), params=amounts)
        if failures:
            # An account appears once in a run's enumeration; a retry run has its own id.
            rows = [
                {"run_id": run_id, "account_id": f.account_id, "chunk_id": chunk_id, "reason": f.reason}
                for f in failures
            ]
            await self.session.exec(insert(FAILURES), params=rows)

    async def progress(self, run_id: str) -> tuple[int, ChunkTally]:
        """Chunks counted and their sums (two aggregate queries over the run's rows)."""
        counts = (
            await self._rows(
                select_columns(
                    func.count(),
                    func.coalesce(func.sum(CHUNKS.c.accounts), 0),
                    func.coalesce(func.sum(CHUNKS.c.accounts_invoiced), 0),
                    func.coalesce(func.sum(CHUNKS.c.accounts_without_invoice), 0),
                    func.coalesce(func.sum(CHUNKS.c.invoices_created), 0),
                    func.coalesce(func.sum(CHUNKS.c.invoices_existing), 0),
                    func.coalesce(func.sum(CHUNKS.c.failures), 0),
                ).where(CHUNKS.c.run_id == run_id)
            )
        )[0]
        amounts = await self._rows(
            select_columns(AMOUNTS.c.currency, func.sum(AMOUNTS.c.invoices), func.sum(AMOUNTS.c.amount))
            .where(AMOUNTS.c.run_id == run_id)
            .group_by(AMOUNTS.c.currency)
            .order_by(AMOUNTS.c.currency)
        )
        tally = ChunkTally(
            accounts=int(counts[1]),
            accounts_invoiced=int(counts[2]),
            accounts_without_invoice=int(counts[3]),
            invoices_created=int(counts[4]),
            invoices_existing=int(counts[5]),
            failures=int(counts[6]),
            amounts=tuple(CurrencyTotal(c, int(n), Decimal(str(a))) for c, n, a in amounts),
        )
        return int(counts[0]), tally

    async def failures(
        self, run_id: str, *, after_account_id: str | None, limit: int
    ) -> list[AccountFailure]:
        """Failed accounts by id."""
        statement = select(BillRunFailureRow).where(col(BillRunFailureRow.run_id) == run_id)
        if after_account_id is not None:
            statement = statement.where(col(BillRunFailureRow.account_id) > after_account_id)
        statement = statement.order_by(col(BillRunFailureRow.account_id)).limit(limit)
        return [AccountFailure(r.account_id, r.reason) for r in (await self.session.exec(statement)).all()]

    @staticmethod
    def _free(worker: str, now: datetime) -> Any:
        return or_(RUNS.c.lease_until.is_(None), RUNS.c.lease_until < now, RUNS.c.worker == worker)
