"""Vendor overage notices: what the vendor told us for a tenant and month, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class NoticeStatus(StrEnum):
    """Where a stored notice is: waiting for the worker, worked, or waiting for someone."""

    RECEIVED = "received"
    """Stored and acknowledged; the worker has not worked it yet."""
    APPLIED = "applied"
    """Worked: added to its tenant's case (or nothing to do: no overage and no open case)."""
    REVIEW = "review"
    """Kept in the review queue (`review_reason`) until someone maps the tenant or the cost book."""


class ReviewReason(StrEnum):
    """Why a notice waits in the review queue."""

    UNKNOWN_TENANT = "unknown_tenant"
    UNKNOWN_SUBSCRIPTION = "unknown_subscription"
    UNKNOWN_COST_BOOK = "unknown_cost_book"


@dataclass(frozen=True)
class OverageNotice:
    """A vendor's monthly overage notice for one tenant, as stored."""

    id: str
    vendor_id: str
    notice_ref: str
    tenant_ref: str
    period_start: date
    licensed_count: Decimal
    actual_count: Decimal
    overage_count: Decimal
    vendor_unit_cost: Decimal
    received_at: datetime
    status: NoticeStatus = NoticeStatus.RECEIVED
    review_reason: ReviewReason | None = None
    case_id: str | None = None

    @property
    def over_licenses(self) -> bool:
        """True when the vendor charges users over the licenses."""
        return self.overage_count > 0

    def with_status(
        self, status: NoticeStatus, reason: ReviewReason | None, *, case_id: str | None = None
    ) -> OverageNotice:
        """The notice with a new status (and review reason, and case once added to one)."""
        return replace(self, status=status, review_reason=reason, case_id=case_id or self.case_id)

    def within_licenses(self) -> bool:
        """True when the tenant is at or under its licenses (a remove decision is done)."""
        return self.overage_count == 0 and self.actual_count <= self.licensed_count


def counts_problem(*, licensed: Decimal, actual: Decimal, overage: Decimal) -> str | None:
    """Why the counts of a notice cannot be right (None when they add up)."""
    if min(licensed, actual, overage) < 0:
        return "counts are never negative"
    if overage != max(actual - licensed, Decimal(0)):
        return "overage_count must be actual_user_count - licensed_count (0 when at or under)"
    return None
