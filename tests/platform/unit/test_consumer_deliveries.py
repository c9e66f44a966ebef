"""What the consumer makes of a record before applying it: strict envelopes, schema versions,
and how a handler's failure is judged (park now, retry, or redo the batch)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from aiokafka import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError

from libs.contracts.batch import BATCH_HEADERS, PayloadDecoders, batch_id_for, decode_message, encode_batch
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import event_type, unsupported_version
from libs.platform.dead_letters import DeadLetter, dead_letter_table
from libs.platform.deliveries import (
    MalformedMessage,
    deliveries_of,
    envelopes_of,
    is_infrastructure,
    is_permanent,
)
from libs.platform.errors import Conflict, NotFound, RetryableError, ValidationFailed
from libs.platform.outbox import build_envelope


@event_type("test.unit.fee_charged", topic="test.unit.fees", schema_version=2)
class FeeCharged(EventPayload):
    """A test event at its second major version."""

    account_id: str


def _wire(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "type": "test.unit.fee_charged",
        "schema_version": 2,
        "occurred_at": "2026-11-30T10:00:00+00:00",
        "producer": "test",
        "key": "acct_1",
        "payload": {"account_id": "acct_1"},
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_an_envelope_never_invents_its_id_or_time() -> None:
    for missing in ("event_id", "occurred_at"):
        with pytest.raises(ValidationError, match=missing):
            Envelope.model_validate(_wire(**{missing: None}))


def test_an_envelope_refuses_a_timestamp_without_time_zone() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Envelope.model_validate(_wire(occurred_at="2026-11-30T10:00:00"))
    with pytest.raises(ValidationError, match="timezone"):
        Envelope.model_validate(_wire(occurred_at=datetime(2026, 11, 30, 10)))


def test_the_producer_sets_id_time_and_version_explicitly() -> None:
    envelope = build_envelope(FeeCharged(account_id="acct_1"), producer="test", key="acct_1")
    assert envelope.occurred_at.tzinfo is not None
    assert envelope.occurred_at.utcoffset() == UTC.utcoffset(None)
    assert envelope.schema_version == 2
    again = Envelope.from_bytes(envelope.to_bytes())
    assert again == envelope


def test_a_major_version_newer_than_the_registry_is_unsupported() -> None:
    assert unsupported_version("test.unit.fee_charged", 1) is None
    assert unsupported_version("test.unit.fee_charged", 2) is None
    reason = unsupported_version("test.unit.fee_charged", 3)
    assert reason is not None and "schema_version 3" in reason and "knows up to 2" in reason
    assert unsupported_version("test.unit.never_registered", 9) is None


def test_a_record_is_malformed_without_id_with_a_naive_time_or_a_newer_version() -> None:
    good = _wire()
    (envelope,) = envelopes_of(json.dumps(good).encode())
    assert str(envelope.event_id) == good["event_id"]
    cases = {
        "event_id": _wire(event_id=None),
        "timezone": _wire(occurred_at="2026-11-30T10:00:00"),
        "not an event envelope": None,
    }
    for reason, body in cases.items():
        value = json.dumps(body).encode() if body is not None else b"not json"
        with pytest.raises(MalformedMessage, match=reason):
            envelopes_of(value)
    with pytest.raises(MalformedMessage, match="no value"):
        envelopes_of(None)


def test_a_newer_major_version_is_parked_only_by_a_consumer_that_handles_the_type() -> None:
    def record(body: dict[str, Any]) -> Any:
        value = json.dumps(body).encode()
        return ConsumerRecord("test.unit.fees", 0, 7, 0, 0, b"acct_1", value, None, 0, 0, [])

    (too_new,) = deliveries_of(record(_wire(schema_version=3)), {"test.unit.fee_charged"})
    assert too_new.envelope is not None and "schema_version 3" in too_new.problem
    (ignored,) = deliveries_of(record(_wire(schema_version=3)), {"test.unit.other"})
    assert ignored.problem == ""
    (current,) = deliveries_of(record(_wire()), {"test.unit.fee_charged"})
    assert current.problem == "" and current.event_type == "test.unit.fee_charged"
    (broken,) = deliveries_of(record(_wire(event_id=None)), {"test.unit.fee_charged"})
    assert broken.envelope is None and "event_id" in broken.problem
    assert broken.event_type == "test.unit.fee_charged"


def test_a_batch_record_gives_one_delivery_per_item_judged_each_on_its_own() -> None:
    items = [_wire(), _wire(schema_version=3), _wire()]
    value = encode_batch([json.dumps(i).encode() for i in items], event_ids=[i["event_id"] for i in items])
    record: Any = ConsumerRecord(
        "test.unit.fees", 0, 7, 0, 0, b"acct_1", value, None, 0, 0, list(BATCH_HEADERS)
    )

    deliveries = deliveries_of(record, {"test.unit.fee_charged"})

    assert [str(d.envelope.event_id) for d in deliveries if d.envelope] == [i["event_id"] for i in items]
    assert {d.message_id for d in deliveries} == {str(batch_id_for([i["event_id"] for i in items]))}
    assert [bool(d.problem) for d in deliveries] == [False, True, False]
    # Without its header the same bytes are no envelope; an item of another key spoils the batch.
    (unmarked,) = deliveries_of(ConsumerRecord("t", 0, 8, 0, 0, None, value, None, 0, 0, []), set())
    assert unmarked.envelope is None and "not an event envelope" in unmarked.problem
    stray = [json.dumps(_wire()).encode(), json.dumps(_wire(key="acct_2")).encode()]
    with pytest.raises(MalformedMessage, match=r"not an event batch.*acct_2"):
        envelopes_of(encode_batch(stray, event_ids=["a", "b"]), BATCH_HEADERS)


class _FeeWire(msgspec.Struct):
    account_id: str


def _batch_value(items: list[dict[str, Any]]) -> bytes:
    return encode_batch([json.dumps(i).encode() for i in items], event_ids=[i["event_id"] for i in items])


def test_the_payload_fast_path_reads_a_valid_batch_whole_and_leaves_anything_else_to_pydantic() -> None:
    decoders = PayloadDecoders({"test.unit.fee_charged": _FeeWire})
    items = [_wire(), _wire(payload={"account_id": "acct_2", "extra": 1})]
    value = _batch_value(items)

    fast = decoders.decode_payloads(value, BATCH_HEADERS)

    assert fast is not None and fast.event_type == "test.unit.fee_charged"
    assert fast.message_id == decode_message(value, BATCH_HEADERS).message_id
    assert [p.account_id for p in fast.payloads] == ["acct_1", "acct_2"]
    record: Any = ConsumerRecord(
        "test.unit.fees", 0, 7, 0, 0, b"acct_1", value, None, 0, 0, list(BATCH_HEADERS)
    )
    (whole,) = deliveries_of(record, {"test.unit.fee_charged"}, decoders)
    assert whole.envelope is None and whole.size == 2 and whole.message_id == fast.message_id
    # Whatever pydantic must judge (and may park, or word) takes the item-by-item path.
    for spoiled in (
        [_wire(), _wire(schema_version=3)],  # a version this code predates
        [_wire(), _wire(key="acct_2")],  # an item of another key
        [_wire(occurred_at="2026-11-30T10:00:00")],  # no time zone
        [_wire(occurred_at="2026-11-30 10:00:00+00:00")],  # a form left to pydantic
        [_wire(event_id="not-a-uuid")],
        [_wire(payload={"account_id": 7})],  # a payload its type refuses
    ):
        assert decoders.decode_payloads(_batch_value(spoiled), BATCH_HEADERS) is None
    assert decoders.decode_payloads(value, ()) is None  # not marked as a batch
    other = PayloadDecoders({"test.unit.other": _FeeWire})
    assert other.decode_payloads(value, BATCH_HEADERS) is None  # a type it has no decoder for


def test_failures_are_judged_permanent_transient_or_infrastructure() -> None:
    assert is_permanent(ValidationFailed("bad amount"))
    assert is_permanent(Conflict("closed"))
    with pytest.raises(ValidationError) as invalid:
        FeeCharged.model_validate({})
    assert is_permanent(invalid.value)
    # Data another topic's event brings may arrive later: retried before it is parked.
    assert not is_permanent(NotFound("account", "acct_9"))
    assert not is_permanent(RetryableError("price not published yet"))
    assert not is_permanent(RuntimeError("surprise"))
    assert is_infrastructure(OperationalError("SELECT 1", {}, Exception("database is locked")))
    assert is_infrastructure(ConnectionResetError())
    assert not is_infrastructure(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_infrastructure(NotFound("account", "acct_9"))


def test_the_operator_table_shows_one_line_per_dead_letter() -> None:
    letter = DeadLetter(
        id=7,
        consumer_group="provisioning.collections",
        topic="invoicing.events",
        partition=2,
        offset=41,
        event_id="3f1c0d7e-0000-4000-8000-000000000000",
        event_type="collections.suspend_requested",
        error="NotFound: account 'acct_9'\ndoes not exist",
        attempts=5,
        body="{}",
        created_at=datetime(2026, 11, 30, 10, tzinfo=UTC),
    )
    header, row = dead_letter_table([letter]).splitlines()
    assert header.split()[:4] == ["id", "group", "topic", "event"]
    assert row.split()[:6] == [
        "7",
        "provisioning.collections",
        "invoicing.events[2]@41",
        "collections.suspend_requested",
        "3f1c0d7e-0000-4000-8000-000000000000",
        "5",
    ]
    assert "NotFound: account 'acct_9' does not exist" in row and "2026-11-30T10:00:00+00:00" in row


def test_a_single_event_of_a_type_nobody_here_reads_is_not_parsed_and_not_parked() -> None:
    def record(value: bytes) -> Any:
        return ConsumerRecord("test.unit.fees", 0, 9, 0, 0, b"acct_1", value, None, 0, 0, [])

    # Its payload would not even validate: only its type was read.
    body = _wire(payload={"account_id": 7}, schema_version=9)
    (unread,) = deliveries_of(record(json.dumps(body).encode()), {"test.unit.other"})
    assert (unread.envelope, unread.problem, unread.event_type) == (None, "", "test.unit.fee_charged")
    # What does not look like an envelope is judged whole, read here or not.
    (junk,) = deliveries_of(record(b'{"type": "test.unit.fee_charged"}'), {"test.unit.other"})
    assert junk.problem and junk.envelope is None
