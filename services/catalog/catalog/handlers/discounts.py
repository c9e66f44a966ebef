"""Use cases of discounts and promotions."""

from __future__ import annotations

import json

from catalog.domain.discounts import DiscountTerms, validate_discount
from catalog.handlers.common import plain, plain_or_none, public_page, record_created, record_update
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.models import (
    Discount,
    Product,
)
from catalog.schemas.discounts import DiscountCreate, DiscountPublic, DiscountUpdate
from libs.contracts.catalog import (
    DiscountChanged,
)
from libs.platform.db import utcnow
from libs.platform.errors import Conflict, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest
from libs.pricing import DiscountKind


def discount_terms(row: Discount) -> DiscountTerms:
    return DiscountTerms(
        id=row.id,
        name=row.name,
        kind=DiscountKind(row.kind),
        value=row.value,
        currency=row.currency,
        product_ids=tuple(json.loads(row.product_ids)),
        approval_threshold_percent=row.approval_threshold_percent,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        duration_cycles=row.duration_cycles,
        active=row.active,
    )


def discount_public(row: Discount) -> DiscountPublic:
    """The public view of a discount row."""
    return DiscountPublic(
        id=row.id,
        name=row.name,
        kind=DiscountKind(row.kind),
        value=plain(row.value),
        currency=row.currency,
        duration_cycles=row.duration_cycles,
        product_ids=json.loads(row.product_ids),
        approval_threshold_percent=plain_or_none(row.approval_threshold_percent),
        promo_code=row.promo_code,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _discount_changed(row: Discount, change: str) -> DiscountChanged:
    public = discount_public(row)
    return DiscountChanged(
        discount_id=row.id,
        change=change,
        **public.model_dump(exclude={"id", "created_at", "updated_at"}),
    )


async def create_discount(*, uow: CatalogUnitOfWork, command: DiscountCreate) -> DiscountPublic:
    """Add a discount or promotion; its products must exist and its promo code be new."""
    now = utcnow()
    row = Discount(
        id=new_id("disc"),
        name=command.name,
        kind=command.kind.value,
        value=command.value,
        currency=command.currency,
        duration_cycles=command.duration_cycles,
        product_ids=json.dumps(command.product_ids),
        approval_threshold_percent=command.approval_threshold_percent,
        promo_code=command.promo_code,
        valid_from=command.valid_from,
        valid_to=command.valid_to,
        active=True,
        created_at=now,
        updated_at=now,
    )
    validate_discount(discount_terms(row))
    await uow.catalog.get_many(Product, command.product_ids)
    if command.promo_code is not None and await uow.catalog.exists(Discount, promo_code=command.promo_code):
        raise Conflict(f"promo code {command.promo_code!r} is already used by another discount")
    public = discount_public(row)
    await record_created(uow, row, "discount", public, _discount_changed(row, "created"))
    return public


async def update_discount(
    *, uow: CatalogUnitOfWork, discount_id: str, command: DiscountUpdate
) -> DiscountPublic:
    """Change a discount's name, products, threshold, validity or activity."""
    row = await uow.catalog.get(Discount, discount_id)
    changes = command.model_dump(exclude_unset=True)
    if "product_ids" in changes:
        if command.product_ids is None:
            raise ValidationFailed.single("product_ids", "may not be null; [] means every product")
        await uow.catalog.get_many(Product, command.product_ids)
        changes["product_ids"] = json.dumps(command.product_ids)
    await record_update(
        uow,
        row,
        changes,
        entity_type="discount",
        changed=_discount_changed,
        nullable=("approval_threshold_percent", "duration_cycles", "valid_from", "valid_to"),
        check=lambda r: validate_discount(discount_terms(r)),
    )
    return discount_public(row)


async def get_discount(*, uow: CatalogUnitOfWork, discount_id: str) -> DiscountPublic:
    """One discount."""
    return discount_public(await uow.catalog.get(Discount, discount_id))


async def list_discounts(
    *, uow: CatalogUnitOfWork, page: PageRequest, promo_code: str | None, active: bool | None
) -> Page[DiscountPublic]:
    """A page of discounts, optionally the one with a promo code."""
    rows = await uow.catalog.page(Discount, page, promo_code=promo_code, active=active)
    return public_page(rows, discount_public)
