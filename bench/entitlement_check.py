"""Entitlement check micro-benchmark: the CPU of one `POST /v1/entitlements/check`, in-process.

`python -m bench.entitlement_check [--subscriptions 10000] [--checks 2000] [--profile FILE]
[--database-url postgresql://...]` seeds the read model like `make bench-entitlements` (one
account and one API subscription per index, seed 001's "10 free, then 0.50 each" and an SMS
price, an open aggregate for most subscriptions), then prints the CPU a call costs, each the
best of three rounds:

- `handler` — `handlers.entitlements.check_entitlement` in its unit of work (no HTTP);
- `asgi` — the same checks sent to the app as ASGI calls (a scope, one body message, the answer
  collected; no client, no socket): everything above plus the middleware, auth, routing, body
  parsing and the JSON answer — the service's own CPU a request, less uvicorn's HTTP parsing;
- `asgi healthz` — `GET /healthz` the same way: the floor of a request that does no work;
- `httpx` and `httpx healthz` — the same through httpx's ASGI transport (the client's own work
  included: what the integration tests pay);
- `server` and `server healthz` — a real `python -m rating` (uvicorn, bus off) on the same
  database, sent the same checks over keep-alive connections (four in flight): the server
  process's CPU (user + system, from /proc) a request, uvicorn's HTTP work and the sockets'
  included — what `make bench-entitlements` counts, less the consumers and the relay.

`--profile FILE` writes a cProfile of the `asgi` checks (read it with `python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from bench.http_load import HttpPool
from bench.rating_stack import RatingProcess
from bench.scratch_db import scratch_database
from libs.platform.clock import FixedClock
from libs.platform.migrations import upgrade_async
from rating.app import create_app
from rating.config import RatingSettings
from rating.handlers.entitlements import check_entitlement
from rating.models import Meter, RatedAccount, RatedPrice, RatedSubscription, UsageAggregate

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
API_KEY = "bench-erp-key-0123456789abcdefghij"
METERS = {"api_calls": ("prod_api", "price_api", "0.50", "10"), "sms": ("prod_sms", "price_sms", "0.05", "0")}


def _price(price_id: str, product_id: str, unit_price: str, included: str) -> RatedPrice:
    terms = {
        "unit_price": unit_price,
        "amount": None,
        "tiers": [],
        "package_size": None,
        "included_quantity": included,
        "minimum_commitment": None,
        "cost_book_id": None,
    }
    return RatedPrice(
        price_id=price_id,
        version=1,
        product_id=product_id,
        currency="USD",
        charge_type="usage",
        billing_period="monthly",
        model="per_unit",
        terms=json.dumps(terms),
        effective_from=date(2026, 1, 1),
        event_at=NOW,
    )


async def _seed(runtime: Any, subscriptions: int) -> None:
    async with runtime.db.session() as session:
        for code, (product, price, unit_price, included) in METERS.items():
            session.add(_price(price, product, unit_price, included))
            session.add(
                Meter(
                    id=f"mtr_{code}",
                    code=code,
                    name=code,
                    unit_of_measure="unit",
                    aggregation="sum",
                    product_id=product,
                    active=True,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        for n in range(subscriptions):
            session.add(
                RatedAccount(
                    account_id=f"acct_{n:06d}",
                    customer_id=f"cus_{n:06d}",
                    currency="USD",
                    bill_cycle_day=1,
                    time_zone="UTC",
                    event_at=NOW,
                )
            )
            session.add(
                RatedSubscription(
                    subscription_id=f"sub_{n:06d}",
                    account_id=f"acct_{n:06d}",
                    product_id="prod_api",
                    price_id="price_api",
                    price_version=1,
                    currency="USD",
                    charge_type="usage",
                    billing_period="monthly",
                    state="active",
                    quantity=Decimal(1),
                    term_start=date(2026, 1, 1),
                    term_end=date(2028, 1, 1),
                    effective_date=date(2026, 1, 1),
                    event_at=NOW,
                    event_kind="subscription.activated",
                )
            )
            for code in METERS:
                if n % 10:  # one subscription in ten has no usage yet in the period
                    session.add(
                        UsageAggregate(
                            subscription_id=f"sub_{n:06d}",
                            meter=code,
                            period_start=date(2026, 7, 1),
                            period_end=date(2026, 8, 1),
                            account_id=f"acct_{n:06d}",
                            quantity=Decimal(n % 25),
                            event_count=n % 25,
                            late_quantity=Decimal(0),
                            late_count=0,
                            updated_at=NOW,
                        )
                    )
        await session.commit()


def _requests(subscriptions: int, count: int) -> list[tuple[str, str, int]]:
    rng = random.Random(8)
    return [
        (f"sub_{rng.randrange(subscriptions):06d}", rng.choice(list(METERS)), rng.randint(1, 5))
        for _ in range(count)
    ]


async def _cpu_per_call(calls: int, call: Callable[[int], Awaitable[None]], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for i in range(calls):
            await call(i)
        best = min(best, (time.process_time() - started) / calls)
    return best


async def run(subscriptions: int, checks: int, database_url: str | None, profile: str | None) -> None:
    """Print the CPU per check (handler, in-process HTTP) beside `/healthz`."""
    async with scratch_database(database_url) as url:
        settings = RatingSettings(
            environment="test",
            database_url=url,
            bus_enabled=False,
            api_keys=f"erp:{API_KEY}",
            log_level="WARNING",
            period_close_interval_s=0,
        )
        app = create_app(settings, clock=FixedClock(NOW))
        runtime = app.state.runtime
        await upgrade_async(runtime.migrations_dir, runtime.db.url)
        await _seed(runtime, subscriptions)
        asked = _requests(subscriptions, checks)
        bodies = [json.dumps({"subscription_id": s, "meter": m, "quantity": q}).encode() for s, m, q in asked]

        async def handler_call(i: int) -> None:
            s, m, q = asked[i]
            async with runtime.rating_read_unit_of_work() as uow:
                await check_entitlement(uow=uow, subscription_id=s, meter=m, quantity=Decimal(q))

        async with app.router.lifespan_context(app):
            gc.collect()
            gc.freeze()
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {API_KEY}", "content-type": "application/json"}
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

                async def http_call(i: int) -> None:
                    response = await client.post("/v1/entitlements/check", content=bodies[i], headers=headers)
                    assert response.status_code == 200, response.text

                async def health_call(i: int) -> None:
                    response = await client.get("/healthz")
                    assert response.status_code == 200, response.text

                async def asgi_call(i: int) -> None:
                    status = await _asgi(app, "POST", "/v1/entitlements/check", bodies[i])
                    assert status == 200, status

                async def asgi_health(i: int) -> None:
                    assert await _asgi(app, "GET", "/healthz", b"") == 200

                await http_call(0)
                print(
                    "a check's answer:",
                    (await client.post("/v1/entitlements/check", content=bodies[0], headers=headers)).text,
                )
                figures = {
                    "handler": await _cpu_per_call(checks, handler_call),
                    "asgi": await _cpu_per_call(checks, asgi_call),
                    "asgi healthz": await _cpu_per_call(checks, asgi_health),
                    "httpx": await _cpu_per_call(checks, http_call),
                    "httpx healthz": await _cpu_per_call(checks, health_call),
                }
                if profile:
                    profiler = cProfile.Profile()
                    profiler.enable()
                    for i in range(checks):
                        await asgi_call(i)
                    profiler.disable()
                    profiler.dump_stats(profile)
        await runtime.db.dispose()
        figures.update(await _server_cpu(url, bodies))
    backend = "PostgreSQL" if database_url else "SQLite"
    print(f"entitlement checks, {subscriptions:,} subscriptions, {backend}; CPU per call, best of 3 rounds")
    for name, seconds in figures.items():
        print(f"{name:<16}{seconds * 1e6:>10.0f} µs")


async def _server_cpu(database_url: str, bodies: list[bytes]) -> dict[str, float]:
    """CPU a request of a real server process (bus off) on `database_url`, checks and `/healthz`."""
    with tempfile.TemporaryDirectory(prefix="bench-entitlement-server-") as tmp:
        server = RatingProcess(
            "rating-server",
            database_url,
            "127.0.0.1:9",  # never used: the bus is off
            Path(tmp) / "rating.log",
            {"BUS_ENABLED": "false", "API_KEYS": f"erp:{API_KEY}"},
        ).start()
        try:
            await server.wait_ready()
            pool = HttpPool(server.url, {"Authorization": f"Bearer {API_KEY}"})
            checks = [_raw_post(pool, body) for body in bodies]
            health = pool.request_bytes("GET", "/healthz")
            figures = {}
            for name, requests in (("server", checks), ("server healthz", [health] * len(checks))):
                await _closed_loop(pool, requests)  # warm: connections open, subscriptions kept
                best = float("inf")
                for _ in range(3):
                    before = server.cpu_seconds()
                    await _closed_loop(pool, requests)
                    best = min(best, (server.cpu_seconds() - before) / len(requests))
                figures[name] = best
            pool.close()
            return figures
        finally:
            server.stop()


def _raw_post(pool: HttpPool, body: bytes) -> bytes:
    return pool.request_bytes("POST", "/v1/entitlements/check", json.loads(body))


async def _closed_loop(pool: HttpPool, requests: list[bytes], in_flight: int = 4) -> None:
    """Send every request, `in_flight` at a time; each must be answered 200."""
    queue = list(reversed(requests))

    async def worker() -> None:
        while queue:
            answer = await pool.send(queue.pop())
            assert answer.status == 200, answer.body[:300]

    await asyncio.gather(*(worker() for _ in range(in_flight)))


async def _asgi(app: Any, method: str, path: str, body: bytes) -> int:
    """Send one request to the app as an ASGI call; its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {API_KEY}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.entitlement_check", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--checks", type=int, default=2_000)
    parser.add_argument("--profile", default=None, help="write a cProfile of the HTTP checks here")
    parser.add_argument(
        "--database-url", default=None, help="a PostgreSQL server (a scratch database is made there)"
    )
    args = parser.parse_args(argv)
    asyncio.run(run(args.subscriptions, args.checks, args.database_url, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
