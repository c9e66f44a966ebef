"""The ports of vendors, tenants and the read model (SQL in `overage.repository.vendors`)."""

from __future__ import annotations

import abc

from libs.platform.pagination import Page, PageRequest
from overage.domain.vendors import CostBookTerms, LicensedSubscription, Vendor, VendorSecret, VendorTenant


class VendorRepository(abc.ABC):
    """Stored vendors with their secrets and contacts, and their tenants."""

    @abc.abstractmethod
    async def add(self, vendor: Vendor) -> None:
        """Insert a vendor (its secrets too)."""

    @abc.abstractmethod
    async def get(self, vendor_id: str) -> Vendor | None:
        """A vendor with its secrets, if it exists."""

    @abc.abstractmethod
    async def page(self, page: PageRequest) -> Page[Vendor]:
        """A page of vendors by id."""

    @abc.abstractmethod
    async def save_secrets(self, secrets: list[VendorSecret]) -> None:
        """Insert or replace these secrets (a rotation ends the old ones)."""

    @abc.abstractmethod
    async def add_tenant(self, tenant: VendorTenant) -> bool:
        """Insert a tenant mapping; False (nothing changed) when the vendor's tenant is mapped already."""

    @abc.abstractmethod
    async def get_tenant(self, tenant_id: str) -> VendorTenant | None:
        """A tenant mapping by its id."""

    @abc.abstractmethod
    async def find_tenant(self, vendor_id: str, tenant_ref: str) -> VendorTenant | None:
        """The mapping of a vendor's tenant id."""

    @abc.abstractmethod
    async def tenants_page(
        self, page: PageRequest, *, vendor_id: str | None, account_id: str | None
    ) -> Page[VendorTenant]:
        """A page of tenant mappings by id, filtered."""


class ReadModel(abc.ABC):
    """What overage keeps of other services' data: subscriptions' licensed quantities, cost books."""

    @abc.abstractmethod
    async def subscription(self, subscription_id: str) -> LicensedSubscription | None:
        """A subscription's licensed quantity, if provisioning has told us of it."""

    @abc.abstractmethod
    async def save_subscription(self, subscription: LicensedSubscription) -> None:
        """Insert or replace a subscription."""

    @abc.abstractmethod
    async def cost_book(self, cost_book_id: str) -> CostBookTerms | None:
        """A cost book's latest terms, if the catalog has published it."""

    @abc.abstractmethod
    async def save_cost_book(self, terms: CostBookTerms) -> None:
        """Insert or replace a cost book's terms."""
