"""Entitlement checks on a real database: a check is a read that never waits for a writer, sees
usage the moment it is stored, and sees a change of the read model at once, whoever wrote it
(the subscriptions checks keep in memory are kept per read-model generation)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.engine import make_url

from libs.platform.clock import FixedClock
from libs.platform.settings import Role
from rating.app import create_app
from rating.models import RatedSubscription, UsageAggregate
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import (
    account_row,
    add_rows,
    aggregate_row,
    database_of,
    meter_row,
    price_row,
    subscription_row,
)
from tests.support.services import auth, running_app

JULY_15 = FixedClock(datetime(2026, 7, 15, 12, tzinfo=UTC))
CRM = auth(Role.CRM)
CHECK = {"subscription_id": "sub_ring", "meter": "ringtones", "quantity": 1}


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(rating_settings(database_url, period_close_interval_s=0), clock=JULY_15)
    async with running_app(application) as client:
        application.state.client = client
        await add_rows(
            application,
            account_row(),
            subscription_row(
                "sub_ring", product_id="prod_ringtones", price_id="price_ringtones", charge_type="usage"
            ),
            meter_row("ringtones", "prod_ringtones", "ringtone"),
            price_row("price_ringtones", product_id="prod_ringtones", unit_price="0.50", included="10"),
            aggregate_row("9", subscription_id="sub_ring", meter="ringtones"),
        )
        yield application


async def _check(app: FastAPI, **body: object) -> dict[str, object]:
    client: httpx.AsyncClient = app.state.client
    response = await client.post("/v1/entitlements/check", json={**CHECK, **body}, headers=CRM)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


async def test_a_check_answers_while_a_writer_holds_the_write_lock(app: FastAPI) -> None:
    # A check is a read: it must not queue behind a usage batch (SQLite's one writer).
    url = database_of(app).url
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    writer = sqlite3.connect(make_url(url).database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        answer = await asyncio.wait_for(_check(app, quantity=2), timeout=5)
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    # 9 used: the 10th is free, the 11th costs 0.50.
    assert (answer["current_quantity"], answer["included_remaining"], answer["cost_rounded"]) == (
        "9",
        "1",
        "0.50",
    )


async def test_usage_and_read_model_changes_reach_checks_at_once(app: FastAPI) -> None:
    assert (await _check(app))["cost_rounded"] == "0.00"
    async with database_of(app).session() as session:
        connection = await session.connection()
        await connection.execute(
            update(UsageAggregate)
            .where(UsageAggregate.subscription_id == "sub_ring")  # type: ignore[arg-type]
            .values(quantity="12")
        )
        await session.commit()
    answer = await _check(app)
    assert (answer["current_quantity"], answer["cost_rounded"]) == ("12", "0.50")
    # A suspension written straight into the read model (no consumer, no cache to drop) reaches
    # the kept subscription at once: the generation moved on.
    async with database_of(app).session() as session:
        connection = await session.connection()
        await connection.execute(
            update(RatedSubscription)
            .where(RatedSubscription.subscription_id == "sub_ring")  # type: ignore[arg-type]
            .values(state="suspended")
        )
        await session.commit()
    refused = await _check(app)
    assert (refused["allowed"], refused["reason"]) == (False, "subscription_not_active")


async def test_a_period_without_usage_is_the_one_ingestion_would_count_in(app: FastAPI) -> None:
    await add_rows(
        app,
        account_row("acct_15", bill_cycle_day=15),
        subscription_row(
            "sub_15",
            account_id="acct_15",
            product_id="prod_ringtones",
            price_id="price_ringtones",
            charge_type="usage",
        ),
    )
    answer = await _check(app, subscription_id="sub_15", quantity=11)
    assert (answer["period_start"], answer["period_end"]) == (
        date(2026, 7, 15).isoformat(),
        date(2026, 8, 15).isoformat(),
    )
    assert (answer["current_quantity"], answer["included_remaining"], answer["cost_rounded"]) == (
        "0",
        "10",
        "0.50",
    )


async def test_a_check_refuses_what_it_always_refused_with_the_same_problems(app: FastAPI) -> None:
    """The check is a hot route: only a plain, authorised, valid request skips the framework;
    a missing or wrong key, a role not admitted and a bad body get the usual problem+json."""
    client: httpx.AsyncClient = app.state.client
    path = "/v1/entitlements/check"
    refusals = [
        (await client.post(path, json=CHECK), 401, "unauthorized"),
        (
            await client.post(path, json=CHECK, headers={"Authorization": "Bearer not-a-key"}),
            401,
            "unauthorized",
        ),
        (await client.post(path, json=CHECK, headers=auth(Role.OPS)), 403, "forbidden"),
        (await client.post(path, json={**CHECK, "quantity": -1}, headers=CRM), 422, "validation_failed"),
        (await client.post(path, json={**CHECK, "extra": 1}, headers=CRM), 422, "validation_failed"),
        (await client.post(path, content=b'{"subscription_id": ', headers=CRM), 422, "validation_failed"),
        (await client.post(path, json={**CHECK, "meter": "x" * 5000}, headers=CRM), 413, "content_too_large"),
        (
            await client.post(path, json={**CHECK, "subscription_id": "sub_none"}, headers=CRM),
            404,
            "not_found",
        ),
    ]
    for response, status, code in refusals:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert (problem["status"], problem["code"], problem["instance"]) == (status, code, path)
        assert problem["correlation_id"] == response.headers["x-correlation-id"]
    assert refusals[0][0].headers["www-authenticate"] == "Bearer"
    assert [e["field"] for e in refusals[3][0].json()["errors"]] == ["quantity"]
    # And the plain request is answered, with a request id like any other.
    answered = await client.post(path, json=CHECK, headers={**CRM, "X-Correlation-ID": "chk-1"})
    assert answered.status_code == 200
    assert answered.headers["x-correlation-id"] == "chk-1"
    assert answered.json()["allowed"] is True
