"""Events the catalog publishes on `catalog.events`: products, prices, cost books, bundles,
discounts, support-contract templates and quotes.

Each payload is the state after the change (not a diff), so a consumer can rebuild its read
model from the latest event of an entity. Money travels as decimal strings.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import CATALOG_EVENTS
from libs.contracts.types import CurrencyCode, NonNegativeAmount, Percent, Quantity, UnitPrice
from libs.contracts.vocabulary import (
    BillingFrequency,
    BillingTiming,
    ChargeType,
    LicenseType,
    PricingModel,
    ProductKind,
    RevenueRule,
    TierMode,
    TierPeriod,
)
from libs.platform.errors import ValidationFailed
from libs.platform.money import parse_decimal

Change = Literal["created", "updated"]

MAX_MARKUP_PERCENT: Final = Decimal(1000)
MARKUP_PLACES: Final = 4
MARKUP_PATTERN: Final = rf"^(1000(\.0{{1,{MARKUP_PLACES}}})?|[0-9]{{1,3}}(\.[0-9]{{1,{MARKUP_PLACES}}})?)$"
_MARKUP_RE: Final = re.compile(MARKUP_PATTERN)


def _validate_markup(value: object) -> Decimal:
    # Resellers mark up above 100% (a 150% markup sells a 10.00 seat at 25.00), so the shared
    # 0-100 `Percent` does not fit; the bound only keeps a typo (15000 for 150.00) out.
    if isinstance(value, Decimal) and value.is_finite():
        value = format(value, "f")
    if not isinstance(value, str):
        raise PydanticCustomError("decimal_type", 'a markup must be a JSON string such as "150"')
    try:
        markup = parse_decimal(value, field="markup_percent", max_places=MARKUP_PLACES)
    except ValidationFailed as exc:
        raise PydanticCustomError(
            "decimal_format", exc.errors[0].message if exc.errors else exc.detail
        ) from None
    if markup > MAX_MARKUP_PERCENT:
        raise PydanticCustomError("decimal_format", f"must be at most {MAX_MARKUP_PERCENT} (percent)")
    if not _MARKUP_RE.fullmatch(value):
        raise PydanticCustomError(
            "decimal_format", 'must be written like "150" or "17.5" (at most 4 digits before the point)'
        )
    return markup


MarkupPercent = Annotated[
    Decimal,
    PlainValidator(_validate_markup),
    PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MARKUP_PATTERN,
            "description": f"Markup on vendor cost in percent, 0 to {MAX_MARKUP_PERCENT}, up to "
            f"{MARKUP_PLACES} decimals.",
            "examples": ["150"],
        },
        mode="validation",
    ),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}, mode="serialization"),
]
"""A markup in percent from 0 to 1000 with up to four decimals, as a JSON string (may exceed 100)."""


class TierTerms(BaseModel):
    """One price band: `up_to` inclusive (null on the last, open band)."""

    model_config = ConfigDict(frozen=True)

    up_to: Quantity | None = Field(default=None, description="Inclusive upper edge; null = open.")
    unit_price: UnitPrice = Field(description="Price per unit in this band.", examples=["12.00"])
    flat_fee: UnitPrice = Field(default=Decimal(0), description="Fee charged once when the band is used.")


class BundleComponentTerms(BaseModel):
    """One product in a bundle and how many of it one bundle contains."""

    model_config = ConfigDict(frozen=True)

    product_id: str = Field(examples=["prod_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    quantity: Quantity = Field(examples=["1"])


@event_type("catalog.product_changed", topic=CATALOG_EVENTS)
class ProductChanged(EventPayload):
    """A product was created or its descriptive fields changed."""

    product_id: str = Field(description="Catalog product id.", examples=["prod_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    change: Change = Field(description="created or updated.")
    sku: str = Field(examples=["WFM-SEAT"])
    name: str = Field(examples=["WFM seat"])
    kind: ProductKind = Field(description="license, platform, workshop, service, support or usage.")
    unit_of_measure: str = Field(examples=["seat"])
    license_type: LicenseType = Field(
        description="committed, pay_as_you_go, named_user, subscription or none."
    )
    revenue_rule: RevenueRule = Field(description="ratable, on_fulfillment or on_invoice.")
    tax_code: str = Field(examples=["SW050000"])
    vendor_id: str | None = Field(default=None, description="Vendor of a resold product.")
    active: bool = True


@event_type("catalog.price_published", topic=CATALOG_EVENTS)
class PricePublished(EventPayload):
    """A price version was published; it is in force on [effective_from, effective_to)."""

    price_id: str = Field(examples=["price_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    version: int = Field(ge=1, description="1 for the first publication, +1 per new version.")
    product_id: str
    currency: CurrencyCode
    charge_type: ChargeType = Field(description="recurring, usage or one_time.")
    billing_period: BillingFrequency | None = Field(
        default=None, description="The billing frequency: monthly, quarterly, annual or term."
    )
    timing: BillingTiming = Field(description="in_advance or in_arrears.")
    model: PricingModel = Field(
        description="flat, per_unit, tiered_graduated, tiered_volume, package or cost_plus."
    )
    unit_price: UnitPrice | None = None
    amount: UnitPrice | None = Field(default=None, description="The fixed amount of a flat price.")
    tiers: list[TierTerms] = Field(default_factory=list)
    package_size: Quantity | None = None
    included_quantity: Quantity = Decimal(0)
    minimum_commitment: NonNegativeAmount | None = None
    cost_book_id: str | None = Field(default=None, description="The vendor cost book of a cost_plus price.")
    effective_from: date
    effective_to: date | None = Field(default=None, description="Exclusive; null = open-ended.")
    previous_version_effective_to: date | None = Field(
        default=None, description="The new end of the version this one supersedes, if any."
    )


@event_type("catalog.cost_book_published", topic=CATALOG_EVENTS)
class CostBookPublished(EventPayload):
    """A vendor cost book version was published."""

    cost_book_id: str = Field(examples=["cb_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    version: int = Field(ge=1)
    vendor_id: str = Field(examples=["ven_wfm"])
    currency: CurrencyCode
    mode: TierMode = Field(description="volume or graduated.")
    tier_period: TierPeriod = Field(
        default=TierPeriod.MONTHLY,
        description="monthly, quarterly or annual: the period the tier prices are for. A cost_plus "
        "price converts it to its billing period (a monthly book billed annually is x 12).",
    )
    markup_percent: MarkupPercent = Field(examples=["150"])
    tiers: list[TierTerms]
    effective_from: date
    effective_to: date | None = None


@event_type("catalog.bundle_changed", topic=CATALOG_EVENTS)
class BundleChanged(EventPayload):
    """A bundle was created or changed."""

    bundle_id: str = Field(examples=["bnd_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    change: Change
    name: str
    components: list[BundleComponentTerms]
    active: bool = True


@event_type("catalog.discount_changed", topic=CATALOG_EVENTS)
class DiscountChanged(EventPayload):
    """A discount or promotion was created or changed."""

    discount_id: str = Field(examples=["disc_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    change: Change
    name: str
    kind: str = Field(description="percent or amount.")
    value: UnitPrice = Field(description="Percent off, or amount off in `currency`.", examples=["15"])
    currency: CurrencyCode | None = Field(default=None, description="Currency of an amount discount.")
    duration_cycles: int | None = Field(default=None, description="Billing cycles it lasts; null = forever.")
    product_ids: list[str] = Field(default_factory=list, description="Products it applies to; empty = all.")
    approval_threshold_percent: Percent | None = None
    promo_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = Field(default=None, description="Exclusive.")
    active: bool = True


@event_type("catalog.contract_template_changed", topic=CATALOG_EVENTS)
class ContractTemplateChanged(EventPayload):
    """A support-contract template was created or changed."""

    template_id: str = Field(examples=["ctpl_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    change: Change
    name: str
    kind: str = Field(description="subscription, time_limited, support_hours or per_incident.")
    period_months: int | None = None
    hours: Quantity | None = None
    on_expiry: str = Field(description="rollover or ignore.")
    product_id: str | None = None


@event_type("catalog.quote_created", topic=CATALOG_EVENTS)
class QuoteCreated(EventPayload):
    """A quote was priced and saved."""

    quote_id: str = Field(examples=["quo_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    currency: CurrencyCode
    as_of: date
    line_count: int = Field(ge=0)
    subtotal: NonNegativeAmount
    discount_total: NonNegativeAmount
    total: NonNegativeAmount
    needs_approval: bool


__all__ = [
    "BundleChanged",
    "BundleComponentTerms",
    "ContractTemplateChanged",
    "CostBookPublished",
    "DiscountChanged",
    "MarkupPercent",
    "PricePublished",
    "ProductChanged",
    "QuoteCreated",
    "TierTerms",
]
