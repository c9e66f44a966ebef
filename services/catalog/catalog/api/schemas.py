"""Wire models of the catalog API: `XCreate` / `XUpdate` in, `XPublic` out.

Money and quantities use the shared wire types (`libs.contracts.types`): money is a JSON
string, a JSON number for money is a 422. Free text follows the one text rule of
`libs.platform.text` (no control character nor bidi override) and ids are short tokens, so no
input reaches the database, a log or a screen that it would choke on.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from catalog.domain.contract_templates import BOUNDS_BY_KIND, ContractKind, ExpiryOption
from catalog.domain.prices import BillingPeriod, BillingTiming
from catalog.domain.products import LicenseType, ProductKind, RevenueRule
from libs.contracts.catalog import MarkupPercent
from libs.contracts.types import (
    CurrencyCode,
    IntegerRange,
    IsoDate,
    NonNegativeAmount,
    Percent,
    Quantity,
    StrictBool,
    UnitPrice,
)
from libs.platform.openapi import SET, UNSET, one_case_per
from libs.platform.text import MULTI_LINE, ONE_LINE
from libs.pricing import ChargeType, DiscountKind, PricingModel, TierMode

Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    ONE_LINE,
    Field(examples=["WFM seat"]),
]
Description = Annotated[str, StringConstraints(max_length=2000), MULTI_LINE]
_TOKEN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
# A code of a few characters; at most what its column holds (models.py), so a longer one is a 422,
# never a database error.
Code = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=_TOKEN)]
VendorId = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=_TOKEN)]
Sku = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"),
    AfterValidator(str.upper),
]
"""A SKU: ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit;
stored upper case, so `case1` and `CASE1` are one SKU (the second is a 409)."""
EntityId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(examples=["prod_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"]),
]
PromoCode = Annotated[str, StringConstraints(min_length=3, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9_-]*$")]
DecimalText = Annotated[
    Decimal,
    PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}),
]
"""An unrounded decimal shown for information (a tier breakdown); output only."""

_REQUEST = ConfigDict(extra="forbid")


def _patch(*nullable: str) -> ConfigDict:
    """A PATCH body: a field left out keeps its value; null clears only the `nullable` ones.

    The schema says so (the handlers refuse null elsewhere), so documented nulls are accepted.
    """

    def only_documented_nulls(schema: dict[str, Any]) -> None:
        for name, field in schema.get("properties", {}).items():
            kinds = field.get("anyOf", [])
            if name not in nullable and {"type": "null"} in kinds:
                kinds.remove({"type": "null"})
                if len(kinds) == 1:
                    field.update(kinds.pop())
                    del field["anyOf"]

    return ConfigDict(extra="forbid", json_schema_extra=only_documented_nulls)


# --- products ---------------------------------------------------------------------------


class ProductBase(BaseModel):
    """Fields of a product a client sets."""

    name: Name
    description: Description | None = None
    kind: ProductKind
    unit_of_measure: Code = Field(examples=["seat"])
    license_type: LicenseType = LicenseType.NONE
    revenue_rule: RevenueRule
    tax_code: Code = Field(examples=["SW050000"])
    vendor_id: VendorId | None = Field(default=None, description="Vendor of a resold product.")


class ProductCreate(ProductBase):
    """A new product; the SKU is unique in the catalog."""

    model_config = _REQUEST
    sku: Sku = Field(examples=["WFM-SEAT"])


class ProductUpdate(BaseModel):
    """Fields to change on a product (absent = unchanged)."""

    model_config = _patch("description", "vendor_id")
    name: Name | None = None
    description: Description | None = None
    unit_of_measure: Code | None = None
    license_type: LicenseType | None = None
    revenue_rule: RevenueRule | None = None
    tax_code: Code | None = None
    vendor_id: VendorId | None = None
    active: StrictBool | None = None


class ProductPublic(ProductBase):
    """A product as the catalog shows it."""

    id: str
    sku: str
    active: bool
    created_at: datetime
    updated_at: datetime


# --- tiers, prices ------------------------------------------------------------------------


class TierIn(BaseModel):
    """One band: `up_to` inclusive, null on the last (open) band."""

    model_config = _REQUEST
    up_to: Quantity | None = None
    unit_price: UnitPrice
    flat_fee: UnitPrice = Decimal(0)


class TierPublic(BaseModel):
    """A band of a published price or cost book."""

    up_to: Quantity | None
    unit_price: UnitPrice
    flat_fee: UnitPrice


class PriceTermsIn(BaseModel):
    """The pricing fields of a version; which are needed depends on `model`."""

    model_config = _REQUEST
    model: PricingModel
    unit_price: UnitPrice | None = Field(default=None, description="per_unit, or one package's price.")
    amount: NonNegativeAmount | None = Field(default=None, description="The fixed amount of a flat price.")
    tiers: list[TierIn] = Field(default_factory=list, max_length=50)
    package_size: Quantity | None = Field(default=None, description="Units per package (package model).")
    included_quantity: Quantity = Field(default=Decimal(0), description="Free first units.")
    minimum_commitment: NonNegativeAmount | None = Field(default=None, description="Per-period floor.")
    cost_book_id: EntityId | None = Field(default=None, description="Vendor cost book (cost_plus model).")
    effective_to: IsoDate | None = Field(default=None, description="Exclusive end; null = open-ended.")


class PriceCreate(PriceTermsIn):
    """Publish version 1 of a new price of a product in a currency."""

    # As check_charge_schedule: a period unless one-time; usage in arrears (in_advance is the default).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=one_case_per(
            "charge_type",
            {
                ChargeType.ONE_TIME: {"billing_period": UNSET},
                ChargeType.RECURRING: {"billing_period": SET},
                ChargeType.USAGE: {"billing_period": SET, "timing": {"const": BillingTiming.IN_ARREARS}},
            },
        ),
    )
    product_id: EntityId
    currency: CurrencyCode
    charge_type: ChargeType
    billing_period: BillingPeriod | None = None
    timing: BillingTiming = BillingTiming.IN_ADVANCE
    effective_from: IsoDate | None = Field(default=None, description="Defaults to today (UTC).")


class PriceVersionCreate(PriceTermsIn):
    """Publish a new version of a price, in force from `effective_from`."""

    effective_from: IsoDate


class PricePublic(BaseModel):
    """One version of a price: identity, schedule, pricing terms and its effective range."""

    id: str
    product_id: str
    currency: str
    charge_type: ChargeType
    billing_period: BillingPeriod | None
    timing: BillingTiming
    version: int
    latest_version: int
    model: PricingModel
    unit_price: UnitPrice | None
    amount: UnitPrice | None
    tiers: list[TierPublic]
    package_size: Quantity | None
    included_quantity: Quantity
    minimum_commitment: UnitPrice | None
    cost_book_id: str | None
    effective_from: date
    effective_to: date | None
    published_at: datetime


# --- vendor cost books -----------------------------------------------------------------


class CostBookTermsIn(BaseModel):
    """Tiers of vendor cost per unit, how they apply and our markup."""

    model_config = _REQUEST
    name: Name
    mode: TierMode = Field(description="volume: all units at the total's band; graduated: per band.")
    markup_percent: MarkupPercent = Field(examples=["20"])
    tiers: list[TierIn] = Field(min_length=1, max_length=50)
    effective_to: IsoDate | None = None


class CostBookCreate(CostBookTermsIn):
    """Publish version 1 of a vendor's cost book."""

    vendor_id: VendorId = Field(examples=["ven_wfm"])
    currency: CurrencyCode
    effective_from: IsoDate | None = Field(default=None, description="Defaults to today (UTC).")


