"""Discounts add up on the list amount, never go below zero, and flag approval strictly above."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.platform.errors import ValidationFailed
from libs.pricing import Discount, DiscountKind, apply_discounts, effective_percent_off
from libs.pricing import needs_approval as needs_approval_for

from .factories import D

PERCENT = DiscountKind.PERCENT
AMOUNT = DiscountKind.AMOUNT


def test_discounts_add_up_on_the_undiscounted_amount() -> None:
    result = apply_discounts(D("1000.00"), [Discount(PERCENT, D(10)), Discount(PERCENT, D(5))], "USD")

    assert [line.amount for line in result.lines] == [D("100.00"), D("50.00")]
    assert result.total_discount == D("150.00")
    assert result.net_amount == D("850.00")
    assert result.effective_percent_off == D(15)


def test_two_discounts_above_100_percent_stop_at_zero() -> None:
    result = apply_discounts(D("200.00"), [Discount(PERCENT, D(70)), Discount(PERCENT, D(60))], "USD")

    assert [line.amount for line in result.lines] == [D("140.00"), D("60.00")]
    assert [line.capped for line in result.lines] == [False, True]
    assert result.net_amount == 0
    assert result.effective_percent_off == D(100)


def test_amount_discount_larger_than_the_line_is_capped() -> None:
    result = apply_discounts(D("30.00"), [Discount(AMOUNT, D("50.00"))], "USD")

    assert result.lines[0].amount == D("30.00")
    assert result.net_amount == 0


def test_each_discount_line_is_rounded_to_the_currency() -> None:
    result = apply_discounts(D("33.33"), [Discount(PERCENT, D("12.5"))], "USD")
    assert result.lines[0].amount == D("4.17")  # 4.16625 half up

    result = apply_discounts(D("999"), [Discount(PERCENT, D("12.5"))], "JPY")
    assert result.lines[0].amount == D("125")  # 124.875


def test_threshold_equal_needs_no_approval() -> None:
    discounts = [Discount(PERCENT, D(20), threshold_percent=D(20))]

    assert not apply_discounts(D("500.00"), discounts, "USD").needs_approval
    assert not needs_approval_for(D("500.00"), discounts)


def test_threshold_strictly_above_needs_approval() -> None:
    discounts = [Discount(PERCENT, D("20.01"), threshold_percent=D(20))]

    assert apply_discounts(D("500.00"), discounts, "USD").needs_approval


def test_combined_discounts_are_compared_with_each_threshold() -> None:
    discounts = [
        Discount(PERCENT, D(10), threshold_percent=D(25)),
        Discount(AMOUNT, D("100.00"), threshold_percent=D(30)),
    ]

    # 10% + 100.00 on 500.00 = 30% off: above the first threshold, equal to the second.
    assert needs_approval_for(D("500.00"), discounts)
    assert not needs_approval_for(D("1000.00"), discounts)  # 20% off


def test_rounding_a_tiny_line_does_not_push_a_discount_over_its_threshold() -> None:
    discounts = [Discount(PERCENT, D(10), threshold_percent=D(10))]

    result = apply_discounts(D("0.05"), discounts, "USD")

    assert result.lines[0].amount == D("0.01")  # 0.005 rounds up: 20% of the line
    assert not result.needs_approval


def test_effective_percent_off() -> None:
    assert effective_percent_off(D("200.00"), D("50.00")) == D(25)
    assert effective_percent_off(D(0), D(0)) == 0


@pytest.mark.parametrize(
    ("list_amount", "discount", "field"),
    [
        (D("-1"), Discount(PERCENT, D(10)), "list_amount"),
        (D("10"), Discount(PERCENT, D(101)), "discounts.0.value"),
        (D("10"), Discount(AMOUNT, D(-1)), "discounts.0.value"),
        (
            D("10"),
            Discount(PERCENT, D(1), threshold_percent=D(120)),
            "discounts.0.threshold_percent",
        ),
    ],
)
def test_bad_discounts_are_refused(list_amount: Decimal, discount: Discount, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        apply_discounts(list_amount, [discount], "USD")

    assert [error.field for error in caught.value.errors] == [field]


discounts = st.lists(
    st.builds(
        Discount,
        st.just(PERCENT),
        st.decimals(min_value=0, max_value=100, places=3),
    )
    | st.builds(
        Discount,
        st.just(AMOUNT),
        st.decimals(min_value=0, max_value=10**6, places=2),
    ),
    max_size=5,
)


@given(
    st.decimals(min_value=0, max_value=10**12, places=4),
    discounts,
    st.sampled_from(["USD", "JPY", "BHD"]),
)
def test_discounts_never_produce_a_negative_net(
    list_amount: Decimal, items: list[Discount], currency: str
) -> None:
    result = apply_discounts(list_amount, items, currency)

    assert result.net_amount >= 0
    assert all(line.amount >= 0 for line in result.lines)
    assert result.net_amount + result.total_discount == result.list_amount
    assert sum((line.amount for line in result.lines), D(0)) == result.total_discount
