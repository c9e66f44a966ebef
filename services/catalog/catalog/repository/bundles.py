"""Bundles in SQL: `bundles` rows (components as JSON text) <-> `Bundle`."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from catalog.domain.bundles import Bundle, BundleComponent
from catalog.handlers.unit_of_work import BundleRepository
from catalog.models import Bundle as BundleRow
from catalog.repository.common import SqlRepository
from libs.platform.money import decimal_out
from libs.platform.pagination import Page, PageRequest


class SqlBundleRepository(SqlRepository[Bundle], BundleRepository):
    """Bundles over the `bundles` table."""

    model = BundleRow

    def to_domain(self, row: BundleRow) -> Bundle:
        """The bundle of a row."""
        components = tuple(
            BundleComponent(c["product_id"], Decimal(c["quantity"])) for c in json.loads(row.components)
        )
        return Bundle(
            row.id, row.name, row.description, components, row.active, row.created_at, row.updated_at
        )

    def to_row(self, bundle: Bundle) -> dict[str, Any]:
        """The columns of a bundle."""
        components = [
            {"product_id": c.product_id, "quantity": format(decimal_out(c.quantity), "f")}
            for c in bundle.components
        ]
        return {
            "id": bundle.id,
            "name": bundle.name,
            "description": bundle.description,
            "components": json.dumps(components),
            "active": bundle.active,
            "created_at": bundle.created_at,
            "updated_at": bundle.updated_at,
        }

    async def page(self, page: PageRequest) -> Page[Bundle]:
        """A page of bundles ordered by id."""
        return await self._page(page)
