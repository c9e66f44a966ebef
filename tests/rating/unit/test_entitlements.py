"""Entitlement checks: seed 001's "10 ringtones free, then 0.50 each", refusals, prepaid units,
and answers from memory: meters and prices come from the cache, only the aggregate is read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.contracts.vocabulary import PricingModel
from libs.platform.clock import FixedClock
from libs.platform.errors import NotFound
from rating.domain.entitlements import Refusal, marginal_cost
from rating.domain.prices import price_spec
from rating.handlers.entitlements import NO_PRICE, SubscriptionMemory, check_entitlement
from rating.handlers.meters import update_meter
from rating.handlers.price_cache import PriceCache
from rating.schemas.entitlements import entitlement_json, entitlement_public
from rating.schemas.meters import MeterUpdate
from tests.rating.unit.factories_rating import EVENT_AT, account, meter, series, subscription, usage_price
from tests.rating.unit.fakes import FakeRatingUnitOfWork, RatingStore
from tests.rating.unit.fakes_rating import FakePrepaid

D = Decimal
JULY_15 = FixedClock(datetime(2026, 7, 15, 9, tzinfo=UTC))
RINGTONES = usage_price("price_ringtones", product_id="prod_ringtones", unit_price="0.50", included="10")


def _store(used: str | None, *, state: str = "active") -> RatingStore:
    store = RatingStore()
    store.accounts["acct_1"] = account()
    store.subscriptions["sub_1"] = subscription(
        product_id="prod_ringtones", price_id="price_ringtones", charge_type="usage", state=state
    )
    store.meters["ringtones"] = meter("ringtones", "prod_ringtones")
    store.prices[("price_ringtones", 1)] = (RINGTONES, EVENT_AT)
    if used is not None:
        store.add_series(series(used, meter_code="ringtones"))
    return store


async def _check(store: RatingStore, quantity: str = "1", meter_code: str = "ringtones", **kwargs: object):  # type: ignore[no-untyped-def]
    uow = FakeRatingUnitOfWork(store, clock=JULY_15, **kwargs)  # type: ignore[arg-type]
    return await check_entitlement(uow=uow, subscription_id="sub_1", meter=meter_code, quantity=D(quantity))


async def test_the_eleventh_ringtone_costs_fifty_cents() -> None:
    answer = await _check(_store("10"))
    assert answer.allowed and answer.reason is None
    assert (answer.current_quantity, answer.included_quantity, answer.included_remaining) == (10, 10, 0)
    assert (answer.cost, answer.cost_rounded, answer.currency) == (D("0.50"), D("0.50"), "USD")
    assert (answer.price_id, answer.price_version, answer.pricing_model) == ("price_ringtones", 1, "per_unit")
    assert (answer.period_start, answer.period_end) == (date(2026, 7, 1), date(2026, 8, 1))


@pytest.mark.parametrize(
    ("used", "more", "cost", "remaining"),
    [
        (None, "1", "0", "10"),  # nothing used yet: the first is free
        ("9", "1", "0", "1"),  # the 10th is the last free one
        ("9", "2", "0.50", "1"),  # the 10th free, the 11th 0.50
        ("10", "3", "1.50", "0"),
    ],
)
async def test_included_units_first_then_the_unit_price(
    used: str | None, more: str, cost: str, remaining: str
) -> None:
    answer = await _check(_store(used), more)
    assert (answer.cost_rounded, answer.included_remaining) == (D(cost), D(remaining))


async def test_refusals_say_why() -> None:
    suspended = await _check(_store("3", state="suspended"))
    assert not suspended.allowed and suspended.reason == Refusal.SUBSCRIPTION_NOT_ACTIVE
    unknown = await _check(_store("3"), meter_code="sms")
    assert not unknown.allowed and unknown.reason == Refusal.UNKNOWN_METER and unknown.cost is None
    store = _store("3")
    store.meters["ringtones"] = meter("ringtones", "prod_ringtones", active=False)
    assert (await _check(store)).reason == Refusal.METER_INACTIVE
    store = _store("3")
    del store.prices[("price_ringtones", 1)]
    assert (await _check(store)).reason == NO_PRICE
    with pytest.raises(NotFound):
        await check_entitlement(
            uow=FakeRatingUnitOfWork(store, clock=JULY_15),
            subscription_id="sub_x",
            meter="ringtones",
            quantity=D(1),
        )


async def test_prepaid_units_cover_the_units_beyond_the_included_ones_first() -> None:
    answer = await _check(_store("10"), "3", prepaid=FakePrepaid(units=D(2), amount=D("4.00")))
    # 10 used: the next 2 come from the prepaid units, the third costs 0.50.
    assert (answer.cost_rounded, answer.prepaid_units_remaining, answer.prepaid_amount_remaining) == (
        D("0.50"),
        2,
        D("4.00"),
    )


async def test_a_volume_band_can_make_more_usage_cheaper() -> None:
    spec = price_spec(
        usage_price(model=PricingModel.TIERED_VOLUME, bands=[("10000", "0.0100"), (None, "0.0075")]), None
    )
    # 10,000 x 0.0100 = 100.00; 12,345 x 0.0075 = 92.5875 -> 92.59 (EXAMPLES §7).
    cost = marginal_cost(spec, D(10000), D(2345))
    assert (cost.amount, cost.rounded_amount) == (D("-7.4125"), D("-7.41"))


async def test_repeated_checks_read_only_the_aggregate_and_a_suspension_reaches_them_at_once() -> None:
    store = _store("10")
    cache, memory = PriceCache(ttl_s=60), SubscriptionMemory()
    await _check(store, price_cache=cache, check_memory=memory)
    reads = store.reads
    for _ in range(5):
        answer = await _check(store, price_cache=cache, check_memory=memory)
        assert answer.cost_rounded == D("0.50")
    assert store.reads - reads == 5  # the open period's aggregate, nothing else
    # The consumer applies a suspension: once committed, the read model's generation moves on
    # and the kept subscription is read again (no cache to drop by hand, in any process).
    suspended = replace(store.subscriptions["sub_1"], state="suspended")
    uow = FakeRatingUnitOfWork(store, price_cache=cache)
    await uow.subscriptions.save_subscription(suspended)
    assert (await _check(store, price_cache=cache, check_memory=memory)).allowed  # not committed yet
    await uow.commit()
    refused = await _check(store, price_cache=cache, check_memory=memory)
    assert refused.reason == Refusal.SUBSCRIPTION_NOT_ACTIVE
    reads = store.reads
    assert (await _check(store, price_cache=cache, check_memory=memory)).reason == refused.reason
    assert store.reads - reads == 1  # the suspended subscription is kept for the new generation


async def test_a_meter_deactivated_through_the_meters_handler_reaches_cached_checks_at_once() -> None:
    store = _store("10")
    cache = PriceCache(ttl_s=60)
    assert (await _check(store, price_cache=cache)).allowed  # the meter is cached now
    uow = FakeRatingUnitOfWork(store, clock=JULY_15, price_cache=cache)
    await update_meter(uow=uow, meter_id="mtr_ringtones", command=MeterUpdate(active=False))
    assert uow.commits == 1 and uow.audits[0].action == "meter.updated"
    assert (await _check(store, price_cache=cache)).reason == Refusal.METER_INACTIVE
    uow = FakeRatingUnitOfWork(store, clock=JULY_15, price_cache=cache)
    await update_meter(uow=uow, meter_id="mtr_ringtones", command=MeterUpdate(active=True))
    assert (await _check(store, price_cache=cache)).allowed


@given(
    current=st.decimals(min_value=0, max_value=50_000, places=2),
    first=st.decimals(min_value=0, max_value=5_000, places=2),
    second=st.decimals(min_value=0, max_value=5_000, places=2),
    prepaid=st.decimals(min_value=0, max_value=2_000, places=0),
)
def test_costs_of_successive_checks_add_up_to_the_cost_of_both_at_once(
    current: Decimal, first: Decimal, second: Decimal, prepaid: Decimal
) -> None:
    # EXAMPLES §7's graduated price: what two checks cost one after the other is what the line grows by.
    spec = price_spec(
        usage_price(
            model=PricingModel.TIERED_GRADUATED,
            included="1000",
            bands=[("10000", "0.0100"), (None, "0.0075")],
        ),
        None,
    )
    one = marginal_cost(spec, current, first, prepaid)
    two = marginal_cost(spec, current + first, second, prepaid)
    both = marginal_cost(spec, current, first + second, prepaid)
    assert one.amount + two.amount == both.amount
    assert one.rounded_amount + two.rounded_amount == both.rounded_amount
    assert one.amount >= 0 and both.amount <= (first + second) * D("0.0100")


async def test_the_answers_bytes_are_the_views_own() -> None:
    # The route writes `entitlement_json` (no second validation): it must be the model's dump.
    answers = [
        await _check(_store("10"), "3", prepaid=FakePrepaid(units=D(2), amount=D("4.5"))),
        await _check(_store(None), "2.5"),
        await _check(_store("3"), meter_code="sms"),
        await _check(_store("3", state="suspended")),
        replace(await _check(_store("12")), currency="JPY", cost=D("-7.4125"), cost_rounded=D("-7")),
    ]
    for answer in answers:
        assert entitlement_json(answer) == entitlement_public(answer).model_dump_json().encode()
