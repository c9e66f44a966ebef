"""The read model kept from provisioning's and the catalog's events: the newest state wins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from libs.contracts import catalog, provisioning
from libs.contracts.vocabulary import ChargeType, PricingModel, TierMode
from rating.handlers.price_cache import PriceCache
from rating.handlers.prices import apply_cost_book_published, apply_price_published
from rating.handlers.subscriptions import apply_account_event, apply_subscription_event
from tests.rating.unit.fakes_rating import FakeRatingUnitOfWork, RatingStore

T0 = datetime(2026, 7, 1, 9, tzinfo=UTC)


def _account(time_zone: str) -> provisioning.AccountOpened:
    return provisioning.AccountOpened(
        account_id="acct_1",
        customer_id="cus_1",
        name="Acme",
        currency="EUR",
        bill_cycle_day=15,
        time_zone=time_zone,
        payment_terms_days=30,
        delivery="email",
        tax=provisioning.TaxInfo(treatment="taxable"),
    )


def _subscription(
    model: type[provisioning.SubscriptionEvent], state: str, quantity: str, **extra: object
) -> provisioning.SubscriptionEvent:
    return model(
        subscription_id="sub_1",
        account_id="acct_1",
        product_id="prod_ringtones",
        price_id="price_ringtones",
        price_version=2,
        currency="EUR",
        unit_price="0.50",
        discount_percent="0",
        charge_type="usage",
        billing_period="monthly",
        quantity=quantity,
        commitment_quantity="0",
        license_type="pay_as_you_go",
        term_start=date(2026, 7, 1),
        term_end=date(2027, 7, 1),
        renewal="expire",
        state=state,
        effective_date=date(2026, 7, 1),
        **extra,
    )


async def test_an_older_account_or_subscription_event_changes_nothing() -> None:
    store = RatingStore()
    uow = FakeRatingUnitOfWork(store)
    assert await apply_account_event(uow=uow, profile=_account("Europe/Paris"), occurred_at=T0)
    assert not await apply_account_event(
        uow=uow, profile=_account("UTC"), occurred_at=T0 - timedelta(seconds=1)
    )
    assert (
        store.accounts["acct_1"].time_zone == "Europe/Paris" and store.accounts["acct_1"].bill_cycle_day == 15
    )

    activated = _subscription(provisioning.SubscriptionActivated, "active", "1")
    suspended = _subscription(provisioning.SubscriptionSuspended, "suspended", "1", reason="unpaid")
    assert await apply_subscription_event(
        uow=uow, event=suspended, occurred_at=T0 + timedelta(days=3), event_kind="subscription.suspended"
    )
    # The activation is redelivered after the suspension: the subscription stays suspended.
    assert not await apply_subscription_event(
        uow=uow, event=activated, occurred_at=T0, event_kind="subscription.activated"
    )
    stored = store.subscriptions["sub_1"]
    assert (stored.state, stored.event_kind, stored.price_version, stored.charge_type) == (
        "suspended",
        "subscription.suspended",
        2,
        "usage",
    )
    assert not stored.is_usable


def _price(version: int, effective_from: date, previous_end: date | None = None) -> catalog.PricePublished:
    return catalog.PricePublished(
        price_id="price_ringtones",
        version=version,
        product_id="prod_ringtones",
        currency="EUR",
        charge_type=ChargeType.USAGE,
        billing_period="monthly",
        timing="in_arrears",
        model=PricingModel.TIERED_GRADUATED,
        tiers=[catalog.TierTerms(up_to="100", unit_price="0.50"), catalog.TierTerms(unit_price="0.40")],
        included_quantity="10",
        effective_from=effective_from,
        previous_version_effective_to=previous_end,
    )


async def test_a_new_price_version_ends_its_predecessor_and_drops_the_cache_on_commit() -> None:
    store = RatingStore()
    cache = PriceCache(ttl_s=60)
    cache._specs[("x",)] = object()  # type: ignore[assignment]
    uow = FakeRatingUnitOfWork(store, price_cache=cache)
    await apply_price_published(uow=uow, event=_price(1, date(2026, 1, 1)), occurred_at=T0)
    assert cache._specs == {}
    await apply_price_published(
        uow=uow,
        event=_price(2, date(2026, 8, 1), previous_end=date(2026, 8, 1)),
        occurred_at=T0 + timedelta(hours=1),
    )
    v1, v2 = store.prices[("price_ringtones", 1)][0], store.prices[("price_ringtones", 2)][0]
    assert v1.effective_to == date(2026, 8, 1) and v2.effective_to is None
    assert v2.terms.included_quantity == 10 and [t.unit_price for t in v2.terms.tiers] == [
        Decimal("0.50"),
        Decimal("0.40"),
    ]
    # Version 1 redelivered (replay): it keeps the end its successor gave it.
    await apply_price_published(uow=uow, event=_price(1, date(2026, 1, 1)), occurred_at=T0)
    assert store.prices[("price_ringtones", 1)][0].effective_to == date(2026, 8, 1)


async def test_a_cost_book_version_is_kept_with_its_markup_and_period() -> None:
    store = RatingStore()
    event = catalog.CostBookPublished(
        cost_book_id="cb_wfm",
        version=1,
        vendor_id="ven_wfm",
        currency="USD",
        mode=TierMode.VOLUME,
        markup_percent="20",
        tiers=[catalog.TierTerms(up_to="100", unit_price="12.00"), catalog.TierTerms(unit_price="10.00")],
        effective_from=date(2026, 1, 1),
    )
    assert await apply_cost_book_published(uow=FakeRatingUnitOfWork(store), event=event, occurred_at=T0)
    book = store.cost_books[("cb_wfm", 1)][0]
    assert (book.markup_percent, book.mode, book.tier_period.value) == (20, TierMode.VOLUME, "monthly")
