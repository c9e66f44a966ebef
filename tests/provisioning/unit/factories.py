"""Factories for provisioning domain objects: sensible defaults, override what a test is about."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from libs.contracts.vocabulary import LicenseType
from provisioning.domain.accounts import Account, BillingProfile, Contact, ContactRole
from provisioning.domain.deals import (
    AgreementContact,
    DealLicenseType,
    DealRegistration,
    LicensingDetails,
    Partner,
)
from provisioning.domain.orders import LineDiscount, OrderLine, SalesOrder, order_line
from provisioning.domain.subscriptions import RenewalPolicy, Subscription

CLERK = "usr_clerk"


def billing_profile(**overrides: Any) -> BillingProfile:
    """A valid USD profile with one billing contact."""
    values: dict[str, Any] = {
        "currency": "USD",
        "contacts": (Contact("Ada Payable", "ap@example.com", ContactRole.BILLING),),
    }
    values.update(overrides)
    return BillingProfile(**values)


def account(*, parent: Account | None = None, bills_to_parent: bool = False, **profile: Any) -> Account:
    """An opened account (events cleared) under an optional parent."""
    opened = Account.open(
        customer_id="cus_test",
        name="Redfin Ops",
        billing_profile=billing_profile(**profile),
        parent=parent,
        bills_to_parent=bills_to_parent,
        by=CLERK,
    )
    opened.events.clear()
    return opened


def discount(percent: str | None = None, *, amount: str | None = None, threshold: str = "10") -> LineDiscount:
    """A catalog discount with an approval threshold percent."""
    return LineDiscount(
        discount_id="disc_test",
        approval_threshold_percent=Decimal(threshold),
        percent=Decimal(percent) if percent is not None else None,
        amount=Decimal(amount) if amount is not None else None,
    )


def line(
    *,
    quantity: str = "10",
    price: str = "100.00",
    currency: str = "USD",
    license_type: LicenseType = LicenseType.SUBSCRIPTION,
    discounts: Iterable[LineDiscount] = (),
    product_id: str = "prod_platform",
    **overrides: Any,
) -> OrderLine:
    """An order line at a list price."""
    return order_line(
        product_id=product_id,
        price_id="price_test",
        price_version=1,
        quantity=Decimal(quantity),
        unit_list_price=Decimal(price),
        currency=currency,
        license_type=license_type,
        discounts=discounts,
        **overrides,
    )


def draft_order(*lines: OrderLine, **overrides: Any) -> SalesOrder:
    """A draft order on a test account (one default line if none given)."""
    values: dict[str, Any] = {"customer_id": "cus_test", "account_id": "acct_test"}
    values.update(overrides)
    return SalesOrder.draft(lines=lines or (line(),), **values)


def approved_order(*lines: OrderLine) -> SalesOrder:
    """An order that went through automatic approval."""
    order = draft_order(*lines)
    order.submit(by=CLERK)
    order.events.clear()
    return order


def partner(**overrides: Any) -> Partner:
    """An active partner."""
    values: dict[str, Any] = {"name": "Acme Partners", "contact_email": "deals@acme.example"}
    values.update(overrides)
    return Partner.enrol(values.pop("name"), **values)


def complete_registration(**overrides: Any) -> DealRegistration:
    """A registration with every mandatory field filled in."""
    registration = DealRegistration.register(partner(), "Redfin rollout", by="usr_partner")
    values: dict[str, Any] = {
        "opportunity_details": "300 sellers, Accelerate bundle",
        "customer_company_name": "Redfin",
        "agreement_contact": AgreementContact("Jo Buyer", "jo@redfin.example"),
        "licensing": LicensingDetails(
            currency="USD",
            license_type=DealLicenseType.NEW_LICENSE,
            start_date=date(2026, 3, 1),
            end_date=date(2029, 3, 1),
        ),
        "project_description": "Phase 1: launch; phase 2: workshops",
    }
    values.update(overrides)
    registration.update(**values)
    registration.events.clear()
    return registration


def subscription(
    *,
    quantity: str = "250",
    commitment: str = "0",
    term_start: date = date(2026, 3, 1),
    term_end: date = date(2029, 3, 1),
    renewal: RenewalPolicy | None = None,
    license_type: LicenseType = LicenseType.SUBSCRIPTION,
    active: bool = False,
) -> Subscription:
    """A pending subscription (or an active one), events cleared."""
    created = Subscription.create(
        account_id="acct_test",
        product_id="prod_wfm",
        price_id="price_wfm",
        price_version=3,
        quantity=Decimal(quantity),
        license_type=license_type,
        term_start=term_start,
        term_end=term_end,
        renewal=renewal or RenewalPolicy.expire(),
        commitment_quantity=Decimal(commitment),
    )
    if active:
        created.activate(effective=term_start, by=CLERK)
    created.events.clear()
    return created
