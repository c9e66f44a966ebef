"""Which price rates a subscription's meter: the pinned version or the meter product's usage
price in force on the period's first day; the read model's version rules."""

from __future__ import annotations

from datetime import date

from libs.contracts.vocabulary import BillingFrequency, ChargeType, PricingModel, TierMode
from rating.domain.prices import price_spec, term_months, version_in_force
from rating.domain.rated_usage import choose_usage_price, price_wanted
from rating.handlers.price_cache import PriceCache, Unpriced
from tests.rating.unit.factories_rating import EVENT_AT, meter, subscription, usage_price, wfm_cost_book
from tests.rating.unit.fakes_rating import FakeRatingUnitOfWork, RatingStore

JULY = date(2026, 7, 1)


def test_the_version_in_force_is_the_latest_started_unless_it_has_ended() -> None:
    v1 = usage_price(version=1, effective_from=date(2026, 1, 1), effective_to=date(2026, 7, 1))
    v2 = usage_price(version=2, effective_from=date(2026, 7, 1), effective_to=date(2026, 10, 1))
    assert version_in_force([v1, v2], date(2026, 6, 30)) == v1
    assert version_in_force([v1, v2], date(2026, 7, 1)) == v2
    assert version_in_force([v2, v1], date(2026, 9, 30)) == v2
    assert version_in_force([v1, v2], date(2026, 10, 1)) is None  # v2 had its own end
    assert version_in_force([v1, v2], date(2025, 12, 31)) is None


def test_a_successor_wins_even_when_its_predecessor_still_shows_no_end() -> None:
    # v2's event came first: v1 was stored later with the open end it was published with.
    v1 = usage_price(version=1, effective_from=date(2026, 1, 1))
    v2 = usage_price(version=2, effective_from=date(2026, 7, 1))
    assert version_in_force([v1, v2], date(2026, 8, 15)) == v2
    assert version_in_force([v1, v2], date(2026, 6, 15)) == v1


def test_the_pinned_version_rates_a_subscription_to_the_meters_own_product() -> None:
    sub = subscription(product_id="prod_api", price_id="price_api", price_version=1, charge_type="usage")
    pinned = usage_price(version=1, unit_price="0.50")
    newer = usage_price(version=2, unit_price="0.40", effective_from=date(2026, 3, 1))
    wanted = price_wanted(sub, meter(), JULY)
    assert wanted.pinned == ("price_api", 1)
    # The newer version is in force in July, but the subscription keeps the version it pinned.
    assert choose_usage_price(wanted, pinned, [pinned, newer]) == pinned
    # The pinned version not received yet: nothing rates it (not another version in its place).
    assert choose_usage_price(wanted, None, [newer]) is None


def test_another_products_usage_price_in_the_subscriptions_currency_in_force_on_the_first_day() -> None:
    sub = subscription(product_id="prod_platform", currency="EUR")
    march = usage_price(
        "price_api_eur", version=1, currency="EUR", unit_price="0.10", effective_to=date(2026, 7, 2)
    )
    july = usage_price(
        "price_api_eur", version=2, currency="EUR", unit_price="0.08", effective_from=date(2026, 7, 2)
    )
    dollars = usage_price("price_api_usd", currency="USD", unit_price="0.09")
    recurring = usage_price("price_api_rec", currency="EUR", unit_price="9", charge_type=ChargeType.RECURRING)
    versions = [recurring, march, july, dollars]
    assert choose_usage_price(price_wanted(sub, meter(), JULY), None, versions) == march
    assert choose_usage_price(price_wanted(sub, meter(), date(2026, 8, 1)), None, versions) == july
    assert (
        choose_usage_price(price_wanted(subscription(currency="JPY"), meter(), JULY), None, versions) is None
    )


def test_a_pinned_price_that_is_not_a_usage_price_leaves_the_meter_to_the_products_usage_price() -> None:
    sub = subscription(product_id="prod_api", price_id="price_seat", charge_type=None)
    seat = usage_price("price_seat", unit_price="30", charge_type=ChargeType.RECURRING)
    per_call = usage_price("price_api", unit_price="0.01")
    assert choose_usage_price(price_wanted(sub, meter(), JULY), seat, [per_call]) == per_call


def test_a_cost_plus_price_takes_the_cost_book_version_in_force_and_the_term_in_months() -> None:
    price = usage_price(model=PricingModel.COST_PLUS, cost_book_id="cb_wfm")
    spec = price_spec(price, wfm_cost_book(TierMode.VOLUME), months=36)
    assert spec.cost_book is not None and spec.cost_book.markup_percent == 20
    assert spec.term_months is None  # billed monthly: the term does not matter
    assert term_months(date(2026, 3, 1), date(2029, 3, 1)) == 36
    assert term_months(date(2026, 3, 1), date(2026, 3, 15)) is None
    term_price = usage_price(model=PricingModel.COST_PLUS, cost_book_id="cb_wfm")
    term_price = type(term_price)(**{**term_price.__dict__, "billing_period": BillingFrequency.TERM})
    assert price_spec(term_price, wfm_cost_book(TierMode.VOLUME), months=36).term_months == 36


async def test_the_price_book_says_why_a_series_cannot_be_priced_yet() -> None:
    store = RatingStore()
    uow = FakeRatingUnitOfWork(store)
    cost_plus = usage_price(model=PricingModel.COST_PLUS, cost_book_id="cb_wfm")
    store.prices[("price_api", 1)] = (cost_plus, EVENT_AT)
    wanted = price_wanted(subscription(), meter(), JULY)
    resolved = (await PriceCache().price_book(uow, [wanted])).resolve(wanted)
    assert isinstance(resolved, Unpriced) and "cost book cb_wfm" in resolved.reason
    store.cost_books[("cb_wfm", 1)] = (wfm_cost_book(TierMode.VOLUME), EVENT_AT)
    resolved = (await PriceCache().price_book(uow, [wanted])).resolve(wanted)
    assert not isinstance(resolved, Unpriced) and resolved.price == cost_plus


async def test_the_cache_reads_the_store_once_per_ttl_and_forgets_on_invalidation() -> None:
    store = RatingStore()
    store.prices[("price_api", 1)] = (usage_price(unit_price="0.50"), EVENT_AT)
    store.meters["api_calls"] = meter()
    now = [100.0]
    cache = PriceCache(ttl_s=30, now=lambda: now[0])
    uow = FakeRatingUnitOfWork(store, price_cache=cache)
    wanted = price_wanted(subscription(), meter(), JULY)
    for _ in range(3):
        await cache.meters(uow, ["api_calls"])
        await cache.price_book(uow, [wanted])
    assert cache.loads == 2  # meters once, product prices once
    now[0] += 31
    await cache.price_book(uow, [wanted])
    assert cache.loads == 3
    cache.invalidate()
    await cache.price_book(uow, [wanted])
    assert cache.loads == 4
