"""Vendor cost books in SQL: `cost_books` and `cost_book_versions` rows <-> domain cost books."""

from __future__ import annotations

from typing import Any

from catalog.domain.cost_books import CostBook, CostBookVersion
from catalog.handlers.unit_of_work import CostBookRepository
from catalog.models import CostBook as CostBookRow
from catalog.models import CostBookVersion as CostBookVersionRow
from catalog.repository.common import SqlVersionedRepository, tiers_json, tiers_of
from libs.contracts.vocabulary import TierMode, TierPeriod
from libs.platform.pagination import Page, PageRequest


class SqlCostBookRepository(SqlVersionedRepository[CostBook, CostBookVersion], CostBookRepository):
    """Cost books over the `cost_books` and `cost_book_versions` tables."""

    model = CostBookRow
    version_model = CostBookVersionRow
    owner_column = "cost_book_id"

    def to_domain(self, row: CostBookRow) -> CostBook:
        """The cost book of a row."""
        return CostBook(row.id, row.vendor_id, row.currency, row.latest_version, row.created_at)

    def to_row(self, book: CostBook) -> dict[str, Any]:
        """The columns of a cost book."""
        return {
            "id": book.id,
            "vendor_id": book.vendor_id,
            "currency": book.currency,
            "latest_version": book.latest_version,
            "created_at": book.created_at,
        }

    def version_to_domain(self, row: CostBookVersionRow) -> CostBookVersion:
        """The cost book version of a row."""
        return CostBookVersion(
            id=row.id,
            cost_book_id=row.cost_book_id,
            version=row.version,
            vendor_id=row.vendor_id,
            name=row.name,
            currency=row.currency,
            mode=TierMode(row.mode),
            tier_period=TierPeriod(row.tier_period),
            markup_percent=row.markup_percent,
            tiers=tiers_of(row.tiers),
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            published_at=row.published_at,
            published_by=row.published_by,
        )

    def version_to_row(self, version: CostBookVersion) -> dict[str, Any]:
        """The columns of a cost book version."""
        return {
            "id": version.id,
            "cost_book_id": version.cost_book_id,
            "version": version.version,
            "vendor_id": version.vendor_id,
            "name": version.name,
            "currency": version.currency,
            "mode": version.mode.value,
            "tier_period": version.tier_period.value,
            "markup_percent": version.markup_percent,
            "tiers": tiers_json(version.tiers),
            "effective_from": version.effective_from,
            "effective_to": version.effective_to,
            "published_at": version.published_at,
            "published_by": version.published_by,
        }

    async def latest_page(self, page: PageRequest, *, vendor_id: str | None) -> Page[CostBookVersion]:
        """A page of the latest version of every cost book, ordered by cost book id."""
        return await self._latest_page(page, vendor_id=vendor_id)
