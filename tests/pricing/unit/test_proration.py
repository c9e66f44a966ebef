"""Proration by days of the actual period, unrounded (EXAMPLES case 6)."""

from __future__ import annotations

import pytest

from libs.platform.errors import ValidationFailed
from libs.platform.money import round_money
from libs.pricing import change_proration, prorate_amount

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
