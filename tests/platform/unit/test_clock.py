"""The one clock of business dates: the date of an instant in an IANA zone, and a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from libs.platform.clock import SYSTEM_CLOCK, FixedClock, business_date
from libs.platform.errors import ValidationFailed


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        ("Pacific/Auckland", datetime(2026, 11, 30, 12, tzinfo=UTC), date(2026, 12, 1)),  # UTC+13
        ("America/Los_Angeles", datetime(2026, 12, 1, 3, tzinfo=UTC), date(2026, 11, 30)),  # UTC-8
        ("UTC", datetime(2026, 11, 30, 23, 59, tzinfo=UTC), date(2026, 11, 30)),
    ],
)
def test_the_business_date_is_the_date_of_now_in_the_zone(zone: str, now: datetime, expected: date) -> None:
    assert business_date(zone, now=now) == expected
    assert business_date(zone, now=FixedClock(now).now()) == expected


def test_without_now_the_business_date_is_todays_in_the_zone() -> None:
    before = SYSTEM_CLOCK.now().date()
    assert business_date("UTC") in {before, before + timedelta(days=1)}


def test_an_unknown_zone_is_a_field_error_and_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        business_date("Mars/Olympus", now=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="no time zone"):
        business_date("UTC", now=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="aware"):
        FixedClock(datetime(2026, 1, 1))


def test_a_fixed_clock_answers_its_instant_in_utc() -> None:
    at = datetime(2026, 12, 1, 1, tzinfo=timezone(timedelta(hours=13)))
    assert FixedClock(at).now() == at
    assert FixedClock(at).now().tzinfo is UTC
