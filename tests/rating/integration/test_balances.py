"""Prepaid balances through `/v1/balances` on SQLite and PostgreSQL: to the cent, drawdowns once
per reference, thresholds in the outbox, expiry and rollover across periods, problem+json errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from rating.app import create_app
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import (
    outbox_payloads,
    rated_account,
    rated_subscription,
)
from tests.rating.integration.factories_balances import (
    FINANCE,
    OPS,
    MovableClock,
    clock_on,
    create,
    kinds,
    money_balance,
    ok,
    units_balance,
)
from tests.support.services import running_app


@dataclass
class Rating:
    app: FastAPI
    client: httpx.AsyncClient
    clock: MovableClock

    async def post(self, path: str, body: dict[str, Any], **headers: str) -> httpx.Response:
        return await self.client.post(path, json=body, headers={**FINANCE, **headers})

    async def get(self, path: str) -> dict[str, Any]:
        return await ok(await self.client.get(path, headers=OPS))

    async def draw(self, balance_id: str, status: int = 201, **body: Any) -> dict[str, Any]:
        return await ok(await self.post(f"/v1/balances/{balance_id}/drawdowns", body), status)

    async def top_up(self, balance_id: str, status: int = 201, **body: Any) -> dict[str, Any]:
        return await ok(await self.post(f"/v1/balances/{balance_id}/top-ups", body), status)

    async def expire(self, **body: Any) -> dict[str, Any]:
        return await ok(await self.post("/v1/balances/expire", body))


@pytest.fixture
async def rating(database_url: str) -> AsyncIterator[Rating]:
    """Rating on SQLite and on PostgreSQL, bus off, its clock at noon UTC on 2026-03-20."""
    clock = clock_on(date(2026, 3, 20))
    app = create_app(rating_settings(database_url), clock=clock)
    async with running_app(app) as client:
        yield Rating(app, client, clock)


def errors(response: httpx.Response, status: int) -> dict[str, str]:
    """{field: code} of a problem+json answer with `status`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"]: e["code"] for e in response.json()["errors"]}


async def test_money_balance_to_the_cent(rating: Rating) -> None:
    account = await rated_account(rating.app)
    balance = await create(rating.client, money_balance(account, "100.00"))
    assert (balance["state"], balance["granted"], balance["remaining"], balance["currency"]) == (
        "active",
        "100.00",
        "100.00",
        "USD",
    )
    topped = await rating.top_up(balance["id"], amount="50.5")
    assert (topped["granted"], topped["remaining"]) == ("150.50", "150.50")

    drawn = await rating.draw(balance["id"], amount="30.25", reference="ticket-1")
    assert (drawn["used"], drawn["remaining"]) == ("30.25", "120.25")
    again = await rating.draw(balance["id"], amount="30.25", reference="ticket-1")
    assert (again["used"], again["remaining"]) == ("30.25", "120.25")  # the same reference: nothing more

    too_much = await rating.post(
        f"/v1/balances/{balance['id']}/drawdowns", {"amount": "120.26", "reference": "t2"}
    )
    assert errors(too_much, 409) == {"amount": "insufficient_balance"}
    assert too_much.json()["detail"] == "only 120.25 USD remain; 120.26 asked"

    emptied = await rating.draw(balance["id"], amount="120.25", reference="t3")
    assert (emptied["state"], emptied["used"], emptied["remaining"]) == ("exhausted", "150.50", "0.00")
    # One row per grant drawn: the last drawdown took 69.75 of the first grant and 50.50 of the top-up.
    assert kinds(emptied) == [
        ("grant", "100.00"),
        ("top_up", "50.50"),
        ("drawdown", "30.25"),
        ("drawdown", "69.75"),
        ("drawdown", "50.50"),
    ]
    # The top-up started a cycle of 150.50; the last drawdown crossed 80 % and 100 % together.
    crossed = await outbox_payloads(rating.app, "balance.threshold_crossed")
    assert [(c["threshold_percent"], c["remaining"]) for c in crossed] == [("80", "0.00"), ("100", "0.00")]
    exhausted = await outbox_payloads(rating.app, "entitlement.exhausted")
    assert [(e["balance_id"], e["on"]) for e in exhausted] == [(balance["id"], "2026-03-20")]
    changes = [c["change"] for c in await outbox_payloads(rating.app, "balance.changed")]
    assert changes == ["top_up", "drawdown", "drawdown"]
    assert len(await outbox_payloads(rating.app, "balance.created")) == 1


