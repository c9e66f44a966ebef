"""Default business dates fall on the account's local date (DESIGN §6 "Time"), by the uow's clock.

At 2026-11-30T12:00Z it is already 2026-12-01 in Pacific/Auckland (UTC+13 in summer); at
2026-12-01T03:00Z it is still 2026-11-30 in America/Los_Angeles. A UTC date would be wrong in both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from libs.platform.clock import FixedClock
from provisioning.domain.fulfillments import Fulfillment, FulfillmentStatus, committed_balances
from provisioning.domain.subscriptions import SubscriptionState
from provisioning.handlers import fulfillments, subscriptions
from provisioning.handlers.records import StoredFulfillment, StoredOrder, StoredSubscription
from provisioning.schemas.subscriptions import SubscriptionAction
from tests.provisioning.unit.fakes import FakeProvisioningUnitOfWork

from .factories import CLERK, account, approved_order, line, subscription

AUCKLAND_NOON_UTC = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # 2026-12-01 01:00 in Auckland
LOS_ANGELES_EARLY_UTC = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 2026-11-30 19:00 in Los Angeles

CASES = [
    pytest.param("Pacific/Auckland", AUCKLAND_NOON_UTC, date(2026, 12, 1), id="auckland-ahead"),
    pytest.param("America/Los_Angeles", LOS_ANGELES_EARLY_UTC, date(2026, 11, 30), id="los-angeles-behind"),
    pytest.param("UTC", AUCKLAND_NOON_UTC, date(2026, 11, 30), id="utc"),
]


def _uow_with_subscription(time_zone: str, now: datetime) -> tuple[FakeProvisioningUnitOfWork, str]:
    uow = FakeProvisioningUnitOfWork(clock=FixedClock(now))
    uow.customers.accounts["acct_test"] = account(time_zone=time_zone)
    sub = subscription(active=True)
    uow.subscriptions.subscriptions[sub.id] = StoredSubscription(
        sub,
        currency="USD",
        unit_price=Decimal("12.00"),
        discount_percent=Decimal(0),
        charge_type="recurring",
        billing_period="monthly",
        billing_timing="in_advance",
    )
    return uow, sub.id


def _effective_dates(uow: FakeProvisioningUnitOfWork, event_type: str) -> list[str]:
    return [e.payload["effective_date"] for e in uow.envelopes if e.type == event_type]


@pytest.mark.parametrize(("time_zone", "now", "local_day"), CASES)
async def test_a_suspension_without_a_date_is_effective_on_the_accounts_local_date(
    time_zone: str, now: datetime, local_day: date
) -> None:
    uow, sub_id = _uow_with_subscription(time_zone, now)
    shown = await subscriptions.suspend_subscription(
        uow=uow, subscription_id=sub_id, command=SubscriptionAction(), actor=CLERK
    )
    assert shown.state is SubscriptionState.SUSPENDED
    assert _effective_dates(uow, "subscription.suspended") == [local_day.isoformat()]


@pytest.mark.parametrize(("time_zone", "now", "local_day"), CASES)
async def test_a_resumption_and_a_cancellation_default_to_the_accounts_local_date(
    time_zone: str, now: datetime, local_day: date
) -> None:
    uow, sub_id = _uow_with_subscription(time_zone, now)
    await subscriptions.suspend_subscription(
        uow=uow,
        subscription_id=sub_id,
        command=SubscriptionAction(effective_date=date(2026, 11, 1)),
        actor=CLERK,
    )
    await subscriptions.resume_subscription(
        uow=uow, subscription_id=sub_id, command=SubscriptionAction(), actor=CLERK
    )
    await subscriptions.cancel_subscription(
        uow=uow,
        catalog=None,
        subscription_id=sub_id,
        command=SubscriptionAction(),
        actor=CLERK,  # type: ignore[arg-type]
    )
    assert _effective_dates(uow, "subscription.resumed") == [local_day.isoformat()]
    assert _effective_dates(uow, "subscription.cancelled") == [local_day.isoformat()]


@pytest.mark.parametrize(("time_zone", "now", "local_day"), CASES)
async def test_a_fulfillment_completed_without_a_date_completes_on_the_accounts_local_date(
    time_zone: str, now: datetime, local_day: date
) -> None:
    uow = FakeProvisioningUnitOfWork(clock=FixedClock(now))
    order = approved_order(line(quantity="10"))
    uow.customers.accounts[order.account_id] = account(time_zone=time_zone)
    uow.orders.orders[order.id] = StoredOrder(order, currency="USD")
    scheduled = Fulfillment.schedule(
        order, {order.lines[0].id: Decimal(10)}, balances=committed_balances(order, []), by=CLERK
    )
    scheduled.events.clear()
    uow.fulfillments.fulfillments[scheduled.id] = StoredFulfillment(scheduled)
    shown = await fulfillments.complete_fulfillment(
        uow=uow, fulfillment_id=scheduled.id, completed_on=None, actor=CLERK
    )
    assert shown.status is FulfillmentStatus.COMPLETED
    assert shown.completed_on == local_day


def test_the_clock_is_the_units_of_work() -> None:
    uow = FakeProvisioningUnitOfWork(clock=FixedClock(AUCKLAND_NOON_UTC))
    assert uow.business_date("Pacific/Auckland") == date(2026, 12, 1)
    assert uow.business_date("America/Los_Angeles") == date(2026, 11, 30)
