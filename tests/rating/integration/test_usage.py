"""`POST /v1/usage` on SQLite and PostgreSQL: batches with invalid events, NDJSON, duplicates and
replays, late usage, filters, every aggregation, time zones and the body limits.

The service's clock is fixed at 2026-07-15T12:00Z; every expected quantity is the meter's rule
applied by hand to the events sent (docs/rating.md, DESIGN §6-7)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from libs.platform.clock import FixedClock
from libs.platform.db import Database
from rating.app import create_app
from rating.domain.usage import UsageSource
from rating.handlers.usage import record_usage
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import (
    ERP,
    FINANCE,
    create_meter,
    mark_rated,
    post_usage,
    rated_account,
    rated_subscription,
    usage_event,
)
from tests.support.services import auth, running_app

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@dataclass
class Rating:
    """The running service under test: a client and its database."""

    client: httpx.AsyncClient
    db: Database

    async def periods(self, subscription_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        """The subscription's open periods by (meter, period start)."""
        response = await self.client.get(f"/v1/subscriptions/{subscription_id}/usage", headers=auth("ops"))
        assert response.status_code == 200, response.text
        return {(p["meter"], p["period_start"]): p for p in response.json()["periods"]}


@pytest.fixture
async def rating(database_url: str) -> AsyncIterator[Rating]:
    app = create_app(rating_settings(database_url), clock=FixedClock(NOW))
    async with running_app(app) as client:
        yield Rating(client, app.state.runtime.db)


async def _customer(rating: Rating, **account: Any) -> tuple[str, str]:
    """An account and its monthly subscription to prod_api from 2026-01-01: (account, subscription)."""
    account_id = await rated_account(rating.db, **account)
    return account_id, await rated_subscription(rating.db, account_id=account_id, product_id="prod_api")


async def test_a_batch_keeps_its_valid_events_and_refuses_each_invalid_one_with_reasons(
    rating: Rating,
) -> None:
    meter = (await create_meter(rating.client))["code"]
    account, sub = await _customer(rating)
    events = [
        usage_event(meter, subscription_id=sub, quantity=1),
        usage_event(meter, subscription_id=sub, quantity="2.5"),
        usage_event("no_such_meter", subscription_id=sub),
        usage_event(meter, subscription_id=sub, quantity=-1),
        usage_event(meter, subscription_id=sub, timestamp="2026-07-01T09:30:00"),
        usage_event(meter, subscription_id=sub, timestamp="2026-07-15T13:00:01Z"),  # 60 min 1 s ahead
        usage_event(meter, subscription_id=sub, quantity="ten"),
        usage_event(meter, account_id=account, quantity=10),
        usage_event(meter, account_id="acct_nobody", quantity=4),
        usage_event(meter, subscription_id=sub, timestamp="2026-07-15T13:00:00Z", quantity=3),  # 60 min: ok
    ]
    receipt = await post_usage(rating.client, events)
    assert {
        k: receipt[k] for k in ("received", "accepted", "counted", "unmatched", "duplicates", "refused")
    } == {
        "received": 10,
        "accepted": 5,
        "counted": 4,
        "unmatched": 1,
        "duplicates": 0,
        "refused": 5,
    }
    refusals = {r["index"]: {(e["field"], e["code"]) for e in r["errors"]} for r in receipt["refusals"]}
    assert refusals[2] == {("meter", "unknown_meter")}
    assert {field for field, _ in refusals[3]} == {"quantity"}
    assert refusals[4] == {("timestamp", "timezone_aware")}
    assert refusals[5] == {("timestamp", "in_future")}
    assert {field for field, _ in refusals[6]} == {"quantity"}
    assert [r["event_id"] for r in receipt["refusals"]] == [events[i]["event_id"] for i in (2, 3, 4, 5, 6)]
    # 1 + 2.5 + 10 (found through the account) + 3, in July.
    july = (await rating.periods(sub))[(meter, "2026-07-01")]
    assert (july["quantity"], july["event_count"], july["period_end"]) == ("16.5", 4, "2026-08-01")


