"""Partners and deal registrations: rows <-> domain objects."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from provisioning.domain.deals import (
    AgreementContact,
    DealLicenseType,
    DealRegistration,
    DealStatus,
    LicensingDetails,
    Partner,
    RequestedDiscount,
)
from provisioning.models import (
    DealRegistrationRow,
    PartnerRow,
)
from provisioning.repository.common import _row, _upsert


def partner_from_row(row: PartnerRow) -> Partner:
    """Domain partner of a row."""
    return Partner(id=row.id, name=row.name, contact_email=row.contact_email, active=row.active)


async def get_partner_row(session: AsyncSession, partner_id: str) -> PartnerRow:
    """The partner's row, or NotFound."""
    return await _row(session, PartnerRow, "partner", partner_id, for_update=False)


async def get_partner(session: AsyncSession, partner_id: str) -> Partner:
    """The partner, or NotFound."""
    return partner_from_row(await _row(session, PartnerRow, "partner", partner_id, for_update=False))


async def add_partner(session: AsyncSession, partner: Partner) -> PartnerRow:
    """Store a new partner."""
    row = PartnerRow(
        id=partner.id,
        name=partner.name,
        contact_email=partner.contact_email,
        active=partner.active,
        created_at=utcnow(),
    )
    session.add(row)
    return row


def deal_from_row(row: DealRegistrationRow) -> DealRegistration:
    """Domain registration of a row."""
    contact = (
        AgreementContact(row.agreement_contact_name or "", row.agreement_contact_email or "")
        if row.agreement_contact_name is not None or row.agreement_contact_email is not None
        else None
    )
    return DealRegistration(
        id=row.id,
        partner_id=row.partner_id,
        opportunity_name=row.opportunity_name,
        opportunity_details=row.opportunity_details,
        customer_company_name=row.customer_company_name,
        agreement_contact=contact,
        licensing=LicensingDetails(
            currency=row.currency,
            license_type=DealLicenseType(row.license_type) if row.license_type else None,
            start_date=row.start_date,
            end_date=row.end_date,
        ),
        discounts_requested=tuple(
            RequestedDiscount(d["description"], Decimal(d["percent"]))
            for d in json.loads(row.discounts_requested)
        ),
        project_description=row.project_description,
        status=DealStatus(row.status),
        customer_id=row.customer_id,
        order_id=row.order_id,
    )


async def get_deal_row(
    session: AsyncSession, deal_id: str, *, for_update: bool = False
) -> DealRegistrationRow:
    """The registration's row, or NotFound."""
    return await _row(session, DealRegistrationRow, "deal registration", deal_id, for_update=for_update)


async def save_deal(session: AsyncSession, deal: DealRegistration) -> DealRegistrationRow:
    """Insert or update a registration."""
    now = utcnow()
    existing = await session.get(DealRegistrationRow, deal.id)
    contact = deal.agreement_contact
    values = {
        "id": deal.id,
        "partner_id": deal.partner_id,
        "opportunity_name": deal.opportunity_name,
        "opportunity_details": deal.opportunity_details,
        "customer_company_name": deal.customer_company_name,
        "agreement_contact_name": contact.name if contact else None,
        "agreement_contact_email": contact.email if contact else None,
        "currency": deal.licensing.currency,
        "license_type": deal.licensing.license_type.value if deal.licensing.license_type else None,
        "start_date": deal.licensing.start_date,
        "end_date": deal.licensing.end_date,
        "discounts_requested": json.dumps(
            [{"description": d.description, "percent": str(d.percent)} for d in deal.discounts_requested]
        ),
        "project_description": deal.project_description,
        "status": deal.status.value,
        "customer_id": deal.customer_id,
        "order_id": deal.order_id,
        "updated_at": now,
        "created_at": existing.created_at if existing else now,
    }
    return await _upsert(session, DealRegistrationRow, deal.id, values)
