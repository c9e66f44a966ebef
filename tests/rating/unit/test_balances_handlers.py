"""The balance handlers on an in-memory unit of work: what they stage, audit and publish."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from libs.contracts.balances import BalanceKind, RolloverPolicy
from libs.platform.clock import FixedClock
from libs.platform.errors import ValidationFailed
from rating.handlers.balances import Available, available, create_balance, draw_down, draw_down_balance
from rating.handlers.balances_settlement import refund_cancelled_subscription, settle_balances
from rating.schemas.balances import BalanceCreate, DrawdownCreate
from tests.rating.unit.factories_rating import account, subscription
from tests.rating.unit.fakes import FakeRatingUnitOfWork
from tests.rating.upstream_events import subscription_cancelled

D = Decimal
MARCH_20 = FixedClock(datetime(2026, 3, 20, 12, tzinfo=UTC))


def uow(clock: FixedClock = MARCH_20) -> FakeRatingUnitOfWork:
    fake = FakeRatingUnitOfWork(clock=clock)
    fake.store.accounts["acct_1"] = account()  # USD, billed on the 1st in UTC
    fake.store.subscriptions["sub_1"] = subscription()
    return fake


async def open_balance(fake: FakeRatingUnitOfWork, **body: object) -> str:
    command = BalanceCreate.model_validate({"account_id": "acct_1", **body})
    return (await create_balance(uow=fake, command=command)).id


async def test_opening_a_balance_audits_and_publishes_it_with_its_grant() -> None:
    fake = uow()
    balance_id = await open_balance(
        fake, kind="units", meter="support_hours", initial_grant={"quantity": 40, "unit_price": "150"}
    )
    assert fake.commits == 1
    assert fake.event_types == ["balance.created"]
    created = fake.envelopes[0].payload
    assert (created["balance_id"], created["figures"]["granted"], created["movements"][0]["kind"]) == (
        balance_id,
        "40",
        "grant",
    )
    assert [a.action for a in fake.audits] == ["balance.created"]
    assert fake.balances.stored[balance_id].due_on == date(2026, 4, 1)


async def test_an_unknown_account_is_a_422_that_stages_nothing() -> None:
    fake = uow()
    with pytest.raises(ValidationFailed) as refused:
        await create_balance(uow=fake, command=BalanceCreate(account_id="acct_9", kind=BalanceKind.MONEY))
    assert refused.value.errors[0].field == "account_id"
    assert (fake.commits, fake.envelopes, fake.balances.stored) == (0, [], {})


async def test_draw_down_stages_without_committing_and_replays_by_reference() -> None:
    fake = uow()
    own = await open_balance(
        fake,
        kind="units",
        meter="api_calls",
        subscription_id="sub_1",
        initial_grant={"quantity": 10, "unit_price": "0.02"},
    )
    shared = await open_balance(
        fake, kind="units", meter="api_calls", initial_grant={"quantity": 10, "unit_price": "0.01"}
    )
    money = await open_balance(fake, kind="money", initial_grant={"amount": "5.00"})
    commits = fake.commits
    where = {"subscription_id": "sub_1", "account_id": "acct_1", "meter": "api_calls", "currency": "USD"}

    drawn = await draw_down(
        fake, **where, units=D(12), amount=D("7.499"), reference="ru_1", on=date(2026, 3, 31)
    )
    assert (drawn.units, drawn.amount) == (D(12), D("5.00"))  # 7.50 asked, 5.00 there
    assert [(line.balance_id, line.quantity) for line in drawn.lines] == [
        (own, D(10)),
        (shared, D(2)),
        (money, D(5)),
    ]
    assert fake.commits == commits  # the caller commits
    await fake.commit()
    assert sorted(t for t in fake.event_types if t != "balance.created") == [
        "balance.changed",
        "balance.changed",
        "balance.changed",
        "balance.threshold_crossed",  # own calls and money: 80 % and 100 % of their cycles
        "balance.threshold_crossed",
        "balance.threshold_crossed",
        "balance.threshold_crossed",
        "entitlement.exhausted",
        "entitlement.exhausted",
    ]

    again = await draw_down(
        fake, **where, units=D(12), amount=D("7.499"), reference="ru_1", on=date(2026, 3, 31)
    )
    assert (again.units, again.amount, again.replayed) == (D(12), D("5.00"), True)
    assert await available(fake, **where, on=date(2026, 3, 31)) == Available(units=D(8), amount=D(0))


async def test_a_drawdown_that_finds_nothing_remembers_its_reference_only_on_a_balance_of_its_kind() -> None:
    fake = uow()
    money = await open_balance(fake, kind="money", initial_grant={"amount": "5.00"})
    where = {"subscription_id": "sub_1", "account_id": "acct_1", "meter": "api_calls", "currency": "USD"}
    # The period close asks units and money apart: units first, from no units balance.
    units = await draw_down(
        fake, **where, units=D(29), amount=D(0), reference="p:units", on=date(2026, 3, 31)
    )
    await fake.commit()
    assert (units.units, units.lines) == (0, ())
    assert [t.kind.value for t in fake.balances.booked] == ["grant"]  # no 0 drawdown on the money
    assert "balance.changed" not in fake.event_types
    empty = await open_balance(fake, kind="units", meter="api_calls")
    nothing = await draw_down(fake, **where, units=D(5), amount=D(0), reference="p2", on=date(2026, 3, 31))
    await fake.commit()
    assert nothing.units == 0
    last = fake.balances.booked[-1]
    assert (last.balance_id, last.kind.value, last.quantity, last.reference) == (empty, "drawdown", 0, "p2")
    assert fake.balances.stored[money].remaining == D("5.00")


async def test_a_manual_drawdown_is_all_or_nothing() -> None:
    fake = uow()
    balance_id = await open_balance(fake, kind="money", initial_grant={"amount": "20.00"})
    with pytest.raises(ValidationFailed) as refused:
        await draw_down_balance(
            uow=fake, balance_id=balance_id, command=DrawdownCreate(amount=D("20.01"), reference="x")
        )
    assert (refused.value.status, refused.value.detail) == (409, "only 20.00 USD remain; 20.01 asked")
    view = await draw_down_balance(
        uow=fake, balance_id=balance_id, command=DrawdownCreate(amount=D(20), reference="y")
    )
    assert (view.remaining, view.state.value) == (D("0.00"), "exhausted")


async def test_a_cancellation_refunds_on_its_date_once() -> None:
    fake = uow()
    hours = await open_balance(
        fake,
        kind="units",
        meter="support_hours",
        subscription_id="sub_1",
        rollover={"policy": RolloverPolicy.NONE.value},
        initial_grant={"quantity": 10, "unit_price": "150"},
    )
    await refund_cancelled_subscription(
        fake, cancellation=subscription_cancelled(on=date(2026, 3, 25)), event_id="e1"
    )
    assert "balance.refunded" not in fake.event_types  # 03-25 has not come yet
    assert fake.balances.stored[hours].closing_on == date(2026, 3, 25)
    assert (await settle_balances(fake, as_of=date(2026, 3, 24))).transactions == 0

    settled = await settle_balances(fake, as_of=date(2026, 3, 25))
    assert (settled.balances_changed, settled.transactions) == (1, 1)
    refunds = [e.payload for e in fake.envelopes if e.type == "balance.refunded"]
    assert [(r["amount"], r["cancelled_on"], r["cancellation_event_id"]) for r in refunds] == [
        ("1500.00", "2026-03-25", "e1")
    ]
    again = await refund_cancelled_subscription(
        fake, cancellation=subscription_cancelled(on=date(2026, 3, 25)), event_id="e1"
    )
    assert (again.balances_changed, len(refunds)) == (0, 1)
    assert (await settle_balances(fake, as_of=date(2026, 4, 30))).transactions == 0  # closed: nothing more
