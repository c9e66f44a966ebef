"""Requests and views of vendor cost books."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import (
    BaseModel,
    Field,
)

from catalog.domain.cost_books import CostBookVersion
from catalog.schemas.common import (
    REQUEST,
    Name,
    TierIn,
    TierPublic,
    VendorId,
    tiers_public,
)
from libs.contracts.catalog import MarkupPercent
from libs.contracts.types import (
    CurrencyCode,
    IsoDate,
)
from libs.contracts.vocabulary import TierMode, TierPeriod
from libs.platform.money import decimal_out


class CostBookTermsIn(BaseModel):
    """Tiers of vendor cost per unit, how they apply and our markup."""

    model_config = REQUEST
    name: Name
    mode: TierMode = Field(description="volume: all units at the total's band; graduated: per band.")
    tier_period: TierPeriod = Field(
        default=TierPeriod.MONTHLY,
        description="The period the tier prices are for (a vendor's list is per unit per month); "
        "a cost-plus price converts it to its own billing period.",
    )
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
    tier_period: TierPeriod
    markup_percent: MarkupPercent
    tiers: list[TierPublic]
    effective_from: date
    effective_to: date | None
    published_at: datetime


def cost_book_public(version: CostBookVersion, latest_version: int) -> CostBookPublic:
    """The public view of one cost book version."""
    return CostBookPublic(
        id=version.cost_book_id,
        vendor_id=version.vendor_id,
        name=version.name,
        currency=version.currency,
        version=version.version,
        latest_version=latest_version,
        mode=version.mode,
        tier_period=version.tier_period,
        markup_percent=decimal_out(version.markup_percent),
        tiers=tiers_public(version.tiers),
        effective_from=version.effective_from,
        effective_to=version.effective_to,
        published_at=version.published_at,
    )
