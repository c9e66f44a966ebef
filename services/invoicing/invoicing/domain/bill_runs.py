"""Bill runs: a run's kinds and states, its chunks of accounts, what became of each account, and
how progress adds up (issue 9).

A run bills every account it covers for one bill date:
- `pending` (recorded, nothing enumerated) → `enumerating` (accounts are paged and cut into
  chunks; chunks already emitted are being billed meanwhile) → `running` (every chunk is out;
  waiting for the last ones) → `completed`, or `completed_with_failures` when some accounts
  could not be billed (each recorded with its reason; the others are billed), or `failed` when
  the run itself could not go on (its reason says why).
- A chunk is a numbered slice of the run's accounts (`chunk_id` 1, 2, … in enumeration order).
  A chunk counts once: its id is unique within the run, so a redelivered chunk adds nothing.
- The run is complete when enumeration is over and every chunk it emitted is counted.
- What a chunk did (`ChunkTally`) is the sum of its accounts' outcomes: an account is invoiced
  (one invoice per currency and period; an invoice that already existed — a run repeated —
  counts as existing, not created), has nothing due, or failed with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final

MAX_REASON_LENGTH: Final = 500


class BillRunKind(StrEnum):
    """Why a run was started."""

    SCHEDULED = "scheduled"
    """The day's run, started by the schedule."""
    ON_DEMAND = "on_demand"
    """Started by an operator (API or CLI), for every account or a list of them."""
    FULFILLMENT = "fulfillment"
    """A completed fulfillment, invoiced at once: a run of its one account."""


class BillRunState(StrEnum):
    """Where a run stands."""

    PENDING = "pending"
    ENUMERATING = "enumerating"
    RUNNING = "running"
    COMPLETED = "completed"
    COMPLETED_WITH_FAILURES = "completed_with_failures"
    FAILED = "failed"


FINISHED: Final = frozenset(
    {BillRunState.COMPLETED, BillRunState.COMPLETED_WITH_FAILURES, BillRunState.FAILED}
)
"""States a run never leaves."""
TO_ENUMERATE: Final = frozenset({BillRunState.PENDING, BillRunState.ENUMERATING})
"""States in which a worker takes a run to page its accounts."""


@dataclass(frozen=True, slots=True)
class InvoiceLineSummary:
    """One line of an invoice as a run or a preview reports it."""

    description: str
    amount: Decimal
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    charge_key: str | None = None