async def test_replaying_a_batch_changes_nothing_and_duplicates_in_a_batch_count_once(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    _, sub = await _customer(rating)
    events = [usage_event(meter, subscription_id=sub, quantity=q) for q in (1, 2, 3)]
    events.append(dict(events[0]))  # the same event twice in one batch
    first = await post_usage(rating.client, events)
    assert (first["accepted"], first["counted"], first["duplicates"]) == (3, 3, 1)
    again = await post_usage(rating.client, events)
    assert (again["accepted"], again["counted"], again["duplicates"]) == (0, 0, 4)
    overlapping = await post_usage(
        rating.client, [*events[1:3], usage_event(meter, subscription_id=sub, quantity=4)]
    )
    assert (overlapping["accepted"], overlapping["duplicates"]) == (1, 2)
    july = (await rating.periods(sub))[(meter, "2026-07-01")]
    assert (july["quantity"], july["event_count"]) == ("10", 4)


async def test_ndjson_batches_count_like_json_and_a_malformed_line_is_refused_alone(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    _, sub = await _customer(rating)
    lines = [json.dumps(usage_event(meter, subscription_id=sub, quantity=q)) for q in ("1.25", 2)]
    lines.insert(1, '{"event_id": "broken", "meter": ')
    body = ("\n".join(lines) + "\n").encode()
    response = await rating.client.post(
        "/v1/usage", content=body, headers={**ERP, "content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert (receipt["received"], receipt["counted"], receipt["refused"]) == (3, 2, 1)
    assert receipt["refusals"][0]["index"] == 1 and receipt["refusals"][0]["errors"][0]["field"] == "line"
    assert (await rating.periods(sub))[(meter, "2026-07-01")]["quantity"] == "3.25"


async def test_usage_of_a_rated_period_counts_in_the_next_open_one_flagged_late(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    _, sub = await _customer(rating, bill_cycle_day=10)
    june = usage_event(meter, subscription_id=sub, quantity=5, timestamp="2026-07-05T10:00:00Z")
    await post_usage(rating.client, [june])
    await mark_rated(rating.db, sub, meter, date(2026, 6, 10))  # the period close of [06-10, 07-10)
    late = usage_event(meter, subscription_id=sub, quantity="1.5", timestamp="2026-07-09T23:00:00Z")
    on_time = usage_event(meter, subscription_id=sub, quantity=2, timestamp="2026-07-11T00:00:00Z")
    receipt = await post_usage(rating.client, [late, on_time])
    assert (receipt["counted"], receipt["late"]) == (1, 1)
    periods = await rating.periods(sub)
    assert (meter, "2026-06-10") not in periods  # rated: no longer open
    current = periods[(meter, "2026-07-10")]
    assert (current["quantity"], current["event_count"], current["late_quantity"], current["late_count"]) == (
        "3.5",
        2,
        "1.5",
        1,
    )
    # Replaying the late event changes nothing either.
    assert (await post_usage(rating.client, [late]))["duplicates"] == 1
    # Dashboards show usage on the day it happened, the late flag beside it.
    summary = await rating.client.get(
        "/v1/usage/summary",
        params={"from": "2026-07-01", "to": "2026-07-31", "subscription_id": sub},
        headers=auth("ops"),
    )
    days = {g["period"]: (g["quantity"], g["event_count"], g["late_count"]) for g in summary.json()["groups"]}
    assert days == {"2026-07-05": ("5", 1, 0), "2026-07-09": ("1.5", 1, 1), "2026-07-11": ("2", 1, 0)}


async def test_events_outside_the_filter_are_kept_but_not_counted(rating: Rating) -> None:
    meter = (await create_meter(rating.client, filter={"region": ["eu"], "beta": ["true"]}))["code"]
    _, sub = await _customer(rating)
    events = [
        usage_event(meter, subscription_id=sub, quantity=4, properties={"region": "eu", "beta": True}),
        usage_event(meter, subscription_id=sub, quantity=5, properties={"region": "us", "beta": True}),
        usage_event(meter, subscription_id=sub, quantity=6, properties={"region": "eu"}),
    ]
    receipt = await post_usage(rating.client, events)
    assert (receipt["accepted"], receipt["counted"], receipt["filtered"]) == (3, 1, 2)
    assert (await rating.periods(sub))[(meter, "2026-07-01")]["quantity"] == "4"
    assert (await post_usage(rating.client, events))["duplicates"] == 3


async def test_each_aggregation_gives_its_quantity_across_batches(rating: Rating) -> None:
    codes = {
        kind: (await create_meter(rating.client, aggregation=kind, **extra))["code"]
        for kind, extra in (
            ("sum", {}),
            ("count", {}),
            ("max", {}),
            ("latest", {}),
            ("unique_count", {"property": "user"}),
        )
    }
    _, sub = await _customer(rating)
    sent = [("3", "u-1", "2026-07-02T00:00:00Z"), ("7.5", "u-2", "2026-07-04T00:00:00Z")]
    later = [("2", "u-1", "2026-07-03T00:00:00Z"), ("1", "u-3", "2026-07-01T00:00:00Z")]
    for batch in (sent, later):
        events = [
            usage_event(code, subscription_id=sub, quantity=q, timestamp=at, properties={"user": user})
            for code in codes.values()
            for q, user, at in batch
        ]
        assert (await post_usage(rating.client, events))["counted"] == len(events)
    periods = await rating.periods(sub)
    quantities = {kind: periods[(code, "2026-07-01")]["quantity"] for kind, code in codes.items()}
    # sum 3+7.5+2+1; count 4 events; max 7.5; latest = the 07-04 event (7.5); users u-1, u-2, u-3.
    assert quantities == {"sum": "13.5", "count": "4", "max": "7.5", "latest": "7.5", "unique_count": "3"}
    missing_user = await post_usage(rating.client, [usage_event(codes["unique_count"], subscription_id=sub)])
    assert missing_user["refusals"][0]["errors"][0] == {
        "field": "properties.user",
        "message": f"meter {codes['unique_count']!r} counts distinct values of this property: it is required",
        "code": "missing",
    }


async def test_an_event_counts_on_its_accounts_local_date(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    account, sub = await _customer(rating, time_zone="Pacific/Auckland")
    # 2026-06-30T12:30Z is 2026-07-01 00:30 in Auckland: July's period, not June's.
    await post_usage(
        rating.client, [usage_event(meter, account_id=account, timestamp="2026-06-30T12:30:00Z")]
    )
    assert set(await rating.periods(sub)) == {(meter, "2026-07-01")}


async def test_an_inactive_meter_refuses_new_events(rating: Rating) -> None:
    meter = await create_meter(rating.client)
    _, sub = await _customer(rating)
    await rating.client.patch(f"/v1/meters/{meter['id']}", json={"active": False}, headers=FINANCE)
    receipt = await post_usage(rating.client, [usage_event(meter["code"], subscription_id=sub)])
    assert receipt["refusals"][0]["errors"][0]["code"] == "inactive_meter"


async def test_a_batch_is_at_most_ten_thousand_events_and_sixteen_mib(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    _, sub = await _customer(rating)
    events = [usage_event(meter, subscription_id=sub) for _ in range(10_001)]
    too_many = await rating.client.post("/v1/usage", json={"events": events}, headers=ERP)
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "events"
    full = await post_usage(rating.client, events[:10_000])
    assert full["counted"] == 10_000
    assert (await rating.periods(sub))[(meter, "2026-07-01")]["quantity"] == "10000"
    huge = await rating.client.post(
        "/v1/usage",
        content=b"x" * (16 * 1024 * 1024 + 1),
        headers={**ERP, "content-type": "application/json"},
    )
    assert huge.status_code == 413 and huge.headers["content-type"] == "application/problem+json"


async def test_garbage_bodies_are_clear_4xx_or_refusals_never_500(rating: Rating) -> None:
    garbage = bytes(range(256)) * 40_000  # ~10 MB
    as_json = await rating.client.post(
        "/v1/usage", content=garbage, headers={**ERP, "content-type": "application/json"}
    )
    assert as_json.status_code == 422 and as_json.json()["errors"][0]["field"] == "body"
    text = b"not json " * 1_000_000  # ~9 MB on one line
    as_lines = await rating.client.post(
        "/v1/usage", content=text, headers={**ERP, "content-type": "application/x-ndjson"}
    )
    assert as_lines.status_code == 200 and as_lines.json()["refused"] == 1
    for body in (b'{"events": "nope"}', b'{"events": [], "x": 1}', b"[]", b"null"):
        response = await rating.client.post(
            "/v1/usage", content=body, headers={**ERP, "content-type": "application/json"}
        )
        assert response.status_code == 422, (body, response.text)


async def test_only_roles_that_send_usage_may_post_it(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    body = {"events": [usage_event(meter, account_id="acct_x")]}
    assert (await rating.client.post("/v1/usage", json=body, headers=auth("ops"))).status_code == 403
    assert (await rating.client.post("/v1/usage", json=body)).status_code == 401
    for role in ("crm", "finance", "admin"):
        assert (await rating.client.post("/v1/usage", json=body, headers=auth(role))).status_code == 200


async def test_concurrent_batches_on_one_new_period_add_up_and_shared_events_count_once(
    database_url: str,
) -> None:
    # Each batch in its own transaction, all at once: on PostgreSQL they race for the aggregate
    # row none of them found (the losers fold into the winner's row); on SQLite they queue.
    app = create_app(rating_settings(database_url), clock=FixedClock(NOW))
    async with running_app(app) as client:
        runtime = app.state.runtime
        meter = (await create_meter(client))["code"]
        account = await rated_account(runtime.db)
        sub = await rated_subscription(runtime.db, account_id=account, product_id="prod_api")
        shared = [usage_event(meter, subscription_id=sub, quantity=100) for _ in range(3)]
        batches = [
            [*shared, *(usage_event(meter, subscription_id=sub, quantity=n) for _ in range(20))]
            for n in range(1, 6)
        ]

        async def record(events: list[dict[str, Any]]) -> Any:
            async with runtime.rating_unit_of_work() as uow:
                return await record_usage(uow=uow, events=events, source=UsageSource.REST)

        receipts = await asyncio.gather(*(record(batch) for batch in batches))
        assert sum(r.counted for r in receipts) == 3 + 5 * 20
        assert sum(r.duplicates for r in receipts) == 4 * 3
        july = (await Rating(client, runtime.db).periods(sub))[(meter, "2026-07-01")]
        # 3 shared events of 100 once, and 20 events of 1, 2, 3, 4 and 5.
        assert (july["quantity"], july["event_count"]) == (str(300 + 20 * (1 + 2 + 3 + 4 + 5)), 103)


async def test_an_account_row_guiding_cannot_use_sends_only_its_events_to_review(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    broken = await rated_account(rating.db, time_zone="Mars/Olympus_Mons")
    broken_sub = await rated_subscription(rating.db, account_id=broken, product_id="prod_api")
    _, sub = await _customer(rating)
    receipt = await post_usage(
        rating.client,
        [usage_event(meter, subscription_id=broken_sub), usage_event(meter, subscription_id=sub, quantity=2)],
    )
    assert (receipt["counted"], receipt["unmatched"]) == (1, 1)
    (queued,) = (await rating.client.get("/v1/usage/review", headers=auth("ops"))).json()["data"]
    assert queued["subscription_id"] == broken_sub and "Mars/Olympus_Mons" in queued["reason"]
    assert (await rating.periods(sub))[(meter, "2026-07-01")]["quantity"] == "2"
