"""Rating a closed period with `libs.pricing` (every model, DESIGN §7 / EXAMPLES §1 and §7), and
the period close: due in the account's time zone, rated once, prepaid drawn first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.contracts.usage import UsageRated
from libs.contracts.vocabulary import BillingFrequency, PricingModel, TierMode
from libs.platform.clock import FixedClock
from libs.platform.errors import ValidationFailed
from libs.platform.periods import BillingPeriod
from libs.pricing import rate
from rating.domain.prices import PriceVersion, price_spec
from rating.domain.rated_usage import charge_for, is_closable, quantity_after_prepaid, usage_period
from rating.handlers.rated_usage import close_periods
from tests.rating.unit.factories_rating import (
    EVENT_AT,
    account,
    meter,
    series,
    subscription,
    usage_price,
    wfm_cost_book,
)
from tests.rating.unit.fakes_rating import FakePrepaid, RatingStore, units_of_work

D = Decimal
AUGUST_2 = FixedClock(datetime(2026, 8, 2, 12, tzinfo=UTC))

GRADUATED = usage_price(
    model=PricingModel.TIERED_GRADUATED, included="1000", bands=[("10000", "0.0100"), (None, "0.0075")]
)
VOLUME = usage_price(model=PricingModel.TIERED_VOLUME, bands=[("10000", "0.0100"), (None, "0.0075")])


def _store(price: PriceVersion, *, time_zone: str = "UTC") -> RatingStore:
    store = RatingStore()
    store.accounts["acct_1"] = account(time_zone=time_zone)
    store.subscriptions["sub_1"] = subscription()
    store.meters["api_calls"] = meter()
    store.prices[(price.price_id, price.version)] = (price, EVENT_AT)
    return store


async def _close(store: RatingStore, **kwargs: object) -> list[UsageRated]:
    factory, made = units_of_work(store, clock=kwargs.pop("clock", AUGUST_2), **kwargs)
    await close_periods(units_of_work=factory, chunk_size=2)
    return [e.payload_as(UsageRated) for uow in made for e in uow.envelopes]


async def _rate_one(price: PriceVersion, quantity: str) -> UsageRated:
    store = _store(price)
    store.add_series(series(quantity))
    (rated,) = await _close(store)
    return rated


async def test_examples_7_graduated_with_included_units() -> None:
    rated = await _rate_one(GRADUATED, "12345")
    # 9,000 x 0.0100 + 2,345 x 0.0075 = 90.00 + 17.5875 = 107.5875 -> 107.59
    assert rated.charge_amount == D("107.59") and rated.amount == D("107.59")
    assert rated.included_quantity == 1000 and rated.billable_quantity == 11345
    assert [(t.band_from, t.band_to, t.quantity, t.amount) for t in rated.tiers] == [
        (0, 1000, 1000, 0),
        (1000, 10000, 9000, D("90.0000")),
        (10000, None, 2345, D("17.5875")),
    ]
    assert (rated.price_id, rated.price_version, rated.pricing_model) == ("price_api", 1, "tiered_graduated")


async def test_examples_7_volume_bills_every_unit_at_the_band_of_the_total() -> None:
    rated = await _rate_one(VOLUME, "12345")
    assert rated.charge_amount == D("92.59")  # 12,345 x 0.0075 = 92.5875
    assert [(t.band_from, t.band_to, t.quantity) for t in rated.tiers] == [(10000, None, 12345)]


async def test_per_unit_package_flat_and_minimum_commitment() -> None:
    per_unit = await _rate_one(usage_price(unit_price="0.50", included="10"), "30")
    assert (per_unit.billable_quantity, per_unit.charge_amount) == (20, D("10.00"))  # 20 x 0.50
    package = await _rate_one(
        usage_price(model=PricingModel.PACKAGE, unit_price="5.00", package_size="100"), "250"
    )
    assert package.charge_amount == D("15.00")  # ceil(250 / 100) = 3 packages x 5.00
    flat = await _rate_one(usage_price(model=PricingModel.FLAT, amount="99.00"), "4")
    assert flat.charge_amount == D("99.00")
    floor = await _rate_one(usage_price(unit_price="0.10", minimum="50.00"), "120")
    # 120 x 0.10 = 12.00, lifted to the 50.00 commitment by its own 38.00 line.
    assert (floor.charge_amount, floor.minimum_shortfall, floor.amount) == (
        D("12.00"),
        D("38.00"),
        D("50.00"),
    )


@pytest.mark.parametrize(
    ("mode", "expected"), [(TierMode.VOLUME, "3000.00"), (TierMode.GRADUATED, "3240.00")]
)
async def test_examples_1_cost_plus_seats_through_the_cost_book(mode: TierMode, expected: str) -> None:
    # 250 seats: volume 250 x 10.00 x 1.20 = 3,000.00;
    # graduated (100 x 12.00 + 150 x 10.00) x 1.20 = 3,240.00.
    price = usage_price(model=PricingModel.COST_PLUS, cost_book_id="cb_wfm")
    store = _store(price)
    store.cost_books[("cb_wfm", 1)] = (wfm_cost_book(mode), EVENT_AT)
    store.add_series(series("250"))
    (rated,) = await _close(store)
    assert rated.charge_amount == D(expected)


async def test_jpy_and_bhd_round_to_their_minor_units_half_up() -> None:
    jpy = _store(usage_price(currency="JPY", unit_price="1234.5"))
    jpy.subscriptions["sub_1"] = subscription(currency="JPY")
    jpy.add_series(series("1"))
    bhd = _store(usage_price(currency="BHD", unit_price="1.2345"))
    bhd.subscriptions["sub_1"] = subscription(currency="BHD")
    bhd.add_series(series("1"))
    assert (await _close(jpy))[0].amount == D("1235")  # EXAMPLES §8
    assert (await _close(bhd))[0].amount == D("1.235")


async def test_a_period_closes_once_it_has_ended_in_the_accounts_time_zone() -> None:
    # 2026-07-31T20:00Z is already August 1st in Auckland, still July 31st in Los Angeles.
    evening = FixedClock(datetime(2026, 7, 31, 20, tzinfo=UTC))
    auckland = _store(GRADUATED, time_zone="Pacific/Auckland")
    auckland.add_series(series("12345"))
    los_angeles = _store(GRADUATED, time_zone="America/Los_Angeles")
    los_angeles.add_series(series("12345"))
    assert len(await _close(auckland, clock=evening)) == 1
    assert await _close(los_angeles, clock=evening) == []
    assert is_closable(date(2026, 8, 1), date(2026, 8, 1)) and not is_closable(
        date(2026, 8, 1), date(2026, 7, 31)
    )


async def test_closing_twice_rates_each_period_once_across_chunks() -> None:
    store = _store(GRADUATED)
    for i in range(5):  # chunks of two: three transactions
        store.subscriptions[f"sub_{i}"] = subscription(f"sub_{i}")
        store.add_series(series(str(1000 + i * 1000), subscription_id=f"sub_{i}"))
    store.add_series(series("5", start=date(2026, 8, 1), end=date(2026, 9, 1)))  # still open
    first = await _close(store)
    assert sorted(r.subscription_id for r in first) == [f"sub_{i}" for i in range(5)]
    assert await _close(store) == []
    assert len(store.rated) == 5
    assert {r.id for r in store.rated.values()} == {r.rated_usage_id for r in first}
    assert store.aggregates[("sub_1", "api_calls", date(2026, 8, 1))].rated_at is None


async def test_an_unpriced_period_stays_open_and_is_rated_once_its_price_arrives() -> None:
    store = _store(GRADUATED)
    del store.prices[("price_api", 1)]
    store.add_series(series("12345"))
    assert await _close(store) == []
    assert store.aggregates[("sub_1", "api_calls", date(2026, 7, 1))].rated_at is None
    store.prices[("price_api", 1)] = (GRADUATED, EVENT_AT)
    (rated,) = await _close(store)
    assert rated.amount == D("107.59")


async def test_prepaid_units_come_off_the_quantity_and_prepaid_money_off_the_amount_due() -> None:
    store = _store(usage_price(unit_price="0.50", included="10"))
    store.add_series(series("30"))
    prepaid = FakePrepaid(units=D(5), amount=D("3.00"))
    (rated,) = await _close(store, prepaid=prepaid)
    # 30 used, 10 included, 5 prepaid: 15 x 0.50 = 7.50 charged, 3.00 of it paid from prepaid money.
    assert rated.prepaid_quantity == 5 and rated.billable_quantity == 15
    assert (rated.charge_amount, rated.prepaid_amount, rated.amount) == (D("7.50"), D("3.00"), D("4.50"))
    assert (prepaid.units, prepaid.amount) == (0, 0)
    assert set(prepaid.drawdowns) == {
        "usage:sub_1:api_calls:2026-07-01:units",
        "usage:sub_1:api_calls:2026-07-01:money",
    }
    assert prepaid.dated == [date(2026, 7, 31), date(2026, 7, 31)]  # the period's last day


async def test_prepaid_units_never_cover_included_units_and_money_covers_the_shortfall_too() -> None:
    store = _store(usage_price(unit_price="0.10", included="100", minimum="20.00"))
    store.add_series(series("50"))
    prepaid = FakePrepaid(units=D(1000), amount=D("100.00"))
    (rated,) = await _close(store, prepaid=prepaid)
    assert rated.prepaid_quantity == 0 and prepaid.units == 1000
    assert (rated.charge_amount, rated.minimum_shortfall, rated.prepaid_amount, rated.amount) == (
        D("0.00"),
        D("20.00"),
        D("20.00"),
        D("0.00"),
    )


async def test_late_usage_and_the_event_count_travel_with_the_rating() -> None:
    store = _store(usage_price(unit_price="1.00"))
    store.add_series(series("7", events=4, late="2"))
    (rated,) = await _close(store)
    assert (rated.quantity, rated.event_count, rated.late_quantity, rated.amount) == (7, 4, 2, D("7.00"))
    assert rated.period_start == date(2026, 7, 1) and rated.period_end == date(2026, 8, 1)


def test_a_bad_quantity_is_refused_by_the_engine() -> None:
    spec = price_spec(usage_price(unit_price="1"), None)
    with pytest.raises(ValidationFailed):
        charge_for(spec, D(1), D(2))


@given(
    quantity=st.decimals(min_value=0, max_value=10**7, places=3),
    prepaid=st.decimals(min_value=0, max_value=10**7, places=3),
)
def test_prepaid_units_only_ever_lower_the_charge_and_never_below_the_included(
    quantity: Decimal, prepaid: Decimal
) -> None:
    spec = price_spec(GRADUATED, None)
    left = quantity_after_prepaid(spec, quantity, prepaid)
    assert min(quantity, Decimal(1000)) <= left <= quantity
    assert rate(spec, left).amount <= rate(spec, quantity).amount


async def test_a_close_stops_when_another_holds_the_lock_and_leaves_the_periods_to_it() -> None:
    store = _store(GRADUATED)
    store.add_series(series("12345"))
    store.closing_elsewhere = True
    factory, made = units_of_work(store, clock=AUGUST_2)
    report = await close_periods(units_of_work=factory)
    assert report.busy and report.rated == 0 and made[0].envelopes == []
    store.closing_elsewhere = False
    assert [r.amount for r in await _close(store)] == [D("107.59")]


async def test_a_price_per_term_on_a_term_of_no_whole_months_leaves_the_period_open() -> None:
    term_price = replace(
        usage_price(model=PricingModel.COST_PLUS, cost_book_id="cb_wfm"), billing_period=BillingFrequency.TERM
    )
    store = _store(term_price)
    store.cost_books[("cb_wfm", 1)] = (wfm_cost_book(TierMode.VOLUME), EVENT_AT)
    store.subscriptions["sub_1"] = replace(subscription(), term_end=date(2026, 6, 15))
    store.add_series(series("250"))
    factory, _ = units_of_work(store, clock=AUGUST_2)
    report = await close_periods(units_of_work=factory)
    assert (report.rated, report.unpriced) == (0, 1)
    store.subscriptions["sub_1"] = replace(subscription(), term_end=date(2027, 1, 1))  # 12 months
    (rated,) = await _close(store)
    # The monthly book billed per 12-month term: 250 x 10.00 x 12 x 1.20 = 36,000.00 (EXAMPLES §1).
    assert rated.amount == D("36000.00")


def test_the_period_usage_counts_in_follows_the_subscriptions_billing_frequency() -> None:
    monthly = subscription()
    assert usage_period(monthly, 15, date(2026, 7, 20)) == BillingPeriod(date(2026, 7, 15), date(2026, 8, 15))
    # Cycle day 31 falls back to the month's last day (DESIGN §6).
    assert usage_period(monthly, 31, date(2027, 2, 10)) == BillingPeriod(date(2027, 1, 31), date(2027, 2, 28))
    quarterly = replace(monthly, billing_period="quarterly", term_start=date(2026, 3, 3))
    assert usage_period(quarterly, 1, date(2026, 7, 20)) == BillingPeriod(date(2026, 6, 3), date(2026, 9, 3))
    term = replace(monthly, billing_period="term", term_start=date(2026, 3, 1), term_end=date(2029, 3, 1))
    assert usage_period(term, 1, date(2027, 7, 20)) == BillingPeriod(date(2026, 3, 1), date(2029, 3, 1))
