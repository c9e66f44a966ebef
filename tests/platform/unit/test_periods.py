import calendar
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.contracts.vocabulary import BillingFrequency, TermLengthUnknown
from libs.platform.errors import ValidationFailed
from libs.platform.periods import (
    BillingPeriod,
    add_months,
    cycle_date,
    local_date,
    monthly_period_containing,
    period_containing,
    periods_between,
    time_zone,
)


def period(start: str, end: str) -> BillingPeriod:
    return BillingPeriod(date.fromisoformat(start), date.fromisoformat(end))


def test_period_is_half_open() -> None:
    april = period("2026-04-01", "2026-05-01")
    assert april.days == 30
    assert april.contains(date(2026, 4, 1))
    assert april.contains(date(2026, 4, 30))
    assert not april.contains(date(2026, 5, 1))
    assert str(april) == "[2026-04-01, 2026-05-01)"


@pytest.mark.parametrize(("start", "end"), [("2026-04-01", "2026-04-01"), ("2026-05-01", "2026-04-01")])
def test_period_must_end_after_it_starts(start: str, end: str) -> None:
    with pytest.raises(ValidationFailed):
        period(start, end)


def test_cycle_day_31_falls_back_to_the_last_day_of_february() -> None:
    assert cycle_date(2027, 2, 31) == date(2027, 2, 28)
    assert cycle_date(2028, 2, 31) == date(2028, 2, 29)
    assert cycle_date(2026, 4, 31) == date(2026, 4, 30)
    assert cycle_date(2026, 3, 31) == date(2026, 3, 31)


@pytest.mark.parametrize("day", [0, 32, -1, True])
def test_cycle_day_must_be_1_to_31(day: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        cycle_date(2026, 1, day)
    assert caught.value.errors[0].field == "bill_cycle_day"


def test_add_months_recomputes_from_the_original_day() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 2, 28), 1, 31) == date(2026, 3, 31)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 15)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_cycle_day_31_goes_feb_28_then_mar_31() -> None:
    feb = monthly_period_containing(date(2027, 2, 10), 31)
    assert feb == period("2027-01-31", "2027-02-28")
    march = monthly_period_containing(date(2027, 3, 1), 31)
    assert march == period("2027-02-28", "2027-03-31")


def test_quarterly_and_annual_anchor_on_the_start_date() -> None:
    start = date(2026, 1, 31)
    assert period_containing(date(2026, 5, 2), BillingFrequency.QUARTERLY, start) == period(
        "2026-04-30", "2026-07-31"
    )
    assert period_containing(date(2026, 1, 30), BillingFrequency.QUARTERLY, start) == period(
        "2025-10-31", "2026-01-31"
    )
    leap = date(2028, 2, 29)
    assert period_containing(date(2029, 3, 1), BillingFrequency.ANNUAL, leap) == period(
        "2029-02-28", "2030-02-28"
    )
    assert period_containing(date(2032, 2, 29), BillingFrequency.ANNUAL, leap) == period(
        "2032-02-29", "2033-02-28"
    )
    three_years = date(2026, 3, 1)
    assert period_containing(date(2027, 7, 15), "annual", three_years) == period(  # type: ignore[arg-type]
        "2027-03-01", "2028-03-01"
    )


def test_monthly_accepts_a_cycle_day_or_a_date() -> None:
    by_day = period_containing(date(2026, 6, 10), BillingFrequency.MONTHLY, 15)
    by_date = period_containing(date(2026, 6, 10), BillingFrequency.MONTHLY, date(2025, 1, 15))
    assert by_day == by_date == period("2026-05-15", "2026-06-15")


def test_quarterly_needs_a_start_date() -> None:
    with pytest.raises(ValidationFailed):
        period_containing(date(2026, 6, 10), BillingFrequency.QUARTERLY, 15)


def test_periods_between_clips_the_edges() -> None:
    periods = list(periods_between(date(2026, 4, 16), date(2026, 7, 10), BillingFrequency.MONTHLY, 1))
    assert periods == [
        period("2026-04-16", "2026-05-01"),
        period("2026-05-01", "2026-06-01"),
        period("2026-06-01", "2026-07-01"),
        period("2026-07-01", "2026-07-10"),
    ]
    assert list(periods_between(date(2026, 4, 16), date(2026, 4, 16), "monthly", 1)) == []  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        list(periods_between(date(2026, 4, 16), date(2026, 4, 1), BillingFrequency.MONTHLY, 1))


