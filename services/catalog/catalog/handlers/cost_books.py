"""Use cases of vendor cost books: publish version 1 and later versions, read, list."""

from __future__ import annotations

from datetime import date

from catalog.domain.cost_books import CostBook, CostBookVersion
from catalog.domain.cost_books import cost_book as checked_cost_book
from catalog.domain.versions import (
    NoVersionInForce,
    VersionWindow,
    first_window,
    next_window,
    version_in_force,
)
from catalog.handlers.common import catalog_date, commit_change, public_page, version_as_of
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.schemas.common import tier_values
from catalog.schemas.cost_books import CostBookCreate, CostBookPublic, CostBookVersionCreate, cost_book_public
from libs.platform.db import utcnow
from libs.platform.errors import ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest


def _version(
    book: CostBook, window: VersionWindow, command: CostBookCreate | CostBookVersionCreate, actor: str
) -> CostBookVersion:
    tiers = tier_values(command.tiers)
    checked_cost_book(tiers, command.mode, command.markup_percent, command.tier_period)
    return CostBookVersion(
        id=new_id("cbv"),
        cost_book_id=book.id,
        version=window.version,
        vendor_id=book.vendor_id,
        name=command.name,
        currency=book.currency,
        mode=command.mode,
        tier_period=command.tier_period,
        markup_percent=command.markup_percent,
        tiers=tiers,
        effective_from=window.effective_from,
        effective_to=window.effective_to,
        published_at=utcnow(),
        published_by=actor,
    )


async def create_cost_book(*, uow: CatalogUnitOfWork, command: CostBookCreate) -> CostBookPublic:
    """Publish version 1 of a vendor's cost book."""
    window = first_window(command.effective_from or catalog_date(uow), command.effective_to)
    book = CostBook(
        id=new_id("cb"),
        vendor_id=command.vendor_id,
        currency=command.currency,
        latest_version=0,
        created_at=utcnow(),
    )
    version = _version(book, window, command, uow.actor)
    book.publish(version)
    uow.cost_books.add(book, version)
    public = cost_book_public(version, 1)
    await commit_change(uow, "published", "cost_book", book.id, public.model_dump(mode="json"))
    return public


async def publish_cost_book_version(
    *, uow: CatalogUnitOfWork, cost_book_id: str, command: CostBookVersionCreate
) -> CostBookPublic:
    """Publish a new cost book version; the latest one ends where the new one starts."""
    book = await uow.cost_books.get(cost_book_id)
    latest = (await uow.cost_books.versions(cost_book_id))[-1]
    window = next_window(latest, command.effective_from, command.effective_to)
    version = _version(book, window, command, uow.actor)
    book.publish(version, latest)
    uow.cost_books.add(book, latest, version)
    public = cost_book_public(version, window.version)
    await commit_change(uow, "published", "cost_book", book.id, public.model_dump(mode="json"))
    return public


async def get_cost_book(*, uow: CatalogUnitOfWork, cost_book_id: str, as_of: date | None) -> CostBookPublic:
    """The cost book version in force on `as_of` (404 if none), or the latest version."""
    return cost_book_public(*await version_as_of(uow.cost_books, cost_book_id, as_of))


async def list_cost_books(
    *, uow: CatalogUnitOfWork, page: PageRequest, vendor_id: str | None
) -> Page[CostBookPublic]:
    """A page of cost books (latest versions)."""
    versions = await uow.cost_books.latest_page(page, vendor_id=vendor_id)
    return public_page(versions, lambda v: cost_book_public(v, v.version))


async def list_cost_book_versions(
    *, uow: CatalogUnitOfWork, cost_book_id: str, page: PageRequest
) -> Page[CostBookPublic]:
    """A page of one cost book's versions, oldest first."""
    book = await uow.cost_books.get(cost_book_id)
    versions = await uow.cost_books.versions_page(cost_book_id, page)
    return public_page(versions, lambda v: cost_book_public(v, book.latest_version))


async def cost_book_in_force(
    uow: CatalogUnitOfWork, cost_book_id: str, as_of: date, field: str
) -> CostBookVersion:
    """The cost book version in force on `as_of`; none in force is a 422 on `field`."""
    await uow.cost_books.get(cost_book_id)
    versions = await uow.cost_books.versions(cost_book_id)
    try:
        return version_in_force(versions, as_of, entity="cost book", entity_id=cost_book_id)
    except NoVersionInForce as exc:
        raise ValidationFailed.single(field, exc.detail, "no_version_in_force") from None
