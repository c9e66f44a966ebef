"""Discounts in SQL: `discounts` rows (product ids as JSON text) <-> `Discount`."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlmodel import col

from catalog.domain.discounts import Discount
from catalog.handlers.unit_of_work import DiscountRepository
from catalog.models import Discount as DiscountRow
from catalog.repository.common import SqlRepository
from libs.platform.pagination import Page, PageRequest
from libs.pricing import DiscountKind


class SqlDiscountRepository(SqlRepository[Discount], DiscountRepository):
    """Discounts over the `discounts` table."""

    model = DiscountRow

    def to_domain(self, row: DiscountRow) -> Discount:
        """The discount of a row."""
        return Discount(
            id=row.id,
            name=row.name,
            kind=DiscountKind(row.kind),
            value=row.value,
            currency=row.currency,
            duration_cycles=row.duration_cycles,
            product_ids=tuple(json.loads(row.product_ids)),
            approval_threshold_percent=row.approval_threshold_percent,
            promo_code=row.promo_code,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def to_row(self, discount: Discount) -> dict[str, Any]:
        """The columns of a discount."""
        return {
            "id": discount.id,
            "name": discount.name,
            "kind": discount.kind.value,
            "value": discount.value,
            "currency": discount.currency,
            "duration_cycles": discount.duration_cycles,
            "product_ids": json.dumps(list(discount.product_ids)),
            "approval_threshold_percent": discount.approval_threshold_percent,
            "promo_code": discount.promo_code,
            "valid_from": discount.valid_from,
            "valid_to": discount.valid_to,
            "active": discount.active,
            "created_at": discount.created_at,
            "updated_at": discount.updated_at,
        }

    async def by_promo_codes(self, codes: Collection[str]) -> dict[str, Discount]:
        """The discounts of these promo codes, by code (one query; unknown codes are left out)."""
        if not codes:
            return {}
        rows = await self._select(DiscountRow, col(DiscountRow.promo_code).in_(set(codes)))
        found = self._remember({row.id: self._load(row) for row in rows})
        return {d.promo_code: d for d in found.values() if d.promo_code is not None}

    async def page(self, page: PageRequest, *, promo_code: str | None, active: bool | None) -> Page[Discount]:
        """A page of discounts ordered by id, optionally the one with a promo code."""
        return await self._page(page, promo_code=promo_code, active=active)
