"""Vendors, secrets, tenants and the read model in SQL."""

from __future__ import annotations

import json
from dataclasses import asdict

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.pagination import Page, PageRequest, paginate
from overage.domain.vendors import (
    Contact,
    CostBookTerms,
    LicensedSubscription,
    Vendor,
    VendorSecret,
    VendorTenant,
)
from overage.handlers.vendors import contacts_json
from overage.handlers.vendors_port import ReadModel, VendorRepository
from overage.models.vendors import (
    CostBookRow,
    LicensedSubscriptionRow,
    VendorRow,
    VendorSecretRow,
    VendorTenantRow,
)


def _secret_of(row: VendorSecretRow) -> VendorSecret:
    return VendorSecret(row.id, row.vendor_id, row.fingerprint, row.created_at, row.expires_at)


def _tenant_of(row: VendorTenantRow) -> VendorTenant:
    return VendorTenant(
        row.id, row.vendor_id, row.tenant_ref, row.account_id, row.subscription_id, row.created_at
    )


class SqlVendorRepository(VendorRepository):
    """Vendors over `overage_vendors`, `overage_vendor_secrets` and `overage_vendor_tenants`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, vendor: Vendor) -> None:
        """Insert the vendor and its secrets."""
        self.session.add(
            VendorRow(
                id=vendor.id,
                name=vendor.name,
                cost_book_id=vendor.cost_book_id,
                contacts=contacts_json(vendor.contacts),
                created_at=vendor.created_at,
            )
        )
        await self.save_secrets(list(vendor.secrets))

    async def _vendor_of(self, row: VendorRow) -> Vendor:
        stmt = (
            select(VendorSecretRow)
            .where(col(VendorSecretRow.vendor_id) == row.id)
            .order_by(col(VendorSecretRow.id))
        )
        secrets = tuple(_secret_of(s) for s in (await self.session.exec(stmt)).all())
        contacts = tuple(Contact(**c) for c in json.loads(row.contacts))
        return Vendor(row.id, row.name, row.cost_book_id, row.created_at, contacts, secrets)

    async def get(self, vendor_id: str) -> Vendor | None:
        """The vendor with its secrets."""
        row = await self.session.get(VendorRow, vendor_id)
        return None if row is None else await self._vendor_of(row)

    async def page(self, page: PageRequest) -> Page[Vendor]:
        """A page of vendors by id."""
        rows = await paginate(self.session, select(VendorRow), VendorRow.id, page, lambda r: r)
        return Page[Vendor](
            data=[await self._vendor_of(r) for r in rows.data],
            next_cursor=rows.next_cursor,
            has_more=rows.has_more,
        )

    async def save_secrets(self, secrets: list[VendorSecret]) -> None:
        """Insert or replace the secrets."""
        for secret in secrets:
            await self.session.merge(VendorSecretRow(**asdict(secret)))

    async def add_tenant(self, tenant: VendorTenant) -> bool:
        """Insert the mapping; False when the vendor's tenant is mapped (the unique constraint)."""
        if await self.find_tenant(tenant.vendor_id, tenant.tenant_ref) is not None:
            return False
        try:
            async with self.session.begin_nested():
                self.session.add(VendorTenantRow(**asdict(tenant)))
        except IntegrityError:
            return False
        return True

    async def get_tenant(self, tenant_id: str) -> VendorTenant | None:
        """A mapping by id."""
        row = await self.session.get(VendorTenantRow, tenant_id)
        return None if row is None else _tenant_of(row)

    async def find_tenant(self, vendor_id: str, tenant_ref: str) -> VendorTenant | None:
        """The mapping of a vendor's tenant id."""
        stmt = select(VendorTenantRow).where(
            col(VendorTenantRow.vendor_id) == vendor_id, col(VendorTenantRow.tenant_ref) == tenant_ref
        )
        row = (await self.session.exec(stmt)).first()
        return None if row is None else _tenant_of(row)

    async def tenants_page(
        self, page: PageRequest, *, vendor_id: str | None, account_id: str | None
    ) -> Page[VendorTenant]:
        """A page of mappings by id."""
        stmt = select(VendorTenantRow)
        if vendor_id is not None:
            stmt = stmt.where(col(VendorTenantRow.vendor_id) == vendor_id)
        if account_id is not None:
            stmt = stmt.where(col(VendorTenantRow.account_id) == account_id)
        return await paginate(self.session, stmt, VendorTenantRow.id, page, _tenant_of)


class SqlReadModel(ReadModel):
    """Subscriptions and cost books over `overage_subscriptions` and `overage_cost_books`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def subscription(self, subscription_id: str) -> LicensedSubscription | None:
        """The subscription, if known."""
        row = await self.session.get(LicensedSubscriptionRow, subscription_id)
        if row is None:
            return None
        return LicensedSubscription(
            row.subscription_id, row.account_id, row.quantity, row.currency, row.state, row.event_at
        )

    async def save_subscription(self, subscription: LicensedSubscription) -> None:
        """Insert or replace."""
        await self.session.merge(LicensedSubscriptionRow(**asdict(subscription)))

    async def cost_book(self, cost_book_id: str) -> CostBookTerms | None:
        """The cost book's terms, if known."""
        row = await self.session.get(CostBookRow, cost_book_id)
        if row is None:
            return None
        return CostBookTerms(
            row.cost_book_id, row.version, row.vendor_id, row.currency, row.markup_percent, row.event_at
        )

    async def save_cost_book(self, terms: CostBookTerms) -> None:
        """Insert or replace."""
        await self.session.merge(CostBookRow(**asdict(terms)))
