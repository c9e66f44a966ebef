"""Quote assembly: resolve the items, price each line with the pricing engine, apply discounts,
total the quote.

Pure: the service layer loads everything a quote reads in a few set queries (a `QuoteCatalog`),
this module does the rest. Every line is rounded once (by `libs.pricing`); totals are sums of rounded lines. A
minimum-commitment shortfall is its own rounded amount on the line, counted in the subtotal and
never discounted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from libs.contracts.vocabulary import BillingFrequency, PricingModel
from libs.platform.errors import FieldErrors, NotFound, ValidationFailed
from libs.platform.money import MAX_INTEGER_DIGITS, round_money
from libs.pricing import CostBook, Discount, PriceSpec, TierLine, apply_discounts, needs_approval, rate

from .bundles import BundleComponent, expand
from .discounts import DiscountKind, DiscountTerms
from .prices import PriceTerms, price_spec
from .versions import NoVersionInForce

ZERO = Decimal(0)
QUANTITY_PLACES = 6
PERCENT_PLACES = Decimal("0.0001")
# Every stored amount must fit the wire format (18 integer digits) and NUMERIC(38, 12).
AMOUNT_LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS


@dataclass(frozen=True)
class RequestedDiscount:
    """A discount asked for on a line, with the request field that named it (for errors)."""

    terms: DiscountTerms
    field: str


@dataclass(frozen=True)
class QuoteItem:
    """One line to price: the price version in force, the quantity and the discounts asked for."""

    field: str
    product_id: str
    description: str
    price_id: str
    price_version: int
    spec: PriceSpec
    quantity: Decimal
    discounts: tuple[RequestedDiscount, ...] = ()
    bundle_id: str | None = None


@dataclass(frozen=True)
class RequestedItem:
    """An item of a quote request: a price or a bundle, a quantity and the discounts asked for."""

    field: str
    price_id: str | None
    bundle_id: str | None
    quantity: Decimal
    discounts: tuple[RequestedDiscount, ...] = ()
    promotions: tuple[RequestedDiscount, ...] = ()
    """Promo-code discounts: each applies to the lines of the products it covers."""
    term_months: int | None = None
    """The term a price billed per term is quoted for (its cost book converts to it)."""


@dataclass(frozen=True)
class QuotedProduct:
    """What a quote needs to know of a product."""

    id: str
    sku: str
    name: str
    active: bool


@dataclass(frozen=True)
class PriceInForce:
    """The version of a price in force on the quote's date."""

    price_id: str
    version: int
    product_id: str
    currency: str
    terms: PriceTerms
    billing_period: BillingFrequency | None = None
    """The period the price's amounts are for."""


@dataclass(frozen=True)
class QuotedBundle:
    """What a quote needs to know of a bundle."""

    id: str
    name: str
    active: bool
    components: tuple[BundleComponent, ...]


@dataclass(frozen=True)
class QuoteCatalog:
    """Everything a quote reads from the catalog, loaded in sets before anything is priced.

    `prices` holds every requested price that exists, with its version in force (None when no
    version is); `component_prices` the first price in the quote's currency in force for each
    bundle component's product; `cost_books` the version of each book in force on `as_of`.
    """

    currency: str
    as_of: date
    prices: Mapping[str, PriceInForce | None]
    bundles: Mapping[str, QuotedBundle]
    component_prices: Mapping[str, PriceInForce]
    products: Mapping[str, QuotedProduct]
    cost_books: Mapping[str, CostBook]


@dataclass(frozen=True)
class LineDiscount:
    """What one discount took off a line (rounded)."""

    discount_id: str
    name: str
    amount: Decimal


@dataclass(frozen=True)
class QuoteLine:
    """A priced line of a quote."""

    line_number: int
    product_id: str
    price_id: str
    price_version: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    list_amount: Decimal
    discounts: tuple[LineDiscount, ...]
    discount_amount: Decimal
    net_amount: Decimal
    effective_percent_off: Decimal
    needs_approval: bool
    tier_breakdown: tuple[TierLine, ...]
    minimum_shortfall: Decimal
    approval_reasons: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class PricedQuote:
    """All lines of a quote and its totals, in one currency."""

    currency: str
    as_of: date
    lines: tuple[QuoteLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    total: Decimal
    needs_approval: bool
    approval_reasons: tuple[str, ...]


@dataclass
class Quote:
    """A saved quote: its totals and its lines as shown when it was priced (an immutable snapshot).

    Records `QuoteCreated` when it is made.
    """

    id: str
    currency: str
    as_of: date
    subtotal: Decimal
    discount_total: Decimal
    total: Decimal
    needs_approval: bool
    approval_reasons: tuple[str, ...]
    lines: tuple[dict[str, Any], ...]
    created_at: datetime
    created_by: str
    events: list[Any] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls, *, id: str, priced: PricedQuote, lines: Sequence[dict[str, Any]], now: datetime, actor: str
    ) -> Quote:
        """Save a priced quote with its lines as shown."""
        quote = cls(
            id=id,
            currency=priced.currency,
            as_of=priced.as_of,
            subtotal=priced.subtotal,
            discount_total=priced.discount_total,
            total=priced.total,
            needs_approval=priced.needs_approval,
            approval_reasons=priced.approval_reasons,
            lines=tuple(lines),
            created_at=now,
            created_by=actor,
        )
        quote.events.append(QuoteCreated(replace(quote, events=[])))
        return quote


