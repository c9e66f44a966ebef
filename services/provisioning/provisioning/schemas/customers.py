"""Customers and accounts: what the API accepts and shows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from libs.contracts.types import (
    CurrencyCode,
    IntegerRange,
    StrictBool,
)
from libs.platform.text import ONE_LINE
from provisioning.domain.accounts import (
    Account,
    BillingProfile,
    ContactRole,
    Customer,
    DeliveryPreference,
    TaxTreatment,
)
from provisioning.schemas.common import Command, Day, Email, Name, RefId, stored_at


class ContactIn(Command):
    """A contact and what it is for."""

    name: Name
    email: Email
    role: ContactRole
    phone: Annotated[str, StringConstraints(max_length=40), ONE_LINE] | None = None


class TaxStatusIn(Command):
    """Taxable, or exempt with a certificate number and expiry."""

    treatment: TaxTreatment = TaxTreatment.TAXABLE
    certificate_number: Annotated[str, StringConstraints(max_length=80), ONE_LINE] | None = None
    certificate_expiry: Day | None = None


class TaxAddressIn(Command):
    """Where the account is taxed."""

    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(examples=["US"])
    region: Annotated[str, StringConstraints(max_length=100), ONE_LINE] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=20), ONE_LINE] | None = None


class BillingProfileIn(Command):
    """How, when and in which currency an account is billed."""

    currency: CurrencyCode
    time_zone: Annotated[str, StringConstraints(min_length=1, max_length=64), ONE_LINE] = "UTC"
    bill_cycle_day: Annotated[int, IntegerRange(1, 31)] = 1
    payment_terms_days: Annotated[int, IntegerRange(0, 365)] = 30
    delivery: DeliveryPreference = DeliveryPreference.EMAIL
    tax_status: TaxStatusIn = Field(default_factory=TaxStatusIn)
    tax_address: TaxAddressIn | None = None
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)


class CustomerCreate(Command):
    """Register a customer."""

    name: Name
    partner_id: RefId | None = None


class AccountCreate(Command):
    """Open a billing account for a customer, optionally under a parent account."""

    customer_id: RefId
    name: Name
    billing_profile: BillingProfileIn
    parent_account_id: RefId | None = None
    bills_to_parent: StrictBool = False


class AccountUpdate(Command):
    """Change the billing profile and/or the place in the hierarchy (null parent detaches)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    billing_profile: BillingProfileIn | None = None
    parent_account_id: RefId | None = None
    bills_to_parent: StrictBool | None = None


class CustomerPublic(BaseModel):
    """A customer."""

    id: str
    name: str
    partner_id: str | None
    created_at: datetime


class ContactPublic(BaseModel):
    """A contact."""

    name: str
    email: str
    role: ContactRole
    phone: str | None = None


class TaxStatusPublic(BaseModel):
    """Tax status."""

    treatment: TaxTreatment
    certificate_number: str | None = None
    certificate_expiry: date | None = None


class TaxAddressPublic(BaseModel):
    """Tax address."""

    country: str
    region: str | None = None
    postal_code: str | None = None


class BillingProfilePublic(BaseModel):
    """A billing profile."""

    currency: str
    time_zone: str
    bill_cycle_day: int
    payment_terms_days: int
    delivery: DeliveryPreference
    tax_status: TaxStatusPublic
    tax_address: TaxAddressPublic | None
    contacts: list[ContactPublic]


class AccountPublic(BaseModel):
    """A billing account."""

    id: str
    customer_id: str
    name: str
    parent_account_id: str | None
    bills_to_parent: bool
    billing_profile: BillingProfilePublic
    created_at: datetime
    updated_at: datetime


def customer_public(customer: Customer) -> CustomerPublic:
    """A customer as shown."""
    return CustomerPublic(
        id=customer.id,
        name=customer.name,
        partner_id=customer.partner_id,
        created_at=stored_at(customer.created_at),
    )


def billing_profile_public(profile: BillingProfile) -> BillingProfilePublic:
    """A billing profile as shown."""
    tax, address = profile.tax_status, profile.tax_address
    return BillingProfilePublic(
        currency=profile.currency,
        time_zone=profile.time_zone,
        bill_cycle_day=profile.bill_cycle_day,
        payment_terms_days=profile.payment_terms_days,
        delivery=profile.delivery,
        tax_status=TaxStatusPublic(
            treatment=tax.treatment,
            certificate_number=tax.certificate_number,
            certificate_expiry=tax.certificate_expiry,
        ),
        tax_address=(
            TaxAddressPublic(country=address.country, region=address.region, postal_code=address.postal_code)
            if address
            else None
        ),
        contacts=[
            ContactPublic(name=c.name, email=c.email, role=c.role, phone=c.phone) for c in profile.contacts
        ],
    )


def account_public(acct: Account) -> AccountPublic:
    """An account as shown."""
    return AccountPublic(
        id=acct.id,
        customer_id=acct.customer_id,
        name=acct.name,
        parent_account_id=acct.parent_account_id,
        bills_to_parent=acct.bills_to_parent,
        billing_profile=billing_profile_public(acct.billing_profile),
        created_at=stored_at(acct.created_at),
        updated_at=stored_at(acct.updated_at),
    )
