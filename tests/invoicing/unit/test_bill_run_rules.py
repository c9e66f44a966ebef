"""Bill runs' pure rules: chunks, outcomes adding up, a chunk counted once, states, the schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from invoicing.domain.bill_runs import (
    MAX_REASON_LENGTH,
    AccountFailure,
    AccountInvoiced,
    BilledInvoice,
    BillRun,
    BillRunKind,
    BillRunState,
    ChunkResult,
    ChunkTally,
    CurrencyTotal,
    RunProgress,
    cut_into_chunks,
    schedule_key,
    scheduled_bill_date,
    tally,
)

NOW = datetime(2026, 8, 1, 12, tzinfo=UTC)
AUG = (date(2026, 8, 1), date(2026, 9, 1))


def invoice(currency: str, total: str, *, created: bool = True) -> BilledInvoice:
    return BilledInvoice(currency, Decimal(total), *AUG, invoice_id="inv_1", created=created)


def new_run(**kwargs: object) -> BillRun:
    return BillRun(
        id="brun_1", bill_date=date(2026, 8, 1), kind=BillRunKind.ON_DEMAND, created_at=NOW, **kwargs
    )


def test_accounts_are_cut_into_numbered_chunks_in_order() -> None:
    accounts = [f"acct_{n:03d}" for n in range(7)]
    chunks = cut_into_chunks("brun_1", date(2026, 8, 1), accounts, size=3, first_chunk_id=4)
    assert [c.chunk_id for c in chunks] == [4, 5, 6]
    assert [len(c.account_ids) for c in chunks] == [3, 3, 1]
    assert [a for c in chunks for a in c.account_ids] == accounts


def test_a_chunk_tally_counts_invoices_created_existing_and_amounts_per_currency() -> None:
    result = ChunkResult(
        (
            AccountInvoiced("acct_a", (invoice("USD", "100.00"), invoice("EUR", "20.50"))),
            AccountInvoiced("acct_b", (invoice("USD", "0.01"),)),
            AccountInvoiced("acct_c", (invoice("USD", "999.00", created=False),)),
            AccountInvoiced("acct_d"),
            AccountFailure("acct_e", "no price for product prd_1"),
        )
    )
    counted = tally(result)
    assert counted.accounts == 5
    assert counted.accounts_invoiced == 3
    assert counted.accounts_without_invoice == 1
    assert counted.invoices_created == 3
    assert counted.invoices_existing == 1
    assert counted.failures == 1
    assert counted.amounts == (
        CurrencyTotal("EUR", 1, Decimal("20.50")),
        CurrencyTotal("USD", 2, Decimal("100.01")),
    )
    assert result.failures == [AccountFailure("acct_e", "no price for product prd_1")]


def test_a_chunk_is_counted_once_and_progress_adds_up() -> None:
    progress = RunProgress()
    one = ChunkTally(accounts=2, invoices_created=2, amounts=(CurrencyTotal("USD", 2, Decimal("200.00")),))
    two = ChunkTally(accounts=1, failures=1)
    assert progress.count(1, one)
    assert progress.count(2, two)
    assert not progress.count(1, one)
    assert progress.chunks_done == 2
    assert progress.totals.accounts == 3
    assert progress.totals.failures == 1
    assert progress.totals.amounts == (CurrencyTotal("USD", 2, Decimal("200.00")),)


def test_a_run_goes_from_pending_through_enumeration_to_completed_with_failures() -> None:
    run = new_run()
    assert run.state is BillRunState.PENDING
    run.start_enumerating(worker="w1", lease_until=NOW + timedelta(minutes=1), now=NOW)
    chunks = cut_into_chunks(run.id, run.bill_date, ["acct_a", "acct_b", "acct_c"], size=2, first_chunk_id=1)
    run.add_chunks(chunks, NOW)
    assert (run.accounts_total, run.chunks_total, run.cursor) == (3, 2, "acct_c")
    assert run.percent(accounts_done=2) is None  # the total is not known while enumerating
    assert not run.is_complete(chunks_done=2)
    run.finish_enumeration(NOW)
    assert run.state is BillRunState.RUNNING and run.worker is None
    assert run.percent(accounts_done=2) == 66.7
    assert not run.is_complete(chunks_done=1)
    assert run.is_complete(chunks_done=2)
    run.complete(ChunkTally(accounts=3, failures=1), NOW)
    assert run.state is BillRunState.COMPLETED_WITH_FAILURES
    assert run.is_finished and run.percent(accounts_done=3) == 100.0
    with pytest.raises(ValueError):
        run.start_enumerating(worker="w2", lease_until=NOW, now=NOW)


def test_a_run_without_failures_is_completed() -> None:
    run = new_run(state=BillRunState.RUNNING)
    run.complete(ChunkTally(accounts=3), NOW)
    assert run.state is BillRunState.COMPLETED


def test_chunks_must_follow_each_other() -> None:
    run = new_run()
    chunks = cut_into_chunks(run.id, run.bill_date, ["acct_a"], size=1, first_chunk_id=2)
    with pytest.raises(ValueError):
        run.add_chunks(chunks, NOW)


def test_a_long_failure_reason_is_shortened() -> None:
    failure = AccountFailure("acct_a", "x" * 2000)
    assert len(failure.reason) == MAX_REASON_LENGTH


def test_the_scheduled_run_of_a_date_starts_at_its_hour_utc() -> None:
    assert scheduled_bill_date(datetime(2026, 8, 1, 11, 59, tzinfo=UTC), start_hour_utc=12) is None
    assert scheduled_bill_date(datetime(2026, 8, 1, 12, 0, tzinfo=UTC), start_hour_utc=12) == date(2026, 8, 1)
    assert schedule_key(date(2026, 8, 1)) == "scheduled:2026-08-01"
