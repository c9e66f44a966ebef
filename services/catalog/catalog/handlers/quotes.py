"""Use cases of quotes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from catalog.domain.quotes import (
    PriceInForce,
    QuoteCatalog,
    QuotedBundle,
    QuotedProduct,
    QuoteLine,
    RequestedDiscount,
    RequestedItem,
    check_promotions,
    price_quote,
    quote_items,
)
from catalog.handlers.bundles import components_of
from catalog.handlers.common import plain, public_page, today
from catalog.handlers.cost_books import pricing_cost_book
from catalog.handlers.discounts import discount_terms
from catalog.handlers.prices import version_terms
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.models import (
    Bundle,
    CostBookVersion,
    Discount,
    Price,
    PriceVersion,
    Product,
    Quote,
)
from catalog.schemas.quotes import (
    LineDiscountPublic,
    QuoteCreate,
    QuoteLinePublic,
    QuotePublic,
    TierLinePublic,
)
from libs.contracts.catalog import (
    QuoteCreated,
)
from libs.platform.db import utcnow
from libs.platform.errors import FieldErrors
from libs.platform.ids import new_id
from libs.platform.money import round_money
from libs.platform.pagination import Page, PageRequest
from libs.pricing import PricingModel


def _quote_line_public(line: QuoteLine, currency: str, bundle_id: str | None) -> QuoteLinePublic:
    return QuoteLinePublic(
        line_number=line.line_number,
        product_id=line.product_id,
        price_id=line.price_id,
        price_version=line.price_version,
        bundle_id=bundle_id,
        description=line.description,
        quantity=plain(line.quantity),
        unit_price=line.unit_price,
        list_amount=line.list_amount,
        discounts=[
            LineDiscountPublic(discount_id=d.discount_id, name=d.name, amount=d.amount)
            for d in line.discounts
        ],
        discount_amount=line.discount_amount,
        net_amount=line.net_amount,
        effective_percent_off=line.effective_percent_off,
        needs_approval=line.needs_approval,
        tier_breakdown=[
            TierLinePublic(
                band_from=t.band_from,
                band_to=t.band_to,
                quantity=t.quantity,
                unit_price=t.unit_price,
                flat_fee=t.flat_fee,
                amount=t.amount,
            )
            for t in line.tier_breakdown
        ],
        minimum_shortfall=round_money(line.minimum_shortfall, currency),
    )


def quote_public(row: Quote) -> QuotePublic:
    """The public view of a stored quote (totals shown to the currency's minor units)."""
    return QuotePublic(
        id=row.id,
        currency=row.currency,
        as_of=row.as_of,
        lines=[QuoteLinePublic.model_validate(line) for line in json.loads(row.lines)],
        subtotal=round_money(row.subtotal, row.currency),
        discount_total=round_money(row.discount_total, row.currency),
        total=round_money(row.total, row.currency),
        needs_approval=row.needs_approval,
        approval_reasons=json.loads(row.approval_reasons),
        created_at=row.created_at,
    )


def _price_in_force(row: PriceVersion) -> PriceInForce:
    return PriceInForce(row.price_id, row.version, row.product_id, row.currency, version_terms(row))


async def _quote_catalog(
    uow: CatalogUnitOfWork, currency: str, as_of: date, requested: Sequence[RequestedItem]
) -> QuoteCatalog:
    """Everything the requested items read, in one query per kind of row (not one per line)."""
    repo = uow.catalog
    prices = await repo.find_many(Price, [r.price_id for r in requested if r.price_id is not None])
    versions = await repo.versions_in_force(PriceVersion, prices, as_of)
    bundles = await repo.find_many(Bundle, [r.bundle_id for r in requested if r.bundle_id is not None])
    components = {b.id: tuple(components_of(b.components)) for b in bundles.values()}
    component_products = {c.product_id for parts in components.values() for c in parts}
    component_versions = await repo.product_prices_in_force(component_products, currency, as_of)
    products = await repo.find_many(
        Product, [*(v.product_id for v in versions.values()), *sorted(component_products)]
    )
    in_force = [*versions.values(), *component_versions.values()]
    book_ids = {
        v.cost_book_id for v in in_force if v.model == PricingModel.COST_PLUS and v.cost_book_id is not None
    }
    books = await repo.versions_in_force(CostBookVersion, book_ids, as_of)
    return QuoteCatalog(
        currency=currency,
        as_of=as_of,
        prices={
            price_id: None if price_id not in versions else _price_in_force(versions[price_id])
            for price_id in prices
        },
        bundles={b.id: QuotedBundle(b.id, b.name, b.active, components[b.id]) for b in bundles.values()},
        component_prices={pid: _price_in_force(v) for pid, v in component_versions.items()},
        products={p.id: QuotedProduct(p.id, p.sku, p.name, p.active) for p in products.values()},
        cost_books={book_id: pricing_cost_book(v) for book_id, v in books.items()},
    )


async def _promotions(
    uow: CatalogUnitOfWork, codes: Sequence[str], as_of: date
) -> tuple[RequestedDiscount, ...]:
    """The discounts of promo codes valid on `as_of`; an unknown or expired code is a 422 on its field."""
    found = await uow.catalog.discounts_by_promo_code(codes)
    errors = FieldErrors()
    promotions: list[RequestedDiscount] = []
    for index, code in enumerate(codes):
        field = f"promo_codes.{index}"
        if code not in found:
            errors.add(field, f"promo code {code!r} does not exist", "unknown_promo_code")
            continue
        terms = discount_terms(found[code])
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
    as_of = command.as_of or today()
    discount_rows = await uow.catalog.get_many(
        Discount, [*command.discount_ids, *(d for item in command.items for d in item.discount_ids)]
    )
    terms = {row_id: discount_terms(row) for row_id, row in discount_rows.items()}
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
        )
        for index, item in enumerate(command.items)
    ]
    items = quote_items(requested, await _quote_catalog(uow, command.currency, as_of, requested))
    check_promotions(promotions, items)

    priced = price_quote(command.currency, as_of, items)
    lines = [
        _quote_line_public(line, command.currency, item.bundle_id)
        for line, item in zip(priced.lines, items, strict=True)
    ]
    row = Quote(
        id=new_id("quo"),
        currency=command.currency,
        as_of=as_of,
        subtotal=priced.subtotal,
        discount_total=priced.discount_total,
        total=priced.total,
        needs_approval=priced.needs_approval,
        approval_reasons=json.dumps(list(priced.approval_reasons)),
        lines=json.dumps([line.model_dump(mode="json") for line in lines]),
        created_at=utcnow(),
        created_by=uow.actor,
    )
    uow.catalog.add(row)
    public = quote_public(row)
    uow.audit(
        "quote.created",
        "quote",
        row.id,
        {
            "currency": row.currency,
            "as_of": as_of.isoformat(),
            "total": format(priced.total, "f"),
            "lines": len(lines),
            "promo_codes": list(command.promo_codes),
        },
    )
    uow.emit(
        QuoteCreated(
            quote_id=row.id,
            currency=row.currency,
            as_of=as_of,
            line_count=len(lines),
            subtotal=priced.subtotal,
            discount_total=priced.discount_total,
            total=priced.total,
            needs_approval=priced.needs_approval,
        ),
        key=row.id,
    )
    await uow.commit()
    return public


async def get_quote(*, uow: CatalogUnitOfWork, quote_id: str) -> QuotePublic:
    """One quote."""
    return quote_public(await uow.catalog.get(Quote, quote_id))


async def list_quotes(*, uow: CatalogUnitOfWork, page: PageRequest) -> Page[QuotePublic]:
    """A page of quotes, oldest first."""
    return public_page(await uow.catalog.page(Quote, page), quote_public)
