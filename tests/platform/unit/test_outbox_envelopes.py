"""An envelope staged from a payload's JSON form (`build_serialized_envelope`, no validation) is the
envelope pydantic's `model_construct` would build, and writes the same bytes as a validated one."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from libs.contracts.envelope import Envelope
from libs.contracts.invoicing import InvoiceVoided
from libs.platform.outbox_envelopes import build_envelope, build_serialized_envelope

PAYLOAD = InvoiceVoided(
    invoice_id="inv_1",
    number="INV-2026-000001",
    account_id="acc_1",
    currency="USD",
    total=Decimal("612.34"),
    reason="Entered twice — «dupliqué»",
    voided_at=datetime(2026, 8, 1, 6, tzinfo=UTC),
)


def test_a_serialized_envelope_is_what_model_construct_builds() -> None:
    envelope = build_serialized_envelope(
        InvoiceVoided, PAYLOAD.model_dump(mode="json"), producer="invoicing", key="acc_1"
    )
    constructed = Envelope.model_construct(**envelope.__dict__)
    assert envelope == constructed
    assert list(envelope.__dict__) == list(constructed.__dict__) == list(Envelope.model_fields)
    assert envelope.model_fields_set == constructed.model_fields_set
    assert envelope.__pydantic_extra__ is None and envelope.__pydantic_private__ is None
    assert envelope.model_dump_json() == constructed.model_dump_json()


def test_a_serialized_envelope_writes_the_bytes_of_a_validated_one() -> None:
    validated = build_envelope(PAYLOAD, producer="invoicing", key="acc_1", causation_id=None)
    serialized = build_serialized_envelope(
        InvoiceVoided, PAYLOAD.model_dump(mode="json"), producer="invoicing", key="acc_1"
    )
    # Same envelope but for its own id and time: the same bytes once those are the same.
    same = Envelope.model_validate(
        {**serialized.model_dump(), "event_id": validated.event_id, "occurred_at": validated.occurred_at}
    )
    aligned = Envelope.model_construct(
        **{**serialized.__dict__, "event_id": validated.event_id, "occurred_at": validated.occurred_at}
    )
    assert aligned.to_bytes() == validated.to_bytes() == same.to_bytes()
    assert Envelope.from_bytes(serialized.to_bytes()).payload_as(InvoiceVoided) == PAYLOAD
