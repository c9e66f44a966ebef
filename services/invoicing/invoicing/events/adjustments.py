"""Adjustment records -> `adjustment.created` / `adjustment.cancelled`, keyed by the account."""

from __future__ import annotations

from typing import Any

from invoicing.domain.adjustments import Adjustment, AdjustmentRecord
from libs.contracts import invoicing as contracts
from libs.contracts.envelope import EventPayload
from libs.platform.money import amount_out


def outgoing_of(record: AdjustmentRecord) -> tuple[EventPayload, str]:
    """The contract payload of what an adjustment recorded, keyed by its account."""
    adjustment = record.adjustment
    payload: EventPayload
    if record.change == "cancelled":
        assert adjustment.cancelled_at is not None
        payload = contracts.AdjustmentCancelled(
            **_fields(adjustment),
            cancel_reason=adjustment.cancel_reason,
            cancelled_at=adjustment.cancelled_at,
        )
    else:
        payload = contracts.AdjustmentCreated(**_fields(adjustment), created_at=adjustment.created_at)
    return payload, adjustment.account_id


def _fields(adjustment: Adjustment) -> dict[str, Any]:
    return {
        "adjustment_id": adjustment.id,
        "account_id": adjustment.account_id,
        "currency": adjustment.currency,
        "direction": adjustment.direction.value,
        "kind": adjustment.kind.value,
        "amount": amount_out(adjustment.amount, adjustment.currency),
        "reason": adjustment.reason,
        "effective_date": adjustment.effective_date,
        "charge_key": adjustment.charge_key,
        "subscription_id": adjustment.subscription_id,
        "service_period_start": adjustment.service_period_start,
        "service_period_end": adjustment.service_period_end,
        "invoice_id": adjustment.invoice_id,
        "dispute_id": adjustment.dispute_id,
    }
