"""Partners and deal registrations: what the API accepts and shows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from libs.contracts.types import (
    CurrencyCode,
    Percent,
)
from libs.platform.money import percent_out
from libs.platform.text import ONE_LINE
from provisioning.domain.deals import DealLicenseType, DealRegistration, DealStatus, Partner
from provisioning.schemas.common import (
    Command,
    Day,
    Email,
    LongText,
    Name,
    RefId,
    ShortText,
    stored_at,
)
from provisioning.schemas.customers import AccountPublic, BillingProfileIn, CustomerPublic
from provisioning.schemas.orders import (
    AgreementContactPublic,
    LicensingPublic,
    OrderLineIn,
    OrderPublic,
    agreement_contact_public,
    licensing_public,
)


class PartnerCreate(Command):
    """Enrol a partner."""

    name: Name
    contact_email: Email | None = None


class PartnerPublic(BaseModel):
    """A partner."""

    id: str
    name: str
    contact_email: str | None
    active: bool
    created_at: datetime


class AgreementContactIn(Command):
    """Who receives the license agreement."""

    name: ShortText = ""
    email: Annotated[str, StringConstraints(max_length=254), ONE_LINE] = ""


class LicensingIn(Command):
    """Licensing details; every field may be filled in later."""

    currency: CurrencyCode | None = None
    license_type: DealLicenseType | None = None
    start_date: Day | None = None
    end_date: Day | None = None


class RequestedDiscountIn(Command):
    """A discount the partner asks for (granted only through order approval)."""

    description: ShortText
    percent: Percent


class DealFields(Command):
    """The details a partner fills in, step by step."""

    opportunity_details: LongText | None = None
    customer_company_name: ShortText | None = None
    agreement_contact: AgreementContactIn | None = None
    licensing: LicensingIn | None = None
    discounts_requested: list[RequestedDiscountIn] | None = Field(default=None, max_length=20)
    project_description: LongText | None = None


class DealRegistrationCreate(DealFields):
    """Register an opportunity for a partner."""

    partner_id: RefId
    opportunity_name: Name


class DealRegistrationUpdate(DealFields):
    """Fill in or change details; only the fields sent change (licensing merges field by field)."""

    opportunity_name: Name | None = None


class DealConvert(Command):
    """Convert a deal: optionally a full billing profile and the lines of the draft order."""

    billing_profile: BillingProfileIn | None = None
    lines: list[OrderLineIn] = Field(default_factory=list, max_length=100)


class FieldProblemPublic(BaseModel):
    """One missing or invalid field."""

    field: str
    message: str


class RequestedDiscountPublic(BaseModel):
    """A requested discount."""

    description: str
    percent: Percent


class DealRegistrationPublic(BaseModel):
    """A deal registration, with the checklist of what is still missing."""

    id: str
    partner_id: str
    status: DealStatus
    opportunity_name: str
    opportunity_details: str | None
    customer_company_name: str | None
    agreement_contact: AgreementContactPublic | None
    licensing: LicensingPublic
    discounts_requested: list[RequestedDiscountPublic]
    project_description: str | None
    customer_id: str | None
    order_id: str | None
    missing: list[FieldProblemPublic] = Field(description="What must be filled in before converting.")
    created_at: datetime
    updated_at: datetime


class DealConversionPublic(BaseModel):
    """What converting a deal created."""

    deal_registration: DealRegistrationPublic
    customer: CustomerPublic
    account: AccountPublic
    order: OrderPublic


def partner_public(partner: Partner) -> PartnerPublic:
    """A partner as shown."""
    return PartnerPublic(
        id=partner.id,
        name=partner.name,
        contact_email=partner.contact_email,
        active=partner.active,
        created_at=stored_at(partner.created_at),
    )


def deal_public(reg: DealRegistration) -> DealRegistrationPublic:
    """A registration with its checklist of missing fields."""
    return DealRegistrationPublic(
        id=reg.id,
        partner_id=reg.partner_id,
        status=reg.status,
        opportunity_name=reg.opportunity_name,
        opportunity_details=reg.opportunity_details,
        customer_company_name=reg.customer_company_name,
        agreement_contact=agreement_contact_public(reg),
        licensing=licensing_public(reg),
        discounts_requested=[
            RequestedDiscountPublic(description=d.description, percent=percent_out(d.percent))
            for d in reg.discounts_requested
        ],
        project_description=reg.project_description,
        customer_id=reg.customer_id,
        order_id=reg.order_id,
        missing=[]
        if reg.customer_id
        else [FieldProblemPublic(field=f, message=m) for f, m in reg.problems()],
        created_at=stored_at(reg.created_at),
        updated_at=stored_at(reg.updated_at),
    )
