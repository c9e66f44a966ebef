"""Pricing order lines with the catalog: one quote per request, every problem in one 422."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from libs.platform.clock import UTC_ZONE
from libs.platform.errors import FieldErrors, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.money import round_unit_price
from provisioning.catalog_client import (
    CatalogClient,
    CatalogDiscount,
    CatalogPrice,
    CatalogProduct,
    CatalogRejected,
    QuoteItem,
)
from provisioning.domain.orders import (
    OrderKind,
    OrderLine,
    collect_term_errors,
    line_license_type,
    line_term_months,
)
from provisioning.domain.subscriptions import (
    RenewalKind,
    RenewalPolicy,
)
from provisioning.domain.workflows import product_template
from provisioning.handlers.common import MAX_LINE_QUANTITY, account_date
from provisioning.handlers.records import LinePricing, QuotedLineDiscount
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork
from provisioning.schemas.orders import OrderLineIn, RenewalIn


class PricedLines:
    """Lines priced by one quote, with their catalog snapshots."""

    def __init__(self, lines: list[tuple[OrderLine, LinePricing]], quote_id: str | None) -> None:
        self.lines = lines
        self.quote_id = quote_id


async def price_lines(
    uow: ProvisioningUnitOfWork,
    catalog: CatalogClient,
    *,
    currency: str,
    account_id: str | None,
    kind: OrderKind,
    lines: Sequence[OrderLineIn],
    first_index: int = 0,
    keep_ids: Sequence[str] | None = None,
) -> PricedLines:
    """Price lines with one catalog quote; every problem of every line is one 422."""
    errors = FieldErrors()
    # Prices in force on the account's today (an order always has one; UTC without).
    as_of = await account_date(uow, account_id) if account_id else uow.business_date(UTC_ZONE)
    resolved: list[tuple[OrderLineIn, str, CatalogPrice, CatalogProduct, list[CatalogDiscount]]] = []
    for offset, line in enumerate(lines):
        prefix = f"lines.{first_index + offset}"
        if line.quantity <= 0:
            errors.add(f"{prefix}.quantity", "must be positive")
        elif line.quantity > MAX_LINE_QUANTITY:
            errors.add(f"{prefix}.quantity", f"must be at most {MAX_LINE_QUANTITY}")
        price_id = line.price_id
        if kind is OrderKind.AMENDMENT:
            if line.subscription_id is None:
                errors.add(f"{prefix}.subscription_id", "an amendment names its subscription", "required")
                continue
            if line.effective_date is None:
                errors.add(f"{prefix}.effective_date", "an amendment needs an effective date", "required")
            stored = await uow.subscriptions.find(line.subscription_id)
            if stored is None or stored.subscription.account_id != account_id:
                errors.add(f"{prefix}.subscription_id", "is not a subscription of this account", "unknown")
                continue
            price_id = price_id or stored.subscription.price_id
        elif line.subscription_id is not None:
            errors.add(f"{prefix}.subscription_id", "only amendment orders change existing subscriptions")
        collect_term_errors(
            kind=kind,
            quantity=line.quantity,
            commitment_quantity=line.commitment_quantity,
            has_renewal=line.renewal is not None,
            has_termination_fee=line.termination_fee_price_id is not None,
            prefix=prefix,
            errors=errors,
        )
        if line.termination_fee_price_id is not None and kind is OrderKind.NEW:
            await _check_fee_price(catalog, line.termination_fee_price_id, currency, as_of, prefix, errors)
        if price_id is None:
            errors.add(f"{prefix}.price_id", "is required", "required")
            continue
        price = await catalog.get_price(price_id, as_of=as_of)
        if price is None:
            errors.add(f"{prefix}.price_id", f"no price {price_id!r} in force on {as_of}", "unknown_price")
            continue
        if price.currency != currency:
            errors.add(
                f"{prefix}.price_id",
                f"the price is in {price.currency}; the account is billed in {currency}",
                "currency_mismatch",
            )
        product = await catalog.get_product(price.product_id)
        if product is None:
            errors.add(
                f"{prefix}.price_id",
                f"the price's product {price.product_id!r} is unknown",
                "unknown_product",
            )
            continue
        discounts = []
        for d_index, discount_id in enumerate(line.discount_ids):
            discount = await catalog.get_discount(discount_id)
            if discount is None:
                errors.add(
                    f"{prefix}.discount_ids.{d_index}", f"no discount {discount_id!r}", "unknown_discount"
                )
            elif discount.product_ids and product.id not in discount.product_ids:
                errors.add(
                    f"{prefix}.discount_ids.{d_index}", "does not apply to this product", "not_applicable"
                )
            else:
                discounts.append(discount)
        resolved.append((line, price_id, price, product, discounts))
    errors.raise_if_any("The order lines cannot be priced")
    if not resolved:
        return PricedLines([], None)
    try:
        quote = await catalog.quote(
            currency=currency,
            as_of=as_of,
            items=[
                QuoteItem(pid, line.quantity, tuple(line.discount_ids), _term_months(line, product))
                for line, pid, _price, product, _discounts in resolved
            ],
        )
    except CatalogRejected as exc:
        raise ValidationFailed(
            f"The catalog refused to price the lines: {exc.detail}", _quote_errors(exc, first_index)
        ) from None
    if len(quote.lines) != len(resolved):
        raise ValidationFailed.single("lines", "the catalog did not price every line", "unpriced")
    priced = []
    for offset, ((line, _pid, price, product, discounts), quoted) in enumerate(
        zip(resolved, quote.lines, strict=True)
    ):
        by_id = {d.id: d for d in discounts}
        quoted_discounts = tuple(
            QuotedLineDiscount(
                q.discount_id,
                q.name or by_id[q.discount_id].name,
                q.amount,
                by_id[q.discount_id].approval_threshold_percent,
                by_id[q.discount_id].kind,
                by_id[q.discount_id].value,
            )
            for q in quoted.discounts
            if q.discount_id in by_id
        )
        order_line = OrderLine(
            id=keep_ids[offset] if keep_ids else new_id("oli"),
            product_id=product.id,
            price_id=quoted.price_id,
            price_version=quoted.price_version,
            quantity=line.quantity,
            unit_list_price=round_unit_price(quoted.unit_price),
            currency=currency,
            license_type=line_license_type(
                chosen=line.license_type,
                product_license_type=product.license_type,
                charge_type=price.charge_type,
            ),
            term_months=line.term_months,
            discounts=tuple(d.as_line_discount() for d in quoted_discounts),
            subscription_id=line.subscription_id,
            effective_date=line.effective_date,
            renewal=_renewal_policy(line.renewal),
            commitment_quantity=line.commitment_quantity,
            termination_fee_price_id=line.termination_fee_price_id,
        )
        pricing = LinePricing(
            product_sku=product.sku,
            product_name=product.name,
            product_kind=product.kind,
            product_vendor_id=product.vendor_id,
            charge_type=price.charge_type,
            billing_period=price.billing_period,
            billing_timing=price.timing,
            list_amount=quoted.list_amount,
            discount_amount=quoted.discount_amount,
            net_amount=quoted.net_amount,
            effective_percent_off=quoted.effective_percent_off,
            discounts=quoted_discounts,
        )
        priced.append((order_line, pricing))
    return PricedLines(priced, quote.id)


def _term_months(line: OrderLineIn, product: CatalogProduct) -> int:
    """The term a line is priced for: its own, else its product template's (a term price bills it)."""
    template = product_template(product_kind=product.kind, vendor_id=product.vendor_id, sku=product.sku)
    return line_term_months(line.term_months, template)


