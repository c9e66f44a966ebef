"""A change of the account's bill-cycle day: periods already billed stay as they were billed.

The next period after the change runs from the end of the last billed period to the new cycle
day, prorated by day against the new cycle's full month; the periods after it fall on the new
day. Expected amounts are worked out from the case's numbers (days, price), not by the code.
"""

from __future__ import annotations

import dataclasses
from datetime import date

from invoicing.domain.billing_inputs import BillingInputs
from invoicing.domain.charges import ChargeKind, ChargeLine, charges_due
from libs.contracts.vocabulary import BillingTiming

from .factories_charges import D, account, inputs, subscription, version, with_billed

TERM = (date(2026, 4, 1), date(2027, 4, 1))


def _amounts(lines: list[ChargeLine]) -> list[D]:
    return [line.amount for line in lines]


def _spans(lines: list[ChargeLine]) -> list[tuple[date | None, date | None]]:
    return [(line.period_start, line.period_end) for line in lines]


def _billed_through(given: BillingInputs, *run_dates: date) -> BillingInputs:
    for number, through in enumerate(run_dates):
        given = with_billed(given, charges_due(given, through=through), f"inv_{number}")
    return given


def _on_cycle_day(given: BillingInputs, day: int) -> BillingInputs:
    return dataclasses.replace(given, account=dataclasses.replace(given.account, bill_cycle_day=day))


def test_moving_the_cycle_day_later_bills_the_gap_to_the_new_day_then_full_months() -> None:
    # 300.00 a month in advance on the 1st; April and May billed; then the cycle day moves to 15.
    billed = _billed_through(
        inputs(subscription(version(date(2026, 4, 1), term=TERM)), billing_account=account(day=1)),
        date(2026, 4, 1),
        date(2026, 5, 1),
    )
    moved = _on_cycle_day(billed, 15)

    lines = charges_due(moved, through=date(2026, 6, 15))

    # June 1-14 is 14 days of the new cycle's month May 15 - June 14 (31 days): 300 x 14 / 31
    # = 135.4838... -> 135.48; then June 15 - July 14 in full. Nothing of April or May again.
    assert _amounts(lines) == [D("135.48"), D("300.00")]
    assert _spans(lines) == [(date(2026, 6, 1), date(2026, 6, 15)), (date(2026, 6, 15), date(2026, 7, 15))]
    assert all(line.kind is ChargeKind.RECURRING for line in lines)
    assert "14 of 31 days" in lines[0].description


def test_after_the_move_reruns_give_nothing_and_later_months_fall_on_the_new_day() -> None:
    billed = _billed_through(
        inputs(subscription(version(date(2026, 4, 1), term=TERM)), billing_account=account(day=1)),
        date(2026, 4, 1),
        date(2026, 5, 1),
    )
    moved = _billed_through(_on_cycle_day(billed, 15), date(2026, 6, 15))

    assert charges_due(moved, through=date(2026, 6, 15)) == []
    assert charges_due(moved, through=date(2026, 7, 1)) == []
    july = charges_due(moved, through=date(2026, 7, 15))
    assert _amounts(july) == [D("300.00")]
    assert _spans(july) == [(date(2026, 7, 15), date(2026, 8, 15))]


def test_moving_the_cycle_day_earlier_bills_the_rest_of_the_new_month() -> None:
    # Billed on the 15th: April 15 - May 14 and May 15 - June 14; the cycle day moves to the 1st.
    billed = _billed_through(
        inputs(
            subscription(version(date(2026, 4, 15), term=(date(2026, 4, 15), date(2027, 4, 15)))),
            billing_account=account(day=15),
        ),
        date(2026, 4, 15),
        date(2026, 5, 15),
    )
    lines = charges_due(_on_cycle_day(billed, 1), through=date(2026, 7, 1))

    # June 15-30 is 16 of June's 30 days: 300 x 16 / 30 = 160.00; then July in full.
    assert _amounts(lines) == [D("160.00"), D("300.00")]
    assert _spans(lines) == [(date(2026, 6, 15), date(2026, 7, 1)), (date(2026, 7, 1), date(2026, 8, 1))]


def test_a_move_from_the_31st_keeps_the_february_period_as_billed() -> None:
    # Cycle day 31: January 31 - February 27 and February 28 - March 30 billed (28 and 31 days).
    billed = _billed_through(
        inputs(
            subscription(version(date(2027, 1, 31), term=(date(2027, 1, 31), date(2028, 1, 31)))),
            billing_account=account(day=31),
        ),
        date(2027, 1, 31),
        date(2027, 2, 28),
    )
    lines = charges_due(_on_cycle_day(billed, 10), through=date(2027, 4, 10))

    # From March 31 to April 9: 10 days of March 10 - April 9 (31 days): 300 x 10 / 31 = 96.774...
    assert _amounts(lines) == [D("96.77"), D("300.00")]
    assert _spans(lines) == [(date(2027, 3, 31), date(2027, 4, 10)), (date(2027, 4, 10), date(2027, 5, 10))]


def test_in_arrears_the_short_period_is_due_at_the_new_cycle_day() -> None:
    billed = _billed_through(
        inputs(
            subscription(version(date(2026, 4, 1), term=TERM), timing=BillingTiming.IN_ARREARS),
            billing_account=account(day=1),
        ),
        date(2026, 5, 1),
        date(2026, 6, 1),
    )
    moved = _on_cycle_day(billed, 15)

    assert charges_due(moved, through=date(2026, 6, 14)) == []
    lines = charges_due(moved, through=date(2026, 6, 15))
    assert _amounts(lines) == [D("135.48")]
    assert _spans(lines) == [(date(2026, 6, 1), date(2026, 6, 15))]
