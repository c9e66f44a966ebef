"""The review queue and its reprocessing, the usage summary, a subscription's usage with the
running charge of its open periods, and the purge, on SQLite and PostgreSQL (clock fixed at
2026-07-15T12:00Z unless a test says otherwise)."""

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
    account_row,
    add_rows,
    aggregate_row,
    create_meter,
    graduated_price_row,
    mark_rated,
    meter_row,
    post_usage,
    rated_account,
    rated_subscription,
    subscription_row,
    usage_event,
)
from tests.support.services import auth, running_app

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
AUGUST_2 = FixedClock(datetime(2026, 8, 2, 12, tzinfo=UTC))
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


async def test_the_usage_view_shows_the_running_charge_of_each_open_period(database_url: str) -> None:
    application = create_app(rating_settings(database_url, period_close_interval_s=0), clock=AUGUST_2)
    async with running_app(application) as client:
        await add_rows(
            application,
            account_row(),
            subscription_row(),
            meter_row("api_calls", "prod_api"),
            meter_row("sms", "prod_sms", "message"),
            graduated_price_row(),  # EXAMPLES §7
            aggregate_row("12345", meter="api_calls"),
            aggregate_row("500", meter="api_calls", start=date(2026, 8, 1), end=date(2026, 9, 1)),
            aggregate_row("40", meter="sms", start=date(2026, 8, 1), end=date(2026, 9, 1)),
            aggregate_row("7", subscription_id="sub_ghost", meter="api_calls"),
        )
        response = await client.get("/v1/subscriptions/sub_1/usage", params={"on": "2026-08-02"}, headers=OPS)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["account_id"], body["on"]) == ("acct_1", "2026-08-02")
        calls, sms = body["periods"]
        # 500 of the 1,000 included units used: nothing to pay yet.
        assert {k: calls[k] for k in ("meter", "quantity", "included_remaining", "charge_amount")} == {
            "meter": "api_calls",
            "quantity": "500",
            "included_remaining": "500",
            "charge_amount": "0.00",
        }
        assert (calls["price_id"], calls["price_version"], calls["currency"]) == ("price_api", 1, "USD")
        assert (
            calls["minimum_shortfall"],
            calls["prepaid_units_available"],
            calls["prepaid_amount_available"],
        ) == (
            "0.00",
            "0",
            "0.00",
        )
        assert calls["unpriced_reason"] is None
        # No usage price of prod_sms is known to rating: the period shows why, and no amount.
        assert (sms["meter"], sms["unit_of_measure"], sms["charge_amount"], sms["price_id"]) == (
            "sms",
            "message",
            None,
            None,
        )
        assert sms["unpriced_reason"] == "no usage price of product prod_sms in USD in force on 2026-08-01"

        # Without a date: every period not rated yet, July's (ended, not closed) included.
        every = (await client.get("/v1/subscriptions/sub_1/usage", headers=OPS)).json()
        assert every["on"] is None
        assert [(p["meter"], p["period_start"], p["charge_amount"]) for p in every["periods"]] == [
            ("api_calls", "2026-07-01", "107.59"),
            ("api_calls", "2026-08-01", "0.00"),
            ("sms", "2026-08-01", None),
        ]
        july = every["periods"][0]
        # 9,000 x 0.0100 + 2,345 x 0.0075 = 90.00 + 17.5875 = 107.5875 -> 107.59
        assert [(t["band_from"], t["band_to"], t["quantity"], t["amount"]) for t in july["tiers"]] == [
            ("0", "1000", "1000", "0"),
            ("1000", "10000", "9000", "90"),
            ("10000", None, "2345", "17.5875"),
        ]
        assert (july["billable_quantity"], july["pricing_model"]) == ("11345", "tiered_graduated")

        closed = await client.post("/v1/rated-usage/close", json={}, headers=auth("finance"))
        assert closed.json()["rated"] == 1  # July's api_calls; sms waits for its price
        after = (await client.get("/v1/subscriptions/sub_1/usage", headers=OPS)).json()
        assert [(p["meter"], p["period_start"]) for p in after["periods"]] == [
            ("api_calls", "2026-08-01"),
            ("sms", "2026-08-01"),
        ]
        # Usage of a subscription the read model does not know is no view of a subscription.
        assert (await client.get("/v1/subscriptions/sub_ghost/usage", headers=OPS)).status_code == 404
        assert (await client.get("/v1/subscriptions/sub_x/usage", headers=OPS)).status_code == 404
        bad = await client.get("/v1/subscriptions/sub_1/usage", params={"on": "August"}, headers=OPS)
        assert bad.status_code == 422


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
