"""Use cases of bundles."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from catalog.domain.bundles import BundleComponent, validate_components
from catalog.handlers.common import plain, public_page, record_created, record_update
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.models import (
    Bundle,
    Product,
)
from catalog.schemas.bundles import BundleComponentPublic, BundleCreate, BundlePublic, BundleUpdate
from libs.contracts.catalog import (
    BundleChanged,
    BundleComponentTerms,
)
from libs.platform.db import utcnow
from libs.platform.errors import ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest


def components_of(text: str) -> list[BundleComponent]:
    return [BundleComponent(c["product_id"], Decimal(c["quantity"])) for c in json.loads(text)]


def components_json(components: Sequence[BundleComponent]) -> str:
    return json.dumps(
        [{"product_id": c.product_id, "quantity": format(plain(c.quantity), "f")} for c in components]
    )


def bundle_public(row: Bundle) -> BundlePublic:
    """The public view of a bundle row."""
    return BundlePublic(
        id=row.id,
        name=row.name,
        description=row.description,
        components=[
            BundleComponentPublic(product_id=c.product_id, quantity=c.quantity)
            for c in components_of(row.components)
        ],
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _bundle_changed(row: Bundle, change: str) -> BundleChanged:
    return BundleChanged(
        bundle_id=row.id,
        change=change,
        name=row.name,
        components=[
            BundleComponentTerms(product_id=c.product_id, quantity=c.quantity)
            for c in components_of(row.components)
        ],
        active=row.active,
    )


async def _checked_components(uow: CatalogUnitOfWork, components: Sequence[Any]) -> list[BundleComponent]:
    parts = [BundleComponent(c.product_id, c.quantity) for c in components]
    validate_components(parts)
    await uow.catalog.get_many(Product, [p.product_id for p in parts])
    return parts


async def create_bundle(*, uow: CatalogUnitOfWork, command: BundleCreate) -> BundlePublic:
    """Add a bundle of existing products."""
    parts = await _checked_components(uow, command.components)
    now = utcnow()
    row = Bundle(
        id=new_id("bnd"),
        name=command.name,
        description=command.description,
        components=components_json(parts),
        active=True,
        created_at=now,
        updated_at=now,
    )
    public = bundle_public(row)
    await record_created(uow, row, "bundle", public, _bundle_changed(row, "created"))
    return public


async def update_bundle(*, uow: CatalogUnitOfWork, bundle_id: str, command: BundleUpdate) -> BundlePublic:
    """Change a bundle's name, description, components or activity."""
    row = await uow.catalog.get(Bundle, bundle_id)
    changes = command.model_dump(exclude_unset=True)
    if "components" in changes:
        if command.components is None:
            raise ValidationFailed.single("components", "may not be null")
        changes["components"] = components_json(await _checked_components(uow, command.components))
    await record_update(
        uow, row, changes, entity_type="bundle", changed=_bundle_changed, nullable=("description",)
    )
    return bundle_public(row)


async def get_bundle(*, uow: CatalogUnitOfWork, bundle_id: str) -> BundlePublic:
    """One bundle."""
    return bundle_public(await uow.catalog.get(Bundle, bundle_id))


async def list_bundles(*, uow: CatalogUnitOfWork, page: PageRequest) -> Page[BundlePublic]:
    """A page of bundles."""
    return public_page(await uow.catalog.page(Bundle, page), bundle_public)