@dataclass(frozen=True, slots=True)
class BilledInvoice:
    """One invoice an account got (or, in a dry run, would get): one currency, one period."""

    currency: str
    total: Decimal
    period_start: date
    period_end: date
    invoice_id: str | None = None
    """None in a dry run (nothing is stored)."""
    created: bool = True
    """False when the invoice of this account, currency and period existed already."""
    subtotal: Decimal | None = None
    tax: Decimal | None = None
    lines: tuple[InvoiceLineSummary, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountInvoiced:
    """An account billed: its invoices (none: nothing was due, or it bills to its parent)."""

    account_id: str
    invoices: tuple[BilledInvoice, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountFailure:
    """An account that could not be billed, and why (the run goes on without it)."""

    account_id: str
    reason: str

    def __post_init__(self) -> None:
        if len(self.reason) > MAX_REASON_LENGTH:
            object.__setattr__(self, "reason", self.reason[: MAX_REASON_LENGTH - 1] + "…")


AccountOutcome = AccountInvoiced | AccountFailure


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """What became of each account of a chunk, in the chunk's order."""

    outcomes: tuple[AccountOutcome, ...]

    @property
    def failures(self) -> list[AccountFailure]:
        """The accounts that failed."""
        return [o for o in self.outcomes if isinstance(o, AccountFailure)]


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    """Invoices created in one currency and their amount."""

    currency: str
    invoices: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ChunkTally:
    """The counts of a chunk (or of a whole run: the sum of its chunks)."""

    accounts: int = 0
    accounts_invoiced: int = 0
    accounts_without_invoice: int = 0
    invoices_created: int = 0
    invoices_existing: int = 0
    failures: int = 0
    amounts: tuple[CurrencyTotal, ...] = ()
    """Of the invoices created, per currency (sorted by currency)."""

    def plus(self, other: ChunkTally) -> ChunkTally:
        """This tally and `other` together."""
        return ChunkTally(
            accounts=self.accounts + other.accounts,
            accounts_invoiced=self.accounts_invoiced + other.accounts_invoiced,
            accounts_without_invoice=self.accounts_without_invoice + other.accounts_without_invoice,
            invoices_created=self.invoices_created + other.invoices_created,
            invoices_existing=self.invoices_existing + other.invoices_existing,
            failures=self.failures + other.failures,
            amounts=merge_amounts((*self.amounts, *other.amounts)),
        )


def merge_amounts(totals: Iterable[CurrencyTotal]) -> tuple[CurrencyTotal, ...]:
    """Totals of one currency added together, sorted by currency."""
    invoices: dict[str, int] = {}
    amounts: dict[str, Decimal] = {}
    for total in totals:
        invoices[total.currency] = invoices.get(total.currency, 0) + total.invoices
        amounts[total.currency] = amounts.get(total.currency, Decimal(0)) + total.amount
    return tuple(CurrencyTotal(c, invoices[c], amounts[c]) for c in sorted(invoices))


def tally(result: ChunkResult) -> ChunkTally:
    """Count a chunk's outcomes: accounts, invoices created or existing, failures, amounts."""
    invoiced = without = created = existing = failures = 0
    totals: list[CurrencyTotal] = []
    for outcome in result.outcomes:
        if isinstance(outcome, AccountFailure):
            failures += 1
            continue
        if not outcome.invoices:
            without += 1
            continue
        invoiced += 1
        for invoice in outcome.invoices:
            if invoice.created:
                created += 1
                totals.append(CurrencyTotal(invoice.currency, 1, invoice.total))
            else:
                existing += 1
    return ChunkTally(
        accounts=len(result.outcomes),
        accounts_invoiced=invoiced,
        accounts_without_invoice=without,
        invoices_created=created,
        invoices_existing=existing,
        failures=failures,
        amounts=merge_amounts(totals),
    )


@dataclass(frozen=True, slots=True)
class BillRunChunk:
    """A numbered slice of a run's accounts, billed in one transaction."""

    run_id: str
    chunk_id: int
    """1, 2, … in enumeration order; unique within the run."""
    bill_date: date
    account_ids: tuple[str, ...]


def cut_into_chunks(
    run_id: str, bill_date: date, account_ids: Sequence[str], *, size: int, first_chunk_id: int
) -> list[BillRunChunk]:
    """Cut accounts (in enumeration order) into chunks of at most `size`, numbered from `first_chunk_id`."""
    if size < 1:
        raise ValueError("a chunk holds at least one account")
    return [
        BillRunChunk(run_id, first_chunk_id + n, bill_date, tuple(account_ids[start : start + size]))
        for n, start in enumerate(range(0, len(account_ids), size))
    ]


@dataclass(slots=True)
class RunProgress:
    """What a run's counted chunks add up to; a chunk id is counted once."""

    chunks_done: int = 0
    totals: ChunkTally = field(default_factory=ChunkTally)
    counted: set[int] = field(default_factory=set)

    def count(self, chunk_id: int, chunk: ChunkTally) -> bool:
        """Count a chunk in; False (and nothing changes) when this chunk id was counted already."""
        if chunk_id in self.counted:
            return False
        self.counted.add(chunk_id)
        self.chunks_done += 1
        self.totals = self.totals.plus(chunk)
        return True


@dataclass
class BillRun:
    """One bill run: what it covers, where it stands, how far enumeration got."""

    id: str
    bill_date: date
    kind: BillRunKind
    created_at: datetime
    actor: str = "system"
    dry_run: bool = False
    account_ids: tuple[str, ...] | None = None
    """The accounts it covers when listed (an operator's list, a fulfillment's account, a retry's
    failed accounts); None: every account the read model holds."""
    fulfillment_id: str | None = None
    retry_of: str | None = None
    schedule_key: str | None = None
    """`scheduled:<bill date>` for the day's scheduled run: one per date."""
    state: BillRunState = BillRunState.PENDING
    accounts_total: int = 0
    """Accounts enumerated so far (the run's total once it is `running`)."""
    chunks_total: int = 0
    """Chunks emitted so far."""
    cursor: str | None = None
    """The last account enumerated: where enumeration goes on after a crash."""
    worker: str | None = None
    lease_until: datetime | None = None
    started_at: datetime | None = None
    enumerated_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    failure_reason: str | None = None

    @property
    def is_finished(self) -> bool:
        """True once the run is completed (with or without failures) or failed."""
        return self.state in FINISHED

    def start_enumerating(self, *, worker: str, lease_until: datetime, now: datetime) -> None:
        """Be taken by a worker that pages the accounts (again after a crash: from the cursor)."""
        if self.state not in TO_ENUMERATE:
            raise ValueError(f"a {self.state.value} run is not enumerated again")
        self.state = BillRunState.ENUMERATING
        self.started_at = self.started_at or now
        self.worker = worker
        self.lease_until = lease_until
        self.updated_at = now

    def add_chunks(self, chunks: Sequence[BillRunChunk], now: datetime) -> None:
        """Chunks were emitted (committed with this change): move the cursor past their accounts."""
        for chunk in chunks:
            if chunk.chunk_id != self.chunks_total + 1:
                raise ValueError(f"chunk {chunk.chunk_id} follows chunk {self.chunks_total}")
            self.chunks_total = chunk.chunk_id
            self.accounts_total += len(chunk.account_ids)
            self.cursor = chunk.account_ids[-1] if chunk.account_ids else self.cursor
        self.updated_at = now

    def finish_enumeration(self, now: datetime) -> None:
        """Every account is in a chunk: wait for the chunks (`running`)."""
        self.state = BillRunState.RUNNING
        self.enumerated_at = now
        self.worker = None
        self.lease_until = None
        self.updated_at = now

    def is_complete(self, chunks_done: int) -> bool:
        """True when enumeration is over and every chunk emitted is counted."""
        return self.state is BillRunState.RUNNING and chunks_done >= self.chunks_total

    def complete(self, progress: ChunkTally, now: datetime) -> None:
        """Every chunk is counted: completed, or completed with failures when some account failed."""
        self.state = BillRunState.COMPLETED_WITH_FAILURES if progress.failures else BillRunState.COMPLETED
        self.finished_at = now
        self.updated_at = now

    def fail(self, reason: str, now: datetime) -> None:
        """The run cannot go on (its accounts could not be enumerated): stop with the reason."""
        self.state = BillRunState.FAILED
        self.failure_reason = reason[:MAX_REASON_LENGTH]
        self.finished_at = now
        self.updated_at = now
        self.worker = None
        self.lease_until = None

    def percent(self, accounts_done: int) -> float | None:
        """How much of the run is done (0-100, one decimal); None while the total is not known."""
        if self.is_finished:
            return 100.0
        if self.state is not BillRunState.RUNNING:
            return None
        if self.accounts_total == 0:
            return 100.0
        return round(100.0 * accounts_done / self.accounts_total, 1)

    def accounts_per_second(self, accounts_done: int, now: datetime) -> int | None:
        """Accounts billed per second since enumeration started (until the run finished)."""
        if self.started_at is None:
            return None
        elapsed = ((self.finished_at or now) - self.started_at).total_seconds()
        return int(accounts_done / elapsed) if elapsed > 0 else None


def schedule_key(bill_date: date) -> str:
    """The key that makes the scheduled run of a bill date unique."""
    return f"scheduled:{bill_date.isoformat()}"


def scheduled_bill_date(now: datetime, *, start_hour_utc: int) -> date | None:
    """The bill date whose scheduled run is due at `now` (UTC): today once `start_hour_utc` has passed.

    At 12:00 UTC (the default) a UTC date has begun in every time zone from UTC-12 on, so no
    account is billed before its bill date has begun where it is; accounts east of UTC+12 (already
    on the next date) are billed through this date and get the next one in the next day's run.
    """
    return now.date() if now.hour >= start_hour_utc else None
