"""The rating benchmarks (`bench.usage`, `bench.entitlements`) on tiny workloads: they run, their
figures are positive and their counts exact. Never how fast (that is for `make bench-usage`).

The end-to-end ones start the real service and need its usage and entitlement APIs; until those
modules exist they are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from bench.http_load import HttpPool, open_loop
from bench.rating_runs import stage_timings
from bench.usage_doors import raw_broker_rate, topic_messages
from bench.usage_workload import UsageWorkload, subscription_id
from libs.contracts.batch import decode_message
from libs.contracts.usage import UsageRecord, UsageRecorded

ROOT = Path(__file__).resolve().parents[2]
TINY = UsageWorkload(events=250, run="tiny", subscriptions=20, batch_size=100)


def _needs(module: str) -> None:
    pytest.importorskip(module, reason=f"{module} is not there yet (the rating service's API)")


def test_usage_workload_is_the_contracts_and_sends_one_percent_twice() -> None:
    bodies = TypeAdapter(dict[str, list[UsageRecord]])
    rest = [
        record for batch in TINY.batches() for record in bodies.validate_json(TINY.rest_body(batch))["events"]
    ]
    ndjson = [
        UsageRecord.model_validate_json(line)
        for batch in TINY.batches()
        for line in TINY.ndjson_body(batch).decode().splitlines()
    ]
    topic = []
    for key, value, headers in topic_messages(TINY, eager=True):
        message = decode_message(value, headers)
        assert message.is_batch
        assert {(e.type, e.key) for e in message.events} == {("usage.recorded", key.decode())}
        topic.extend(UsageRecorded.model_validate(e.payload) for e in message.events)

    # 250 events, every 100th (0, 100, 200) sent twice: 253 sends in batches of 100, 100, 53.
    assert [len(b.events) for b in TINY.batches()] == [100, 100, 53]
    for records in (rest, ndjson, topic):
        sends = Counter(r.event_id for r in records)
        assert len(records) == 253
        assert len(sends) == 250
        assert sorted(i for i, n in sends.items() if n == 2) == [TINY.event_id(i) for i in (0, 100, 200)]
    assert rest == ndjson == [UsageRecord.model_validate(r.model_dump()) for r in topic]

    # Expected totals from the rule quantity = 1 + (i * 7) % 9, counted once per distinct event.
    distinct = {r.event_id: r for r in rest}
    assert TINY.expected_quantity() == sum(Decimal(1 + (i * 7) % 9) for i in range(250))
    assert sum(r.quantity for r in distinct.values()) == TINY.expected_quantity()
    for (subscription, meter), (quantity, count) in TINY.expected_by_series().items():
        mine = [r for r in distinct.values() if r.subscription_id == subscription and r.meter == meter]
        assert (sum(r.quantity for r in mine), len(mine)) == (quantity, count)
    assert {r.subscription_id for r in rest} == {subscription_id(i) for i in range(20)}


def test_duplicates_get_envelope_ids_of_their_own_so_the_usage_dedup_is_what_catches_them() -> None:
    ids = [
        e.event_id
        for _, value, headers in topic_messages(TINY, eager=True)
        for e in decode_message(value, headers).events
    ]

    assert len(set(ids)) == len(ids) == TINY.sends


@pytest.mark.broker
async def test_raw_broker_rate_reads_back_every_message(broker: str) -> None:
    messages = list(topic_messages(TINY, eager=True))

    rate = await raw_broker_rate(broker, messages, TINY.events, partitions=3)

    assert rate.messages == 3 and rate.events == 250
    assert rate.seconds > 0 and rate.produce_seconds > 0


async def test_open_loop_client_answers_every_request_and_times_it() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await answer(reader, writer)
        except asyncio.IncompleteReadError:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = HttpPool(f"http://127.0.0.1:{port}")
    try:
        latencies, answers = await open_loop(pool, [pool.request_bytes("GET", "/healthz")] * 50, rate=500)
    finally:
        pool.close()
        server.close()

    assert [a.status for a in answers] == [200] * 50 and {a.body for a in answers} == {b"ok"}
    assert len(latencies.seconds) == 50 and min(latencies.seconds) > 0
    assert latencies.percentile(99) >= latencies.percentile(50) > 0


def test_stage_timings_show_what_the_service_counts_about_usage() -> None:
    before = (
        "# TYPE rating_usage_stage_seconds histogram\n"
        'rating_usage_stage_seconds_count{service="rating",stage="insert"} 2\n'
        'rating_usage_stage_seconds_sum{service="rating",stage="insert"} 0.5\n'
        "# TYPE http_requests_total counter\nhttp_requests_total 7\n"
    )
    after = before.replace(" 2\n", " 6\n").replace(" 0.5\n", " 2.5\n").replace(" 7\n", " 9\n")

    lines = stage_timings([before], [after])

    assert lines == ["rating_usage_stage_seconds_sum{stage=insert}: 2.00 s over 4, 500.00 ms each"]


async def test_usage_benchmark_counts_every_event_once_through_both_doors() -> None:
    _needs("rating.api.usage")
    from bench.usage import UsageOptions, measure

    report = await measure(
        UsageOptions(events=2_000, subscriptions=20, batch_size=250, process_counts=(1, 2))
    )

    assert [r.name for r in report.runs] == [
        "usage.topic.1p",
        "usage.rest.1p",
        "usage.topic.2p",
        "usage.rest.2p",
    ]
    for run in report.runs:
        assert run.verified is not None and run.verified.distinct == run.verified.counted == 2_000
        assert run.verified.quantity == run.workload.expected_quantity()
        assert run.rate > 0 and all(peak > 0 for peak in run.rss_peak_mib)
    assert report.raw is not None and report.raw.events == 2_000
    for figure in report.figures():
        assert figure.value > 0 and figure.baseline > 0, figure


async def test_entitlement_benchmark_times_every_check_beside_healthz() -> None:
    _needs("rating.api.entitlements")
    _needs("rating.api.usage")
    from bench.entitlements import EntitlementOptions, measure

    report = await measure(EntitlementOptions(rate=100, seconds=2, subscriptions=20, usage_events=300))

    assert [len(r.seconds) for r in report.checks] == [100, 100]
    assert [len(r.seconds) for r in report.health] == [100, 100]
    assert {s for r in [*report.checks, *report.health] for s in r.statuses} == {200}
    assert json.loads(report.sample)
    for figure in report.figures():
        assert figure.value > 0 and figure.baseline > 0, figure


def test_command_line_runs_the_rating_benchmarks_and_prints_their_rows() -> None:
    _needs("rating.api.entitlements")
    _needs("rating.api.usage")
    tiny = [
        "--usage-events", "1000", "--usage-subscriptions", "20", "--usage-batch-size", "250",
        "--usage-processes", "1", "--entitlement-rate", "100", "--entitlement-seconds", "1",
        "--entitlement-usage-events", "200",
    ]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "bench", "usage", "entitlements", *tiny],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split()[0] for line in result.stdout.splitlines()[3:] if line and not line.startswith(" ")]
    assert rows[:6] == [
        "usage.topic.1p",
        "usage.rest.1p",
        "usage.topic.rss",
        "usage.rest.rss",
        "entitlements.check.p50",
        "entitlements.check.p99",
    ]
    assert "checked: 1,000 distinct events stored" in result.stdout