@pytest.mark.parametrize(
    ("currency", "grant", "draw", "remaining"),
    [("JPY", "1235", "235", "1000"), ("BHD", "1.235", "0.005", "1.230")],
)
async def test_money_in_minor_units_of_its_currency(
    rating: Rating, currency: str, grant: str, draw: str, remaining: str
) -> None:
    account = await rated_account(rating.app, currency=currency)
    balance = await create(rating.client, money_balance(account, grant))
    assert balance["granted"] == grant
    assert (await rating.draw(balance["id"], amount=draw, reference="r"))["remaining"] == remaining
    too_fine = await rating.post(f"/v1/balances/{balance['id']}/top-ups", {"amount": "0.0001"})
    assert errors(too_fine, 422) == {"amount": "too_many_decimals"}


async def test_units_thresholds_warn_once_per_cycle_through_the_outbox(rating: Rating) -> None:
    account = await rated_account(rating.app)
    hours = await create(rating.client, units_balance(account, 40, "150.00"))
    assert (hours["unit_label"], hours["granted"], hours["thresholds"]) == ("hours", "40", ["80", "100"])

    await rating.draw(hours["id"], quantity=32, reference="w1")  # 80 % of 40
    await rating.draw(hours["id"], quantity="1.5", reference="w2")
    view = await rating.draw(hours["id"], quantity="6.5", reference="w3")  # 40 of 40
    assert (view["remaining"], view["used_percent"], view["thresholds_crossed"]) == (
        "0",
        "100",
        ["80", "100"],
    )
    crossed = await outbox_payloads(rating.app, "balance.threshold_crossed")
    assert [(c["threshold_percent"], c["remaining"], c["unit_label"]) for c in crossed] == [
        ("80", "8", "hours"),
        ("100", "0", "hours"),
    ]
    assert len(await outbox_payloads(rating.app, "entitlement.exhausted")) == 1

    # A top-up of 10 hours starts a new cycle: 8 hours used is 80 % again.
    await rating.top_up(hours["id"], quantity=10, unit_price="140")
    view = await rating.draw(hours["id"], quantity=8, reference="w4")
    assert (view["state"], view["remaining"], view["thresholds_crossed"]) == ("active", "2", ["80"])
    crossed = await outbox_payloads(rating.app, "balance.threshold_crossed")
    assert [c["threshold_percent"] for c in crossed] == ["80", "100", "80"]


async def test_expiry_is_booked_once(rating: Rating) -> None:
    account = await rated_account(rating.app, bill_cycle_day=1)
    pack = await create(
        rating.client,
        units_balance(account, 100, "0.50", meter="api_calls", unit_label="calls")
        | {"rollover": {"policy": "all"}},
    )
    await rating.top_up(pack["id"], quantity=50, unit_price="0.40", expires_on="2026-03-25")
    await rating.draw(pack["id"], quantity=20, reference="d1")  # from the grant expiring first
    view = await rating.get(f"/v1/balances/{pack['id']}?as_of=2026-03-25")
    assert (view["remaining"], view["expired"]) == ("100", "30")  # shown as expired before it is booked

    booked = await rating.expire(as_of="2026-03-25")
    assert booked == {"balances_changed": 1, "transactions": 1}
    assert await rating.expire(as_of="2026-03-25") == {"balances_changed": 0, "transactions": 0}
    view = await rating.get(f"/v1/balances/{pack['id']}?as_of=2026-03-25")
    assert kinds(view)[-1] == ("expiry", "30")
    assert view["transactions"][-1]["on"] == "2026-03-25"
    assert (view["granted"], view["used"], view["remaining"], view["expired"]) == ("150", "20", "100", "30")
    (change,) = [c for c in await outbox_payloads(rating.app, "balance.changed") if c["change"] == "expiry"]
    assert change["figures"]["expired"] == "30"


