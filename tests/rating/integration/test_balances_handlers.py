"""What the rest of rating calls on balances (`draw_down`, `available`), the periodic job, and the
cancellation refund through the consumer's handler — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from libs.contracts.envelope import Envelope
from libs.platform.outbox import build_envelope
from rating.app import create_app
from rating.consumers import BALANCES_GROUP
from rating.handlers.balances import Available, Drawdown, available, draw_down
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
from tests.rating.upstream_events import subscription_cancelled
from tests.support.polling import eventually
from tests.support.services import running_app

D = Decimal


@dataclass
class Rating:
    app: FastAPI
    client: httpx.AsyncClient
    clock: MovableClock

    async def view(self, balance_id: str, as_of: str | None = None) -> dict[str, Any]:
        query = f"?as_of={as_of}" if as_of else ""
        return await ok(await self.client.get(f"/v1/balances/{balance_id}{query}", headers=OPS))

    async def top_up(self, balance_id: str, **body: Any) -> dict[str, Any]:
        return await ok(
            await self.client.post(f"/v1/balances/{balance_id}/top-ups", json=body, headers=FINANCE), 201
        )

    async def draw(self, balance_id: str, **body: Any) -> dict[str, Any]:
        return await ok(
            await self.client.post(f"/v1/balances/{balance_id}/drawdowns", json=body, headers=FINANCE), 201
        )

    async def draw_down(self, *, commit: bool = True, **arguments: Any) -> Drawdown:
        async with self.app.state.runtime.rating_unit_of_work() as uow:
            drawn = await draw_down(uow, **arguments)
            if commit:
                await uow.commit()
        return drawn

    async def available(self, **arguments: Any) -> Available:
        async with self.app.state.runtime.rating_unit_of_work() as uow:
            return await available(uow, **arguments)


@pytest.fixture
async def rating(database_url: str) -> AsyncIterator[Rating]:
    clock = clock_on(date(2026, 3, 20))
    app = create_app(rating_settings(database_url), clock=clock)
    async with running_app(app) as client:
        yield Rating(app, client, clock)


async def test_draw_down_takes_the_subscriptions_own_first_earliest_expiry_first(rating: Rating) -> None:
    account = await rated_account(rating.app)
    subscription = await rated_subscription(rating.app, account_id=account, product_id="prod_support")
    shared_calls = await create(rating.client, units_balance(account, 100, "0.01", meter="api_calls"))
    own_calls = await create(
        rating.client,
        units_balance(account, meter="api_calls", subscription_id=subscription)
        | {"initial_grant": {"quantity": 30, "unit_price": "0.02", "expires_on": "2026-06-01"}},
    )
    await rating.top_up(own_calls["id"], quantity=20, unit_price="0.02", expires_on="2026-04-01")
    own_money = await create(rating.client, money_balance(account, "10.00", subscription_id=subscription))
    shared_money = await create(rating.client, money_balance(account, "5.00"))
    hours = await create(rating.client, units_balance(account, 10, "150", subscription_id=subscription))
    calls = {"subscription_id": subscription, "account_id": account, "meter": "api_calls", "currency": "USD"}

    assert await rating.available(**calls, on=date(2026, 3, 25)) == Available(units=D(150), amount=D("15.00"))
    drawn = await rating.draw_down(
        **calls, units=D(60), amount=D("12.345"), reference="ru_1", on=date(2026, 3, 25)
    )
    # Units: the subscription's 20 expiring 04-01, then its 30 expiring 06-01, then 10 of the
    # account's. Money: 12.345 rounds to 12.35: the subscription's 10.00, then 2.35 of the account's.
    assert (drawn.units, drawn.amount, drawn.replayed) == (D(60), D("12.35"), False)
    assert [(line.balance_id, line.quantity) for line in drawn.lines] == [
        (own_calls["id"], D(50)),
        (shared_calls["id"], D(10)),
        (own_money["id"], D("10.00")),
        (shared_money["id"], D("2.35")),
    ]
    own_view = await rating.view(own_calls["id"])
    assert kinds(own_view)[-2:] == [("drawdown", "20"), ("drawdown", "30")]
    assert (await rating.view(shared_money["id"]))["remaining"] == "2.65"
    assert (await rating.view(hours["id"]))["remaining"] == "10"  # another meter: untouched

    again = await rating.draw_down(
        **calls, units=D(60), amount=D("12.345"), reference="ru_1", on=date(2026, 3, 25)
    )
    assert (again.units, again.amount, again.replayed) == (D(60), D("12.35"), True)
    assert await rating.available(**calls, on=date(2026, 3, 25)) == Available(units=D(90), amount=D("2.65"))

    exhausted = await outbox_payloads(rating.app, "entitlement.exhausted")
    assert sorted(e["balance_id"] for e in exhausted) == sorted([own_calls["id"], own_money["id"]])


async def test_draw_down_skips_expired_grants_and_takes_what_there_is(rating: Rating) -> None:
    account = await rated_account(rating.app)
    subscription = await rated_subscription(rating.app, account_id=account, product_id="prod_support")
    own = await create(
        rating.client,
        units_balance(account, meter="api_calls", subscription_id=subscription)
        | {"initial_grant": {"quantity": 20, "unit_price": "0.02", "expires_on": "2026-04-01"}},
    )
    shared = await create(rating.client, units_balance(account, 15, "0.01", meter="api_calls"))
    calls = {"subscription_id": subscription, "account_id": account, "meter": "api_calls", "currency": "USD"}

    drawn = await rating.draw_down(**calls, units=D(40), amount=D(0), reference="ru_2", on=date(2026, 4, 1))
    assert (drawn.units, drawn.amount) == (D(15), D(0))  # the 20 expired on 04-01; the caller bills 25
    assert (await rating.view(own["id"]))["used"] == "0"
    assert (await rating.view(shared["id"]))["state"] == "exhausted"


async def test_a_reference_that_found_nothing_takes_nothing_later(rating: Rating) -> None:
    account = await rated_account(rating.app)
    subscription = await rated_subscription(rating.app, account_id=account, product_id="prod_support")
    calls = {"subscription_id": subscription, "account_id": account, "meter": "api_calls", "currency": "USD"}
    nothing = await rating.draw_down(**calls, units=D(5), amount=D(1), reference="ru_0", on=date(2026, 3, 20))
    assert (nothing.units, nothing.amount, nothing.lines) == (D(0), D(0), ())

    empty = await create(
        rating.client, units_balance(account, meter="api_calls", subscription_id=subscription)
    )
    first = await rating.draw_down(**calls, units=D(5), amount=D(0), reference="ru_3", on=date(2026, 3, 20))
    assert first.units == D(0)
    await rating.top_up(empty["id"], quantity=10, unit_price="0.02")
    repeat = await rating.draw_down(**calls, units=D(5), amount=D(0), reference="ru_3", on=date(2026, 3, 20))
    assert (repeat.units, repeat.replayed) == (D(0), True)
    assert (await rating.view(empty["id"]))["remaining"] == "10"


async def test_a_drawdown_left_uncommitted_changes_nothing(rating: Rating) -> None:
    account = await rated_account(rating.app)
    subscription = await rated_subscription(rating.app, account_id=account, product_id="prod_support")
    money = await create(rating.client, money_balance(account, "10.00"))
    calls = {"subscription_id": subscription, "account_id": account, "meter": "api_calls", "currency": "USD"}
    drawn = await rating.draw_down(
        **calls, units=D(0), amount=D(4), reference="ru_4", on=date(2026, 3, 20), commit=False
    )
    assert drawn.amount == D("4.00")
    assert (await rating.view(money["id"]))["remaining"] == "10.00"
    assert await outbox_payloads(rating.app, "balance.changed") == []


def _cancellation(account: str, subscription: str, on: date) -> Envelope:
    payload = subscription_cancelled(subscription, account, on=on)
    return build_envelope(payload, producer="provisioning", key=account)


async def _deliver(app: FastAPI, envelope: Envelope) -> None:
    """Apply the envelope as the `rating.balances` consumer does: its handler, its transaction."""
    (spec,) = [s for s in app.state.runtime.consumer_specs if s.group_id == BALANCES_GROUP]
    async with app.state.runtime.db.session() as session:
        await spec.handlers[envelope.type](session, envelope)
        await session.commit()


async def test_cancellation_refunds_the_unused_prepaid_part_once(rating: Rating) -> None:
    account = await rated_account(rating.app)
    subscription = await rated_subscription(rating.app, account_id=account, product_id="prod_support")
    # Support hours: 10 at 150.00, then 5 at 140.00 and 2.5 at 33.333333; 12 used (the oldest first).
    hours = await create(rating.client, units_balance(account, 10, "150.00", subscription_id=subscription))
    await rating.top_up(hours["id"], quantity=5, unit_price="140.00")
    await rating.top_up(hours["id"], quantity="2.5", unit_price="33.333333")
    await rating.draw(hours["id"], quantity=12, reference="tickets-march")
    # Prepaid money: 100.00 with 30.00 used, and 20.00 that expires before the cancellation.
    money = await create(rating.client, money_balance(account, "100.00", subscription_id=subscription))
    await rating.top_up(money["id"], amount="20.00", expires_on="2026-03-25")
    await rating.draw(money["id"], amount="30.00", reference="usage-march")
    shared = await create(rating.client, money_balance(account, "50.00"))  # the account's: not refunded

    rating.clock.set_day(date(2026, 3, 28))
    cancellation = _cancellation(account, subscription, date(2026, 3, 28))
    await _deliver(rating.app, cancellation)

    # One refund per balance. Hours: 3 x 140.00 = 420.00 and 2.5 x 33.333333 = 83.3333325 -> 83.33.
    # Money: the 30.00 drawn took the 20.00 expiring first and 10.00 of the 100.00: 90.00 is left.
    refunds = {r["balance_id"]: r for r in await outbox_payloads(rating.app, "balance.refunded")}
    assert {b: (r["currency"], r["amount"]) for b, r in refunds.items()} == {
        hours["id"]: ("USD", "503.33"),
        money["id"]: ("USD", "90.00"),
    }
    for refund in refunds.values():
        assert (refund["subscription_id"], refund["account_id"], refund["cancelled_on"]) == (
            subscription,
            account,
            "2026-03-28",
        )
        assert refund["cancellation_event_id"] == str(cancellation.event_id)
    lines = [
        (line["kind"], line["quantity"], line["unit_price"], line["amount"])
        for refund in refunds.values()
        for line in refund["lines"]
    ]
    assert lines == [
        ("units", "3", "140", "420.00"),
        ("units", "2.5", "33.333333", "83.33"),
        ("money", "90.00", None, "90.00"),
    ]

    hours_view = await rating.view(hours["id"], as_of="2026-03-28")
    assert (hours_view["state"], hours_view["refunded"], hours_view["remaining"]) == ("closed", "5.5", "0")
    assert [
        (t["kind"], t["quantity"], t["amount"]) for t in hours_view["transactions"] if t["kind"] == "refund"
    ] == [
        ("refund", "3", "420.00"),
        ("refund", "2.5", "83.33"),
    ]
    money_view = await rating.view(money["id"], as_of="2026-03-28")
    assert (money_view["granted"], money_view["used"], money_view["expired"], money_view["refunded"]) == (
        "120.00",
        "30.00",
        "0.00",
        "90.00",
    )
    assert (await rating.view(shared["id"]))["state"] == "active"

    # Redelivered: nothing changes, nothing is published again.
    await _deliver(rating.app, cancellation)
    assert len(await outbox_payloads(rating.app, "balance.refunded")) == 2
    assert (await rating.view(hours["id"], as_of="2026-03-28"))["transactions"] == hours_view["transactions"]
    closed = await rating.client.post(
        f"/v1/balances/{hours['id']}/top-ups", json={"quantity": 1, "unit_price": "1"}, headers=FINANCE
    )
    assert closed.status_code == 409


async def test_cancellation_books_expiry_before_refunding(rating: Rating) -> None:
    account = await rated_account(rating.app)
    subscription = await rated_subscription(rating.app, account_id=account, product_id="prod_support")
    money = await create(rating.client, money_balance(account, "100.00", subscription_id=subscription))
    await rating.top_up(money["id"], amount="20.00", expires_on="2026-03-25")

    rating.clock.set_day(date(2026, 3, 28))
    await _deliver(rating.app, _cancellation(account, subscription, date(2026, 3, 28)))
    (refund,) = await outbox_payloads(rating.app, "balance.refunded")
    assert refund["amount"] == "100.00"
    view = await rating.view(money["id"], as_of="2026-03-28")
    assert (view["expired"], view["refunded"]) == ("20.00", "100.00")
    assert kinds(view)[-2:] == [("expiry", "20.00"), ("refund", "100.00")]


async def test_a_cancellation_from_a_later_date_refunds_on_that_date(rating: Rating) -> None:
    # Cycle day 1; 10 hours at 150.00, 4 used; cancelled on 03-20 from 2026-04-10.
    account = await rated_account(rating.app)
    subscription = await rated_subscription(rating.app, account_id=account, product_id="prod_support")
    hours = await create(rating.client, units_balance(account, 10, "150.00", subscription_id=subscription))
    await rating.draw(hours["id"], quantity=4, reference="t1")
    cancellation = _cancellation(account, subscription, date(2026, 4, 10))
    await _deliver(rating.app, cancellation)
    view = await rating.view(hours["id"])
    assert (view["state"], view["closing_on"]) == ("active", "2026-04-10")
    assert await outbox_payloads(rating.app, "balance.refunded") == []
    await rating.draw(hours["id"], quantity=1, reference="t2")  # still usable until then
    await _deliver(rating.app, cancellation)  # redelivered: changes nothing

    settled = await ok(
        await rating.client.post("/v1/balances/expire", json={"as_of": "2026-04-10"}, headers=FINANCE)
    )
    # The 04-01 period end (5 roll over), then the refund of the 5 hours: 750.00.
    assert settled == {"balances_changed": 1, "transactions": 3}
    (refund,) = await outbox_payloads(rating.app, "balance.refunded")
    assert (refund["amount"], refund["cancelled_on"]) == ("750.00", "2026-04-10")
    view = await rating.view(hours["id"], as_of="2026-04-10")
    assert (view["state"], view["closed_on"], view["refunded"], view["used"]) == (
        "closed",
        "2026-04-10",
        "5",
        "5",
    )


async def test_the_periodic_job_books_expiries_once(sqlite_url: str) -> None:
    clock = clock_on(date(2026, 3, 20))
    settings = rating_settings(sqlite_url, balance_settle_interval_s=0.05, balance_settle_delay_days=0)
    app = create_app(settings, clock=clock)
    async with running_app(app) as client:
        account = await rated_account(app)
        pack = await create(
            client, money_balance(account) | {"initial_grant": {"amount": "8.00", "expires_on": "2026-03-22"}}
        )
        clock.set_day(date(2026, 3, 22))

        async def expiries() -> list[tuple[str, str]]:
            view = await ok(await client.get(f"/v1/balances/{pack['id']}", headers=OPS))
            return [k for k in kinds(view) if k[0] == "expiry"]

        assert await eventually(expiries, until=lambda found: bool(found)) == [("expiry", "8.00")]
        # Another balance expiring later: once the job has booked it, it has run again since.
        later = await create(
            client, money_balance(account) | {"initial_grant": {"amount": "3.00", "expires_on": "2026-03-23"}}
        )
        clock.set_day(date(2026, 3, 23))

        async def later_expiries() -> list[tuple[str, str]]:
            view = await ok(await client.get(f"/v1/balances/{later['id']}", headers=OPS))
            return [k for k in kinds(view) if k[0] == "expiry"]

        await eventually(later_expiries, until=lambda found: found == [("expiry", "3.00")])
        assert await expiries() == [("expiry", "8.00")]
        changes = await outbox_payloads(app, "balance.changed")
        assert [(c["balance_id"], c["change"]) for c in changes] == [
            (pack["id"], "expiry"),
            (later["id"], "expiry"),
        ]
