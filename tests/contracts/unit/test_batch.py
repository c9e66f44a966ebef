"""Batch messages: one header, many events; one decode function for both forms of message."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from libs.contracts.batch import BATCH_HEADERS, EventBatch, batch_id_for, decode_message, encode_batch
from libs.contracts.envelope import Envelope


def _envelope(quantity: int, *, key: str = "acct_1", type_: str = "test.usage_recorded") -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(),
        occurred_at=datetime(2026, 3, 1, 12, 0, quantity % 60, tzinfo=UTC),
        type=type_,
        schema_version=2,
        producer="rating",
        correlation_id=f"req_{quantity}",
        key=key,
        payload={"quantity": str(quantity)},
    )


def _batch(envelopes: list[Envelope]) -> bytes:
    return encode_batch([e.to_bytes() for e in envelopes], event_ids=[str(e.event_id) for e in envelopes])


def test_a_batch_decodes_to_its_events_in_order_each_with_its_own_id_time_and_ids() -> None:
    envelopes = [_envelope(q) for q in range(1, 6)]

    message = decode_message(_batch(envelopes), list(BATCH_HEADERS))

    assert message.is_batch
    assert message.events == envelopes
    assert message.message_id == str(batch_id_for([str(e.event_id) for e in envelopes]))


def test_the_batch_header_is_what_its_items_share() -> None:
    envelopes = [_envelope(q) for q in range(1, 4)]

    batch = EventBatch.model_validate_json(_batch(envelopes))

    assert (batch.type, batch.schema_version, batch.producer, batch.key) == (
        "test.usage_recorded",
        2,
        "rating",
        "acct_1",
    )
    assert batch.correlation_id == "req_1"
    assert [item.correlation_id for item in batch.items] == ["req_1", "req_2", "req_3"]


def test_a_single_event_decodes_to_one_event_identified_by_its_event_id() -> None:
    envelope = _envelope(7)

    message = decode_message(envelope.to_bytes(), [("traceparent", b"00-x")])

    assert not message.is_batch
    assert message.events == [envelope]
    assert message.message_id == str(envelope.event_id)


def test_the_same_items_give_the_same_batch_id() -> None:
    envelopes = [_envelope(q) for q in range(1, 4)]

    assert _batch(envelopes) == _batch(envelopes)
    assert batch_id_for([str(e.event_id) for e in envelopes]) != batch_id_for(
        [str(e.event_id) for e in envelopes[:2]]
    )


def test_an_item_of_another_key_or_type_makes_the_batch_malformed() -> None:
    other_key = [_envelope(1), _envelope(2, key="acct_2")]
    other_type = [_envelope(1), _envelope(2, type_="test.other")]

    for envelopes in (other_key, other_type):
        with pytest.raises(ValidationError, match=r"not test\.usage_recorded/acct_1"):
            decode_message(_batch(envelopes), list(BATCH_HEADERS))


def test_an_empty_or_broken_batch_is_malformed() -> None:
    empty = json.dumps(
        {
            "batch_id": str(uuid.uuid4()),
            "type": "t",
            "schema_version": 1,
            "producer": "p",
            "key": "k",
            "items": [],
        }
    ).encode()

    for value in (empty, b"not json", _envelope(1).to_bytes()):
        with pytest.raises(ValidationError):
            decode_message(value, list(BATCH_HEADERS))
