"""The events rating consumes — provisioning's accounts, subscriptions and a cancellation, the
catalog's prices and cost books — as their producers send them, with test defaults: one builder
each for the unit and integration tests."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from libs.contracts import catalog, provisioning
from libs.contracts.vocabulary import ChargeType, PricingModel, TierMode

E = TypeVar("E", bound=provisioning.SubscriptionEvent)


def account_opened(
    account_id: str = "acct_1",
    *,
    currency: str = "USD",
    bill_cycle_day: int = 1,
    time_zone: str = "UTC",
    model: type[provisioning.AccountProfile] = provisioning.AccountOpened,
) -> provisioning.AccountProfile:
    """`account.opened` (or another account event) of a taxable account billed by email."""
    return model(
        account_id=account_id,
        customer_id="cus_1",
        name="Acme",
        currency=currency,
        bill_cycle_day=bill_cycle_day,
        time_zone=time_zone,
        payment_terms_days=30,
        delivery="email",
        tax=provisioning.TaxInfo(treatment="taxable"),
    )


def subscription_event(
    model: type[E],
    subscription_id: str = "sub_1",
    account_id: str = "acct_1",
    *,
    state: str = "active",
    **fields: Any,
) -> E:
    """A subscription event: seed 001's ringtones (usage, 0.50 each, monthly) from 2026-07-01 for a
    year unless `fields` say otherwise."""
    terms: dict[str, Any] = {
        "product_id": "prod_ringtones",
        "price_id": "price_ringtones",
        "price_version": 1,
        "currency": "USD",
        "unit_price": "0.50",
        "discount_percent": "0",
        "charge_type": "usage",
        "billing_period": "monthly",
        "quantity": "1",
        "commitment_quantity": "0",
        "license_type": "pay_as_you_go",
        "term_start": date(2026, 7, 1),
        "term_end": date(2027, 7, 1),
        "renewal": "expire",
        "effective_date": date(2026, 7, 1),
    }
    terms.update(fields)
    return model(subscription_id=subscription_id, account_id=account_id, state=state, **terms)


def subscription_cancelled(
    subscription_id: str = "sub_1", account_id: str = "acct_1", *, on: date
) -> provisioning.SubscriptionCancelled:
    """`subscription.cancelled` of a 2026 support subscription (150.00), effective `on`, before its end."""
    return subscription_event(
        provisioning.SubscriptionCancelled,
        subscription_id,
        account_id,
        state="cancelled",
        product_id="prod_support",
        price_id="price_support",
        unit_price="150",
        charge_type=None,
        billing_period=None,
        license_type="subscription",
        term_start=date(2026, 1, 1),
        term_end=date(2027, 1, 1),
        effective_date=on,
        ended_before_term=True,
    )


def price_published(**fields: Any) -> catalog.PricePublished:
    """`catalog.price_published`: seed 001's ringtones usage price (10 free, then 0.50 each, monthly,
    in USD from 2026-01-01) unless `fields` say otherwise."""
    terms: dict[str, Any] = {
        "price_id": "price_ringtones",
        "version": 1,
        "product_id": "prod_ringtones",
        "currency": "USD",
        "charge_type": ChargeType.USAGE,
        "billing_period": "monthly",
        "timing": "in_arrears",
        "model": PricingModel.PER_UNIT,
        "unit_price": "0.50",
        "included_quantity": "10",
        "effective_from": date(2026, 1, 1),
    }
    terms.update(fields)
    return catalog.PricePublished(**terms)


def cost_book_published(mode: TierMode = TierMode.VOLUME) -> catalog.CostBookPublished:
    """`catalog.cost_book_published`: EXAMPLES §1's vendor book (1-100 seats 12.00, then 10.00 per
    seat per month; markup 20%) from 2026-01-01."""
    return catalog.CostBookPublished(
        cost_book_id="cb_wfm",
        version=1,
        vendor_id="ven_wfm",
        currency="USD",
        mode=mode,
        markup_percent="20",
        tiers=[catalog.TierTerms(up_to="100", unit_price="12.00"), catalog.TierTerms(unit_price="10.00")],
        effective_from=date(2026, 1, 1),
    )
