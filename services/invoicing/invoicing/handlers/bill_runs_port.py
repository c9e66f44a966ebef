"""The ports of bill runs: the `bill_runs` tables, the accounts a run pages through, and the
per-account billing a run (and a preview) calls.

`invoicing.handlers.bill_runs` and `bill_run_chunks` see only these:
- `BillRunRepository` — runs, their counted chunks, amounts and failures
  (`invoicing.repository.bill_runs` in SQL; an in-memory fake in the unit tests);
- `BillableAccounts` — `accounts_page(after_account_id, limit, due_on=)`: the ids of the accounts to bill,
  in id order (the billing read model implements it; a run of listed accounts pages its list);
- `AccountBilling` — `bill_chunk(uow, run, account_ids)`: bills a chunk of accounts for the run's
  bill date in the caller's transaction (charges due, tax, draft and finalize; one invoice per
  account, currency and period, idempotent on that key), or in a dry run computes the same
  invoices and stores nothing. Accounts it cannot bill for a reason of their own (a missing
  price, a currency that does not match) come back as `AccountFailure`s; an exception fails the
  whole call, and the caller then bills the chunk's accounts one by one (see `bill_run_chunks`).
  One that is also a `ChunkPreparation` reads and drafts a chunk before its write transaction
  (`prepare_chunk`), and the transaction bills what was prepared (`PreparedBilling.bill_in`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from invoicing.domain.bill_runs import AccountFailure, BillRun, BillRunState, ChunkResult, ChunkTally

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


class BillableAccounts(Protocol):
    """The accounts a run bills, page by page in account-id order."""

    async def accounts_page(
        self, after_account_id: str | None, limit: int, *, due_on: date | None = None
    ) -> list[str]:
        """Up to `limit` account ids after `after_account_id` (from the first when None), sorted;
        with `due_on`, only those that may owe something on that date (not marked billed through it)."""
        ...


class AccountBilling(Protocol):
    """Bills the accounts of a chunk (or, for a dry run or a preview, computes their invoices)."""

    async def bill_chunk(
        self, uow: InvoicingUnitOfWork, run: BillRun, account_ids: Sequence[str]
    ) -> ChunkResult:
        """One outcome per account, in order; writes nothing when `run.dry_run`."""
        ...


class PreparedBilling(Protocol):
    """A chunk's billing read and computed before its write transaction (`ChunkPreparation`)."""

    async def bill_in(self, uow: InvoicingUnitOfWork) -> ChunkResult:
        """Bill the chunk in `uow`'s write transaction as `bill_chunk` would, first checking that
        what was read still holds (and reading again what does not); one outcome per account."""
        ...


@runtime_checkable
class ChunkPreparation(Protocol):
    """An `AccountBilling` that can do a chunk's reads and computation on a read-only unit of work,
    before the write transaction (on SQLite, outside the one write lock: `bill_run_chunks`)."""

    async def prepare_chunk(
        self, uow: InvoicingUnitOfWork, run: BillRun, account_ids: Sequence[str]
    ) -> PreparedBilling | None:
        """The chunk prepared; None when it can only be billed in its write transaction."""
        ...


AccountsOf = Callable[["InvoicingUnitOfWork"], BillableAccounts]
"""The accounts source of a unit of work (the read model's repository on its session)."""


class BillRunRepository(abc.ABC):
    """`bill_runs`, their counted chunks (with amounts per currency) and their failed accounts."""

    @abc.abstractmethod
    async def add(self, run: BillRun) -> bool:
        """Store a new run; False (nothing stored) when its fulfillment or schedule key has a run."""

    @abc.abstractmethod
    async def get(self, run_id: str) -> BillRun | None:
        """The run of this id, if any."""

    @abc.abstractmethod
    async def by_fulfillment(self, fulfillment_id: str) -> BillRun | None:
        """The run of a completed fulfillment, if one was started."""

    @abc.abstractmethod
    async def by_schedule_key(self, key: str) -> BillRun | None:
        """The scheduled run of a bill date, if one was started."""

    @abc.abstractmethod
    async def page(self, *, after: str | None, limit: int, state: BillRunState | None) -> list[BillRun]:
        """Runs by id (oldest first) after `after`, at most `limit`."""

    @abc.abstractmethod
    async def to_enumerate(self, *, worker: str, now: datetime, limit: int) -> list[BillRun]:
        """Runs to page: pending, or enumerating with their lease run out (or `worker`'s), oldest first."""

    @abc.abstractmethod
    async def take(self, run: BillRun, *, now: datetime) -> bool:
        """Write `run` as taken by its worker, if it is still free to take; whether it was."""

    @abc.abstractmethod
    async def hold(self, run_id: str, *, worker: str, until: datetime) -> bool:
        """Renew `worker`'s lease on an enumerating run (locking its row until commit); False when lost."""

    @abc.abstractmethod
    async def save(self, run: BillRun) -> None:
        """Write a run's state, enumeration position, counts and lease."""

    @abc.abstractmethod
    async def complete(self, run: BillRun) -> bool:
        """Write a finished run if it is still `running`; False when another process finished it."""

    @abc.abstractmethod
    async def running(self, *, limit: int) -> list[BillRun]:
        """Runs whose enumeration is over, waiting for their chunks, oldest first."""

    @abc.abstractmethod
    async def claim_chunk(self, run_id: str, chunk_id: int, *, now: datetime) -> bool:
        """Claim a chunk for billing; False when it was counted (or is being counted) already."""

    @abc.abstractmethod
    async def count_chunk(
        self, run_id: str, chunk_id: int, chunk: ChunkTally, failures: Sequence[AccountFailure]
    ) -> None:
        """Record a claimed chunk's counts, amounts per currency and failed accounts."""

    @abc.abstractmethod
    async def progress(self, run_id: str) -> tuple[int, ChunkTally]:
        """How many chunks of the run are counted, and what they add up to."""

    @abc.abstractmethod
    async def failures(
        self, run_id: str, *, after_account_id: str | None, limit: int
    ) -> list[AccountFailure]:
        """A run's failed accounts by account id after `after_account_id`, at most `limit`."""
