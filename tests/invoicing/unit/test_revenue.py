"""Revenue schedules with plain values: months by day (summing to the line), credits split into
recognised and deferred shares, the waterfall (EXAMPLES §1: 36,000.00 a year, annual in advance)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.domain.revenue import (
    RevenueSchedule,
    WaterfallMovements,
    credit_schedule,
    months_between,
    ratable_months,
    rule_for_line,
    schedule_months,
    spread_credit,
    waterfall,
)
from libs.contracts.vocabulary import RevenueRule
from libs.platform.errors import ValidationFailed

D = Decimal

# 36,000.00 over [2026-03-01, 2027-03-01), 365 days: 31-day months 36,000 x 31/365 = 3,057.534… ->
# 3,057.53, 30-day months 2,958.904… -> 2,958.90; February takes the rest: 36,000.00 - 7 x 3,057.53
# - 4 x 2,958.90 = 2,761.69.
YEAR_1 = [
    ("2026-03", "3057.53"),
    ("2026-04", "2958.90"),
    ("2026-05", "3057.53"),
    ("2026-06", "2958.90"),
    ("2026-07", "3057.53"),
    ("2026-08", "3057.53"),
    ("2026-09", "2958.90"),
    ("2026-10", "3057.53"),
    ("2026-11", "2958.90"),
    ("2026-12", "3057.53"),
    ("2027-01", "3057.53"),
    ("2027-02", "2761.69"),
]


def _schedule(
    amount: str = "36000.00", start: date = date(2026, 3, 1), end: date = date(2027, 3, 1)
) -> RevenueSchedule:
    return RevenueSchedule(
        id="rsch_1",
        invoice_id="inv_1",
        invoice_number="INV-2026-000001",
        account_id="acct_1",
        currency="USD",
        charge_key="recurring:sub_1:2026-03-01:0",
        description="WFM seats",
        product_id="prod_seats",
        rule=RevenueRule.RATABLE,
        invoice_date=start,
        period_start=start,
        period_end=end,
        amount=D(amount),
        tax_amount=D("0.00"),
        months=ratable_months(D(amount), "USD", start, end),
    )


def test_an_annual_line_in_advance_is_recognised_by_days_in_each_month() -> None:
    months = ratable_months(D("36000.00"), "USD", date(2026, 3, 1), date(2027, 3, 1))
    assert [(m.month, str(m.amount)) for m in months] == YEAR_1
    assert months[0].recognize_on == date(2026, 3, 31)
    assert months[-1].recognize_on == date(2027, 2, 28)
    assert sum(m.amount for m in months) == D("36000.00")


def test_the_year_with_a_leap_february_has_366_days() -> None:
    # 36,000 x 31/366 = 3,049.180… ; x 30/366 = 2,950.819… ; February 2028 (29 days) the rest:
    # 36,000.00 - 7 x 3,049.18 - 4 x 2,950.82 = 2,852.46.
    months = ratable_months(D("36000.00"), "USD", date(2027, 3, 1), date(2028, 3, 1))
    amounts = {m.month: str(m.amount) for m in months}
    assert amounts["2027-03"] == "3049.18"
    assert amounts["2027-04"] == "2950.82"
    assert amounts["2028-02"] == "2852.46"


def test_a_period_starting_mid_month_is_split_by_its_days() -> None:
    # 300.00 for [2026-04-16, 2026-05-16): 15 days of April, 15 of May (30 days).
    months = ratable_months(D("300.00"), "USD", date(2026, 4, 16), date(2026, 5, 16))
    assert [(m.month, str(m.amount), m.recognize_on) for m in months] == [
        ("2026-04", "150.00", date(2026, 4, 30)),
        ("2026-05", "150.00", date(2026, 5, 15)),
    ]


def test_jpy_has_no_minor_units() -> None:
    # 100,000 JPY over 2026 (365 days): January 100,000 x 31/365 = 8,493.15… -> 8,493.
    months = ratable_months(D("100000"), "JPY", date(2026, 1, 1), date(2027, 1, 1))
    assert str(months[0].amount) == "8493"
    assert sum(m.amount for m in months) == D("100000")


def test_at_once_rules_recognise_on_the_invoice_date() -> None:
    for rule in (RevenueRule.ON_INVOICE, RevenueRule.ON_FULFILLMENT):
        months = schedule_months(
            rule=rule,
            amount=D("12050.00"),
            currency="USD",
            invoice_date=date(2026, 6, 3),
            period_start=date(2026, 6, 3),
            period_end=date(2026, 6, 4),
        )
        assert [(m.month, str(m.amount), m.posted) for m in months] == [("2026-06", "12050.00", True)]


def test_a_line_without_a_known_product_rule() -> None:
    assert rule_for_line("recurring", None) is RevenueRule.RATABLE
    assert rule_for_line("usage", None) is RevenueRule.ON_INVOICE
    assert rule_for_line("recurring", RevenueRule.ON_INVOICE) is RevenueRule.ON_INVOICE


def test_a_credit_note_reverses_its_share_of_recognised_and_deferred_revenue() -> None:
    # Credit 12,000.00 (a third) on 2026-09-15: March-August are recognised (18,147.92), so a third
    # of it, 6,049.31, is reversed from revenue; the other 5,950.69 comes off September-February
    # (17,852.08) in proportion: 30-day months 2,958.90 -> 1,972.60, 31-day 3,057.53 -> 2,038.35,
    # February the rest, 1,841.14.
    credited, share = credit_schedule(
        _schedule(), credit_id="cn_1", amount=D("12000.00"), tax=D("0.00"), on=date(2026, 9, 15)
    )
    assert (share.recognized_share, share.deferred_share) == (D("6049.31"), D("5950.69"))
    amounts = {m.month: str(m.amount) for m in credited.months}
    assert amounts["2026-08"] == "3057.53"
    assert [amounts[m] for m in ("2026-09", "2026-10", "2026-11", "2026-12", "2027-01", "2027-02")] == [
        "1972.60",
        "2038.35",
        "1972.60",
        "2038.35",
        "2038.35",
        "1841.14",
    ]
    assert credited.remaining == D("24000.00")
    assert sum(m.amount for m in credited.months) - share.recognized_share == D("24000.00")


def test_a_month_posted_by_a_run_counts_as_recognised() -> None:
    schedule = _schedule()
    posted = tuple(
        m if m.month != "2026-09" else type(m)(m.month, m.recognize_on, m.amount, True)
        for m in schedule.months
    )
    _, share = credit_schedule(
        replace(schedule, months=posted),
        credit_id="cn_1",
        amount=D("36000.00"),
        tax=D(0),
        on=date(2026, 9, 15),
    )
    # March-September (posted) = 18,147.92 + 2,958.90.
    assert share.recognized_share == D("21106.82")
    assert share.deferred_share == D("14893.18")


def test_no_credit_beyond_what_remains() -> None:
    with pytest.raises(ValidationFailed):
        credit_schedule(
            _schedule("100.00"), credit_id="cn_1", amount=D("100.01"), tax=D(0), on=date(2026, 3, 1)
        )


def test_a_plain_credit_is_spread_over_the_lines_in_proportion() -> None:
    # Lines of 300.00 and 100.00 taxed 8.75 % (26.25 and 8.75): 100.00 with 8.75 of tax credited
    # on the invoice is 75.00 + 6.56 (8.75 x 26.25/35 = 6.5625) and 25.00 + the rest, 2.19.
    first = replace(_schedule("300.00"), tax_amount=D("26.25"))
    second = replace(_schedule("100.00"), tax_amount=D("8.75"))
    parts = spread_credit([first, second], D("100.00"), D("8.75"), "USD")
    assert [(str(a), str(t)) for _, a, t in parts] == [("75.00", "6.56"), ("25.00", "2.19")]


def test_the_waterfall_carries_the_closing_into_the_next_month() -> None:
    movements = WaterfallMovements()
    movements.add(billed=[("2026-03", D("36000.00"))], recognized=[(m, D(a)) for m, a in YEAR_1])
    rows = waterfall(movements, months_between("2026-02", "2026-04"))
    assert [
        (r.month, str(r.deferred_opening), str(r.billed), str(r.recognized), str(r.deferred_closing))
        for r in rows
    ] == [
        ("2026-02", "0", "0", "0", "0"),
        ("2026-03", "0", "36000.00", "3057.53", "32942.47"),
        ("2026-04", "32942.47", "0", "2958.90", "29983.57"),
    ]
    later = waterfall(movements, ["2027-02"])
    assert (str(later[0].deferred_opening), str(later[0].deferred_closing)) == ("2761.69", "0.00")


def test_months_between_refuses_a_reversed_range_and_non_months() -> None:
    with pytest.raises(ValidationFailed):
        months_between("2026-05", "2026-04")
    with pytest.raises(ValidationFailed):
        months_between("2026-13", "2027-01")
    assert months_between("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]


amounts = st.decimals(min_value=D("0.01"), max_value=D("10000000"), places=2)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(amount=amounts, start=starts, days=st.integers(min_value=1, max_value=1200))
def test_schedule_months_sum_exactly_to_the_line(amount: Decimal, start: date, days: int) -> None:
    months = ratable_months(amount, "USD", start, start + timedelta(days=days))
    assert sum(m.amount for m in months) == amount
    assert all(m.amount.as_tuple().exponent >= -2 for m in months)
    assert len({m.month for m in months}) == len(months)


@given(
    amount=amounts,
    start=starts,
    days=st.integers(min_value=1, max_value=1200),
    fraction=st.fractions(min_value=0, max_value=1),
    offset=st.integers(min_value=-30, max_value=1300),
)
def test_a_credit_takes_exactly_its_amount_and_never_more_than_each_month(
    amount: Decimal, start: date, days: int, fraction: object, offset: int
) -> None:
    schedule = _schedule(str(amount), start, start + timedelta(days=days))
    credit = (amount * D(fraction.numerator) / D(fraction.denominator)).quantize(D("0.01"))  # type: ignore[attr-defined]
    credited, share = credit_schedule(
        schedule, credit_id="cn", amount=credit, tax=D(0), on=start + timedelta(days=offset)
    )
    assert share.recognized_share + share.deferred_share == credit
    assert credited.remaining == amount - credit
    assert sum(m.amount for m in credited.months) == amount - share.deferred_share
    assert all(m.amount >= 0 for m in credited.months)


def test_a_second_credit_splits_what_remains_after_the_first() -> None:
    # After 12,000.00 on 2026-09-15 (6,049.31 recognised reversed), 24,000.00 remain: recognised
    # net 18,147.92 - 6,049.31 = 12,098.61, deferred 11,901.39. Crediting all of it on the same day
    # reverses exactly those two.
    once, _ = credit_schedule(
        _schedule(), credit_id="cn_1", amount=D("12000.00"), tax=D(0), on=date(2026, 9, 15)
    )
    twice, share = credit_schedule(
        once, credit_id="cn_2", amount=D("24000.00"), tax=D(0), on=date(2026, 9, 15)
    )
    assert (share.recognized_share, share.deferred_share) == (D("12098.61"), D("11901.39"))
    assert twice.remaining == 0
    assert all(m.amount == 0 for m in twice.months if m.month >= "2026-09")


@given(
    amount=amounts,
    start=starts,
    days=st.integers(min_value=1, max_value=800),
    fractions=st.lists(st.fractions(min_value=0, max_value=1), min_size=1, max_size=3),
    offsets=st.lists(st.integers(min_value=-30, max_value=900), min_size=3, max_size=3),
)
def test_credits_in_date_order_never_reverse_more_than_was_recognised_or_deferred(
    amount: Decimal, start: date, days: int, fractions: list[object], offsets: list[int]
) -> None:
    schedule = _schedule(str(amount), start, start + timedelta(days=days))
    reversed_recognised = D(0)
    for fraction, offset in zip(fractions, sorted(offsets), strict=False):
        credit = (schedule.remaining * D(fraction.numerator) / D(fraction.denominator)).quantize(
            D("0.01"), rounding="ROUND_DOWN"
        )  # type: ignore[attr-defined]
        schedule, share = credit_schedule(
            schedule, credit_id="cn", amount=credit, tax=D(0), on=start + timedelta(days=offset)
        )
        assert share.recognized_share >= 0 and share.deferred_share >= 0
        reversed_recognised += share.recognized_share
    assert all(m.amount >= 0 for m in schedule.months)
    assert sum(m.amount for m in schedule.months) - reversed_recognised == schedule.remaining


def test_the_last_months_of_the_calendar() -> None:
    assert months_between("9999-11", "9999-12") == ["9999-11", "9999-12"]
    rows = waterfall(WaterfallMovements(), months_between("9999-12", "9999-12"))
    assert [r.month for r in rows] == ["9999-12"]
