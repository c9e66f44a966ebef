"""Dispute records -> `dispute.opened` / `.review_started` / `.resolved`, keyed by the account."""

from __future__ import annotations

from typing import Any

from invoicing.domain.disputes import Dispute, DisputeRecord, DisputeState
from libs.contracts import invoicing as contracts
from libs.contracts.envelope import EventPayload
from libs.platform.money import amount_out


def outgoing_of(record: DisputeRecord) -> tuple[EventPayload, str]:
    """The contract payload of what a dispute recorded, keyed by its account."""
    dispute = record.dispute
    payload: EventPayload
    if record.change == "resolved":
        assert dispute.resolved_at is not None
        payload = contracts.DisputeResolved(
            **_fields(dispute),
            outcome="credit" if dispute.state is DisputeState.RESOLVED_CREDIT else "reject",
            credited_amount=amount_out(dispute.credited_amount, dispute.currency),
            credit_note_id=dispute.credit_note_id,
            resolution_note=dispute.resolution_note,
            resolved_at=dispute.resolved_at,
        )
    elif record.change == "under_review":
        payload = contracts.DisputeReviewStarted(**_fields(dispute))
    else:
        payload = contracts.DisputeOpened(**_fields(dispute))
    return payload, dispute.account_id


def _fields(dispute: Dispute) -> dict[str, Any]:
    return {
        "dispute_id": dispute.id,
        "invoice_id": dispute.invoice_id,
        "invoice_number": dispute.invoice_number,
        "account_id": dispute.account_id,
        "currency": dispute.currency,
        "charge_key": dispute.charge_key,
        "disputed_amount": amount_out(dispute.disputed_amount, dispute.currency),
        "reason": dispute.reason,
        "state": dispute.state.value,
        "opened_at": dispute.opened_at,
    }
