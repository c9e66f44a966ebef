"""Guiding usage to subscriptions and periods (time zones, bill-cycle days, anchors, terms) and
folding events into a period's quantity (sum, count, max, unique count, latest; late events)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.contracts.vocabulary import BillingFrequency
from libs.platform.periods import BillingPeriod
from rating.domain.meters import Aggregation
from rating.domain.usage import (
    AccountTerms,
    AggregateState,
    SubscriptionTerms,
    UsageGuide,
    UsageStatus,
    choose_subscription,
    fold,
    timestamp_problem,
)

PRODUCT = "prod_api"


def _account(account_id: str = "acct_1", time_zone: str = "UTC", day: int = 1) -> AccountTerms:
    return AccountTerms(account_id, time_zone, day)


def _subscription(
    subscription_id: str = "sub_1",
    account_id: str = "acct_1",
    *,
    start: date = date(2026, 1, 1),
    end: date = date(2029, 1, 1),
    billing: BillingFrequency | None = BillingFrequency.MONTHLY,
    state: str = "active",
    effective: date | None = None,
    product_id: str = PRODUCT,
) -> SubscriptionTerms:
    return SubscriptionTerms(
        subscription_id, account_id, product_id, billing, state, start, end, effective or start
    )


def _guide(*subscriptions: SubscriptionTerms, accounts: tuple[AccountTerms, ...] = ()) -> UsageGuide:
    return UsageGuide(
        subscriptions={s.subscription_id: s for s in subscriptions},
        accounts={a.account_id: a for a in accounts or (_account(),)},
        account_subscriptions=subscriptions,
    )


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _place_named(guide: UsageGuide, at: str, subscription_id: str = "sub_1"):  # type: ignore[no-untyped-def]
    return guide.place(
        subscription_id=subscription_id, account_id=None, product_id=PRODUCT, occurred_at=_at(at)
    )


# --- time zones and periods ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "at", "local_day", "period"),
    [
        # 12:00Z on June 30 is already July 1 in Auckland (UTC+12 in winter)...
        (
            "Pacific/Auckland",
            "2026-06-30T12:00:00+00:00",
            date(2026, 7, 1),
            (date(2026, 7, 1), date(2026, 8, 1)),
        ),
        # ...and 03:00Z on July 1 is still June 30 in Los Angeles (UTC-7 in summer).
        (
            "America/Los_Angeles",
            "2026-07-01T03:00:00+00:00",
            date(2026, 6, 30),
            (date(2026, 6, 1), date(2026, 7, 1)),
        ),
        # The event's own offset does not matter, only the instant: 23:30-05:00 is 04:30Z next day.
        ("UTC", "2026-06-30T23:30:00-05:00", date(2026, 7, 1), (date(2026, 7, 1), date(2026, 8, 1))),
        ("Europe/Paris", "2026-03-31T22:30:00+00:00", date(2026, 4, 1), (date(2026, 4, 1), date(2026, 5, 1))),
    ],
)
def test_an_event_falls_on_its_accounts_local_date(
    zone: str, at: str, local_day: date, period: tuple[date, date]
) -> None:
    guide = _guide(_subscription(), accounts=(_account(time_zone=zone),))
    placed = _place_named(guide, at)
    assert placed.status is UsageStatus.COUNTED
    assert placed.usage_date == local_day
    assert placed.period == BillingPeriod(*period)


@pytest.mark.parametrize(
    ("day", "local", "period"),
    [
        (15, date(2026, 3, 14), (date(2026, 2, 15), date(2026, 3, 15))),
        (15, date(2026, 3, 15), (date(2026, 3, 15), date(2026, 4, 15))),
        # Cycle day 31 falls back to February's last day and comes back on March 31.
        (31, date(2027, 2, 27), (date(2027, 1, 31), date(2027, 2, 28))),
        (31, date(2027, 2, 28), (date(2027, 2, 28), date(2027, 3, 31))),
        (31, date(2028, 2, 29), (date(2028, 2, 29), date(2028, 3, 31))),
        (30, date(2026, 3, 1), (date(2026, 2, 28), date(2026, 3, 30))),
    ],
)
def test_monthly_periods_start_on_the_accounts_bill_cycle_day(
    day: int, local: date, period: tuple[date, date]
) -> None:
    guide = _guide(_subscription(start=date(2026, 1, 1)), accounts=(_account(day=day),))
    placed = _place_named(guide, f"{local.isoformat()}T12:00:00+00:00")
    assert placed.period == BillingPeriod(*period)


def test_quarterly_and_annual_periods_anchor_on_the_term_start() -> None:
    quarterly = _guide(_subscription(start=date(2026, 3, 3), billing=BillingFrequency.QUARTERLY))
    assert _place_named(quarterly, "2026-07-10T00:00:00+00:00").period == BillingPeriod(
        date(2026, 6, 3), date(2026, 9, 3)
    )
    annual = _guide(_subscription(start=date(2026, 3, 1), billing=BillingFrequency.ANNUAL))
    assert _place_named(annual, "2027-02-28T23:59:59+00:00").period == BillingPeriod(
        date(2026, 3, 1), date(2027, 3, 1)
    )


def test_no_billing_frequency_means_monthly_and_a_term_billed_subscription_has_its_term() -> None:
    plain = _guide(_subscription(billing=None), accounts=(_account(day=10),))
    assert _place_named(plain, "2026-07-09T00:00:00+00:00").period == BillingPeriod(
        date(2026, 6, 10), date(2026, 7, 10)
    )
    term = _guide(_subscription(start=date(2026, 2, 1), end=date(2026, 8, 1), billing=BillingFrequency.TERM))
    assert _place_named(term, "2026-07-31T00:00:00+00:00").period == BillingPeriod(
        date(2026, 2, 1), date(2026, 8, 1)
    )


def test_the_next_period_follows_the_same_anchor() -> None:
    guide = _guide(_subscription(), accounts=(_account(day=31),))
    placed = _place_named(guide, "2027-01-31T10:00:00+00:00")
    assert placed.period == BillingPeriod(date(2027, 1, 31), date(2027, 2, 28))
    assert guide.next_period("sub_1", placed.period) == BillingPeriod(date(2027, 2, 28), date(2027, 3, 31))


# --- which subscription ---------------------------------------------------------------------------


def test_an_account_reference_finds_the_subscription_to_the_meters_product_covering_the_date() -> None:
    old = _subscription("sub_old", start=date(2025, 1, 1), end=date(2026, 1, 1))
    new = _subscription("sub_new", start=date(2026, 1, 1), end=date(2027, 1, 1))
    other = _subscription("sub_other", product_id="prod_other")
    guide = _guide(old, new, other)
    for at, expected in (("2025-12-31T23:00:00+00:00", "sub_old"), ("2026-01-01T00:00:00+00:00", "sub_new")):
        placed = guide.place(
            subscription_id=None, account_id="acct_1", product_id=PRODUCT, occurred_at=_at(at)
        )
        assert (placed.status, placed.subscription_id, placed.account_id) == (
            UsageStatus.COUNTED,
            expected,
            "acct_1",
        )
    outside = guide.place(
        subscription_id=None,
        account_id="acct_1",
        product_id=PRODUCT,
        occurred_at=_at("2027-01-01T00:00:00+00:00"),
    )
    assert outside.status is UsageStatus.UNMATCHED and outside.subscription_id is None
    assert outside.reason == f"no subscription of the account to product {PRODUCT} on 2027-01-01"


def test_overlapping_subscriptions_choose_the_latest_start_then_the_smallest_id() -> None:
    a = _subscription("sub_a", start=date(2026, 1, 1))
    b = _subscription("sub_b", start=date(2026, 3, 1))
    c = _subscription("sub_c", start=date(2026, 3, 1))
    assert choose_subscription([a, c, b], date(2026, 4, 1)) == b
    assert choose_subscription([a, c, b], date(2026, 2, 1)) == a


def test_a_cancelled_subscription_covers_days_until_its_cancellation_date() -> None:
    cancelled = _subscription(state="cancelled", effective=date(2026, 5, 10))
    assert cancelled.covers(date(2026, 5, 9)) and not cancelled.covers(date(2026, 5, 10))


def test_unknown_subscriptions_accounts_and_dates_outside_the_term_are_unmatched_with_a_reason() -> None:
    guide = _guide(_subscription(start=date(2026, 6, 1)))
    unknown = _place_named(guide, "2026-07-01T00:00:00+00:00", subscription_id="sub_404")
    assert (unknown.status, unknown.subscription_id, unknown.reason) == (
        UsageStatus.UNMATCHED,
        "sub_404",
        "unknown subscription",
    )
    early = _place_named(guide, "2026-05-31T23:00:00+00:00")
    assert (
        early.status is UsageStatus.UNMATCHED
        and early.reason == "2026-05-31 is outside the subscription's term"
    )
    no_account = guide.place(
        subscription_id=None,
        account_id="acct_404",
        product_id=PRODUCT,
        occurred_at=_at("2026-07-01T00:00:00+00:00"),
    )
    assert (no_account.status, no_account.account_id, no_account.reason) == (
        UsageStatus.UNMATCHED,
        "acct_404",
        "unknown account",
    )
    orphan = UsageGuide(subscriptions={"sub_1": _subscription()}, accounts={})
    assert _place_named(orphan, "2026-07-01T00:00:00+00:00").reason == "unknown account"


# --- timestamps -----------------------------------------------------------------------------------


def test_timestamps_too_far_ahead_or_before_2000_are_refused() -> None:
    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    hour = timedelta(minutes=60)
    assert timestamp_problem(now + hour, now=now, max_future=hour) is None
    ahead = timestamp_problem(now + hour + timedelta(seconds=1), now=now, max_future=hour)
    assert ahead is not None and (ahead.field, ahead.code) == ("timestamp", "in_future")
    assert "60 minutes" in ahead.message
    old = timestamp_problem(datetime(1999, 12, 31, 23, 59, tzinfo=UTC), now=now, max_future=hour)
    assert old is not None and old.code == "out_of_range"
    assert timestamp_problem(datetime(2000, 1, 1, tzinfo=UTC), now=now, max_future=hour) is None


# --- aggregations -----------------------------------------------------------------------------------

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def _events(*quantities: str, late: bool = False) -> list[tuple[Decimal, datetime, bool]]:
    return [(Decimal(q), T0 + timedelta(minutes=i), late) for i, q in enumerate(quantities)]


def test_each_aggregation_folds_a_periods_events() -> None:
    events = _events("1.5", "4", "2.25")
    empty = AggregateState.empty()
    assert fold(empty, Aggregation.SUM, events).quantity == Decimal("7.75")
    assert fold(empty, Aggregation.COUNT, events).quantity == 3
    assert fold(empty, Aggregation.MAX, events).quantity == 4
    assert fold(empty, Aggregation.LATEST, events).quantity == Decimal("2.25")
    assert fold(empty, Aggregation.UNIQUE_COUNT, events, new_distinct_values=2).quantity == 2
    state = fold(empty, Aggregation.SUM, events)
    assert (state.event_count, state.late_count, state.late_quantity, state.latest_at) == (
        3,
        0,
        0,
        T0 + timedelta(minutes=2),
    )


def test_latest_keeps_the_latest_timestamp_whatever_the_order_of_arrival() -> None:
    state = fold(AggregateState.empty(), Aggregation.LATEST, [(Decimal(5), T0 + timedelta(hours=2), False)])
    earlier = fold(state, Aggregation.LATEST, [(Decimal(9), T0 + timedelta(hours=1), True)])
    assert earlier.quantity == 5 and earlier.latest_at == T0 + timedelta(hours=2)
    same_time = fold(state, Aggregation.LATEST, [(Decimal(7), T0 + timedelta(hours=2), False)])
    assert same_time.quantity == 7  # on a tie the event added last wins


def test_late_events_count_in_the_quantity_and_are_summed_apart() -> None:
    state = fold(AggregateState.empty(), Aggregation.SUM, _events("10", "5"))
    state = fold(state, Aggregation.SUM, _events("2.5", "0.5", late=True))
    assert (state.quantity, state.event_count, state.late_quantity, state.late_count) == (
        Decimal(18),
        4,
        Decimal(3),
        2,
    )


def test_unique_count_adds_only_values_new_to_the_period() -> None:
    state = fold(
        AggregateState.empty(), Aggregation.UNIQUE_COUNT, _events("1", "1", "1"), new_distinct_values=2
    )
    state = fold(state, Aggregation.UNIQUE_COUNT, _events("1"), new_distinct_values=0)
    assert (state.quantity, state.event_count) == (2, 4)


_quantity = st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False, allow_infinity=False)


@given(
    quantities=st.lists(_quantity, min_size=1, max_size=30),
    split=st.integers(min_value=0, max_value=30),
    aggregation=st.sampled_from([Aggregation.SUM, Aggregation.COUNT, Aggregation.MAX, Aggregation.LATEST]),
)
def test_folding_a_period_in_two_batches_equals_folding_it_in_one(
    quantities: list[Decimal], split: int, aggregation: Aggregation
) -> None:
    events = [(q, T0 + timedelta(seconds=i), i % 3 == 0) for i, q in enumerate(quantities)]
    whole = fold(AggregateState.empty(), aggregation, events)
    parts = fold(fold(AggregateState.empty(), aggregation, events[:split]), aggregation, events[split:])
    assert parts == whole
    if aggregation is Aggregation.SUM:
        assert whole.quantity == sum(quantities, Decimal(0))  # exact, never a float
        assert whole.late_quantity == sum((q for q, _, late in events if late), Decimal(0))
