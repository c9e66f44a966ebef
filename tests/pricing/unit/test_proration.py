"""Proration by days of the actual period, unrounded (EXAMPLES case 6)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.platform.errors import ValidationFailed
from libs.platform.money import round_money
from libs.platform.periods import BillingPeriod, monthly_period_containing
from libs.pricing import change_proration, prorate, prorate_amount

from .factories import D


def test_case6_half_of_april() -> None:
    assert prorate_amount(D("300.00"), 15, 30) == D("150.00")


def test_proration_by_days_of_the_containing_period() -> None:
    # Start 2026-03-03 with cycle day 15: 12 of the 28 days of [2026-02-15, 2026-03-15).
    amount = prorate_amount(D("280.00"), 12, 28)

    assert amount == D("120.00")


def test_proration_is_unrounded_until_the_line_is() -> None:
    amount = prorate_amount(D("100.00"), 1, 3)

    assert amount != round_money(amount, "USD")
    assert round_money(amount, "USD") == D("33.33")


def test_upgrade_mid_period_charges_the_difference_for_the_remaining_days() -> None:
    assert change_proration(D("300.00"), D("450.00"), 10, 30) == D("50.00")


def test_downgrade_mid_period_is_a_credit() -> None:
    assert change_proration(D("450.00"), D("300.00"), 10, 30) == D("-50.00")


def test_full_and_empty_periods() -> None:
    assert prorate_amount(D("300.00"), 30, 30) == D("300.00")
    assert prorate_amount(D("300.00"), 0, 30) == 0


@pytest.mark.parametrize(
    ("used", "period", "fields"),
    [
        (5, 0, ["period_days"]),
        (-1, 30, ["used_days"]),
        (31, 30, ["used_days"]),
    ],
)
def test_bad_days_are_refused(used: int, period: int, fields: list[str]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        prorate_amount(D("300.00"), used, period)

    assert [error.field for error in caught.value.errors] == fields


def period(start: str, end: str) -> BillingPeriod:
    return BillingPeriod(date.fromisoformat(start), date.fromisoformat(end))


days_2026_2030 = st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31))


def test_case_6_proration_in_advance() -> None:
    full = monthly_period_containing(date(2026, 4, 16), 1)
    assert full == period("2026-04-01", "2026-05-01")
    partial = BillingPeriod(date(2026, 4, 16), full.end)
    assert partial.days == 15
    assert prorate(Decimal("300.00"), partial, full) == Decimal("150.00")
    may = monthly_period_containing(full.end, 1)
    assert may == period("2026-05-01", "2026-06-01")
    assert prorate(Decimal("300.00"), may, may) == Decimal("300.00")


def test_proration_uses_the_days_of_the_full_period() -> None:
    full = monthly_period_containing(date(2026, 3, 3), 15)
    assert full == period("2026-02-15", "2026-03-15")
    assert full.days == 28
    partial = BillingPeriod(date(2026, 3, 3), full.end)
    assert partial.days == 12
    share = prorate(Decimal("280.00"), partial, full)
    assert share == Decimal("120.00")
    assert round_money(prorate(Decimal("100.00"), partial, full), "USD") == Decimal("42.86")


def test_prorate_is_not_rounded_and_ignores_days_outside_the_period() -> None:
    full = period("2026-02-15", "2026-03-15")
    third = prorate(Decimal("100"), period("2026-02-15", "2026-02-24"), full)
    assert third != round_money(third, "USD")
    assert prorate(Decimal("100"), period("2026-03-01", "2026-04-01"), full) == Decimal(50)
    assert prorate(Decimal("100"), period("2026-04-01", "2026-05-01"), full) == 0


@given(
    st.decimals(min_value=0, max_value=Decimal("1e12"), places=2, allow_nan=False),
    days_2026_2030,
    st.integers(min_value=1, max_value=31),
    st.lists(st.integers(min_value=1, max_value=30), max_size=6),
)
def test_prorated_consecutive_parts_add_up_to_the_whole(
    amount: Decimal, d: date, day: int, cuts: list[int]
) -> None:
    full = monthly_period_containing(d, day)
    edges = sorted({full.start, full.end} | {full.start + timedelta(days=c) for c in cuts if c < full.days})
    parts = [BillingPeriod(a, b) for a, b in pairwise(edges)]
    total = sum((prorate(amount, p, full) for p in parts), Decimal(0))
    # Shares are unrounded; only the last digits of the default 28-digit context may differ.
    assert abs(total - amount) <= Decimal("1e-20") * max(amount, Decimal(1))
    assert round_money(total, "USD") == amount
