"""Test doubles of provisioning's adapters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from libs.contracts.vocabulary import PricingModel
from libs.pricing import Discount, DiscountKind, PriceSpec, apply_discounts, rate
from provisioning.catalog_client import (
    CatalogDiscount,
    CatalogPrice,
    CatalogProduct,
    CatalogRejected,
    CatalogUnavailable,
    Quote,
    QuotedDiscount,
    QuotedLine,
    QuoteItem,
)


@dataclass
class InMemoryCatalog:
    """A fake catalog for tests: products, prices and discounts in dicts, quotes by the contract.

    Prices here are flat per-unit; `unavailable` makes every call fail like an outage.
    """

    products: dict[str, CatalogProduct] = field(default_factory=dict)
    prices: dict[str, CatalogPrice] = field(default_factory=dict)
    unit_prices: dict[str, Decimal] = field(default_factory=dict)
    discounts: dict[str, CatalogDiscount] = field(default_factory=dict)
    unavailable: bool = False
    quote_calls: int = 0

    def add_product(
        self,
        product_id: str,
        *,
        price_id: str,
        unit_price: str,
        currency: str = "USD",
        kind: str | None = "service",
        sku: str | None = None,
        license_type: str | None = "subscription",
        charge_type: str = "recurring",
        billing_period: str | None = "monthly",
        version: int = 1,
        vendor_id: str | None = None,
    ) -> None:
        """Add a product with one flat price."""
        self.products[product_id] = CatalogProduct(
            product_id, sku or product_id, product_id, kind, license_type, vendor_id
        )
        self.prices[price_id] = CatalogPrice(
            price_id, product_id, currency, version, charge_type, billing_period, "in_advance"
        )
        self.unit_prices[price_id] = Decimal(unit_price)

    def add_discount(self, discount_id: str, *, percent: str, threshold: str | None) -> None:
        """Add a percent discount with its approval threshold (None: pre-approved)."""
        self.discounts[discount_id] = CatalogDiscount(
            discount_id,
            discount_id,
            "percent",
            Decimal(percent),
            None if threshold is None else Decimal(threshold),
        )

    def _check(self) -> None:
        if self.unavailable:
            raise CatalogUnavailable()

    async def get_product(self, product_id: str) -> CatalogProduct | None:
        """The product or None."""
        self._check()
        return self.products.get(product_id)

    async def get_price(self, price_id: str, *, as_of: date) -> CatalogPrice | None:
        """The price or None."""
        self._check()
        return self.prices.get(price_id)

    async def get_discount(self, discount_id: str) -> CatalogDiscount | None:
        """The discount or None."""
        self._check()
        return self.discounts.get(discount_id)

    async def quote(self, *, currency: str, as_of: date, items: Sequence[QuoteItem]) -> Quote:
        """Per-unit lines priced by `libs.pricing`, as the catalog prices them."""
        self._check()
        self.quote_calls += 1
        lines = []
        for number, item in enumerate(items, start=1):
            price = self.prices.get(item.price_id)
            if price is None:
                raise CatalogRejected(
                    422, "unknown price", [{"field": f"items.{number - 1}.price_id", "message": "unknown"}]
                )
            unit = self.unit_prices[item.price_id]
            # Priced by the real engine, as the catalog prices a per-unit line.
            charge = rate(PriceSpec(PricingModel.PER_UNIT, price.currency, unit_price=unit), item.quantity)
            applied = [self.discounts[d] for d in item.discount_ids]
            result = apply_discounts(
                charge.amount,
                [Discount(DiscountKind(d.kind), d.value, d.approval_threshold_percent) for d in applied],
                price.currency,
            )
            lines.append(
                QuotedLine(
                    number,
                    price.product_id,
                    price.id,
                    price.version,
                    charge.quantity,
                    charge.effective_unit_price,
                    result.list_amount,
                    tuple(
                        QuotedDiscount(d.id, d.name, line.amount)
                        for d, line in zip(applied, result.lines, strict=True)
                    ),
                    result.total_discount,
                    result.net_amount,
                    result.effective_percent_off,
                    result.needs_approval,
                )
            )
        subtotal = sum((line.list_amount for line in lines), Decimal(0))
        discount_total = sum((line.discount_amount for line in lines), Decimal(0))
        return Quote(
            "quo_fake",
            tuple(lines),
            subtotal,
            discount_total,
            subtotal - discount_total,
            any(line.needs_approval for line in lines),
        )