@dataclass(frozen=True)
class QuoteCreated:
    """A quote was priced and saved."""

    quote: Quote


def quote_items(requested: Sequence[RequestedItem], catalog: QuoteCatalog) -> list[QuoteItem]:
    """The lines to price, bundles expanded into their components (NotFound, ValidationFailed)."""
    items: list[QuoteItem] = []
    for request in requested:
        if request.price_id is not None:
            if request.price_id not in catalog.prices:
                raise NotFound("price", request.price_id)
            price = catalog.prices[request.price_id]
            if price is None:
                detail = NoVersionInForce("price", request.price_id, catalog.as_of).detail
                raise ValidationFailed.single(f"{request.field}.price_id", detail, "no_version_in_force")
            product = _product(catalog, price.product_id)
            items.append(_item(request, catalog, product, price, request.quantity))
            continue
        assert request.bundle_id is not None
        bundle = catalog.bundles.get(request.bundle_id)
        if bundle is None:
            raise NotFound("bundle", request.bundle_id)
        if not bundle.active:
            raise ValidationFailed.single(
                f"{request.field}.bundle_id", f"bundle {bundle.name!r} is not active"
            )
        for component in expand(bundle.components, request.quantity):
            product = _product(catalog, component.product_id)
            component_price = catalog.component_prices.get(product.id)
            if component_price is None:
                raise ValidationFailed.single(
                    f"{request.field}.bundle_id",
                    f"component {product.sku!r} has no {catalog.currency} price in force on "
                    f"{catalog.as_of.isoformat()}",
                    "no_price_in_currency",
                )
            quantity = _component_quantity(component.quantity, request.field)
            items.append(_item(request, catalog, product, component_price, quantity, bundle.id))
    return items


def _product(catalog: QuoteCatalog, product_id: str) -> QuotedProduct:
    product = catalog.products.get(product_id)
    if product is None:
        raise NotFound("product", product_id)
    return product


def _item(
    request: RequestedItem,
    catalog: QuoteCatalog,
    product: QuotedProduct,
    price: PriceInForce,
    quantity: Decimal,
    bundle_id: str | None = None,
) -> QuoteItem:
    if not product.active:
        raise ValidationFailed.single(f"{request.field}.price_id", f"product {product.sku!r} is not active")
    book = None
    if price.terms.model == PricingModel.COST_PLUS and price.terms.cost_book_id is not None:
        # A cost-plus price uses its book's version in force on the quote's date.
        book = catalog.cost_books.get(price.terms.cost_book_id)
        if book is None:
            detail = NoVersionInForce("cost book", price.terms.cost_book_id, catalog.as_of).detail
            raise ValidationFailed.single(f"{request.field}.price_id", detail, "no_version_in_force")
    return QuoteItem(
        field=request.field,
        product_id=product.id,
        description=product.name,
        price_id=price.price_id,
        price_version=price.version,
        spec=price_spec(price.terms, price.currency, book, price.billing_period, request.term_months),
        quantity=quantity,
        discounts=request.discounts + tuple(p for p in request.promotions if p.terms.applies_to(product.id)),
        bundle_id=bundle_id,
    )


def _component_quantity(quantity: Decimal, field: str) -> Decimal:
    """A bundle-expanded quantity must still be a valid wire quantity."""
    plain = (
        quantity.quantize(Decimal(1)) if quantity == quantity.to_integral_value() else quantity.normalize()
    )
    exponent = plain.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > QUANTITY_PLACES or plain >= AMOUNT_LIMIT:
        raise ValidationFailed.single(
            f"{field}.quantity",
            f"bundle quantity x component quantity must have at most {QUANTITY_PLACES} decimals "
            f"and {MAX_INTEGER_DIGITS} digits",
        )
    return plain


def check_promotions(promotions: Sequence[RequestedDiscount], items: Sequence[QuoteItem]) -> None:
    """Refuse a promo code that applies to no line of the quote."""
    errors = FieldErrors()
    for promotion in promotions:
        if not any(promotion in item.discounts for item in items):
            errors.add(
                promotion.field,
                f"promotion {promotion.terms.name!r} applies to no product of this quote",
                "promo_code_not_applicable",
            )
    errors.raise_if_any("The quote cannot be priced")