async def test_rollover_up_to_across_two_periods(rating: Rating) -> None:
    # Cycle day 15, up to 5 hours carry over: 20 hours on 2026-03-20, 8 used → on 2026-04-15,
    # 5 roll into the new period and 7 expire; 10 more, 3 used → on 2026-05-15 again 5 and 7.
    account = await rated_account(rating.app, bill_cycle_day=15)
    hours = await create(
        rating.client, units_balance(account, 20, "150", rollover={"policy": "up_to", "up_to": 5})
    )
    assert hours["period_start"] == "2026-03-15"
    await rating.draw(hours["id"], quantity=8, reference="p1")

    rating.clock.set_day(date(2026, 4, 15))
    # By default the job books what was due a day ago (BALANCE_SETTLE_DELAY_DAYS): rating's
    # period close draws the ended period first.
    assert await rating.expire() == {"balances_changed": 0, "transactions": 0}
    rating.clock.set_day(date(2026, 4, 16))
    assert await rating.expire() == {"balances_changed": 1, "transactions": 3}
    view = await rating.get(f"/v1/balances/{hours['id']}")
    assert view["period_start"] == "2026-04-15"
    assert kinds(view)[-3:] == [("rollover_out", "5"), ("rollover_in", "5"), ("expiry", "7")]
    assert (view["remaining"], view["expired"], view["rolled_over"]) == ("5", "7", "5")

    rating.clock.set_day(date(2026, 4, 20))
    await rating.top_up(hours["id"], quantity=10, unit_price="140")
    await rating.draw(hours["id"], quantity=3, reference="p2")
    assert await rating.expire(as_of="2026-05-15") == {"balances_changed": 1, "transactions": 5}
    assert await rating.expire(as_of="2026-05-15") == {"balances_changed": 0, "transactions": 0}
    view = await rating.get(f"/v1/balances/{hours['id']}?as_of=2026-05-15")
    # The 3 drawn came from the rolled-in hours (the older grant): 2 of them at 150 and 3 of the
    # new ones at 140 carry over, the other 7 at 140 expire.
    assert kinds(view)[-5:] == [
        ("rollover_out", "2"),
        ("rollover_in", "2"),
        ("rollover_out", "3"),
        ("rollover_in", "3"),
        ("expiry", "7"),
    ]
    assert [(g["open_quantity"], g["unit_price"]) for g in view["grants"]] == [("2", "150"), ("3", "140")]
    assert (view["granted"], view["used"], view["remaining"], view["expired"], view["rolled_over"]) == (
        "30",
        "11",
        "5",
        "14",
        "10",
    )
    rollovers = [c for c in await outbox_payloads(rating.app, "balance.changed") if c["change"] == "rollover"]
    assert [c["on"] for c in rollovers] == ["2026-04-15", "2026-05-15"]


async def test_subscription_balance_in_its_currency_and_listing(rating: Rating) -> None:
    account = await rated_account(rating.app, currency="EUR")
    subscription = await rated_subscription(
        rating.app, account_id=account, product_id="prod_support", currency="EUR"
    )
    own = await create(rating.client, money_balance(account, "10.00", subscription_id=subscription))
    shared = await create(rating.client, units_balance(account, 5, "2"))
    assert (own["currency"], own["subscription_id"], shared["currency"]) == ("EUR", subscription, "EUR")

    first = await rating.get(f"/v1/balances?account_id={account}&limit=1")
    assert [b["id"] for b in first["data"]] == [own["id"]] and first["has_more"]
    second = await rating.get(f"/v1/balances?account_id={account}&limit=1&cursor={first['next_cursor']}")
    assert [b["id"] for b in second["data"]] == [shared["id"]] and not second["has_more"]
    only_sub = await rating.get(f"/v1/balances?subscription_id={subscription}")
    assert [b["id"] for b in only_sub["data"]] == [own["id"]]
    page = await rating.get(f"/v1/balances/{own['id']}/transactions")
    assert [t["kind"] for t in page["data"]] == ["grant"]


