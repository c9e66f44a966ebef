"""Use cases of bundles: create, change, read, list."""

from __future__ import annotations

from collections.abc import Sequence

from catalog.domain.bundles import Bundle, BundleComponent, validate_components
from catalog.handlers.common import commit_created, commit_updated, public_page
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.schemas.bundles import BundleComponentIn, BundleCreate, BundlePublic, BundleUpdate, bundle_public
from libs.platform.db import utcnow
from libs.platform.errors import ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest


async def _components(
    uow: CatalogUnitOfWork, components: Sequence[BundleComponentIn]
) -> tuple[BundleComponent, ...]:
    """Valid components of existing products (422, then 404 for an unknown product)."""
    parts = tuple(BundleComponent(c.product_id, c.quantity) for c in components)
    validate_components(parts)
    await uow.products.get_many([p.product_id for p in parts])
    return parts


async def create_bundle(*, uow: CatalogUnitOfWork, command: BundleCreate) -> BundlePublic:
    """Add a bundle of existing products."""
    parts = await _components(uow, command.components)
    bundle = Bundle.create(
        id=new_id("bnd"), name=command.name, description=command.description, components=parts, now=utcnow()
    )
    uow.bundles.add(bundle)
    public = bundle_public(bundle)
    await commit_created(uow, "bundle", bundle, public)
    return public


async def update_bundle(*, uow: CatalogUnitOfWork, bundle_id: str, command: BundleUpdate) -> BundlePublic:
    """Change a bundle's name, description, components or activity."""
    bundle = await uow.bundles.get(bundle_id)
    changes = command.model_dump(exclude_unset=True)
    if "components" in changes:
        if command.components is None:
            raise ValidationFailed.single("components", "may not be null")
        changes["components"] = await _components(uow, command.components)
    diff = bundle.update(changes, now=utcnow())
    uow.bundles.add(bundle)
    await commit_updated(uow, "bundle", bundle, diff)
    return bundle_public(bundle)


async def get_bundle(*, uow: CatalogUnitOfWork, bundle_id: str) -> BundlePublic:
    """One bundle."""
    return bundle_public(await uow.bundles.get(bundle_id))


async def list_bundles(*, uow: CatalogUnitOfWork, page: PageRequest) -> Page[BundlePublic]:
    """A page of bundles."""
    return public_page(await uow.bundles.page(page), bundle_public)
