"""The period close, rated usage, running charges and entitlement checks through the API, on
SQLite and PostgreSQL: amounts to the cent, one usage.rated per period however often it closes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from libs.contracts.envelope import Envelope
from libs.contracts.usage import UsageRated
from libs.platform.clock import FixedClock
from libs.platform.outbox import OutboxMessage
from libs.platform.settings import Role
from rating.app import create_app
from rating.handlers import rated_usage
from rating.models import RatedPrice
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories_rating import (
    account_row,
    add_rows,
    aggregate_row,
    cost_book_row,
    meter_row,
    price_row,
    subscription_row,
)
from tests.support.polling import eventually
from tests.support.services import auth, running_app

AUGUST_2 = FixedClock(datetime(2026, 8, 2, 12, tzinfo=UTC))
FINANCE, CRM, OPS = auth(Role.FINANCE), auth(Role.CRM), auth(Role.OPS)


def graduated() -> RatedPrice:
    """EXAMPLES §7: first 1,000 included, 1,001-10,000 at 0.0100, above 10,000 at 0.0075."""
    return price_row(model="tiered_graduated", included="1000", tiers=[("10000", "0.0100"), (None, "0.0075")])


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(rating_settings(database_url, period_close_interval_s=0), clock=AUGUST_2)
    async with running_app(application) as client:
        application.state.client = client
        await add_rows(
            application,
            account_row(),
            subscription_row(),
            subscription_row(
                "sub_ring", product_id="prod_ringtones", price_id="price_ringtones", charge_type="usage"
            ),
            meter_row("api_calls", "prod_api"),
            meter_row("seats", "prod_wfm", "seat"),
            meter_row("ringtones", "prod_ringtones", "ringtone"),
            graduated(),
            price_row("price_wfm", product_id="prod_wfm", model="cost_plus", cost_book_id="cb_wfm"),
            price_row("price_ringtones", product_id="prod_ringtones", unit_price="0.50", included="10"),
            cost_book_row("volume"),
            aggregate_row("12345", meter="api_calls"),
            aggregate_row("250", meter="seats", events=250),
            aggregate_row("500", meter="api_calls", start=date(2026, 8, 1), end=date(2026, 9, 1)),
            aggregate_row(
                "10",
                subscription_id="sub_ring",
                meter="ringtones",
                start=date(2026, 8, 1),
                end=date(2026, 9, 1),
            ),
        )
        yield application


def _client(app: FastAPI) -> httpx.AsyncClient:
    client: httpx.AsyncClient = app.state.client
    return client


async def _rated_in_outbox(app: FastAPI) -> list[UsageRated]:
    async with app.state.runtime.db.session() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.event_type == "usage.rated"))
        ).all()
    return [Envelope.model_validate(json.loads(r.body)).payload_as(UsageRated) for r in rows]


async def test_closing_twice_rates_each_period_once_to_the_cent(app: FastAPI) -> None:
    client = _client(app)
    first = await client.post("/v1/rated-usage/close", json={}, headers=FINANCE)
    assert first.status_code == 200, first.text
    assert (first.json()["rated"], first.json()["unpriced"]) == (2, 0)
    second = await client.post("/v1/rated-usage/close", headers=FINANCE)
    assert second.status_code == 200 and second.json()["rated"] == 0

    events = await _rated_in_outbox(app)
    assert sorted((e.meter, str(e.amount)) for e in events) == [("api_calls", "107.59"), ("seats", "3000.00")]

    listed = await client.get("/v1/rated-usage", params={"subscription_id": "sub_1"}, headers=OPS)
    assert listed.status_code == 200
    by_meter = {r["meter"]: r for r in listed.json()["data"]}
    calls = by_meter["api_calls"]
    # 9,000 x 0.0100 + 2,345 x 0.0075 = 90.00 + 17.5875 = 107.5875 -> 107.59
    assert (calls["quantity"], calls["included_quantity"], calls["billable_quantity"]) == (
        "12345",
        "1000",
        "11345",
    )
    assert (calls["charge_amount"], calls["minimum_shortfall"], calls["amount"]) == (
        "107.59",
        "0.00",
        "107.59",
    )
    assert [
        (t["band_from"], t["band_to"], t["quantity"], t["unit_price"], t["amount"]) for t in calls["tiers"]
    ] == [
        ("0", "1000", "1000", "0", "0"),
        ("1000", "10000", "9000", "0.01", "90"),
        ("10000", None, "2345", "0.0075", "17.5875"),
    ]
    assert (calls["period_start"], calls["period_end"], calls["price_id"], calls["price_version"]) == (
        "2026-07-01",
        "2026-08-01",
        "price_api",
        1,
    )
    seats = by_meter["seats"]
    # EXAMPLES §1: 250 seats in the 101-500 band at 10.00, marked up 20%: 250 x 12.00.
    assert (seats["amount"], seats["unit_of_measure"], seats["pricing_model"]) == (
        "3000.00",
        "seat",
        "cost_plus",
    )
    assert seats["tiers"][0]["unit_price"] == "12"

    one = await client.get(f"/v1/rated-usage/{calls['id']}", headers=OPS)
    assert one.status_code == 200 and one.json() == calls
    event = next(e for e in events if e.meter == "api_calls")
    assert event.rated_usage_id == calls["id"] and event.account_id == "acct_1"

    by_period = await client.get(
        "/v1/rated-usage", params={"period_start": "2026-07-01", "account_id": "acct_1"}, headers=OPS
    )
    assert len(by_period.json()["data"]) == 2
    none = await client.get("/v1/rated-usage", params={"period_start": "2026-08-01"}, headers=OPS)
    assert none.json()["data"] == []


async def test_an_as_of_before_a_periods_end_leaves_it_open(app: FastAPI) -> None:
    client = _client(app)
    early = await client.post("/v1/rated-usage/close", json={"as_of": "2026-07-31"}, headers=FINANCE)
    assert early.status_code == 200 and early.json()["rated"] == 0
    later = await client.post("/v1/rated-usage/close", json={"as_of": "2026-08-01"}, headers=FINANCE)
    assert later.json()["rated"] == 2


async def test_the_running_charge_of_the_periods_not_rated_yet(app: FastAPI) -> None:
    client = _client(app)
    response = await client.get(
        "/v1/subscriptions/sub_1/charges", params={"as_of": "2026-08-02"}, headers=OPS
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["as_of"], body["currency"]) == ("2026-08-02", "USD")
    (calls,) = body["charges"]
    # 500 of the 1,000 included units used: nothing to pay yet.
    assert (calls["meter"], calls["quantity"], calls["included_remaining"], calls["charge_amount"]) == (
        "api_calls",
        "500",
        "500",
        "0.00",
    )
    # Without a date: every period not rated yet, July's (ended, not closed) included.
    every = (await client.get("/v1/subscriptions/sub_1/charges", headers=OPS)).json()
    assert every["as_of"] is None
    assert [(c["meter"], c["period_start"], c["charge_amount"]) for c in every["charges"]] == [
        ("api_calls", "2026-07-01", "107.59"),
        ("api_calls", "2026-08-01", "0.00"),
        ("seats", "2026-07-01", "3000.00"),
    ]
    await client.post("/v1/rated-usage/close", json={}, headers=FINANCE)
    closed = (await client.get("/v1/subscriptions/sub_1/charges", headers=OPS)).json()
    assert [(c["meter"], c["period_start"]) for c in closed["charges"]] == [("api_calls", "2026-08-01")]
    assert (await client.get("/v1/subscriptions/sub_x/charges", headers=OPS)).status_code == 404


async def test_entitlement_checks_answer_seed_001(app: FastAPI) -> None:
    client = _client(app)
    response = await client.post(
        "/v1/entitlements/check",
        json={"subscription_id": "sub_ring", "meter": "ringtones", "quantity": 1},
        headers=CRM,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # 10 ringtones free, then 0.50 each: 10 used, the 11th costs 0.50.
    assert body["allowed"] is True and body["reason"] is None
    assert (body["current_quantity"], body["included_remaining"], body["cost"], body["cost_rounded"]) == (
        "10",
        "0",
        "0.5",
        "0.50",
    )
    assert (body["price_id"], body["price_version"], body["currency"]) == ("price_ringtones", 1, "USD")
    unknown = await client.post(
        "/v1/entitlements/check",
        json={"subscription_id": "sub_ring", "meter": "sms", "quantity": "2"},
        headers=CRM,
    )
    assert unknown.json()["allowed"] is False and unknown.json()["reason"] == "unknown_meter"


async def test_bad_requests_are_clear_4xx(app: FastAPI) -> None:
    client = _client(app)
    assert (await client.post("/v1/rated-usage/close", json={}, headers=CRM)).status_code == 403
    future = await client.post("/v1/rated-usage/close", json={"as_of": "2026-08-10"}, headers=FINANCE)
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "as_of"
    for body in (
        {"subscription_id": "sub_ring", "meter": "ringtones", "quantity": "-1"},
        {"subscription_id": "sub_ring", "meter": "ringtones", "quantity": 1.5},
        {"subscription_id": "sub_ring", "meter": "Ring Tones", "quantity": 1},
        {"subscription_id": "sub_ring", "meter": "ringtones", "quantity": 1, "extra": True},
    ):
        response = await client.post("/v1/entitlements/check", json=body, headers=CRM)
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")
    missing = await client.post(
        "/v1/entitlements/check",
        json={"subscription_id": "sub_x", "meter": "ringtones", "quantity": 1},
        headers=CRM,
    )
    assert missing.status_code == 404
    assert (await client.get("/v1/rated-usage/ru_nothing", headers=OPS)).status_code == 404
    assert (
        await client.get("/v1/rated-usage", params={"period_start": "July"}, headers=OPS)
    ).status_code == 422


async def test_the_timer_closes_ended_periods_by_itself(sqlite_url: str) -> None:
    application = create_app(rating_settings(sqlite_url, period_close_interval_s=0.05), clock=AUGUST_2)
    async with running_app(application) as client:
        await add_rows(
            application,
            account_row(),
            subscription_row(),
            meter_row("api_calls", "prod_api"),
            graduated(),
            aggregate_row("12345", meter="api_calls"),
        )

        async def rated() -> list[dict[str, object]]:
            response = await client.get("/v1/rated-usage", headers=OPS)
            return list(response.json()["data"])

        (only,) = await eventually(rated, until=lambda rows: len(rows) == 1)
        assert only["amount"] == "107.59"
        assert len(await _rated_in_outbox(application)) == 1


async def test_a_close_in_many_chunks_under_an_idempotency_key(sqlite_url: str) -> None:
    settings = rating_settings(sqlite_url, period_close_interval_s=0, period_close_chunk_size=1)
    application = create_app(settings, clock=AUGUST_2)
    async with running_app(application) as client:
        await add_rows(
            application,
            account_row(),
            subscription_row(),
            subscription_row("sub_2"),
            meter_row("api_calls", "prod_api"),
            graduated(),
            aggregate_row("12345", meter="api_calls"),
            aggregate_row("1500", subscription_id="sub_2", meter="api_calls"),
        )
        headers = {**FINANCE, "Idempotency-Key": "close-2026-07"}
        first = await client.post("/v1/rated-usage/close", json={}, headers=headers)
        again = await client.post("/v1/rated-usage/close", json={}, headers=headers)
        assert first.status_code == again.status_code == 200, first.text
        assert first.json() == again.json() and first.json()["rated"] == 2
        assert again.headers.get("idempotent-replayed") == "true"
        # 1,500 used, 1,000 included: 500 x 0.0100 = 5.00.
        assert sorted(str(e.amount) for e in await _rated_in_outbox(application)) == ["107.59", "5.00"]


async def test_concurrent_closes_rate_each_period_once(app: FastAPI) -> None:
    runtime = app.state.runtime
    for i in range(30):
        await add_rows(
            app, subscription_row(f"sub_c{i}"), aggregate_row(str(1000 + i), subscription_id=f"sub_c{i}")
        )
    reports = await asyncio.gather(
        *(
            rated_usage.close_periods(units_of_work=runtime.rating_unit_of_work, chunk_size=7)
            for _ in range(3)
        )
    )
    assert sum(r.rated for r in reports) == 32  # 30 + the fixture's two ended periods
    events = await _rated_in_outbox(app)
    assert len(events) == 32 == len({(e.subscription_id, e.meter, e.period_start) for e in events})
