"""The rules of prepaid balances on plain values: drawdown order, expiry, rollover, thresholds,
refund value — and, whatever happens, no money or unit is created or lost."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.contracts.balances import BalanceChange, BalanceKind, BalanceState, RolloverPolicy
from libs.contracts.balances import BalanceTransactionKind as Kind
from libs.platform.errors import Conflict, ValidationFailed
from libs.platform.periods import monthly_period_containing
from rating.domain.balances import (
    Balance,
    BalanceChanged,
    Exhausted,
    Grant,
    Refunded,
    Rollover,
    ThresholdCrossed,
    allocate,
    checked_thresholds,
    crossed_thresholds,
    drawdown_order,
    next_period_end,
    refund_value,
)

D = Decimal
AT = datetime(2026, 3, 20, 12, tzinfo=UTC)
_ids = itertools.count()


def new_id() -> str:
    return f"btx_{next(_ids):08d}"


def balance(
    kind: BalanceKind = BalanceKind.UNITS,
    *,
    rollover: Rollover = Rollover(),
    thresholds: tuple[Decimal, ...] = (D(80), D(100)),
    expires_on: date | None = None,
    period_start: date = date(2026, 3, 15),
    currency: str = "USD",
) -> Balance:
    return Balance(
        id=f"bal_{next(_ids)}",
        account_id="acct_1",
        subscription_id=None,
        kind=kind,
        currency=currency,
        meter="support_hours" if kind is BalanceKind.UNITS else None,
        unit_label="hours" if kind is BalanceKind.UNITS else None,
        rollover=rollover,
        thresholds=thresholds,
        expires_on=expires_on,
        period_start=period_start,
        created_at=AT,
        updated_at=AT,
    )


def grant(
    b: Balance, quantity: str, on: date, *, price: str | None = "150", expires_on: date | None = None
) -> None:
    b.grant(
        transaction_id=new_id(),
        kind=Kind.TOP_UP,
        quantity=D(quantity),
        unit_price=None if b.kind is BalanceKind.MONEY else (D(price) if price is not None else None),
        expires_on=expires_on,
        on=on,
        at=AT,
    )


def draw(b: Balance, quantity: str, on: date, reference: str = "r") -> Decimal:
    return b.draw(
        allocate(drawdown_order(b.grants, on), D(quantity)), on=on, at=AT, reference=reference, new_id=new_id
    )


def lot(
    grant_id: str, open_quantity: str, expires_on: date | None = None, rank: int = 0, balance_id: str = "bal"
) -> Grant:
    q = D(open_quantity)
    return Grant(grant_id, balance_id, Kind.TOP_UP, q, q, D(1), expires_on, date(2026, 1, 1), rank)


# --- the pure rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rollover", "unused", "expected"),
    [
        (Rollover(RolloverPolicy.NONE), "12", ("0", "12")),
        (Rollover(RolloverPolicy.ALL), "12", ("12", "0")),
        (Rollover(RolloverPolicy.UP_TO, D(5)), "12", ("5", "7")),
        (Rollover(RolloverPolicy.UP_TO, D(5)), "3.5", ("3.5", "0")),
    ],
)
def test_rollover_carries_per_policy_and_the_rest_expires(
    rollover: Rollover, unused: str, expected: tuple[str, str]
) -> None:
    assert rollover.split(D(unused)) == (D(expected[0]), D(expected[1]))


def test_up_to_needs_its_limit_and_only_it_has_one() -> None:
    with pytest.raises(ValidationFailed):
        Rollover(RolloverPolicy.UP_TO)
    with pytest.raises(ValidationFailed):
        Rollover(RolloverPolicy.ALL, D(5))


def test_thresholds_are_sorted_within_0_and_100_and_unique() -> None:
    assert checked_thresholds([D(100), D("50.5"), D(80)]) == (D("50.5"), D(80), D(100))
    for bad in ([D(0)], [D("100.01")], [D(80), D(80)]):
        with pytest.raises(ValidationFailed):
            checked_thresholds(bad)


def test_a_threshold_is_crossed_when_used_reaches_its_share_of_the_cycle() -> None:
    # 40 hours granted: 32 used is 80 %, 31.99 is not.
    assert crossed_thresholds(D(40), D(30), D(32), [D(80), D(100)]) == [D(80)]
    assert crossed_thresholds(D(40), D(30), D("31.99"), [D(80), D(100)]) == []
    assert crossed_thresholds(D(40), D(30), D(40), [D(80), D(100)]) == [D(80), D(100)]
    assert crossed_thresholds(D(40), D(30), D(40), [D(80), D(100)], already=[D(80)]) == [D(100)]
    assert crossed_thresholds(D(40), D(32), D(33), [D(80), D(100)]) == []  # already past 80 before
    assert crossed_thresholds(D(0), D(0), D(1), [D(80)]) == []


def test_drawdown_order_subscription_first_then_earliest_expiry_expired_skipped() -> None:
    on = date(2026, 4, 10)
    grants = [
        lot("g1", "5", None, rank=1),
        lot("g2", "5", date(2026, 5, 1), rank=1),
        lot("g3", "5", None, rank=0),
        lot("g4", "5", date(2026, 6, 1), rank=0),
        lot("g5", "5", date(2026, 4, 10), rank=0),  # expires on `on`: no longer usable
        lot("g6", "0", date(2026, 4, 20), rank=0),  # nothing left
    ]
    assert [g.id for g in drawdown_order(grants, on)] == ["g4", "g3", "g2", "g1"]


def test_allocate_takes_in_order_up_to_what_is_wanted() -> None:
    grants = [lot("a", "3"), lot("b", "4"), lot("c", "10")]
    assert [(g.id, q) for g, q in allocate(grants, D("8.5"))] == [("a", D(3)), ("b", D(4)), ("c", D("1.5"))]
    assert [(g.id, q) for g, q in allocate(grants, D(30))] == [("a", D(3)), ("b", D(4)), ("c", D(10))]


@pytest.mark.parametrize(
    ("kind", "quantity", "price", "currency", "value"),
    [
        (BalanceKind.UNITS, "3", "140", "USD", "420.00"),
        (BalanceKind.UNITS, "2.5", "33.333333", "USD", "83.33"),  # 83.3333325, rounded once
        (BalanceKind.UNITS, "3", "333.5", "JPY", "1001"),  # 1000.5 half up
        (BalanceKind.UNITS, "1", "1.2345", "BHD", "1.235"),
        (BalanceKind.MONEY, "70.00", None, "USD", "70.00"),
    ],
)
def test_refund_value_is_the_price_paid_rounded_once(
    kind: BalanceKind, quantity: str, price: str | None, currency: str, value: str
) -> None:
    assert refund_value(kind, D(quantity), D(price) if price else None, currency) == D(value)
    assert str(refund_value(kind, D(quantity), D(price) if price else None, currency)) == value


def test_periods_end_on_the_bill_cycle_day_clamped_to_the_month() -> None:
    assert next_period_end(date(2026, 3, 15), 15) == date(2026, 4, 15)
    assert next_period_end(date(2027, 1, 31), 31) == date(2027, 2, 28)
    assert next_period_end(date(2027, 2, 28), 31) == date(2027, 3, 31)


# --- a balance over time ------------------------------------------------------------------------


def test_thresholds_warn_once_per_grant_cycle_and_exhaustion_once() -> None:
    b = balance()
    grant(b, "40", date(2026, 3, 20))
    b.events.clear()
    draw(b, "32", date(2026, 3, 21))  # 80 %
    assert [e.threshold for e in b.events if isinstance(e, ThresholdCrossed)] == [D(80)]
    b.events.clear()
    draw(b, "1", date(2026, 3, 21), "r2")
    assert not [e for e in b.events if isinstance(e, ThresholdCrossed)]
    draw(b, "7", date(2026, 3, 22), "r3")  # 40 of 40
    assert [e.threshold for e in b.events if isinstance(e, ThresholdCrossed)] == [D(100)]
    assert [e for e in b.events if isinstance(e, Exhausted)] == [Exhausted(date(2026, 3, 22))]
    assert b.state(date(2026, 3, 22)) is BalanceState.EXHAUSTED
    # A top-up starts a new cycle of 10: 8 used is 80 % again.
    grant(b, "10", date(2026, 3, 23))
    b.events.clear()
    draw(b, "8", date(2026, 3, 23), "r4")
    assert [e.threshold for e in b.events if isinstance(e, ThresholdCrossed)] == [D(80)]
    assert b.state(date(2026, 3, 23)) is BalanceState.ACTIVE


def test_up_to_rollover_across_two_periods() -> None:
    # Cycle day 15, up to 5 hours carry over. 20 granted on 2026-03-20, 8 used: 12 unused on
    # 2026-04-15 → 5 roll into [04-15, 05-15), 7 expire. 10 more on 04-20, 3 used: 12 unused on
    # 05-15 → 5 roll, 7 expire.
    b = balance(rollover=Rollover(RolloverPolicy.UP_TO, D(5)))
    grant(b, "20", date(2026, 3, 20))
    draw(b, "8", date(2026, 3, 25))
    b.settle(date(2026, 4, 14), 15, new_id, AT)
    assert b.period_start == date(2026, 3, 15)  # nothing due yet
    b.new_transactions.clear()
    b.settle(date(2026, 4, 15), 15, new_id, AT)
    assert [(t.kind, t.quantity) for t in b.new_transactions] == [
        (Kind.ROLLOVER_OUT, D(5)),
        (Kind.ROLLOVER_IN, D(5)),
        (Kind.EXPIRY, D(7)),
    ]
    assert b.period_start == date(2026, 4, 15)
    b.new_transactions.clear()
    b.settle(date(2026, 4, 15), 15, new_id, AT)  # the same period end again: nothing
    assert b.new_transactions == []
    grant(b, "10", date(2026, 4, 20))
    draw(b, "3", date(2026, 4, 21))
    b.settle(date(2026, 5, 20), 15, new_id, AT)
    f = b.figures(date(2026, 5, 20))
    assert (f.granted, f.used, f.remaining, f.expired, f.rolled_over) == (D(30), D(11), D(5), D(14), D(10))
    assert b.period_start == date(2026, 5, 15)
    assert b.due_on == date(2026, 6, 15)


def test_expired_grants_are_skipped_then_booked_once() -> None:
    b = balance(rollover=Rollover(RolloverPolicy.ALL))
    grant(b, "10", date(2026, 3, 20), expires_on=date(2026, 4, 1))
    grant(b, "10", date(2026, 3, 20))
    assert b.due_on == date(2026, 4, 1)
    assert b.usable(date(2026, 3, 31)) == D(20)
    assert b.usable(date(2026, 4, 1)) == D(10)
    assert b.figures(date(2026, 4, 1)).expired == D(10)  # shown before it is booked
    b.new_transactions.clear()
    b.settle(date(2026, 4, 2), 15, new_id, AT)
    assert [(t.kind, t.quantity, t.on) for t in b.new_transactions] == [
        (Kind.EXPIRY, D(10), date(2026, 4, 1))
    ]
    changes = [e.change for e in b.events if isinstance(e, BalanceChanged)]
    assert changes[-1] is BalanceChange.EXPIRY


def test_a_grant_expiring_at_the_period_end_expires_rather_than_rolls() -> None:
    b = balance(rollover=Rollover(RolloverPolicy.ALL))
    grant(b, "10", date(2026, 3, 20), expires_on=date(2026, 4, 15))
    b.new_transactions.clear()
    b.settle(date(2026, 4, 15), 15, new_id, AT)
    assert [(t.kind, t.quantity) for t in b.new_transactions] == [(Kind.EXPIRY, D(10))]


def test_the_balance_expiry_caps_its_grants_and_refuses_top_ups_after_it() -> None:
    b = balance(expires_on=date(2026, 6, 1))
    grant(b, "10", date(2026, 3, 20), expires_on=date(2026, 12, 1))
    assert b.grants[0].expires_on == date(2026, 6, 1)
    assert b.state(date(2026, 6, 1)) is BalanceState.EXPIRED
    with pytest.raises(Conflict):
        grant(b, "1", date(2026, 6, 1))


def test_kind_rules_of_a_grant() -> None:
    units, money = balance(), balance(BalanceKind.MONEY)
    with pytest.raises(ValidationFailed) as missing:
        grant(units, "1", date(2026, 3, 20), price=None)
    assert missing.value.errors[0].field == "unit_price"
    with pytest.raises(ValidationFailed):
        money.grant(
            transaction_id="t",
            kind=Kind.TOP_UP,
            quantity=D(1),
            unit_price=D(1),
            expires_on=None,
            on=date(2026, 3, 20),
            at=AT,
        )
    with pytest.raises(ValidationFailed):
        grant(units, "1", date(2026, 3, 20), expires_on=date(2026, 3, 20))


def test_refund_closes_the_balance_and_values_each_grant_at_its_price() -> None:
    # 10 hours at 150.00, then 5 at 140.00; 12 used (10 + 2): 3 left at 140.00 = 420.00.
    b = balance()
    grant(b, "10", date(2026, 3, 20), price="150")
    grant(b, "5", date(2026, 3, 21), price="140")
    draw(b, "12", date(2026, 3, 25))
    lines = b.refund(on=date(2026, 3, 30), at=AT, cancellation_event_id="e1", new_id=new_id)
    assert [(r.transaction.quantity, r.unit_price, r.amount) for r in lines] == [(D(3), D(140), D("420.00"))]
    assert b.state(date(2026, 3, 30)) is BalanceState.CLOSED
    with pytest.raises(Conflict):
        draw(b, "1", date(2026, 3, 30))


def test_a_cancellation_from_a_later_date_refunds_on_that_date() -> None:
    # Cycle day 1, all roll over; 10 hours at 150.00, 4 used; cancelled from 2026-05-01.
    b = balance(period_start=date(2026, 3, 1))
    grant(b, "10", date(2026, 3, 20))
    draw(b, "4", date(2026, 3, 21))
    b.close_on_cancellation(on=date(2026, 5, 1), cancellation_event_id="e9")
    with pytest.raises(Conflict):
        grant(b, "1", date(2026, 3, 22))
    b.new_transactions.clear()
    b.events.clear()
    b.settle(date(2026, 4, 30), 1, new_id, AT)
    assert [t.kind for t in b.new_transactions] == [
        Kind.ROLLOVER_OUT,
        Kind.ROLLOVER_IN,
    ]  # the 04-01 period end
    assert b.closed_on is None and b.due_on == date(2026, 5, 1)
    draw(b, "1", date(2026, 4, 30), "r2")
    b.new_transactions.clear()
    b.settle(date(2026, 5, 3), 1, new_id, AT)
    # The 05-01 period end is booked first, then the 5 unused hours are refunded at 150.00.
    assert [(t.kind, t.quantity, t.amount) for t in b.new_transactions] == [
        (Kind.ROLLOVER_OUT, D(5), None),
        (Kind.ROLLOVER_IN, D(5), None),
        (Kind.REFUND, D(5), D("750.00")),
    ]
    (refunded,) = [e for e in b.events if isinstance(e, Refunded)]
    assert (refunded.on, refunded.cancellation_event_id, b.closed_on) == (
        date(2026, 5, 1),
        "e9",
        date(2026, 5, 1),
    )


# --- no money or unit is created or lost ---------------------------------------------------------

DAY0 = date(2026, 3, 20)
quantities = st.decimals(min_value=D("0.01"), max_value=D(500), places=2)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), quantities, st.one_of(st.none(), st.integers(1, 90)), st.integers(0, 3)),
        st.tuples(st.just("draw"), quantities, st.integers(0, 10)),
        st.tuples(st.just("settle"), st.integers(0, 45)),
        st.tuples(st.just("refund"), st.integers(0, 10)),
        st.tuples(st.just("close"), st.integers(0, 60)),
    ),
    max_size=25,
)
policies = st.one_of(
    st.just(Rollover(RolloverPolicy.NONE)),
    st.just(Rollover(RolloverPolicy.ALL)),
    st.decimals(min_value=0, max_value=100, places=1).map(lambda n: Rollover(RolloverPolicy.UP_TO, n)),
)


def _ledger(b: Balance, transactions: list) -> dict[Kind, Decimal]:
    sums: dict[Kind, Decimal] = defaultdict(Decimal)
    for t in transactions:
        sums[t.kind] += t.quantity
    return sums


@settings(max_examples=400, deadline=None)
@given(
    kind=st.sampled_from(list(BalanceKind)),
    rollover=policies,
    bill_cycle_day=st.integers(1, 31),
    ops=operations,
)
def test_granted_is_always_used_remaining_expired_refunded_and_rolled_over(
    kind: BalanceKind, rollover: Rollover, bill_cycle_day: int, ops: list
) -> None:
    b = balance(kind, rollover=rollover, period_start=monthly_period_containing(DAY0, bill_cycle_day).start)
    today = DAY0
    booked: list = []
    reported: list[Decimal] = []
    for op in ops:
        if b.closed_on is not None:
            break
        if op[0] == "grant" and b.closing_on is None:
            _, quantity, expires_in, price = op
            b.grant(
                transaction_id=new_id(),
                kind=Kind.TOP_UP,
                quantity=quantity,
                unit_price=None if kind is BalanceKind.MONEY else D(price) * D("12.5"),
                expires_on=None if expires_in is None else today + timedelta(days=expires_in),
                on=today,
                at=AT,
            )
            reported = []
        elif op[0] == "draw":
            _, quantity, step = op
            today += timedelta(days=step)
            b.settle(today, bill_cycle_day, new_id, AT)
            usable = b.usable(today) if b.closed_on is None else D(0)
            drawn = draw(b, str(quantity), today, f"r{len(booked)}") if b.closed_on is None else D(0)
            assert drawn == min(quantity, usable)
            assert b.usable(today) == usable - drawn
            crossed = [e.threshold for e in b.events if isinstance(e, ThresholdCrossed)]
            assert not set(crossed) & set(reported), "a threshold warns once per grant cycle"
            reported += crossed
            b.events = [e for e in b.events if not isinstance(e, ThresholdCrossed)]
        elif op[0] == "close" and b.closing_on is None:
            b.close_on_cancellation(on=today + timedelta(days=op[1]), cancellation_event_id="e")
        elif op[0] == "settle":
            today += timedelta(days=op[1])
            b.settle(today, bill_cycle_day, new_id, AT)
            assert b.closed_on is not None or (b.due_on is not None and b.due_on > today)
            if b.closing_on is not None:
                assert (b.closed_on is not None) == (b.closing_on <= today)
        elif op[0] == "refund":
            today += timedelta(days=op[1])
            b.settle(today, bill_cycle_day, new_id, AT)
            if b.closed_on is None:  # (a cancellation from an earlier date may have closed it)
                lines = b.refund(on=today, at=AT, cancellation_event_id="e", new_id=new_id)
                assert sum((r.transaction.quantity for r in lines), D(0)) == b.refunded
                for r in lines:
                    assert r.amount == refund_value(kind, r.transaction.quantity, r.unit_price, b.currency)
        booked += b.new_transactions
        b.new_transactions.clear()
        assert all(g.open_quantity >= 0 for g in b.grants)
        # The counters balance...
        assert b.granted == b.used + b.remaining + b.expired + b.refunded
        f = b.figures(today)
        assert f.granted == f.used + f.remaining + f.expired + f.refunded
        # ...and so do the transactions themselves.
        s = _ledger(b, booked)
        assert s[Kind.ROLLOVER_IN] == s[Kind.ROLLOVER_OUT] == b.rolled_over
        assert s[Kind.GRANT] + s[Kind.TOP_UP] + s[Kind.ROLLOVER_IN] == (
            s[Kind.DRAWDOWN] + b.remaining + s[Kind.EXPIRY] + s[Kind.REFUND] + s[Kind.ROLLOVER_OUT]
        )
        assert s[Kind.DRAWDOWN] == b.used and s[Kind.EXPIRY] == b.expired and s[Kind.REFUND] == b.refunded