class CostBookVersionCreate(CostBookTermsIn):
    """Publish a new version of a cost book, in force from `effective_from`."""

    effective_from: IsoDate


class CostBookPublic(BaseModel):
    """One version of a vendor cost book."""

    id: str
    vendor_id: str
    name: str
    currency: str
    version: int
    latest_version: int
    mode: TierMode
    markup_percent: MarkupPercent
    tiers: list[TierPublic]
    effective_from: date
    effective_to: date | None
    published_at: datetime


# --- bundles ---------------------------------------------------------------------------


class BundleComponentIn(BaseModel):
    """A product in a bundle and how many of it one bundle holds."""

    model_config = _REQUEST
    product_id: EntityId
    quantity: Quantity


class BundleComponentPublic(BaseModel):
    """A component of a bundle."""

    product_id: str
    quantity: Quantity


class BundleCreate(BaseModel):
    """Products sold together (platform + workshop seat + assessment license, say)."""

    model_config = _REQUEST
    name: Name
    description: Description | None = None
    components: list[BundleComponentIn] = Field(min_length=1, max_length=50)


class BundleUpdate(BaseModel):
    """Fields to change on a bundle (absent = unchanged)."""

    model_config = _patch("description")
    name: Name | None = None
    description: Description | None = None
    components: list[BundleComponentIn] | None = Field(default=None, min_length=1, max_length=50)
    active: StrictBool | None = None


