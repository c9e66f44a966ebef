"""Adjustments and disputes (pure): amounts, service credits, states and what each records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from invoicing.domain.adjustments import (
    Adjustment,
    AdjustmentConflict,
    AdjustmentDirection,
    AdjustmentKind,
    AdjustmentState,
)
from invoicing.domain.disputes import Dispute, DisputeConflict, DisputeOutcome, DisputeState
from invoicing.domain.invoices import InvoiceConflict
from libs.platform.errors import ValidationFailed
from tests.invoicing.factories import draft
from tests.invoicing.unit.factories_credits import issued

NOW = datetime(2026, 8, 1, 12, tzinfo=UTC)


def _adjustment(**overrides: object) -> Adjustment:
    values: dict[str, object] = {
        "id": "adj_1",
        "account_id": "acct_1",
        "currency": "JPY",
        "direction": AdjustmentDirection.CREDIT,
        "kind": AdjustmentKind.ADJUSTMENT,
        "amount": Decimal("1235"),
        "reason": "Goodwill",
        "effective_date": date(2026, 8, 1),
        "created_at": NOW,
    }
    values.update(overrides)
    return Adjustment.create(**values)


def test_a_credit_is_negative_on_the_invoice_and_a_debit_positive() -> None:
    credit = _adjustment()
    debit = _adjustment(direction=AdjustmentDirection.DEBIT, currency="BHD", amount=Decimal("1.2"))
    assert (credit.signed_amount, credit.charge_key, credit.state) == (
        Decimal("-1235"),
        "adjustment:adj_1",
        AdjustmentState.PENDING,
    )
    assert debit.pending().amount == Decimal("1.200") and str(debit.signed_amount) == "1.200"
    assert [record.change for record in credit.events] == ["created"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": Decimal("0")}, "amount"),
        ({"amount": Decimal("10.5")}, "amount"),  # JPY has no minor unit
        ({"reason": "  "}, "reason"),
        ({"kind": AdjustmentKind.SERVICE_CREDIT}, "subscription_id"),
        (
            {
                "kind": AdjustmentKind.SERVICE_CREDIT,
                "direction": AdjustmentDirection.DEBIT,
                "subscription_id": "sub_1",
                "service_period_start": date(2026, 9, 1),
                "service_period_end": date(2026, 10, 1),
            },
            "direction",
        ),
        ({"service_period_start": date(2026, 9, 1)}, "service_period_start"),
    ],
)
def test_invalid_adjustments_are_refused_naming_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _adjustment(**overrides)
    assert field in [e.field for e in refused.value.errors]


def test_only_a_pending_adjustment_is_cancelled() -> None:
    applied = _adjustment(applied_invoice_id="inv_9")
    assert applied.state is AdjustmentState.APPLIED
    with pytest.raises(AdjustmentConflict):
        applied.cancel(reason=None, at=NOW)
    pending = _adjustment()
    pending.cancel(reason="duplicate", at=NOW)
    assert pending.state is AdjustmentState.CANCELLED
    with pytest.raises(AdjustmentConflict):
        pending.cancel(reason=None, at=NOW)


def test_a_dispute_opens_on_an_issued_invoice_and_ends_once() -> None:
    invoice = issued()
    dispute = Dispute.open(id="dsp_1", invoice=invoice, reason="seats", at=NOW, charge_key="sub_1")
    assert (dispute.state, dispute.line_key, dispute.invoice_number) == (
        DisputeState.OPEN,
        "sub_1",
        "INV-2026-000001",
    )
    dispute.start_review()
    with pytest.raises(DisputeConflict):
        dispute.start_review()
    with pytest.raises(ValidationFailed):
        dispute.resolve(outcome=DisputeOutcome.CREDIT, note=None, at=NOW)  # a credit needs its note
    dispute.resolve(outcome=DisputeOutcome.REJECT, note="as ordered", at=NOW)
    assert dispute.state is DisputeState.REJECTED
    with pytest.raises(DisputeConflict):
        dispute.resolve(outcome=DisputeOutcome.REJECT, note=None, at=NOW)
    assert [record.change for record in dispute.events] == ["opened", "under_review", "resolved"]


def test_a_draft_is_not_disputed_and_a_line_must_be_on_the_invoice() -> None:
    with pytest.raises(InvoiceConflict):
        Dispute.open(id="dsp_1", invoice=draft(), reason="x", at=NOW)
    with pytest.raises(ValidationFailed) as refused:
        Dispute.open(
            id="dsp_1", invoice=issued(), reason="x", at=NOW, charge_key="nope", disputed_amount=Decimal("0")
        )
    assert [e.field for e in refused.value.errors] == ["charge_key", "disputed_amount"]
