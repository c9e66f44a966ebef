"""Use cases of prices and their versions."""

from __future__ import annotations

from datetime import date

from catalog.domain.prices import PriceTerms, check_charge_schedule, validate_price_terms
from catalog.domain.versions import (
    VersionWindow,
    first_window,
)
from catalog.handlers.common import (
    next_version,
    plain,
    plain_or_none,
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
from catalog.handlers.cost_books import cost_book_in_force, pricing_cost_book
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.models import (
    Price,
    PriceVersion,
    Product,
)
from catalog.schemas.prices import PriceCreate, PricePublic, PriceTermsIn, PriceVersionCreate
from libs.contracts.catalog import (
    PricePublished,
)
from libs.platform.db import utcnow
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest
from libs.pricing import CostBook as PricingCostBook
from libs.pricing import PricingModel


def _price_terms(command: PriceTermsIn) -> PriceTerms:
    return PriceTerms(
        model=command.model,
        unit_price=command.unit_price,
        amount=command.amount,
        tiers=tier_models(command.tiers),
        package_size=command.package_size,
        included_quantity=command.included_quantity,
        minimum_commitment=command.minimum_commitment,
        cost_book_id=command.cost_book_id,
    )


def version_terms(row: PriceVersion) -> PriceTerms:
    return PriceTerms(
        model=PricingModel(row.model),
        unit_price=row.unit_price,
        amount=row.amount,
        tiers=tiers_of(row.tiers),
        package_size=row.package_size,
        included_quantity=row.included_quantity,
        minimum_commitment=row.minimum_commitment,
        cost_book_id=row.cost_book_id,
    )


async def _check_terms(
    uow: CatalogUnitOfWork, terms: PriceTerms, currency: str, effective_from: date
) -> None:
    """Validate price terms; a cost-plus price needs a cost book version in force when it starts."""
    book: PricingCostBook | None = None
    book_currency: str | None = None
    if terms.cost_book_id is not None and terms.model == PricingModel.COST_PLUS:
        version = await cost_book_in_force(uow, terms.cost_book_id, effective_from, "cost_book_id")
        book, book_currency = pricing_cost_book(version), version.currency
    validate_price_terms(terms, currency, book, book_currency)


def _price_public(row: PriceVersion, latest_version: int) -> PricePublic:
    return PricePublic(
        id=row.price_id,
        product_id=row.product_id,
        currency=row.currency,
        charge_type=row.charge_type,
        billing_period=row.billing_period,
        timing=row.timing,
        version=row.version,
        latest_version=latest_version,
        model=PricingModel(row.model),
        unit_price=plain_or_none(row.unit_price),
        amount=plain_or_none(row.amount),
        tiers=tiers_public(row.tiers),
        package_size=plain_or_none(row.package_size),
        included_quantity=plain(row.included_quantity),
        minimum_commitment=plain_or_none(row.minimum_commitment),
        cost_book_id=row.cost_book_id,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        published_at=row.published_at,
    )


def _price_published(row: PriceVersion, previous_end: date | None = None) -> PricePublished:
    return PricePublished(
        price_id=row.price_id,
        version=row.version,
        product_id=row.product_id,
        currency=row.currency,
        charge_type=row.charge_type,
        billing_period=row.billing_period,
        timing=row.timing,
        model=row.model,
        unit_price=plain_or_none(row.unit_price),
        amount=plain_or_none(row.amount),
        tiers=tier_terms(row.tiers),
        package_size=plain_or_none(row.package_size),
        included_quantity=plain(row.included_quantity),
        minimum_commitment=plain_or_none(row.minimum_commitment),
        cost_book_id=row.cost_book_id,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        previous_version_effective_to=previous_end,
    )


def _price_version(
    *,
    price: Price,
    window: VersionWindow,
    command: PriceTermsIn,
    charge_type: str,
    billing_period: str | None,
    timing: str,
    actor: str,
) -> PriceVersion:
    return PriceVersion(
        id=new_id("pver"),
        price_id=price.id,
        version=window.version,
        product_id=price.product_id,
        currency=price.currency,
        charge_type=charge_type,
        billing_period=billing_period,
        timing=timing,
        model=command.model.value,
        unit_price=command.unit_price,
        amount=command.amount,
        tiers=tiers_json(command.tiers),
        package_size=command.package_size,
        included_quantity=command.included_quantity,
        minimum_commitment=command.minimum_commitment,
        cost_book_id=command.cost_book_id,
        effective_from=window.effective_from,
        effective_to=window.effective_to,
        published_at=utcnow(),
        published_by=actor,
    )


async def create_price(*, uow: CatalogUnitOfWork, command: PriceCreate) -> PricePublic:
    """Publish version 1 of a price of a product in a currency."""
    await uow.catalog.get(Product, command.product_id)
    check_charge_schedule(command.charge_type, command.billing_period, command.timing)
    window = first_window(command.effective_from or today(), command.effective_to)
    await _check_terms(uow, _price_terms(command), command.currency, window.effective_from)
    price = Price(
        id=new_id("price"),
        product_id=command.product_id,
        currency=command.currency,
        latest_version=1,
        created_at=utcnow(),
    )
    version = _price_version(
        price=price,
        window=window,
        command=command,
        charge_type=command.charge_type.value,
        billing_period=None if command.billing_period is None else command.billing_period.value,
        timing=command.timing.value,
        actor=uow.actor,
    )
    uow.catalog.add(price, version)
    public = _price_public(version, 1)
    changes = public.model_dump(mode="json")
    await record_change(
        uow, "published", "price", price.id, changes, _price_published(version), key=price.product_id
    )
    return public


async def publish_price_version(
    *, uow: CatalogUnitOfWork, price_id: str, command: PriceVersionCreate
) -> PricePublic:
    """Publish a new version of a price; the latest version ends where the new one starts."""
    price, latest, window = await next_version(
        uow, PriceVersion, price_id, command.effective_from, command.effective_to
    )
    await _check_terms(uow, _price_terms(command), price.currency, window.effective_from)
    version = _price_version(
        price=price,
        window=window,
        command=command,
        charge_type=latest.charge_type,
        billing_period=latest.billing_period,
        timing=latest.timing,
        actor=uow.actor,
    )
    supersede(uow, price, latest, version)
    public = _price_public(version, window.version)
    changes = {
        **public.model_dump(mode="json"),
        "previous_version_effective_to": window.effective_from.isoformat(),
    }
    event = _price_published(version, window.effective_from)
    await record_change(uow, "published", "price", price.id, changes, event, key=price.product_id)
    return public


async def get_price(*, uow: CatalogUnitOfWork, price_id: str, as_of: date | None) -> PricePublic:
    """The price version in force on `as_of` (404 if none), or the latest version."""
    return _price_public(*await version_as_of(uow, PriceVersion, price_id, as_of))


async def list_prices(
    *, uow: CatalogUnitOfWork, page: PageRequest, product_id: str | None, currency: str | None
) -> Page[PricePublic]:
    """A page of prices (latest versions), optionally of one product or currency."""
    rows = await uow.catalog.latest_versions_page(
        PriceVersion, page, product_id=product_id, currency=currency
    )
    return public_page(rows, lambda r: _price_public(r, r.version))


async def list_price_versions(
    *, uow: CatalogUnitOfWork, price_id: str, page: PageRequest
) -> Page[PricePublic]:
    """A page of one price's versions, oldest first."""
    rows, latest = await versions_page(uow, PriceVersion, price_id, page)
    return public_page(rows, lambda r: _price_public(r, latest))