def check_items(currency: str, as_of: date, items: Sequence[QuoteItem]) -> None:
    """Refuse prices in another currency and discounts that do not apply to a line, all at once."""
    errors = FieldErrors()
    for item in items:
        if item.spec.currency != currency:
            errors.add(
                f"{item.field}.price_id",
                f"the price is in {item.spec.currency}, the quote in {currency}",
                "currency_mismatch",
            )
        for requested in item.discounts:
            terms = requested.terms
            if not terms.applies_to(item.product_id):
                errors.add(
                    requested.field,
                    f"discount {terms.name!r} does not apply to product {item.product_id} ({item.field})",
                    "discount_not_applicable",
                )
            if not terms.is_valid_on(as_of):
                errors.add(
                    requested.field,
                    f"discount {terms.name!r} is not valid on {as_of.isoformat()}",
                    "discount_not_valid",
                )
            if terms.kind == DiscountKind.AMOUNT and terms.currency != currency:
                errors.add(
                    requested.field,
                    f"discount {terms.name!r} is an amount in {terms.currency}, the quote is in {currency}",
                    "currency_mismatch",
                )
    errors.raise_if_any("The quote cannot be priced")


def price_quote(currency: str, as_of: date, items: Sequence[QuoteItem]) -> PricedQuote:
    """Price every item, apply its discounts and total the quote (raises ValidationFailed)."""
    check_items(currency, as_of, items)
    lines = tuple(_price_line(number, item) for number, item in enumerate(items, start=1))
    subtotal = sum((line.list_amount + line.minimum_shortfall for line in lines), ZERO)
    discount_total = sum((line.discount_amount for line in lines), ZERO)
    if subtotal >= AMOUNT_LIMIT:
        raise ValidationFailed.single(
            "items", f"the quote's subtotal must stay below 10^{MAX_INTEGER_DIGITS}"
        )
    reasons = tuple(reason for line in lines for reason in line.approval_reasons)
    return PricedQuote(
        currency=currency,
        as_of=as_of,
        lines=lines,
        subtotal=round_money(subtotal, currency),
        discount_total=round_money(discount_total, currency),
        total=round_money(subtotal - discount_total, currency),
        needs_approval=any(line.needs_approval for line in lines),
        approval_reasons=reasons,
    )


def _price_line(number: int, item: QuoteItem) -> QuoteLine:
    currency = item.spec.currency
    try:
        charge = rate(item.spec, item.quantity)
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.detail, [replace(e, field=f"{item.field}.{e.field}") for e in exc.errors]
        ) from None
    if charge.rounded_amount + charge.minimum_shortfall >= AMOUNT_LIMIT:
        raise ValidationFailed.single(
            f"{item.field}.quantity", f"the line's amount must stay below 10^{MAX_INTEGER_DIGITS}"
        )
    unique = _unique(item.discounts)
    pricing_discounts = [d.terms.as_pricing_discount() for d in unique]
    result = apply_discounts(charge.amount, pricing_discounts, currency)
    reasons = tuple(
        f"line {number}: {_percent(result.effective_percent_off)}% off list is above the "
        f"{d.terms.approval_threshold_percent}% approval threshold of discount {d.terms.name!r}"
        for d in unique
        if _over_threshold(charge.amount, pricing_discounts, unique.index(d))
    )
    return QuoteLine(
        line_number=number,
        product_id=item.product_id,
        price_id=item.price_id,
        price_version=item.price_version,
        description=item.description,
        quantity=charge.quantity,
        unit_price=charge.effective_unit_price,
        list_amount=result.list_amount,
        discounts=tuple(
            LineDiscount(d.terms.id, d.terms.name, line.amount)
            for d, line in zip(unique, result.lines, strict=True)
        ),
        discount_amount=result.total_discount,
        net_amount=result.net_amount,
        effective_percent_off=_percent(result.effective_percent_off),
        needs_approval=result.needs_approval,
        tier_breakdown=charge.breakdown,
        minimum_shortfall=charge.minimum_shortfall,
        approval_reasons=reasons,
    )


def _over_threshold(list_amount: Decimal, discounts: Sequence[Discount], index: int) -> bool:
    # The engine's rule, asked with only this discount's threshold kept: which discount's
    # threshold the line's total percent off exceeds.
    only_this = [d if i == index else replace(d, threshold_percent=None) for i, d in enumerate(discounts)]
    return needs_approval(list_amount, only_this)


def _unique(discounts: Sequence[RequestedDiscount]) -> list[RequestedDiscount]:
    seen: set[str] = set()
    result = []
    for requested in discounts:
        if requested.terms.id not in seen:
            seen.add(requested.terms.id)
            result.append(requested)
    return result


def _percent(value: Decimal) -> Decimal:
    return value.quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)
