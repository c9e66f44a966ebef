"""Bill runs on the real broker: a run's chunks fan out through `invoicing.events` to the
`invoicing.bill_runs` group of two invoicing processes, each chunk is billed once — even when its
message is delivered again — progress adds up, a failing account is recorded while the others
are billed, and the same run again creates nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from sqlmodel import col

from invoicing.app import create_app
from invoicing.bootstrap import InvoicingRuntime, bootstrap
from invoicing.consumers import BILL_RUNS_GROUP
from libs.contracts.bill_runs import BillRunChunkRequested
from libs.contracts.envelope import Envelope
from libs.contracts.topics import INVOICING_EVENTS
from libs.platform.broker import LocalBroker, free_port
from libs.platform.inbox import InboxEntry
from libs.platform.outbox import OutboxMessage, build_envelope
from tests.invoicing.integration.conftest import invoicing_settings
from tests.invoicing.integration.fake_billing import (
    TEST_INVOICES,
    FakeAccountsDirectory,
    SqlFakeAccountBilling,
    create_test_invoices,
)
from tests.support.polling import eventually
from tests.support.services import auth, running_app

pytestmark = pytest.mark.broker

ACCOUNTS = [f"acct_{n:05d}" for n in range(2000)]
FAILING = "acct_00777"


@dataclass
class Process:
    """One invoicing process: its client, runtime and stand-in biller."""

    client: httpx.AsyncClient
    runtime: InvoicingRuntime
    billing: SqlFakeAccountBilling


@pytest.fixture
def broker() -> Iterator[str]:
    """A Tansu broker of this test's own. Seen here: when both members of a group leave at once,
    the next member to join the session's shared broker was made a follower of a leader that was
    gone and waited for its assignment for good (SyncGroup), so each test starts a fresh broker."""
    local = LocalBroker(port=free_port()).start()
    try:
        yield local.bootstrap_servers
    finally:
        local.stop()


@pytest.fixture
async def two_processes(database_url: str, broker: str) -> AsyncIterator[tuple[Process, Process]]:
    """Two invoicing processes on one database and one broker, in one consumer group."""
    directory = FakeAccountsDirectory(ACCOUNTS)
    processes = []
    for _ in range(2):
        billing = SqlFakeAccountBilling(raising={FAILING: "no price for product prd_9 on 2026-08-01"})
        runtime = bootstrap(
            invoicing_settings(database_url, broker),
            account_billing=billing,
            billable_accounts=lambda _uow: directory,
        )
        processes.append((create_app(runtime=runtime), runtime, billing))
    async with running_app(processes[0][0]) as first:
        await create_test_invoices(processes[0][1].db)
        async with running_app(processes[1][0]) as second:
            one = Process(first, processes[0][1], processes[0][2])
            two = Process(second, processes[1][1], processes[1][2])
            await eventually(_assigned_partitions(one, two), until=lambda parts: all(parts))
            yield one, two


def _assigned_partitions(*processes: Process) -> Any:
    async def probe() -> list[int]:
        counts = []
        for process in processes:
            consumer = next(c for c in process.runtime.consumers if c.group_id == BILL_RUNS_GROUP)
            counts.append(len(consumer.consumer.assignment()) if consumer.consumer is not None else 0)
        return counts

    return probe


async def _finished(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    async def probe() -> Any:
        return (await client.get(f"/v1/bill-runs/{run_id}", headers=auth("ops"))).json()

    return await eventually(probe, until=lambda r: r["state"].startswith("completed"), timeout_s=120)


async def _invoice_rows(runtime: InvoicingRuntime) -> int:
    async with runtime.db.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(TEST_INVOICES))).scalar_one())


async def _inbox_has(runtime: InvoicingRuntime, event_id: str) -> bool:
    async with runtime.db.engine.connect() as connection:
        statement = select(func.count()).where(
            col(InboxEntry.consumer_group) == BILL_RUNS_GROUP,
            col(InboxEntry.event_id) == event_id,
        )
        return int((await connection.execute(statement)).scalar_one()) == 1


async def _deliver_again(broker: str, runtime: InvoicingRuntime) -> list[str]:
    """Send one emitted chunk again as it was (same event id), and once more as a new event."""
    async with runtime.db.engine.connect() as connection:
        body = (
            await connection.execute(
                select(col(OutboxMessage.body))
                .where(col(OutboxMessage.event_type) == "bill_run.chunk_requested")
                .limit(1)
            )
        ).scalar_one()
    original = Envelope.model_validate_json(body)
    copy = build_envelope(original.payload_as(BillRunChunkRequested), producer="invoicing", key=original.key)
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    try:
        for envelope in (original, copy):
            await producer.send_and_wait(
                INVOICING_EVENTS, value=envelope.to_bytes(), key=envelope.key.encode()
            )
    finally:
        await producer.stop()
    return [str(original.event_id), str(copy.event_id)]


async def test_a_run_is_shared_by_two_processes_and_each_chunk_is_billed_once(
    two_processes: tuple[Process, Process], broker: str
) -> None:
    one, two = two_processes
    started = await one.client.post(
        "/v1/bill-runs",
        json={"bill_date": "2026-08-01"},
        headers={**auth("finance"), "Idempotency-Key": "aug-1"},
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    assert started.headers["location"] == f"/v1/bill-runs/{run_id}"

    done = await _finished(two.client, run_id)
    assert done["state"] == "completed_with_failures"
    assert (done["accounts_total"], done["accounts_done"], done["chunks_total"], done["chunks_done"]) == (
        2000,
        2000,
        20,
        20,
    )
    assert (done["invoices_created"], done["invoices_existing"], done["failures"]) == (1999, 0, 1)
    assert done["amounts"] == [{"currency": "USD", "invoices": 1999, "amount": "199900.00"}]
    assert done["failures_sample"] == [
        {"account_id": FAILING, "reason": "no price for product prd_9 on 2026-08-01"}
    ]
    assert await _invoice_rows(one.runtime) == 1999
    # Both processes billed chunks, and together every account but the failing one, once.
    assert one.billing.accounts_billed > 0 and two.billing.accounts_billed > 0
    assert one.billing.accounts_billed + two.billing.accounts_billed == 1999

    # A chunk delivered again — the same message, and a new message for the same chunk — adds nothing.
    for event_id in await _deliver_again(broker, one.runtime):
        await eventually(partial(_inbox_has, one.runtime, event_id), until=bool, timeout_s=30)
    again = (await one.client.get(f"/v1/bill-runs/{run_id}", headers=auth("ops"))).json()
    assert (again["accounts_done"], again["chunks_done"], again["invoices_created"]) == (2000, 20, 1999)
    assert one.billing.accounts_billed + two.billing.accounts_billed == 1999

    failures = await one.client.get(f"/v1/bill-runs/{run_id}/failures", headers=auth("ops"))
    assert failures.json()["data"] == done["failures_sample"]

    # The same run again: every invoice exists, none is created.
    repeated = await two.client.post(
        "/v1/bill-runs", json={"bill_date": "2026-08-01"}, headers=auth("finance")
    )
    rerun = await _finished(one.client, repeated.json()["id"])
    assert (rerun["invoices_created"], rerun["invoices_existing"], rerun["failures"]) == (0, 1999, 1)
    assert rerun["amounts"] == []
    assert await _invoice_rows(one.runtime) == 1999
