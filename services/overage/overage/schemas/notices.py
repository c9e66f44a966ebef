"""The vendor's overage notice (webhook body) and the views of stored notices and refused calls."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from libs.contracts.types import IntegerRange, UnitPrice
from overage.schemas.vendors import Ref

MAX_COUNT = 10_000_000
Count = Annotated[int, IntegerRange(0, MAX_COUNT)]
WEBHOOK_MAX_BODY_BYTES = 64 * 1024


def _month(value: str) -> str:
    year, month = int(value[:4]), int(value[5:])
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        raise ValueError("a period is a month such as 2026-09")
    return value


Period = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}$"),
    AfterValidator(_month),
    Field(examples=["2026-09"]),
]


class OverageNoticeBody(BaseModel):
    """What the vendor posts: one tenant's users over its licenses in one month.

    Fields the vendor adds later are ignored (a notice is never refused for them).
    """

    model_config = ConfigDict(extra="ignore")

    notice_id: Ref = Field(description="The vendor's id of the notice: the same id again is the same notice.")
    tenant_id: Ref = Field(description="The tenant's id at the vendor.")
    period: Period = Field(description="The month charged (YYYY-MM).")
    licensed_count: Count
    actual_user_count: Count
    overage_count: Count = Field(description="actual_user_count - licensed_count, 0 when at or under.")
    vendor_unit_cost: UnitPrice = Field(description="The vendor's price per extra user (decimal string).")

    def period_start(self) -> date:
        """The first day of the month."""
        return date(int(self.period[:4]), int(self.period[5:]), 1)


class NoticeReceipt(BaseModel):
    """The acknowledgement: the notice is stored (durable) and will be worked."""

    notice_id: str = Field(description="The vendor's notice id.")
    id: str = Field(description="Our id of the stored notice.")
    status: str = Field(description="received (new) | duplicate (stored already, nothing changed)")


class NoticePublic(BaseModel):
    """A stored notice and what became of it."""

    id: str
    vendor_id: str
    notice_id: str
    tenant_id: str
    period_start: date
    licensed_count: Decimal
    actual_user_count: Decimal
    overage_count: Decimal
    vendor_unit_cost: Decimal
    received_at: datetime
    status: str = Field(description="received | applied | review")
    review_reason: str | None
    case_id: str | None


class ReprocessResult(BaseModel):
    """What a reprocess of the review queue did."""

    applied: int = Field(description="Notices worked now (added to their case).")
    still_in_review: int


class RejectionPublic(BaseModel):
    """A refused webhook call: never its body, only its size and SHA-256."""

    id: str
    vendor: str
    reason: str
    status_code: int
    received_at: datetime
    body_bytes: int
    body_sha256: str
    detail: str
    count: int = Field(
        description="Identical refusals counted on this record (same vendor, reason, status, "
        "body digest within the window; past the window's cap of records, any of the reason)."
    )
    first_seen_at: datetime = Field(description="When the first of them came (= received_at).")
    last_seen_at: datetime = Field(description="When the latest of them came.")
