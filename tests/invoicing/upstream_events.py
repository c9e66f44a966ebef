"""The events invoicing's read model is kept from — provisioning's accounts, subscriptions, orders
and fulfillments, rating's rated usage, the catalog's products and prices — as their producers
send them, with test defaults drawn from the worked business cases: one builder each for the
unit and integration tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, TypeVar

from libs.contracts import catalog, provisioning
from libs.contracts.usage import UsageRated
from libs.contracts.vocabulary import ChargeType, PricingModel

E = TypeVar("E", bound=provisioning.SubscriptionEvent)


def account_opened(
    account_id: str = "acct_1",
    *,
    model: type[provisioning.AccountProfile] = provisioning.AccountOpened,
    **fields: Any,
) -> provisioning.AccountProfile:
    """`account.opened` (or another account event) of a taxable US account on cycle day 1, billed by
    email, unless `fields` say otherwise."""
    terms: dict[str, Any] = {
        "customer_id": "cus_1",
        "name": "Acme",
        "currency": "USD",
        "bill_cycle_day": 1,
        "time_zone": "UTC",
        "payment_terms_days": 30,
        "delivery": "email",
        "tax": provisioning.TaxInfo(treatment="taxable", country="US", region="CA", postal_code="94105"),
        "contacts": [provisioning.ContactInfo(name="Ann", email="ap@acme.test", role="billing")],
    }
    terms.update(fields)
    return model(account_id=account_id, **terms)


def subscription_event(
    model: type[E],
    subscription_id: str = "sub_1",
    account_id: str = "acct_1",
    *,
    state: str = "active",
    **fields: Any,
) -> E:
    """A subscription event: EXAMPLES §6's plan (300.00 a month in advance, one unit) from
    2026-04-16 for a year unless `fields` say otherwise."""
    terms: dict[str, Any] = {
        "product_id": "prod_plan",
        "price_id": "price_plan",
        "price_version": 1,
        "currency": "USD",
        "unit_price": "300.00",
        "discount_percent": "0",
        "charge_type": "recurring",
        "billing_period": "monthly",
        "billing_timing": "in_advance",
        "quantity": "1",
        "commitment_quantity": "0",
        "license_type": "subscription",
        "term_start": date(2026, 4, 16),
        "term_end": date(2027, 4, 16),
        "renewal": "expire",
        "effective_date": date(2026, 4, 16),
    }
    terms.update(fields)
    return model(subscription_id=subscription_id, account_id=account_id, state=state, **terms)


def subscription_changed(
    subscription_id: str = "sub_1",
    account_id: str = "acct_1",
    *,
    quantity: str,
    on: date,
    previous: str = "1",
) -> provisioning.SubscriptionChanged:
    """`subscription.changed` of the plan to `quantity` units from `on`."""
    return subscription_event(
        provisioning.SubscriptionChanged,
        subscription_id,
        account_id,
        quantity=quantity,
        effective_date=on,
        change="quantity_change",
        previous_quantity=previous,
    )


def subscription_cancelled(
    subscription_id: str = "sub_1", account_id: str = "acct_1", *, on: date, fee: str | None = "1250.00"
) -> provisioning.SubscriptionCancelled:
    """`subscription.cancelled` of the plan effective `on`, before its term's end, with a termination
    fee (the catalog's one-time price `price_exit`) unless `fee` is None."""
    termination_fee = (
        None
        if fee is None
        else provisioning.TerminationFee(price_id="price_exit", price_version=1, amount=fee, currency="USD")
    )
    return subscription_event(
        provisioning.SubscriptionCancelled,
        subscription_id,
        account_id,
        state="cancelled",
        effective_date=on,
        ended_before_term=True,
        termination_fee=termination_fee,
    )


def usage_rated(
    rated_usage_id: str = "ru_1",
    subscription_id: str = "sub_calls",
    account_id: str = "acct_1",
    **fields: Any,
) -> UsageRated:
    """`usage.rated`: EXAMPLES §7's graduated usage (12,345 calls, 1,000 included → 107.59) for
    July 2026 unless `fields` say otherwise."""
    terms: dict[str, Any] = {
        "product_id": "prod_calls",
        "meter": "api_calls",
        "unit_of_measure": "call",
        "period_start": date(2026, 7, 1),
        "period_end": date(2026, 8, 1),
        "quantity": "12345",
        "event_count": 12345,
        "included_quantity": "1000",
        "billable_quantity": "11345",
        "currency": "USD",
        "price_id": "price_calls",
        "price_version": 1,
        "pricing_model": PricingModel.TIERED_GRADUATED,
        "charge_amount": "107.59",
        "amount": "107.59",
        "rated_at": datetime(2026, 8, 1, 0, 5, tzinfo=UTC),
    }
    terms.update(fields)
    return UsageRated(
        rated_usage_id=rated_usage_id, subscription_id=subscription_id, account_id=account_id, **terms
    )


def fulfillment_completed(
    fulfillment_id: str = "ful_1", account_id: str = "acct_1", **fields: Any
) -> provisioning.FulfillmentCompleted:
    """`fulfillment.completed`: EXAMPLES §3's workshop (15 platform users at 150.00, 12 workshop
    licenses at 400.00, the workshop at 5,000.00), completed 2026-06-12, unless `fields` say otherwise."""

    def line(line_id: str, product_id: str, quantity: str, unit_price: str) -> provisioning.FulfilledLine:
        return provisioning.FulfilledLine(
            order_line_id=line_id,
            product_id=product_id,
            license_type="pay_as_you_go",
            consumed_quantity=quantity,
            billable_quantity=quantity,
            unit_price=unit_price,
            discount_percent="0",
        )

    terms: dict[str, Any] = {
        "order_id": "ord_ws",
        "currency": "USD",
        "associated_project_id": "ws_1",
        "completed_on": date(2026, 6, 12),
        "lines": [
            line("ol_platform", "prod_platform", "15", "150.00"),
            line("ol_ws_license", "prod_ws_license", "12", "400.00"),
            line("ol_workshop", "prod_workshop", "1", "5000.00"),
        ],
    }
    terms.update(fields)
    return provisioning.FulfillmentCompleted(fulfillment_id=fulfillment_id, account_id=account_id, **terms)


def order_line(order_line_id: str, **fields: Any) -> provisioning.OrderLineInfo:
    """An approved order line: an onboarding fee (one-time price `price_onboarding`, 1 x 2,500.00,
    10% off, no license) unless `fields` say otherwise."""
    terms: dict[str, Any] = {
        "product_id": "prod_onboarding",
        "price_id": "price_onboarding",
        "price_version": 1,
        "quantity": "1",
        "unit_price": "2500.00",
        "discount_percent": "10",
        "license_type": "subscription",
    }
    terms.update(fields)
    return provisioning.OrderLineInfo(order_line_id=order_line_id, **terms)


def order_approved(
    order_id: str = "ord_1", account_id: str = "acct_1", *, lines: list[provisioning.OrderLineInfo]
) -> provisioning.OrderApproved:
    """`order.approved` of a new order in USD with these lines."""
    return provisioning.OrderApproved(
        order_id=order_id,
        account_id=account_id,
        customer_id="cus_1",
        kind="new",
        currency="USD",
        automatic=True,
        lines=lines,
    )


def price_published(price_id: str = "price_onboarding", **fields: Any) -> catalog.PricePublished:
    """`catalog.price_published`: a one-time flat price of 2,500.00 in USD unless `fields` say otherwise."""
    terms: dict[str, Any] = {
        "version": 1,
        "product_id": "prod_onboarding",
        "currency": "USD",
        "charge_type": ChargeType.ONE_TIME,
        "timing": "in_advance",
        "model": PricingModel.FLAT,
        "amount": "2500.00",
        "effective_from": date(2026, 1, 1),
    }
    terms.update(fields)
    return catalog.PricePublished(price_id=price_id, **terms)


def product_changed(product_id: str = "prod_plan", **fields: Any) -> catalog.ProductChanged:
    """`catalog.product_changed` of a SaaS plan (tax code SW050000) unless `fields` say otherwise."""
    terms: dict[str, Any] = {
        "change": "created",
        "sku": "PLAN",
        "name": "Workforce plan",
        "kind": "platform",
        "unit_of_measure": "seat",
        "license_type": "subscription",
        "revenue_rule": "ratable",
        "tax_code": "SW050000",
    }
    terms.update(fields)
    return catalog.ProductChanged(product_id=product_id, **terms)