async def test_wrong_kind_currency_or_owner_is_a_422_and_changes_nothing(rating: Rating) -> None:
    account = await rated_account(rating.app)
    other = await rated_account(rating.app)
    foreign_subscription = await rated_subscription(rating.app, account_id=other, product_id="prod_support")
    money = await create(rating.client, money_balance(account, "20.00"))
    units = await create(rating.client, units_balance(account, 4, "25"))

    cases = [
        ("/v1/balances", money_balance(account, "5.00", currency="EUR"), {"currency": "currency_mismatch"}),
        ("/v1/balances", money_balance(account, None, meter="calls"), {"meter": "wrong_kind"}),
        ("/v1/balances", units_balance(account) | {"meter": None}, {"meter": "missing"}),
        ("/v1/balances", money_balance("acct_unknown", "5.00"), {"account_id": "unknown_account"}),
        (
            "/v1/balances",
            money_balance(account, subscription_id=foreign_subscription),
            {"subscription_id": "unknown_subscription"},
        ),
        (
            "/v1/balances",
            units_balance(account) | {"initial_grant": {"quantity": 3}},
            {"initial_grant.unit_price": "missing"},
        ),
        (
            "/v1/balances",
            money_balance(account) | {"initial_grant": {"quantity": 3}},
            {
                "initial_grant.quantity": "wrong_kind",
                "initial_grant.amount": "missing",
            },
        ),
        (
            f"/v1/balances/{units['id']}/top-ups",
            {"amount": "10.00"},
            {"amount": "wrong_kind", "quantity": "missing"},
        ),
        (
            f"/v1/balances/{money['id']}/top-ups",
            {"amount": "1.00", "currency": "EUR"},
            {"currency": "currency_mismatch"},
        ),
        (
            f"/v1/balances/{money['id']}/top-ups",
            {"amount": "1.00", "unit_price": "1"},
            {"unit_price": "wrong_kind"},
        ),
        (
            f"/v1/balances/{money['id']}/drawdowns",
            {"quantity": 1, "reference": "x"},
            {
                "quantity": "wrong_kind",
                "amount": "missing",
            },
        ),
        (
            f"/v1/balances/{money['id']}/drawdowns",
            {"amount": "0", "reference": "x"},
            {"amount": "not_positive"},
        ),
        (
            f"/v1/balances/{units['id']}/drawdowns",
            {"quantity": 5, "reference": "x"},
            {"quantity": "insufficient_balance"},
        ),
        (
            f"/v1/balances/{money['id']}/drawdowns",
            {"amount": 5, "reference": "x"},
            {"amount": "decimal_type"},
        ),
        (
            f"/v1/balances/{money['id']}/top-ups",
            {"amount": "1.00", "expires_on": "2026-03-20"},
            {"expires_on": "invalid"},
        ),
    ]
    for path, body, expected in cases:
        response = await rating.post(path, body)
        status = 409 if "insufficient_balance" in expected.values() else 422
        assert errors(response, status) == expected, (path, body)
    assert (await rating.get(f"/v1/balances/{money['id']}"))["remaining"] == "20.00"
    assert (await rating.get(f"/v1/balances/{units['id']}"))["remaining"] == "4"
    missing = await rating.client.get("/v1/balances/bal_nothing", headers=OPS)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert (
        await rating.client.post("/v1/balances", json=money_balance(account), headers=OPS)
    ).status_code == 403


async def test_a_reference_belongs_to_one_balance(rating: Rating) -> None:
    account = await rated_account(rating.app)
    first = await create(rating.client, money_balance(account, "20.00"))
    second = await create(rating.client, money_balance(account, "20.00"))
    await rating.draw(first["id"], amount="5.00", reference="shared")
    reused = await rating.post(
        f"/v1/balances/{second['id']}/drawdowns", {"amount": "5.00", "reference": "shared"}
    )
    assert reused.status_code == 409
    assert (await rating.get(f"/v1/balances/{second['id']}"))["remaining"] == "20.00"


async def test_idempotency_key_replays_a_top_up(rating: Rating) -> None:
    account = await rated_account(rating.app)
    balance = await create(rating.client, money_balance(account, "20.00"))
    path = f"/v1/balances/{balance['id']}/top-ups"
    first = await rating.post(path, {"amount": "5.00"}, **{"Idempotency-Key": "k-1"})
    again = await rating.post(path, {"amount": "5.00"}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert (await rating.get(f"/v1/balances/{balance['id']}"))["granted"] == "25.00"
    other_body = await rating.post(path, {"amount": "6.00"}, **{"Idempotency-Key": "k-1"})
    assert other_body.status_code == 409
