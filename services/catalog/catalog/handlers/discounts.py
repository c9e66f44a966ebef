"""Use cases of discounts and promotions: create, change, read, list."""

from __future__ import annotations

from catalog.domain.discounts import Discount
from catalog.handlers.common import commit_created, commit_updated, public_page
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.schemas.discounts import DiscountCreate, DiscountPublic, DiscountUpdate, discount_public
from libs.platform.db import utcnow
from libs.platform.errors import Conflict, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest


async def create_discount(*, uow: CatalogUnitOfWork, command: DiscountCreate) -> DiscountPublic:
    """Add a discount or promotion; its products must exist and its promo code be new."""
    fields = command.model_dump()
    fields["product_ids"] = tuple(command.product_ids)
    discount = Discount.create(id=new_id("disc"), now=utcnow(), **fields)
    await uow.products.get_many(command.product_ids)
    if command.promo_code is not None and await uow.discounts.by_promo_codes([command.promo_code]):
        raise Conflict(f"promo code {command.promo_code!r} is already used by another discount")
    uow.discounts.add(discount)
    public = discount_public(discount)
    await commit_created(uow, "discount", discount, public)
    return public


async def update_discount(
    *, uow: CatalogUnitOfWork, discount_id: str, command: DiscountUpdate
) -> DiscountPublic:
    """Change a discount's name, products, threshold, validity or activity."""
    discount = await uow.discounts.get(discount_id)
    changes = command.model_dump(exclude_unset=True)
    if "product_ids" in changes:
        if command.product_ids is None:
            raise ValidationFailed.single("product_ids", "may not be null; [] means every product")
        await uow.products.get_many(command.product_ids)
        changes["product_ids"] = tuple(command.product_ids)
    diff = discount.update(changes, now=utcnow())
    uow.discounts.add(discount)
    await commit_updated(uow, "discount", discount, diff)
    return discount_public(discount)


async def get_discount(*, uow: CatalogUnitOfWork, discount_id: str) -> DiscountPublic:
    """One discount."""
    return discount_public(await uow.discounts.get(discount_id))


async def list_discounts(
    *, uow: CatalogUnitOfWork, page: PageRequest, promo_code: str | None, active: bool | None
) -> Page[DiscountPublic]:
    """A page of discounts, optionally the one with a promo code."""
    return public_page(await uow.discounts.page(page, promo_code=promo_code, active=active), discount_public)