async def _check_fee_price(
    catalog: CatalogClient, price_id: str, currency: str, as_of: date, prefix: str, errors: FieldErrors
) -> None:
    name = f"{prefix}.termination_fee_price_id"
    fee = await catalog.get_price(price_id, as_of=as_of)
    if fee is None:
        errors.add(name, f"no price {price_id!r} in force on {as_of}", "unknown_price")
    elif fee.charge_type != "one_time":
        errors.add(name, f"a termination fee is a one-time charge, not {fee.charge_type}", "not_one_time")
    elif fee.currency != currency:
        errors.add(
            name, f"the price is in {fee.currency}; the account is billed in {currency}", "currency_mismatch"
        )


def _quote_errors(exc: CatalogRejected, first_index: int) -> list[Any]:
    errors = FieldErrors()
    for error in exc.errors:
        name = str(error.get("field") or "")
        parts = name.split(".")
        if len(parts) >= 2 and parts[0] == "items" and parts[1].isdigit():
            name = ".".join(["lines", str(first_index + int(parts[1])), *parts[2:]])
        else:
            name = "lines"
        errors.add(
            name, str(error.get("message") or "refused by the catalog"), str(error.get("code") or "invalid")
        )
    if not errors.errors:
        errors.add("lines", exc.detail, "refused_by_catalog")
    return errors.errors


def _renewal_policy(renewal: RenewalIn | None) -> RenewalPolicy | None:
    if renewal is None:
        return None
    if renewal.policy is RenewalKind.AUTO_RENEW:
        return RenewalPolicy.auto_renew(renewal.months or 0)
    return RenewalPolicy.expire()


def line_request(line: OrderLine) -> OrderLineIn:
    """The request that would price `line` again."""
    renewal = line.renewal
    return OrderLineIn.model_construct(
        price_id=line.price_id,
        quantity=line.quantity,
        discount_ids=[d.discount_id for d in line.discounts],
        term_months=line.term_months,
        effective_date=line.effective_date,
        subscription_id=line.subscription_id,
        license_type=line.license_type,
        renewal=RenewalIn.model_construct(policy=renewal.kind, months=renewal.months) if renewal else None,
        commitment_quantity=line.commitment_quantity,
        termination_fee_price_id=line.termination_fee_price_id,
    )
