"""Use cases of vendor cost books."""

from __future__ import annotations

from datetime import date

from catalog.domain.cost_books import cost_book as build_cost_book
from catalog.domain.versions import (
    NoVersionInForce,
    VersionWindow,
    first_window,
    version_in_force,
)
from catalog.handlers.common import (
    next_version,
    plain,
    public_page,
    record_change,
    supersede,
    tier_models,
    tier_terms,
    tiers_json,
    tiers_of,
    tiers_public,
    today,
    version_as_of,
    versions_page,
)
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.models import (
    CostBook,
    CostBookVersion,
)
from catalog.schemas.cost_books import CostBookCreate, CostBookPublic, CostBookVersionCreate
from libs.contracts.catalog import (
    CostBookPublished,
)
from libs.platform.db import utcnow
from libs.platform.errors import ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest
from libs.pricing import CostBook as PricingCostBook
from libs.pricing import TierMode


def _cost_book_public(row: CostBookVersion, latest_version: int) -> CostBookPublic:
    return CostBookPublic(
        id=row.cost_book_id,
        vendor_id=row.vendor_id,
        name=row.name,
        currency=row.currency,
        version=row.version,
        latest_version=latest_version,
        mode=TierMode(row.mode),
        markup_percent=plain(row.markup_percent),
        tiers=tiers_public(row.tiers),
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        published_at=row.published_at,
    )


def pricing_cost_book(row: CostBookVersion) -> PricingCostBook:
    return PricingCostBook(tiers_of(row.tiers), TierMode(row.mode), row.markup_percent)


def _cost_book_version(
    book: CostBook, window: VersionWindow, command: CostBookCreate | CostBookVersionCreate, actor: str
) -> CostBookVersion:
    build_cost_book(tier_models(command.tiers), command.mode, command.markup_percent)
    return CostBookVersion(
        id=new_id("cbv"),
        cost_book_id=book.id,
        version=window.version,
        vendor_id=book.vendor_id,
        name=command.name,
        currency=book.currency,
        mode=command.mode.value,
        markup_percent=command.markup_percent,
        tiers=tiers_json(command.tiers),
        effective_from=window.effective_from,
        effective_to=window.effective_to,
        published_at=utcnow(),
        published_by=actor,
    )


def _cost_book_published(row: CostBookVersion) -> CostBookPublished:
    return CostBookPublished(
        cost_book_id=row.cost_book_id,
        version=row.version,
        vendor_id=row.vendor_id,
        currency=row.currency,
        mode=row.mode,
        markup_percent=plain(row.markup_percent),
        tiers=tier_terms(row.tiers),
        effective_from=row.effective_from,
        effective_to=row.effective_to,
    )


async def create_cost_book(*, uow: CatalogUnitOfWork, command: CostBookCreate) -> CostBookPublic:
    """Publish version 1 of a vendor's cost book."""
    window = first_window(command.effective_from or today(), command.effective_to)
    book = CostBook(
        id=new_id("cb"),
        vendor_id=command.vendor_id,
        currency=command.currency,
        latest_version=1,
        created_at=utcnow(),
    )
    version = _cost_book_version(book, window, command, uow.actor)
    uow.catalog.add(book, version)
    public = _cost_book_public(version, 1)
    changes = public.model_dump(mode="json")
    await record_change(
        uow, "published", "cost_book", book.id, changes, _cost_book_published(version), key=book.id
    )
    return public


async def publish_cost_book_version(
    *, uow: CatalogUnitOfWork, cost_book_id: str, command: CostBookVersionCreate
) -> CostBookPublic:
    """Publish a new cost book version; the latest one ends where the new one starts."""
    book, latest, window = await next_version(
        uow, CostBookVersion, cost_book_id, command.effective_from, command.effective_to
    )
    version = _cost_book_version(book, window, command, uow.actor)
    supersede(uow, book, latest, version)
    public = _cost_book_public(version, window.version)
    changes = public.model_dump(mode="json")
    await record_change(
        uow, "published", "cost_book", book.id, changes, _cost_book_published(version), key=book.id
    )
    return public


async def get_cost_book(*, uow: CatalogUnitOfWork, cost_book_id: str, as_of: date | None) -> CostBookPublic:
    """The cost book version in force on `as_of` (404 if none), or the latest version."""
    return _cost_book_public(*await version_as_of(uow, CostBookVersion, cost_book_id, as_of))


async def list_cost_books(
    *, uow: CatalogUnitOfWork, page: PageRequest, vendor_id: str | None
) -> Page[CostBookPublic]:
    """A page of cost books (latest versions)."""
    rows = await uow.catalog.latest_versions_page(CostBookVersion, page, vendor_id=vendor_id)
    return public_page(rows, lambda r: _cost_book_public(r, r.version))


async def list_cost_book_versions(
    *, uow: CatalogUnitOfWork, cost_book_id: str, page: PageRequest
) -> Page[CostBookPublic]:
    """A page of one cost book's versions, oldest first."""
    rows, latest = await versions_page(uow, CostBookVersion, cost_book_id, page)
    return public_page(rows, lambda r: _cost_book_public(r, latest))


async def cost_book_in_force(
    uow: CatalogUnitOfWork, cost_book_id: str, as_of: date, field: str
) -> CostBookVersion:
    """The cost book version in force on `as_of`; none in force is a 422 on `field`."""
    await uow.catalog.get(CostBook, cost_book_id)
    versions = await uow.catalog.versions(CostBookVersion, cost_book_id)
    try:
        return version_in_force(versions, as_of, entity="cost book", entity_id=cost_book_id)
    except NoVersionInForce as exc:
        raise ValidationFailed.single(field, exc.detail, "no_version_in_force") from None
