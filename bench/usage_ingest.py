"""Usage ingestion micro-benchmark: one batch of 10,000 events through `record_usage`, per stage.

`python -m bench.usage_ingest [--events 10000] [--subscriptions 1000] [--rounds 3]
[--database-url postgresql://...]` prints, for each kind of batch, the time of each stage:

- `parse` — the JSON body to valid events (`schemas.usage.parse_usage_body`: msgspec and the
  whole-batch checks of `schemas.usage_wire`, the fast path);
- `validate` — what needs state: meters looked up, unknown meters and future timestamps refused,
  the first of each event id kept, filters applied;
- `guide` — the read model loaded (subscriptions, accounts: one query each), each event placed
  on its subscription, local date and period;
- `recheck` — the write transaction starts (on SQLite: takes the write lock); the meters and the
  read model's generation read again (`rating.handlers.usage_preparation`: parse, validate and
  guide ran before, on a read-only unit of work, as the REST door does);
- `reads` — the touched aggregates read (from the process's memory when valid), late events moved;
- `insert` — the new events stored, duplicates left out (one statement);
- `aggregate` — the new distinct values and the aggregates folded and written back;
- `commit` — the audit row and the commit;
- `http` — the same batch posted to `POST /v1/usage` in-process (ASGI, no socket): everything
  above plus auth, the edge guard, routing and the JSON answer — and the test client's own work
  (it builds and hands over the 2-3 MB body in the same process), so a lower bound.

Batches: `new` (fresh events, new aggregates), `more` (fresh events, existing aggregates: the
steady state), `replay` (every event a duplicate). SQLite file by default (WAL, as the service
runs it); PostgreSQL with `--database-url`. Figures of a shared two-core machine are noisy: the
best of `--rounds` runs is shown.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from bench.scratch_db import scratch_database
from libs.platform.clock import FixedClock
from libs.platform.migrations import upgrade_async
from rating.app import create_app
from rating.config import RatingSettings
from rating.domain.usage import UsageSource
from rating.handlers.usage import Stopwatch, record_usage
from rating.handlers.usage_preparation import prepare_usage
from rating.models import Meter, RatedAccount, RatedSubscription
from rating.schemas.usage import parse_usage_body

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
STAGES = ("parse", "validate", "guide", "recheck", "reads", "insert", "aggregate", "commit")
LOCKED = ("recheck", "reads", "insert", "aggregate", "commit")
"""The stages inside the write transaction (on SQLite: holding the write lock)."""
API_KEY = "bench-erp-key-0123456789abcdefghij"


def _events(count: int, subscriptions: int, start: int) -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"bench-{start + i:09d}",
            "subscription_id": f"sub_{(start + i) % subscriptions:06d}",
            "meter": "api_calls",
            "quantity": (i % 7) + 1,
            "timestamp": (NOW - timedelta(minutes=i % 600)).isoformat(),
            "properties": {"region": "eu" if i % 2 else "us"},
        }
        for i in range(count)
    ]


async def _seed(runtime: Any, subscriptions: int) -> None:
    async with runtime.db.session() as session:
        session.add(
            Meter(
                id="mtr_bench",
                code="api_calls",
                name="API calls",
                unit_of_measure="call",
                aggregation="sum",
                product_id="prod_api",
                active=True,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        for n in range(subscriptions // 10 or 1):
            session.add(
                RatedAccount(
                    account_id=f"acct_{n:06d}",
                    customer_id=f"cus_{n:06d}",
                    currency="USD",
                    bill_cycle_day=1 + n % 28,
                    time_zone=("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo")[n % 4],
                    event_at=NOW,
                )
            )
        for n in range(subscriptions):
            session.add(
                RatedSubscription(
                    subscription_id=f"sub_{n:06d}",
                    account_id=f"acct_{n // 10:06d}",
                    product_id="prod_api",
                    price_id="price_bench",
                    price_version=1,
                    currency="USD",
                    billing_period="monthly",
                    state="active",
                    quantity=Decimal(1),
                    term_start=date(2026, 1, 1),
                    term_end=date(2029, 1, 1),
                    effective_date=date(2026, 1, 1),
                    event_at=NOW,
                    event_kind="subscription.activated",
                )
            )
        await session.commit()


async def _handler_round(runtime: Any, body: bytes) -> dict[str, float]:
    watch = Stopwatch()
    received = parse_usage_body(body, "application/json")
    watch.lap("parse")
    # As the REST door does: validated and guided on a read-only unit of work, then written.
    async with runtime.rating_read_unit_of_work() as reader:
        prepared = await prepare_usage(uow=reader, events=received, stopwatch=watch)
    async with runtime.rating_unit_of_work() as uow:
        await record_usage(uow=uow, events=prepared, source=UsageSource.REST, stopwatch=watch)
    return watch.stages


async def run(events: int, subscriptions: int, rounds: int, database_url: str | None) -> None:
    """Print the stage table of each kind of batch."""
    async with scratch_database(database_url) as url:
        settings = RatingSettings(
            environment="test",
            database_url=url,
            bus_enabled=False,
            api_keys=f"erp:{API_KEY}",
            log_level="WARNING",
        )
        app = create_app(settings, clock=FixedClock(NOW))
        runtime = app.state.runtime
        await upgrade_async(runtime.migrations_dir, runtime.db.url)
        await _seed(runtime, subscriptions)
        gc.collect()
        gc.freeze()  # as the service does once started: long-lived objects out of the collector's way
        next_id = 0
        results: dict[str, list[dict[str, float]]] = {}

        def batch() -> bytes:
            nonlocal next_id
            body = json.dumps({"events": _events(events, subscriptions, next_id)}).encode()
            next_id += events
            return body

        first = batch()
        results["new"] = [await _handler_round(runtime, first)]
        for _ in range(rounds):
            results.setdefault("more", []).append(await _handler_round(runtime, batch()))
            results.setdefault("replay", []).append(await _handler_round(runtime, first))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {API_KEY}", "content-type": "application/json"}
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for _ in range(rounds):
                    body = batch()
                    started = time.perf_counter()
                    response = await client.post("/v1/usage", content=body, headers=headers)
                    elapsed = time.perf_counter() - started
                    assert response.status_code == 200 and response.json()["counted"] == events, response.text
                    results.setdefault("http", []).append({"http": elapsed})
        await runtime.db.dispose()
    _print(results, events, "PostgreSQL" if database_url else "SQLite")


def _print(results: dict[str, list[dict[str, float]]], events: int, backend: str) -> None:
    print(f"usage ingestion, {events:,} events per batch, {backend}; best of the rounds, ms")
    print(f"{'batch':<8}" + "".join(f"{s:>11}" for s in (*STAGES, "total")) + f"{'events/s':>12}")
    for kind, runs in results.items():
        if kind == "http":
            best = min(r["http"] for r in runs)
            print(f"{'http':<8}" + " " * 11 * len(STAGES) + f"{best * 1000:>11.1f}{events / best:>12,.0f}")
            continue
        best_run = min(runs, key=lambda r: sum(r.values()))
        total = sum(best_run.values())
        cells = "".join(f"{best_run.get(s, 0.0) * 1000:>11.1f}" for s in STAGES)
        locked = sum(best_run.get(s, 0.0) for s in LOCKED)
        lock = f"  (write lock {locked * 1000:.1f})"
        print(f"{kind:<8}{cells}{total * 1000:>11.1f}{events / total:>12,.0f}{lock}")


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench.usage_ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--database-url", default=None, help="a PostgreSQL server (a scratch database is made there)"
    )
    args = parser.parse_args(argv)
    asyncio.run(run(args.events, args.subscriptions, args.rounds, args.database_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
