"""Requests and views of prices and their versions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from catalog.domain.prices import PriceTerms, PriceVersion
from catalog.schemas.common import (
    EntityId,
    TierIn,
    TierPublic,
    tier_values,
    tiers_public,
)
from libs.contracts.types import (
    CurrencyCode,
    IsoDate,
    NonNegativeAmount,
    Quantity,
    UnitPrice,
)
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, PricingModel
from libs.platform.money import amount_out, decimal_out, unit_price_out
from libs.platform.openapi import SET, UNSET, one_case_per

# As libs.pricing's validation: the fields each model reads are given, the others are not (a
# tiered model has tiers, no other has any; a flat price has no included units).
_MODEL_FIELDS: dict[PricingModel, frozenset[str]] = {
    PricingModel.FLAT: frozenset({"amount"}),
    PricingModel.PER_UNIT: frozenset({"unit_price"}),
    PricingModel.TIERED_GRADUATED: frozenset({"tiers"}),
    PricingModel.TIERED_VOLUME: frozenset({"tiers"}),
    PricingModel.PACKAGE: frozenset({"unit_price", "package_size"}),
    PricingModel.COST_PLUS: frozenset({"cost_book_id"}),
}
_NO_TIERS: dict[str, Any] = {"type": "array", "maxItems": 0}
_SOME_TIERS: dict[str, Any] = {"type": "array", "minItems": 1}


def _model_case(model: PricingModel, uses: frozenset[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {"model": {"const": model.value}}
    for name in ("amount", "unit_price", "package_size", "cost_book_id"):
        fields[name] = SET if name in uses else UNSET
    fields["tiers"] = _SOME_TIERS if "tiers" in uses else _NO_TIERS
    if model is PricingModel.FLAT:
        fields["included_quantity"] = {"enum": [0, "0"]}
    return {"required": ["model", *sorted(uses)], "properties": fields}


_FIELDS_PER_MODEL: dict[str, Any] = {
    "allOf": [{"oneOf": [_model_case(model, uses) for model, uses in _MODEL_FIELDS.items()]}]
}


class PriceTermsIn(BaseModel):
    """The pricing fields of a version; which are needed depends on `model`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_FIELDS_PER_MODEL)
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
        )
        | _FIELDS_PER_MODEL,
    )
    product_id: EntityId
    currency: CurrencyCode
    charge_type: ChargeType
    billing_period: BillingFrequency | None = None
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
    billing_period: BillingFrequency | None
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


def price_terms(command: PriceTermsIn) -> PriceTerms:
    """The pricing terms of a request."""
    return PriceTerms(
        model=command.model,
        unit_price=command.unit_price,
        amount=command.amount,
        tiers=tier_values(command.tiers),
        package_size=command.package_size,
        included_quantity=command.included_quantity,
        minimum_commitment=command.minimum_commitment,
        cost_book_id=command.cost_book_id,
    )


def price_public(version: PriceVersion, latest_version: int) -> PricePublic:
    """The public view of one price version."""
    terms = version.terms
    return PricePublic(
        id=version.price_id,
        product_id=version.product_id,
        currency=version.currency,
        charge_type=version.charge_type,
        billing_period=version.billing_period,
        timing=version.timing,
        version=version.version,
        latest_version=latest_version,
        model=terms.model,
        unit_price=unit_price_out(terms.unit_price),
        amount=amount_out(terms.amount, version.currency),
        tiers=tiers_public(terms.tiers),
        package_size=decimal_out(terms.package_size),
        included_quantity=decimal_out(terms.included_quantity),
        minimum_commitment=amount_out(terms.minimum_commitment, version.currency),
        cost_book_id=terms.cost_book_id,
        effective_from=version.effective_from,
        effective_to=version.effective_to,
        published_at=version.published_at,
    )
