"""Use cases of quotes: price items with their discounts and save the quote; read, list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from catalog.domain.prices import PriceVersion
from catalog.domain.quotes import (
    PriceInForce,
    Quote,
    QuoteCatalog,
    QuotedBundle,
    QuotedProduct,
    RequestedDiscount,
    RequestedItem,
    check_promotions,
    price_quote,
    quote_items,
)
from catalog.handlers.common import catalog_date, commit_change, public_page
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.schemas.quotes import QuoteCreate, QuotePublic, quote_line_public, quote_public
from libs.contracts.vocabulary import PricingModel
from libs.platform.db import utcnow
from libs.platform.errors import FieldErrors
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest


def _price_in_force(version: PriceVersion) -> PriceInForce:
    return PriceInForce(
        version.price_id,
        version.version,
        version.product_id,
        version.currency,
        version.terms,
        version.billing_period,
    )


async def _quote_catalog(
    uow: CatalogUnitOfWork, currency: str, as_of: date, requested: Sequence[RequestedItem]
) -> QuoteCatalog:
    """Everything the requested items read, in one query per kind of thing (not one per line)."""
    prices = await uow.prices.find_many([r.price_id for r in requested if r.price_id is not None])
    versions = await uow.prices.versions_in_force(prices, as_of)
    bundles = await uow.bundles.find_many([r.bundle_id for r in requested if r.bundle_id is not None])
    component_products = {c.product_id for b in bundles.values() for c in b.components}
    component_versions = await uow.prices.product_prices_in_force(component_products, currency, as_of)
    products = await uow.products.find_many(
        [*(v.product_id for v in versions.values()), *sorted(component_products)]
    )
    in_force = [*versions.values(), *component_versions.values()]
    book_ids = {
        v.terms.cost_book_id
        for v in in_force
        if v.terms.model == PricingModel.COST_PLUS and v.terms.cost_book_id is not None
    }
    books = await uow.cost_books.versions_in_force(book_ids, as_of)
    return QuoteCatalog(
        currency=currency,
        as_of=as_of,
        prices={
            price_id: None if price_id not in versions else _price_in_force(versions[price_id])
            for price_id in prices
        },
        bundles={b.id: QuotedBundle(b.id, b.name, b.active, b.components) for b in bundles.values()},
        component_prices={pid: _price_in_force(v) for pid, v in component_versions.items()},
        products={p.id: QuotedProduct(p.id, p.sku, p.name, p.active) for p in products.values()},
        cost_books={book_id: v.pricing_cost_book() for book_id, v in books.items()},
    )


async def _promotions(
    uow: CatalogUnitOfWork, codes: Sequence[str], as_of: date
) -> tuple[RequestedDiscount, ...]:
    """The discounts of promo codes valid on `as_of`; an unknown or expired code is a 422 on its field."""
    found = await uow.discounts.by_promo_codes(codes)
    errors = FieldErrors()
    promotions: list[RequestedDiscount] = []
    for index, code in enumerate(codes):
        field = f"promo_codes.{index}"
        if code not in found:
            errors.add(field, f"promo code {code!r} does not exist", "unknown_promo_code")
            continue
        terms = found[code].terms()
        if not terms.is_valid_on(as_of):
            errors.add(
                field, f"promo code {code!r} is not valid on {as_of.isoformat()}", "promo_code_not_valid"
            )
            continue
        promotions.append(RequestedDiscount(terms, field))
    errors.raise_if_any("The promo codes cannot be used")
    return tuple(promotions)


async def create_quote(*, uow: CatalogUnitOfWork, command: QuoteCreate) -> QuotePublic:
    """Price items (prices or bundles) as of a date with their discounts, and save the quote."""
    as_of = command.as_of or catalog_date(uow)
    discounts = await uow.discounts.get_many(
        [*command.discount_ids, *(d for item in command.items for d in item.discount_ids)]
    )
    terms = {discount_id: discount.terms() for discount_id, discount in discounts.items()}
    quote_level = tuple(
        RequestedDiscount(terms[d], f"discount_ids.{j}") for j, d in enumerate(command.discount_ids)
    )
    promotions = await _promotions(uow, command.promo_codes, as_of)
    requested = [
        RequestedItem(
            field=f"items.{index}",
            price_id=item.price_id,
            bundle_id=item.bundle_id,
            quantity=item.quantity,
            discounts=quote_level
            + tuple(
                RequestedDiscount(terms[d], f"items.{index}.discount_ids.{j}")
                for j, d in enumerate(item.discount_ids)
            ),
            promotions=promotions,
            term_months=item.term_months,
        )
        for index, item in enumerate(command.items)
    ]
    items = quote_items(requested, await _quote_catalog(uow, command.currency, as_of, requested))
    check_promotions(promotions, items)

    priced = price_quote(command.currency, as_of, items)
    lines = [
        quote_line_public(line, command.currency, item.bundle_id).model_dump(mode="json")
        for line, item in zip(priced.lines, items, strict=True)
    ]
    quote = Quote.create(id=new_id("quo"), priced=priced, lines=lines, now=utcnow(), actor=uow.actor)
    uow.quotes.add(quote)
    public = quote_public(quote)
    changes = {
        "currency": quote.currency,
        "as_of": as_of.isoformat(),
        "total": format(priced.total, "f"),
        "lines": len(lines),
        "promo_codes": list(command.promo_codes),
    }
    await commit_change(uow, "created", "quote", quote.id, changes)
    return public


async def get_quote(*, uow: CatalogUnitOfWork, quote_id: str) -> QuotePublic:
    """One quote."""
    return quote_public(await uow.quotes.get(quote_id))


async def list_quotes(*, uow: CatalogUnitOfWork, page: PageRequest) -> Page[QuotePublic]:
    """A page of quotes, oldest first."""
    return public_page(await uow.quotes.page(page), quote_public)
