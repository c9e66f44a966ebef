"""The msgspec fast path of a JSON usage batch agrees with pydantic's `UsageRecord` on every body.

What the fast path accepts, pydantic accepts with the same values; what pydantic refuses, the
fast path leaves to pydantic (None). Bodies are random mixes of valid and hostile values, and
random texts and byte edits of valid bodies.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rating.schemas.usage import (
    _FAST_BATCH,
    _FAST_LINE,
    _RECORD,
    parse_json_batch,
    parse_usage_body,
    receive_events,
)
from rating.schemas.usage_wire import convert_items, decode_batch, decode_lines

_VALID_EVENT: dict[str, Any] = {
    "event_id": "cdr-2026-07-01-000042",
    "subscription_id": "sub_01JD0S6Y4Q7V3J6C3M9W1K2X8Z",
    "meter": "api_calls",
    "quantity": 3,
    "timestamp": "2026-07-01T09:30:00Z",
    "properties": {"region": "eu", "n": 3, "beta": True},
}

_HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "a\n",
        "a\x00",
        "é",
        "\u2028",
        "\u202e",
        "\ud800",
        "x" * 65,
        "x" * 129,
        "x" * 257,
        "\t",
        "\x7f",
        "A",
    ]
)
_TEXT = st.one_of(_HOSTILE_TEXT, st.text(max_size=8), st.from_regex(r"[a-z0-9_.\-]{1,6}", fullmatch=True))
_NUMBER = st.one_of(
    st.integers(min_value=-(2**65), max_value=2**65),
    st.sampled_from([0, -0, 2**53 - 1, 2**53, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1]),
    st.floats(allow_nan=False, allow_infinity=False),
)
_SCALAR = st.one_of(_TEXT, _NUMBER, st.booleans(), st.none())
_TIMESTAMP = st.one_of(
    st.sampled_from(
        [
            "2026-07-01T09:30:00Z",
            "2026-07-01T09:30:00.5+02:00",
            "2026-07-01T09:30:00.123456-05:30",
            "2026-07-01T09:30:00.1234567Z",
            "2026-07-01T09:30:00+23:59",
            "2026-07-01T09:30:00+24:00",
            "2026-07-01T09:30:00+00:60",
            "2026-07-01T24:00:00Z",
            "2026-07-01T23:59:60Z",
            "2026-02-29T09:30:00Z",
            "2024-02-29T09:30:00Z",
            "0000-01-01T00:00:00Z",
            "2026-07-01t09:30:00z",
            "2026-07-01 09:30:00Z",
            "2026-07-01T09:30:00",
            "2026-07-01T09:30Z",
            "2026-07-01",
            "2026-07-01T09:30:00+0200",
            "\uff12\uff10\uff12\uff16-07-01T09:30:00Z",
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.integers(min_value=0, max_value=2**40),
)
_QUANTITY = st.one_of(
    _NUMBER,
    st.sampled_from(
        ["1", "1.5", "0.000001", "0.0000001", "-1", "+1", "1e3", "1.", ".5", "00012", "NaN", "1_0", "\u0661"]
    ),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
_PROPERTIES = st.one_of(
    st.dictionaries(_TEXT, st.one_of(_TEXT, _NUMBER, st.booleans(), st.none(), st.just([])), max_size=34),
    _SCALAR,
)


@st.composite
def _events(draw: st.DrawFn) -> dict[str, Any]:
    event = dict(_VALID_EVENT)
    for name, values in (
        ("event_id", st.one_of(_TEXT, _NUMBER)),
        ("subscription_id", st.one_of(_TEXT, st.none())),
        ("account_id", st.one_of(_TEXT, st.none())),
        ("meter", _TEXT),
        ("quantity", _QUANTITY),
        ("timestamp", _TIMESTAMP),
        ("properties", _PROPERTIES),
        ("extra", _SCALAR),
    ):
        choice = draw(st.integers(0, 3))
        if choice == 1:
            event[name] = draw(values)
        elif choice == 2:
            event.pop(name, None)
    return event


def _pydantic(body: bytes | str) -> list[Any] | None:
    try:
        return list(_FAST_BATCH.validate_json(body).events)
    except ValidationError:
        return None


def _agree(body: bytes) -> None:
    fast = decode_batch(body)
    reference = _pydantic(body)
    if fast is None:
        return  # pydantic decides (and words the refusals)
    assert reference is not None, body
    _same_values(fast, reference)


def _same_values(fast: list[Any], reference: list[Any]) -> None:
    assert [i for i, _ in fast] == list(range(len(reference)))
    for (_, mine), theirs in zip(fast, reference, strict=True):
        for name in ("event_id", "subscription_id", "account_id", "meter"):
            assert getattr(mine, name) == getattr(theirs, name)
        assert str(mine.quantity) == str(theirs.quantity) and isinstance(mine.quantity, Decimal)
        assert mine.timestamp == theirs.timestamp
        assert mine.timestamp.utcoffset() == theirs.timestamp.utcoffset()
        assert dict(mine.properties) == theirs.properties
        assert [type(v) for v in mine.properties.values()] == [type(v) for v in theirs.properties.values()]
        assert list(mine.properties) == list(theirs.properties)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_events(), min_size=0, max_size=4), st.sampled_from(["events", "extra", None]))
def test_fast_path_accepts_only_what_pydantic_accepts_with_the_same_values(
    events: list[dict[str, Any]], extra: str | None
) -> None:
    document: dict[str, Any] = {"events": events}
    if extra == "extra":
        document["other"] = 1
    body = json.dumps(document, ensure_ascii=bool(len(events) % 2)).encode("utf-8", "surrogatepass")
    _agree(body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_events(), min_size=1, max_size=4), st.booleans())
def test_items_read_from_json_agree_with_pydantic_item_by_item(
    events: list[dict[str, Any]], floats: bool
) -> None:
    # The topic door's payloads: what a JSON parser made of the events (floats where it read them).
    items = json.loads(json.dumps(events)) if floats else events
    fast = convert_items(items)
    reference: list[Any] = []
    for item in items:
        try:
            reference.append(_RECORD.validate_python(item))
        except ValidationError:
            assert fast is None, item
            return
    if fast is not None:
        _same_values(fast, reference)
        assert receive_events(items).records == fast


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 400), st.binary(min_size=1, max_size=3), st.integers(0, 3))
def test_edited_bodies_agree(position: int, inserted: bytes, removed: int) -> None:
    body = json.dumps({"events": [_VALID_EVENT, {**_VALID_EVENT, "event_id": "b"}]}).encode()
    at = position % (len(body) + 1)
    _agree(body[:at] + inserted + body[at + removed :])


def test_duplicated_keys_read_as_pydantic_reads_them() -> None:
    event = json.dumps(_VALID_EVENT)[1:-1]
    for body in (
        '{"events": [{' + event + ', "event_id": "second"}]}',
        '{"events": [{' + event + ', "properties": {"k": "1", "k": 2}}]}',
        '{"events": [{' + event + ', "quantity": 1.5, "quantity": 2}]}',
        '{"events": [], "events": [{' + event + "}]}",
        '{"events": [{' + event + "}], " + '"events": []}',
    ):
        _agree(body.encode())


def test_the_usual_batch_takes_the_fast_path_and_keeps_every_value() -> None:
    events = [
        {**_VALID_EVENT, "event_id": f"e-{i}", "quantity": q, "timestamp": ts}
        for i, (q, ts) in enumerate(
            [
                (0, "2026-07-01T00:00:00Z"),
                ("2.500000", "2026-07-01T09:30:00.25+05:45"),
                (2**53 - 1, "2026-12-31T23:59:59.999999-12:00"),
            ]
        )
    ]
    events.append(
        {k: v for k, v in _VALID_EVENT.items() if k != "subscription_id"} | {"account_id": "acct_1"}
    )
    body = json.dumps({"events": events}).encode()
    fast = decode_batch(body)
    assert fast is not None
    _agree(body)
    assert parse_json_batch(body).records == fast
    assert fast[1][1].quantity == Decimal("2.500000") and str(fast[1][1].quantity) == "2.500000"


def test_what_the_fast_path_leaves_to_pydantic_is_still_kept_or_refused_event_by_event() -> None:
    body = json.dumps(
        {"events": [{**_VALID_EVENT, "timestamp": "2026-07-01 09:30:00Z"}, {**_VALID_EVENT, "quantity": -1}]}
    ).encode()
    assert decode_batch(body) is None
    batch = parse_json_batch(body)
    assert [i for i, _ in batch.records] == [0]
    assert [(r.index, r.errors[0].field) for r in batch.refusals] == [(1, "quantity")]


def test_payloads_the_fast_path_cannot_read_go_to_pydantic_item_by_item() -> None:
    lone_surrogate = {**_VALID_EVENT, "properties": "\ud800"}
    float_quantity = {**_VALID_EVENT, "event_id": "f", "quantity": 2.0}  # JSON 2.0: the integer 2
    assert convert_items([lone_surrogate]) is None and convert_items([float_quantity]) is None
    batch = receive_events([lone_surrogate, float_quantity])
    assert [(i, r.quantity) for i, r in batch.records] == [(1, Decimal(2))]
    assert [(r.index, r.errors[0].field) for r in batch.refusals] == [(0, "properties")]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_events(), min_size=1, max_size=4), st.integers(0, 300), st.text(max_size=2), st.booleans())
def test_ndjson_lines_agree_with_pydantic_line_by_line(
    events: list[dict[str, Any]], position: int, inserted: str, crlf: bool
) -> None:
    lines = [json.dumps(event, ensure_ascii=False) + ("\r" if crlf else "") for event in events]
    at = position % (len(lines[0]) + 1)
    lines[0] = lines[0][:at] + inserted + lines[0][at:]
    try:
        "".join(lines).encode()
    except UnicodeEncodeError:
        return  # not a UTF-8 body (refused whole before the lines are read)
    fast = decode_lines(lines)
    if fast is None:
        return
    reference = []
    for line in lines:
        try:
            reference.append(_FAST_LINE.validate_json(line))
        except ValidationError:
            raise AssertionError(line) from None
    _same_values(fast, reference)


def test_an_ndjson_body_of_valid_lines_takes_the_fast_path() -> None:
    body = "\n".join(json.dumps({**_VALID_EVENT, "event_id": f"l-{i}"}) for i in range(3)).encode()
    batch = parse_usage_body(body + b"\n\n", "application/x-ndjson")
    assert all(type(r).__name__ == "WireUsage" for _, r in batch.records)
    assert [(i, r.event_id) for i, r in batch.records] == [(0, "l-0"), (1, "l-1"), (2, "l-2")]