def test_periods_at_the_end_of_the_calendar_are_refused_cleanly() -> None:
    with pytest.raises(ValidationFailed):
        monthly_period_containing(date(9999, 12, 20), 15)


def test_local_date_in_the_account_time_zone() -> None:
    ts = datetime(2026, 1, 1, 3, 30, tzinfo=UTC)
    assert local_date(ts, "UTC") == date(2026, 1, 1)
    assert local_date(ts, "America/New_York") == date(2025, 12, 31)
    assert local_date(datetime(2026, 1, 1, 23, tzinfo=UTC), "Asia/Tokyo") == date(2026, 1, 2)
    other_offset = datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=2)))
    assert local_date(other_offset, "UTC") == date(2025, 12, 31)


def test_local_date_refuses_naive_timestamps() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        local_date(datetime(2026, 1, 1), "UTC")


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../../etc/passwd", "America", "a\x00b"])
def test_unknown_time_zone_is_a_field_error(name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        local_date(datetime(2026, 1, 1, tzinfo=UTC), name)
    assert caught.value.errors[0].field == "time_zone"
    with pytest.raises(ValidationFailed):
        time_zone(name)


# Every monthly period for every cycle day, 2026-2030: contiguous, on min(day, month length).
@pytest.mark.parametrize("day", range(1, 32))
def test_monthly_periods_are_contiguous_for_every_cycle_day(day: int) -> None:
    current = monthly_period_containing(date(2026, 1, 1), day)
    while current.start < date(2031, 1, 1):
        last_day = calendar.monthrange(current.start.year, current.start.month)[1]
        assert current.start.day == min(day, last_day)
        following = monthly_period_containing(current.end, day)
        assert following.start == current.end
        assert monthly_period_containing(current.end - timedelta(days=1), day) == current
        current = following


days_2026_2030 = st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31))
# Billing cycles exist for the fixed frequencies; `term` is refused (see the test at the end).
frequencies = st.sampled_from([f for f in BillingFrequency if f.is_fixed])


@given(days_2026_2030, st.integers(min_value=1, max_value=31))
def test_monthly_period_contains_its_day_and_starts_on_the_cycle_day(d: date, day: int) -> None:
    found = monthly_period_containing(d, day)
    assert found.contains(d)
    last_day = calendar.monthrange(found.start.year, found.start.month)[1]
    assert found.start.day == min(day, last_day)
    assert 28 <= found.days <= 31


@given(days_2026_2030, frequencies, st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
def test_anchored_period_contains_its_day(d: date, frequency: BillingFrequency, anchor: date) -> None:
    found = period_containing(d, frequency, anchor)
    assert found.contains(d)
    assert found.start in {add_months(anchor, k * frequency.months) for k in range(-200, 200)}
    assert period_containing(found.end, frequency, anchor).start == found.end


@given(
    days_2026_2030,
    st.integers(min_value=0, max_value=1500),
    frequencies,
    st.one_of(
        st.integers(min_value=1, max_value=31),
        st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    ),
)
def test_periods_between_covers_the_range_exactly(
    start: date, length: int, frequency: BillingFrequency, anchor: date | int
) -> None:
    if frequency is not BillingFrequency.MONTHLY and not isinstance(anchor, date):
        anchor = date(2026, 1, anchor)
    end = start + timedelta(days=length)
    periods = list(periods_between(start, end, frequency, anchor))
    assert sum(p.days for p in periods) == length
    if periods:
        assert periods[0].start == start
        assert periods[-1].end == end
    for previous, following in pairwise(periods):
        assert previous.end == following.start
    for p in periods:
        full = period_containing(p.start, frequency, anchor)
        assert full.intersection(p) == p


def test_term_billing_has_no_fixed_period_length():
    """`term` is a billing frequency without a length of its own: cycle helpers refuse it."""
    assert BillingFrequency.TERM.is_fixed is False
    with pytest.raises(TermLengthUnknown):
        _ = BillingFrequency.TERM.months
    with pytest.raises(ValidationFailed) as refused:
        period_containing(date(2026, 5, 2), BillingFrequency.TERM, date(2026, 1, 15))
    assert refused.value.errors[0].code == "term_has_no_cycle"
    with pytest.raises(ValidationFailed):
        list(periods_between(date(2026, 1, 1), date(2027, 1, 1), BillingFrequency.TERM, date(2026, 1, 1)))
    assert [f.months for f in BillingFrequency if f.is_fixed] == [1, 3, 12]
