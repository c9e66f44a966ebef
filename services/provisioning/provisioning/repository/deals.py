"""Partners and deal registrations on the service's database: rows <-> domain objects."""

from __future__ import annotations

import json
from collections.abc import Collection
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from libs.platform.pagination import Page, PageRequest
from provisioning.domain.deals import (
    AgreementContact,
    DealLicenseType,
    DealRegistration,
    DealStatus,
    LicensingDetails,
    Partner,
    RequestedDiscount,
)
from provisioning.handlers.unit_of_work import DealRepository
from provisioning.models import DealRegistrationRow, PartnerRow
from provisioning.repository.common import get_row, mapped, rows_page, upsert


def partner_from_row(row: PartnerRow) -> Partner:
    """Domain partner of a row."""
    return Partner(
        id=row.id,
        name=row.name,
        contact_email=row.contact_email,
        active=row.active,
        created_at=row.created_at,
    )


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
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlDealRepository(DealRepository):
    """Partners and registrations in the service's database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    async def add_partner(self, partner: Partner) -> Partner:
        """Stage a new partner."""
        partner.created_at = utcnow()
        self.session.add(
            PartnerRow(
                id=partner.id,
                name=partner.name,
                contact_email=partner.contact_email,
                active=partner.active,
                created_at=partner.created_at,
            )
        )
        self._staged(partner)
        return partner

    async def get_partner(self, partner_id: str) -> Partner:
        """The partner, or NotFound."""
        return partner_from_row(
            await get_row(self.session, PartnerRow, "partner", partner_id, for_update=False)
        )

    async def partners_page(self, page: PageRequest) -> Page[Partner]:
        """A page of partners by id."""
        return mapped(await rows_page(self.session, PartnerRow, page), partner_from_row)

    async def get_deal(self, deal_id: str, *, for_update: bool = False) -> DealRegistration:
        """The registration, or NotFound."""
        row = await get_row(
            self.session, DealRegistrationRow, "deal registration", deal_id, for_update=for_update
        )
        return deal_from_row(row)

    async def find_deals(self, deal_ids: Collection[str]) -> dict[str, DealRegistration]:
        """The registrations of these ids that exist, by id (one query)."""
        if not deal_ids:
            return {}
        stmt = select(DealRegistrationRow).where(col(DealRegistrationRow.id).in_(list(deal_ids)))
        return {row.id: deal_from_row(row) for row in (await self.session.exec(stmt)).all()}

    async def deals_page(
        self, page: PageRequest, *, partner_id: str | None, status: DealStatus | None
    ) -> Page[DealRegistration]:
        """A page of registrations by id."""
        rows = await rows_page(
            self.session,
            DealRegistrationRow,
            page,
            partner_id=partner_id,
            status=status.value if status else None,
        )
        return mapped(rows, deal_from_row)

    async def save_deal(self, deal: DealRegistration) -> DealRegistration:
        """Stage a new or changed registration (its timestamps set)."""
        now = utcnow()
        existing = await self.session.get(DealRegistrationRow, deal.id)
        deal.created_at, deal.updated_at = (existing.created_at if existing else now), now
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
            "created_at": deal.created_at,
        }
        await upsert(self.session, DealRegistrationRow, deal.id, values)
        self._staged(deal)
        return deal
