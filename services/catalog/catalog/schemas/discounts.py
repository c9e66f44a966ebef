"""Requests and views of discounts and promotions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from catalog.domain.discounts import Discount
from catalog.schemas.common import (
    EntityId,
    Name,
    PromoCode,
    patch_body,
)
from libs.contracts.types import (
    CurrencyCode,
    IntegerRange,
    IsoDate,
    Percent,
    StrictBool,
    UnitPrice,
)
from libs.platform.money import amount_out, decimal_out, percent_out
from libs.platform.openapi import SET, UNSET, one_case_per
from libs.pricing import DiscountKind

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

    model_config = patch_body("approval_threshold_percent", "duration_cycles", "valid_from", "valid_to")
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


def discount_public(discount: Discount) -> DiscountPublic:
    """The public view of a discount."""
    return DiscountPublic(
        id=discount.id,
        name=discount.name,
        kind=discount.kind,
        value=decimal_out(discount.value)
        if discount.currency is None
        else amount_out(discount.value, discount.currency),
        currency=discount.currency,
        duration_cycles=discount.duration_cycles,
        product_ids=list(discount.product_ids),
        approval_threshold_percent=percent_out(discount.approval_threshold_percent),
        promo_code=discount.promo_code,
        valid_from=discount.valid_from,
        valid_to=discount.valid_to,
        active=discount.active,
        created_at=discount.created_at,
        updated_at=discount.updated_at,
    )
