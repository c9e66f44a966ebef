"""Usage batches on the wire: JSON and NDJSON bodies, each event validated on its own, exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from libs.platform.errors import ValidationFailed
from rating.schemas.usage import MAX_BATCH_EVENTS, ReceivedBatch, parse_json_batch, parse_usage_body

NDJSON = "application/x-ndjson"


def _event(i: int = 0, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": f"ev-{i}",
        "account_id": "acct_1",
        "meter": "api_calls",
        "quantity": 1,
        "timestamp": "2026-07-01T09:30:00Z",
    }
    event.update(fields)
    return {k: v for k, v in event.items() if v is not None}


def _json(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def _refused(batch: ReceivedBatch) -> dict[int, set[tuple[str, str]]]:
    return {r.index: {(e.field, e.code) for e in r.errors} for r in batch.refusals}


def test_a_valid_json_batch_keeps_every_event_in_order() -> None:
    batch = parse_json_batch(_json(*(_event(i, quantity=str(i)) for i in range(5))))
    assert [i for i, _ in batch.records] == [0, 1, 2, 3, 4]
    assert [r.quantity for _, r in batch.records] == [Decimal(i) for i in range(5)]
    assert batch.refusals == [] and batch.size == 5


def test_invalid_events_are_refused_one_by_one_and_the_valid_ones_kept() -> None:
    body = _json(
        _event(0),
        _event(1, quantity=-1),
        _event(2, quantity="abc"),
        _event(3, timestamp="2026-07-01T09:30:00"),  # no time zone
        _event(4, account_id=None),  # neither subscription nor account
        _event(5, quantity="2.5"),
        "not an event",  # type: ignore[arg-type]
    )
    batch = parse_json_batch(body)
    assert [i for i, _ in batch.records] == [0, 5]
    refused = _refused(batch)
    assert set(refused) == {1, 2, 3, 4, 6}
    assert {field for field, _ in refused[1]} == {"quantity"}
    assert {field for field, _ in refused[2]} == {"quantity"}
    assert refused[3] == {("timestamp", "timezone_aware")}
    assert {field for field, _ in refused[4]} == {"event"}
    assert [r.event_id for r in batch.refusals if r.index == 1] == ["ev-1"]
    assert [r.event_id for r in batch.refusals if r.index == 6] == [None]


def test_json_number_quantities_are_read_exactly_or_refused() -> None:
    body = (
        b'{"events": ['
        + json.dumps(_event(0)).encode()[:-1]
        + b', "quantity": 0.99999999999999999}, '
        + json.dumps(_event(1)).encode()[:-1]
        + b', "quantity": 3.0}, '
        + json.dumps(_event(2)).encode()[:-1]
        + b', "quantity": 2.5}]}'
    )
    batch = parse_json_batch(body)
    # 0.99999999999999999 is no float exactly: never read as 1. 3.0 is the integer 3, as JSON
    # Schema counts it. A fractional quantity travels as a string ("2.5"), never a JSON number.
    assert [(i, r.quantity) for i, r in batch.records] == [(1, Decimal(3))]
    assert set(_refused(batch)) == {0, 2}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json at all", "body"),
        (b'{"events": [', "body"),
        (b"[1, 2]", "body"),
        (b'{"events": [], "extra": 1}', "extra"),
        (b'{"events": {"a": 1}}', "events"),
        (b'{"events": []}', "events"),
        (b"{}", "events"),
        (b"\xff\xfe", "body"),
    ],
)
def test_a_body_that_is_not_a_batch_is_a_422_naming_what_is_wrong(body: bytes, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_json_batch(body)
    assert refused.value.errors[0].field == field


def test_a_batch_holds_at_most_ten_thousand_events() -> None:
    assert parse_json_batch(_json(*([_event(1)] * MAX_BATCH_EVENTS))).size == MAX_BATCH_EVENTS
    with pytest.raises(ValidationFailed) as refused:
        parse_json_batch(_json(*([_event(1)] * (MAX_BATCH_EVENTS + 1))))
    assert refused.value.errors[0].field == "events"
    assert "at most 10,000" in refused.value.errors[0].message


def test_a_body_of_millions_of_empty_objects_is_refused_before_it_is_read_into_memory() -> None:
    body = b'{"events": [' + b",".join([b"{}"] * 500_000) + b"]}"
    with pytest.raises(ValidationFailed) as refused:
        parse_json_batch(body)
    assert refused.value.errors[0].code == "too_complex"


def test_ndjson_takes_one_event_per_line_and_refuses_a_malformed_line_alone() -> None:
    lines = [
        json.dumps(_event(0)),
        "",
        json.dumps(_event(1, quantity="1.25")) + "\r",
        '{"event_id": "ev-2", "meter": ',
        json.dumps(_event(3, quantity=-5)),
        "   ",
        json.dumps(_event(4, properties={"region": "eu", "n": 3, "beta": True})),
    ]
    batch = parse_usage_body("\n".join(lines).encode(), NDJSON + "; charset=utf-8")
    assert [i for i, _ in batch.records] == [0, 1, 4]  # positions among the non-blank lines
    assert batch.records[1][1].quantity == Decimal("1.25")
    assert batch.records[2][1].properties == {"region": "eu", "n": 3, "beta": True}
    refused = _refused(batch)
    assert refused[2] == {("line", "json_invalid")}
    assert {field for field, _ in refused[3]} == {"quantity"}
    assert batch.size == 5


def test_property_names_and_values_refuse_control_characters_and_huge_integers() -> None:
    batch = parse_json_batch(
        _json(
            _event(0, properties={"region": "e\u0000u"}),
            _event(1, properties={"a\nb": "x"}),
            _event(2, properties={"n": 10**30}),
            _event(3, properties={"n": 2**63 - 1, "flag": False}),
        )
    )
    assert [i for i, _ in batch.records] == [3]
    assert set(_refused(batch)) == {0, 1, 2}
