"""Quote assembly: price each line with the pricing engine, apply discounts, total the quote.

Pure: the service layer resolves ids to price specs and discount terms, this module does the
rest. Every line is rounded once (by `libs.pricing`); totals are sums of rounded lines. A
minimum-commitment shortfall is its own rounded amount on the line, counted in the subtotal and
never discounted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from libs.platform.errors import FieldErrors, ValidationFailed
from libs.platform.money import MAX_INTEGER_DIGITS, round_money
from libs.pricing import Discount, PriceSpec, TierLine, apply_discounts, needs_approval, rate

from .discounts import DiscountKind, DiscountTerms

ZERO = Decimal(0)
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
