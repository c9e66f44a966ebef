"""The review queue and its reprocessing, the usage summary, a subscription's usage, and the purge,
on SQLite and PostgreSQL (clock fixed at 2026-07-15T12:00Z)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from libs.platform.clock import FixedClock
from rating.app import create_app
from rating.cli import main as rating_cli
from rating.handlers.usage_reports import purge_usage
from rating.models import UsageAggregate, UsageEventRow, UsageUniqueValue
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import (
    ERP,
    create_meter,
    mark_rated,
    post_usage,
    rated_account,
    rated_subscription,
    usage_event,
)
from tests.support.services import auth, running_app

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
OPS = auth("ops")


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    application = create_app(rating_settings(database_url), clock=FixedClock(NOW))
    async with running_app(application) as client:
        yield application, client


async def _review(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/usage/review", params=params, headers=OPS)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def _reprocess(client: httpx.AsyncClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await client.post("/v1/usage/review/reprocess", json=body, headers=ERP)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_unmatched_usage_waits_in_the_queue_and_counts_once_its_subscription_exists(
    app: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    application, client = app
    db = application.state.runtime.db
    meter = (await create_meter(client))["code"]
    events = [
        usage_event(meter, account_id="acct_later", quantity=2, timestamp="2026-06-20T10:00:00Z"),
        usage_event(meter, subscription_id="sub_later", quantity=3, timestamp="2026-07-02T10:00:00Z"),
        usage_event(meter, account_id="acct_never", quantity=9),
    ]
    receipt = await post_usage(client, events)
    assert (receipt["accepted"], receipt["unmatched"]) == (3, 3)

    first = await _review(client, limit=2)
    assert [e["event_id"] for e in first["data"]] == [e["event_id"] for e in events[:2]] and first["has_more"]
    rest = await _review(client, limit=2, cursor=first["next_cursor"])
    assert [e["event_id"] for e in rest["data"]] == [events[2]["event_id"]] and not rest["has_more"]
    assert first["data"][0]["reason"] == "unknown account"
    assert first["data"][1]["reason"] == "unknown subscription"
    assert (first["data"][0]["quantity"], first["data"][0]["timestamp"]) == ("2", "2026-06-20T10:00:00Z")
    assert [e["event_id"] for e in (await _review(client, account_id="acct_never"))["data"]] == [
        events[2]["event_id"]
    ]

    # The subscriptions arrive (from provisioning's events); June is already rated by then.
    await rated_account(db, account_id="acct_later")
    await rated_subscription(db, account_id="acct_later", product_id="prod_api", subscription_id="sub_later")
    await post_usage(
        client, [usage_event(meter, subscription_id="sub_later", timestamp="2026-06-01T00:00:00Z")]
    )
    await mark_rated(db, "sub_later", meter, date(2026, 6, 1))

    result = await _reprocess(client)
    assert {k: result[k] for k in ("examined", "counted", "late", "unmatched", "has_more")} == {
        "examined": 3,
        "counted": 1,
        "late": 1,
        "unmatched": 1,
        "has_more": False,
    }
    assert [e["event_id"] for e in (await _review(client))["data"]] == [events[2]["event_id"]]
    response = await client.get("/v1/subscriptions/sub_later/usage", headers=OPS)
    (july,) = response.json()["periods"]
    # 3 on 07-02 and the June event moved to July (late): 5, of which 2 late.
    assert (july["period_start"], july["quantity"], july["late_quantity"], july["late_count"]) == (
        "2026-07-01",
        "5",
        "2",
        1,
    )
    again = await _reprocess(client)
    assert (again["examined"], again["counted"], again["unmatched"]) == (1, 0, 1)
    assert (await post_usage(client, events))["duplicates"] == 3


async def test_reprocessing_goes_on_from_its_cursor(app: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = app
    meter = (await create_meter(client))["code"]
    await post_usage(client, [usage_event(meter, account_id=f"acct_{i}") for i in range(5)])
    first = await _reprocess(client, {"limit": 3})
    assert (first["examined"], first["has_more"]) == (3, True)
    rest = await _reprocess(client, {"limit": 3, "cursor": first["next_cursor"]})
    assert (rest["examined"], rest["has_more"], rest["next_cursor"]) == (2, False, None)
    bad = await client.post("/v1/usage/review/reprocess", json={"limit": 0}, headers=ERP)
    assert bad.status_code == 422


async def test_the_summary_groups_by_meter_day_or_month_and_property(
    app: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    application, client = app
    db = application.state.runtime.db
    calls = (await create_meter(client))["code"]
    peak = (await create_meter(client, aggregation="max"))["code"]
    users = (await create_meter(client, aggregation="unique_count", property="user"))["code"]
    gauge = (await create_meter(client, aggregation="latest"))["code"]
    account = await rated_account(db, time_zone="America/New_York")
    await rated_subscription(db, account_id=account, product_id="prod_api")
    rows = [  # (quantity, region, user, timestamp): 2026-07-02T02:00Z is 07-01 22:00 in New York
        ("2", "eu", "u-1", "2026-07-02T02:00:00Z"),
        ("3", "us", "u-2", "2026-07-02T15:00:00Z"),
        ("4", "eu", "u-1", "2026-07-02T16:00:00Z"),
        ("1", "eu", "u-3", "2026-06-30T12:00:00Z"),
    ]
    events = [
        usage_event(code, account_id=account, quantity=q, timestamp=at, properties={"region": r, "user": u})
        for code in (calls, peak, users, gauge)
        for q, r, u, at in rows
    ]
    assert (await post_usage(client, events))["counted"] == 16

    def groups(summary: dict[str, Any], meter: str) -> list[tuple[Any, ...]]:
        return [
            (g["period"], g["property_value"], g["quantity"], g["event_count"])
            for g in summary["groups"]
            if g["meter"] == meter
        ]

    by_day = await client.get(
        "/v1/usage/summary",
        params={"from": "2026-06-01", "to": "2026-08-01", "account_id": account},
        headers=OPS,
    )
    assert by_day.status_code == 200, by_day.text
    day = by_day.json()
    assert groups(day, calls) == [
        ("2026-06-30", None, "1", 1),
        ("2026-07-01", None, "2", 1),
        ("2026-07-02", None, "7", 2),
    ]
    assert groups(day, peak)[-1] == ("2026-07-02", None, "4", 2)
    assert groups(day, users)[-1] == ("2026-07-02", None, "2", 2)  # u-2 and u-1
    assert groups(day, gauge)[-1] == ("2026-07-02", None, "4", 2)  # the 16:00 event
    assert not day["truncated"]

    by_region = await client.get(
        "/v1/usage/summary",
        params={
            "from": "2026-07-01",
            "to": "2026-08-01",
            "group_by": "month",
            "property": "region",
            "meter": calls,
        },
        headers=OPS,
    )
    assert groups(by_region.json(), calls) == [("2026-07", "eu", "6", 2), ("2026-07", "us", "3", 1)]
    users_by_region = await client.get(
        "/v1/usage/summary",
        params={
            "from": "2026-06-01",
            "to": "2026-08-01",
            "group_by": "month",
            "property": "region",
            "meter": users,
        },
        headers=OPS,
    )
    assert groups(users_by_region.json(), users) == [
        ("2026-06", "eu", "1", 1),
        ("2026-07", "eu", "1", 2),  # u-1 twice
        ("2026-07", "us", "1", 1),
    ]
    other = await client.get(
        "/v1/usage/summary",
        params={"from": "2026-07-01", "to": "2026-08-01", "subscription_id": "sub_other"},
        headers=OPS,
    )
    assert other.json()["groups"] == []
    backwards = await client.get(
        "/v1/usage/summary", params={"from": "2026-07-02", "to": "2026-07-01"}, headers=OPS
    )
    assert backwards.status_code == 422
    for params in (
        {"from": "2026-07-01"},
        {"from": "x", "to": "2026-07-02"},
        {"from": "2026-07-01", "to": "2026-07-02", "property": "a'b"},
    ):
        assert (await client.get("/v1/usage/summary", params=params, headers=OPS)).status_code == 422


async def test_a_subscriptions_usage_shows_its_open_periods_and_an_unknown_one_is_404(
    app: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    application, client = app
    db = application.state.runtime.db
    meter = await create_meter(client, unit_of_measure="call")
    account = await rated_account(db)
    sub = await rated_subscription(db, account_id=account, product_id="prod_api")
    empty = await client.get(f"/v1/subscriptions/{sub}/usage", headers=OPS)
    assert empty.status_code == 200 and empty.json()["periods"] == []
    await post_usage(client, [usage_event(meter["code"], subscription_id=sub, quantity=q) for q in (4, 6)])
    (period,) = (await client.get(f"/v1/subscriptions/{sub}/usage", headers=OPS)).json()["periods"]
    assert {
        k: period[k] for k in ("meter", "unit_of_measure", "aggregation", "period_start", "period_end")
    } == {
        "meter": meter["code"],
        "unit_of_measure": "call",
        "aggregation": "sum",
        "period_start": "2026-07-01",
        "period_end": "2026-08-01",
    }
    assert (period["quantity"], period["event_count"], period["late_count"]) == ("10", 2, 0)
    assert (await client.get("/v1/subscriptions/sub_nobody/usage", headers=OPS)).status_code == 404


async def _count(application: FastAPI, table: Any, *where: Any) -> int:
    async with application.state.runtime.db.session() as session:
        connection = await session.connection()
        return int(
            (await connection.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


async def _purge_fixture(application: FastAPI, client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """March usage of three meters (rated; one event filtered), April usage (rated), one unmatched."""
    db = application.state.runtime.db
    calls = (await create_meter(client))["code"]
    users = (await create_meter(client, aggregation="unique_count", property="user"))["code"]
    filtered = (await create_meter(client, filter={"region": ["eu"]}))["code"]
    account = await rated_account(db)
    sub = await rated_subscription(db, account_id=account, product_id="prod_api")
    march = "2026-03-10T00:00:00Z"  # March's period ended on 2026-04-01
    events = [
        usage_event(calls, subscription_id=sub, timestamp=march),
        usage_event(users, subscription_id=sub, timestamp=march, properties={"user": "u-1"}),
        usage_event(filtered, subscription_id=sub, timestamp=march, properties={"region": "us"}),
        usage_event(calls, subscription_id=sub, timestamp="2026-04-10T00:00:00Z"),  # ended 2026-05-01
        usage_event(calls, account_id="acct_unknown", timestamp=march),
    ]
    await post_usage(client, events)
    for meter in (calls, users):
        await mark_rated(db, sub, meter, date(2026, 3, 1))
    await mark_rated(db, sub, calls, date(2026, 4, 1))
    return events


async def _kept(application: FastAPI, events: list[dict[str, Any]]) -> list[str]:
    ids = [e["event_id"] for e in events]
    async with application.state.runtime.db.session() as session:
        connection = await session.connection()
        rows = await connection.execute(select(UsageEventRow.event_id).where(UsageEventRow.event_id.in_(ids)))  # type: ignore[attr-defined]
        return sorted(ids.index(row[0]) for row in rows)


async def test_the_purge_deletes_events_of_rated_periods_past_retention_and_keeps_the_rest(
    app: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    application, client = app
    events = await _purge_fixture(application, client)
    async with application.state.runtime.rating_unit_of_work() as uow:
        # 100 days before 2026-07-15 is 2026-04-06: March ended before, April after.
        purged = await purge_usage(uow=uow, retention_days=100)
    assert (purged.events, purged.distinct_values) == (3, 1)
    assert await _kept(application, events) == [3, 4]  # April's event and the unmatched one
    assert await _count(application, UsageUniqueValue) == 0
    assert await _count(application, UsageAggregate) == 3  # the aggregates stay: they were rated
    audit = await client.get("/v1/audit-log", params={"entity_type": "usage_events"}, headers=auth("finance"))
    assert [e["changes"]["events"] for e in audit.json()["data"]] == [3]
    # Past retention a duplicate is no longer recognised: it counts in the next open period, late.
    assert (await post_usage(client, [events[0]]))["late"] == 1


async def test_the_purge_command_uses_the_retention_setting(
    app: tuple[FastAPI, httpx.AsyncClient], database_url: str
) -> None:
    application, client = app
    events = await _purge_fixture(application, client)
    # The command runs on the machine's clock: a retention that ends between March and April.
    retention = (datetime.now(UTC).date() - date(2026, 4, 2)).days
    settings = rating_settings(database_url, usage_retention_days=retention)
    assert await asyncio.to_thread(rating_cli, ["purge-usage"], settings) == 0
    assert await _kept(application, events) == [3, 4]
    assert await asyncio.to_thread(rating_cli, ["purge-usage", "--retention-days", "1"], settings) == 0
    assert await _kept(application, events) == [4]