class BundlePublic(BaseModel):
    """A bundle."""

    id: str
    name: str
    description: str | None
    components: list[BundleComponentPublic]
    active: bool
    created_at: datetime
    updated_at: datetime


# --- discounts -------------------------------------------------------------------------


# A percent off is at most 100 (validate_discount); the decimals are UnitPrice's.
_AT_MOST_100 = r"^0*(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?)$"


class DiscountCreate(BaseModel):
    """A discount or promotion."""

    # As validate_discount: an amount discount has the currency of its amount; a percent one has
    # none, and takes off at most 100.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=one_case_per(
            "kind",
            {
                DiscountKind.PERCENT: {"currency": UNSET, "value": {"pattern": _AT_MOST_100}},
                DiscountKind.AMOUNT: {"currency": SET},
            },
        ),
    )
    name: Name
    kind: DiscountKind
    value: UnitPrice = Field(description="Percent off (0-100), or amount off in `currency`.", examples=["15"])
    currency: CurrencyCode | None = Field(default=None, description="Required for an amount discount.")
    duration_cycles: Annotated[int, IntegerRange(1, 1200)] | None = Field(
        default=None, description="Null = no end."
    )
    product_ids: list[EntityId] = Field(default_factory=list, max_length=100, description="Empty = all.")
    approval_threshold_percent: Percent | None = Field(
        default=None, description="Above this percent off list (strictly) an order needs approval."
    )
    promo_code: PromoCode | None = None
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = Field(
        default=None, description="Exclusive: the first day it no longer applies."
    )


class DiscountUpdate(BaseModel):
    """Fields to change on a discount (absent = unchanged; null clears an optional field)."""

    model_config = _patch("approval_threshold_percent", "duration_cycles", "valid_from", "valid_to")
    name: Name | None = None
    product_ids: list[EntityId] | None = Field(default=None, max_length=100)
    approval_threshold_percent: Percent | None = None
    duration_cycles: Annotated[int, IntegerRange(1, 1200)] | None = None
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None
    active: StrictBool | None = None


class DiscountPublic(BaseModel):
    """A discount."""

    id: str
    name: str
    kind: DiscountKind
    value: UnitPrice
    currency: str | None
    duration_cycles: int | None
    product_ids: list[str]
    approval_threshold_percent: Percent | None
    promo_code: str | None
    valid_from: date | None
    valid_to: date | None
    active: bool
    created_at: datetime
    updated_at: datetime


# --- support-contract templates ---------------------------------------------------------


