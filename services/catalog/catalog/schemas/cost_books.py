"""Requests and views of vendor cost books."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import (
    BaseModel,
    Field,
)

from catalog.schemas.common import (
    REQUEST,
    Name,
    TierIn,
    TierPublic,
    Token,
)
from libs.contracts.catalog import MarkupPercent
from libs.contracts.types import (
    CurrencyCode,
    IsoDate,
)
from libs.pricing import TierMode


class CostBookTermsIn(BaseModel):
    """Tiers of vendor cost per unit, how they apply and our markup."""

    model_config = REQUEST
    name: Name
    mode: TierMode = Field(description="volume: all units at the total's band; graduated: per band.")
    markup_percent: MarkupPercent = Field(examples=["20"])
    tiers: list[TierIn] = Field(min_length=1, max_length=50)
    effective_to: IsoDate | None = None


class CostBookCreate(CostBookTermsIn):
    """Publish version 1 of a vendor's cost book."""

    vendor_id: Token = Field(examples=["ven_wfm"])
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
