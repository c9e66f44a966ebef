"""What a notice adds to its case: the counts, the licensed-count check and the customer's re-bill."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from libs.pricing.resold import rebill_vendor_charge
from overage.domain.notices import OverageNotice


@dataclass(frozen=True)
class CaseNotice:
    """A monthly notice on its case: the counts, our licensed quantity, and what we re-bill."""

    notice_id: str
    case_id: str
    notice_ref: str
    period_start: date
    licensed_count: Decimal
    actual_count: Decimal
    overage_count: Decimal
    our_licensed_quantity: Decimal | None
    licensed_mismatch: bool
    vendor_unit_cost: Decimal
    markup_percent: Decimal
    unit_price: Decimal
    amount: Decimal
    currency: str
    charge_key: str | None
    """Set when the notice is charged (overage > 0): the re-bill's stable key."""


def charge_key(vendor_id: str, notice_ref: str) -> str:
    """The stable key of a notice's re-bill: one charge per vendor notice, ever."""
    return f"overage:{vendor_id}:{notice_ref}"[:100]


def case_notice(
    notice: OverageNotice,
    *,
    case_id: str,
    our_licensed_quantity: Decimal | None,
    markup_percent: Decimal,
    currency: str,
) -> CaseNotice:
    """The notice on its case, priced: overage x vendor unit cost x (1 + markup), per libs.pricing."""
    rebill = rebill_vendor_charge(
        quantity=notice.overage_count,
        vendor_unit_cost=notice.vendor_unit_cost,
        markup_percent=markup_percent,
        currency=currency,
    )
    mismatch = our_licensed_quantity is not None and our_licensed_quantity != notice.licensed_count
    return CaseNotice(
        notice_id=notice.id,
        case_id=case_id,
        notice_ref=notice.notice_ref,
        period_start=notice.period_start,
        licensed_count=notice.licensed_count,
        actual_count=notice.actual_count,
        overage_count=notice.overage_count,
        our_licensed_quantity=our_licensed_quantity,
        licensed_mismatch=mismatch,
        vendor_unit_cost=notice.vendor_unit_cost,
        markup_percent=markup_percent,
        unit_price=rebill.unit_price,
        amount=rebill.amount,
        currency=currency,
        charge_key=charge_key(notice.vendor_id, notice.notice_ref) if notice.over_licenses else None,
    )