class ContractTemplateCreate(BaseModel):
    """A support-contract template: subscription (period), time_limited (period and hours,
    whichever ends first), support_hours (hours) or per_incident."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=one_case_per(
            "kind",
            {
                kind: {
                    "period_months": SET if period else UNSET,
                    "hours": SET if hours else UNSET,
                    # Only hours roll over (validate_contract_terms).
                    "on_expiry": {} if hours else {"enum": [ExpiryOption.IGNORE]},
                }
                for kind, (period, hours) in BOUNDS_BY_KIND.items()
            },
        ),
    )
    name: Name
    kind: ContractKind
    period_months: Annotated[int, IntegerRange(1, 120)] | None = None
    hours: Quantity | None = None
    on_expiry: ExpiryOption = ExpiryOption.IGNORE
    product_id: EntityId | None = None


class ContractTemplateUpdate(BaseModel):
    """Fields to change on a template (absent = unchanged; null clears an optional field)."""

    model_config = _patch("period_months", "hours")
    name: Name | None = None
    period_months: Annotated[int, IntegerRange(1, 120)] | None = None
    hours: Quantity | None = None
    on_expiry: ExpiryOption | None = None


class ContractTemplatePublic(BaseModel):
    """A support-contract template."""

    id: str
    name: str
    kind: ContractKind
    period_months: int | None
    hours: Quantity | None
    on_expiry: ExpiryOption
    product_id: str | None
    created_at: datetime
    updated_at: datetime


# --- quotes ----------------------------------------------------------------------------


# Exactly one of price_id and bundle_id is a string (the other absent or null), as JSON Schema.
_PRICE_OR_BUNDLE: dict[str, Any] = {
    "oneOf": [
        {"required": [name], "properties": {name: {"type": "string"}}} for name in ("price_id", "bundle_id")
    ]
}


class QuoteItemIn(BaseModel):
    """A price and quantity to quote, or a bundle (priced through its components)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_PRICE_OR_BUNDLE)
    price_id: EntityId | None = None
    bundle_id: EntityId | None = None
    quantity: Quantity
    discount_ids: list[EntityId] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _one_of_price_or_bundle(self) -> QuoteItemIn:
        if (self.price_id is None) == (self.bundle_id is None):
            raise ValueError("give exactly one of price_id and bundle_id")
        return self


class QuoteCreate(BaseModel):
    """Items to price in one currency, as of a date."""

    model_config = _REQUEST
    currency: CurrencyCode
    as_of: IsoDate | None = Field(default=None, description="Defaults to today (UTC).")
    items: list[QuoteItemIn] = Field(min_length=1, max_length=100)
    discount_ids: list[EntityId] = Field(
        default_factory=list, max_length=20, description="Quote-level: applied to every line."
    )
    promo_codes: list[PromoCode] = Field(
        default_factory=list,
        max_length=20,
        description="Promotion codes valid on `as_of`; each applies to the lines of the products it covers.",
        examples=[["SPRING26"]],
    )


class LineDiscountPublic(BaseModel):
    """What one discount took off a line."""

    discount_id: str
    name: str
    amount: NonNegativeAmount


class TierLinePublic(BaseModel):
    """One band of a line's price; informational and unrounded (band_from exclusive)."""

    band_from: DecimalText
    band_to: DecimalText | None
    quantity: DecimalText
    unit_price: DecimalText
    flat_fee: DecimalText
    amount: DecimalText


class QuoteLinePublic(BaseModel):
    """A priced line: list amount, discounts and net, each rounded once to the currency."""

    line_number: int
    product_id: str
    price_id: str
    price_version: int
    bundle_id: str | None = None
    description: str
    quantity: Quantity
    unit_price: UnitPrice = Field(description="Effective unit price (list amount / quantity).")
    list_amount: NonNegativeAmount
    discounts: list[LineDiscountPublic]
    discount_amount: NonNegativeAmount
    net_amount: NonNegativeAmount
    effective_percent_off: Percent
    needs_approval: bool
    tier_breakdown: list[TierLinePublic]
    minimum_shortfall: NonNegativeAmount


class QuotePublic(BaseModel):
    """A quote: lines and totals (sums of the rounded lines)."""

    id: str
    currency: str
    as_of: date
    lines: list[QuoteLinePublic]
    subtotal: NonNegativeAmount
    discount_total: NonNegativeAmount
    total: NonNegativeAmount
    needs_approval: bool
    approval_reasons: list[str]
    created_at: datetime


def changes_of(update: BaseModel) -> dict[str, Any]:
    """The fields a PATCH body actually sets (an explicit null included)."""
    return update.model_dump(exclude_unset=True)
