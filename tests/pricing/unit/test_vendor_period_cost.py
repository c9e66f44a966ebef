"""The vendor's cost for a billing period (DESIGN §7 "Periods of prices"): the book's cost for its
own period x how many of them the billing period holds (EXAMPLES §1)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from libs.contracts.vocabulary import TierMode, TierPeriod
from libs.platform.errors import ValidationFailed
from libs.pricing import CostBook, Tier, vendor_period_cost

BANDS = (
    Tier(Decimal(100), Decimal("12.00")),
    Tier(Decimal(500), Decimal("10.00")),
    Tier(None, Decimal("8.50")),
)


def _book(mode: TierMode = TierMode.VOLUME, period: TierPeriod = TierPeriod.MONTHLY) -> CostBook:
    return CostBook(tiers=BANDS, mode=mode, markup_percent=Decimal(20), period=period)


def test_a_monthly_volume_book_billed_annually_is_twelve_months_of_the_band() -> None:
    # 250 seats x 10.00 x 12 = 30,000.00 (no markup: what the vendor bills us).
    assert vendor_period_cost(_book(), Decimal(250), "annual") == Decimal("30000.00")
    assert vendor_period_cost(_book(), Decimal(250), "monthly") == Decimal("2500.00")


def test_a_graduated_book_bills_each_band_then_the_period() -> None:
    # (100 x 12.00 + 150 x 10.00) x 12 = 2,700.00 x 12 = 32,400.00.
    assert vendor_period_cost(_book(TierMode.GRADUATED), Decimal(250), "annual") == Decimal("32400.00")


def test_a_term_is_its_months() -> None:
    assert vendor_period_cost(_book(), Decimal(250), "term", 36) == Decimal("90000.00")


def test_a_quarterly_book_cannot_say_what_a_month_costs() -> None:
    with pytest.raises(ValidationFailed):
        vendor_period_cost(_book(period=TierPeriod.QUARTERLY), Decimal(250), "monthly")
