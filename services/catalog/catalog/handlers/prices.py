"""Use cases of prices: publish version 1 and later versions, read as of a date, list."""

from __future__ import annotations

from datetime import date

from catalog.domain.prices import Price, PriceTerms, PriceVersion, check_charge_schedule, validate_price_terms
from catalog.domain.versions import VersionWindow, first_window, next_window
from catalog.handlers.common import catalog_date, commit_change, public_page, version_as_of
from catalog.handlers.cost_books import cost_book_in_force
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.schemas.prices import PriceCreate, PricePublic, PriceVersionCreate, price_public, price_terms
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, PricingModel
from libs.platform.db import utcnow
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest
from libs.pricing import CostBook as PricingCostBook


async def _check_terms(
    uow: CatalogUnitOfWork,
    terms: PriceTerms,
    currency: str,
    effective_from: date,
    billing_period: BillingFrequency | None,
) -> None:
    """Validate price terms; a cost-plus price needs a cost book version in force when it starts,
    whose period converts to the price's billing period."""
    book: PricingCostBook | None = None
    book_currency: str | None = None
    if terms.cost_book_id is not None and terms.model == PricingModel.COST_PLUS:
        version = await cost_book_in_force(uow, terms.cost_book_id, effective_from, "cost_book_id")
        book, book_currency = version.pricing_cost_book(), version.currency
    validate_price_terms(terms, currency, book, book_currency, billing_period)


def _version(
    *,
    price: Price,
    window: VersionWindow,
    terms: PriceTerms,
    charge_type: ChargeType,
    billing_period: BillingFrequency | None,
    timing: BillingTiming,
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
        terms=terms,
        effective_from=window.effective_from,
        effective_to=window.effective_to,
        published_at=utcnow(),
        published_by=actor,
    )


async def create_price(*, uow: CatalogUnitOfWork, command: PriceCreate) -> PricePublic:
    """Publish version 1 of a price of a product in a currency."""
    await uow.products.get(command.product_id)
    check_charge_schedule(command.charge_type, command.billing_period, command.timing)
    window = first_window(command.effective_from or catalog_date(uow), command.effective_to)
    terms = price_terms(command)
    await _check_terms(uow, terms, command.currency, window.effective_from, command.billing_period)
    price = Price(
        id=new_id("price"),
        product_id=command.product_id,
        currency=command.currency,
        latest_version=0,
        created_at=utcnow(),
    )
    version = _version(
        price=price,
        window=window,
        terms=terms,
        charge_type=command.charge_type,
        billing_period=command.billing_period,
        timing=command.timing,
        actor=uow.actor,
    )
    price.publish(version)
    uow.prices.add(price, version)
    public = price_public(version, 1)
    await commit_change(uow, "published", "price", price.id, public.model_dump(mode="json"))
    return public


async def publish_price_version(
    *, uow: CatalogUnitOfWork, price_id: str, command: PriceVersionCreate
) -> PricePublic:
    """Publish a new version of a price; the latest version ends where the new one starts."""
    price = await uow.prices.get(price_id)
    latest = (await uow.prices.versions(price_id))[-1]
    window = next_window(latest, command.effective_from, command.effective_to)
    terms = price_terms(command)
    await _check_terms(uow, terms, price.currency, window.effective_from, latest.billing_period)
    version = _version(
        price=price,
        window=window,
        terms=terms,
        charge_type=latest.charge_type,
        billing_period=latest.billing_period,
        timing=latest.timing,
        actor=uow.actor,
    )
    price.publish(version, latest)
    uow.prices.add(price, latest, version)
    public = price_public(version, window.version)
    changes = {
        **public.model_dump(mode="json"),
        "previous_version_effective_to": window.effective_from.isoformat(),
    }
    await commit_change(uow, "published", "price", price.id, changes)
    return public


async def get_price(*, uow: CatalogUnitOfWork, price_id: str, as_of: date | None) -> PricePublic:
    """The price version in force on `as_of` (404 if none), or the latest version."""
    return price_public(*await version_as_of(uow.prices, price_id, as_of))


async def list_prices(
    *, uow: CatalogUnitOfWork, page: PageRequest, product_id: str | None, currency: str | None
) -> Page[PricePublic]:
    """A page of prices (latest versions), optionally of one product or currency."""
    versions = await uow.prices.latest_page(page, product_id=product_id, currency=currency)
    return public_page(versions, lambda v: price_public(v, v.version))


async def list_price_versions(
    *, uow: CatalogUnitOfWork, price_id: str, page: PageRequest
) -> Page[PricePublic]:
    """A page of one price's versions, oldest first."""
    price = await uow.prices.get(price_id)
    versions = await uow.prices.versions_page(price_id, page)
    return public_page(versions, lambda v: price_public(v, price.latest_version))
