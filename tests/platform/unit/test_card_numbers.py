"""The card-number rule (libs/platform/card_numbers.py): what is found, what is not, and where."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.platform.card_numbers import (
    MaskingFilter,
    StreamScanner,
    body_card_fields,
    first_card_number,
    holds_card_number,
    json_card_fields,
    luhn_valid,
    mask_card_numbers,
    mask_log_event,
    ndjson_card_fields,
    query_card_fields,
    url_and_header_card_fields,
)


def luhn_completed(payload: str) -> str:
    """`payload` followed by the check digit that makes it Luhn-valid."""
    for check in "0123456789":
        if luhn_valid((payload + check).encode()):
            return payload + check
    raise AssertionError("unreachable")


def luhn_broken(number: str) -> str:
    """`number` with its check digit changed, so it fails the Luhn check."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


TEST_CARDS = [
    "4222222222222",  # Visa, 13 digits
    "30569309025904",  # Diners, 14
    "378282246310005",  # Amex, 15
    "4111111111111111",  # Visa, 16
    "5555555555554444",  # Mastercard
    "2223003122003222",  # Mastercard 2-series
    "6011000990139424",  # Discover
    "3530111333300000",  # JCB
    luhn_completed("62000000000000000"),  # UnionPay, 18
    luhn_completed("401288888888188"),  # 16 digits from a Visa prefix
    luhn_completed("601100000000000000"),  # 19
    "135412345678911",  # UATP: 15 digits from 1
]


@pytest.mark.parametrize("card", TEST_CARDS)
def test_a_luhn_valid_card_number_of_13_to_19_digits_is_found_bare_and_written_in_groups(card: str) -> None:
    assert luhn_valid(card.encode())
    groups = [card[i : i + 4] for i in range(0, len(card), 4)]
    if len(groups[-1]) < 3:  # 4-4-4-… with a short tail: the tail joins the group before
        groups[-2:] = [groups[-2] + groups[-1]]
    for written in (card, " ".join(groups), "-".join(groups)):
        for text in (written, f"card: {written}.", f'{{"n": "{written}"}}', f"({written})", f"\t{written}\n"):
            found = first_card_number(text.encode())
            assert found is not None, text
            assert found.last_four == card[-4:]


@pytest.mark.parametrize(
    "written",
    ["3782 822463 10005", "3056 930902 5904", "4111 1111 1111 1111", "6011-0009-9013-9424"],
)
def test_card_groupings_as_printed_are_found(written: str) -> None:
    assert holds_card_number(written)


@pytest.mark.parametrize(
    "text",
    [
        luhn_broken("4111111111111111"),  # fails the Luhn check
        luhn_completed("41111111111"),  # 12 digits
        luhn_completed("4111111111111111111"),  # 20 digits
        "4111111111111111" + "7",  # a longer number holds no card number
        "0" + luhn_completed("41111111111111"),  # no issuer numbers from 0
        luhn_completed("176449522712"),  # epoch milliseconds (13 digits from 1)
        luhn_completed("176449522712345"),  # epoch microseconds (16)
        luhn_completed("176449522712345678"),  # epoch nanoseconds (19)
        "2026-07-01T09:30:00.123456Z",
        "2026-07-01 2026-07-31",  # two dates side by side
        "20260701 20260731",  # groups of 8
        luhn_completed("411111111111111") + ".45",  # a decimal amount
        "0." + luhn_completed("411111111111111"),
        "card" + "4111111111111111",  # glued to a word
        "4111111111111111" + "abc",
        "ul_01J4111111111111111XYZW",  # inside a ULID-like id
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",  # a SHA-256
        "41 11 11 11 11 11 11 11",  # groups of two
        "+44 20 7946 0958",  # a telephone number
    ],
)
def test_what_is_not_a_card_number(text: str) -> None:
    assert not holds_card_number(text), text
    assert mask_card_numbers(text) == text


def test_a_uuid_s_digits_are_never_a_card_number() -> None:
    # "5678-1234-1234-123x" would pass every other rule; inside a UUID it is the UUID's.
    inner = luhn_completed("567812341234123")
    uuid = f"abcd{inner[:4]}-{inner[4:8]}-{inner[8:12]}-{inner[12:16]}-abcdefabcdef"
    assert holds_card_number(f"{inner[:4]}-{inner[4:8]}-{inner[8:12]}-{inner[12:16]}")
    assert not holds_card_number(uuid)
    assert not holds_card_number(f'{{"event_id": "{uuid}"}}')
    assert not holds_card_number("12345678-1234-1234-1234-123456789012")


def test_masking_keeps_at_most_the_last_four_digits() -> None:
    text = "paid with 4111 1111 1111 1111 and 5555-5555-5555-4444, ref 2026-07-01"
    masked = mask_card_numbers(text)
    assert masked == "paid with [card ****1111] and [card ****4444], ref 2026-07-01"
    assert "4111" not in masked.replace("****1111", "")


def test_json_fields_are_named_by_their_path_numbers_keys_and_escapes_included() -> None:
    body = {
        "customer": {"notes": ["ok", "card 4111 1111 1111 1111 please"]},
        "amount": "1234567890123.45",
        "raw": 5555555555554444,
        "4242424242424242": "as a key",
    }
    fields = json_card_fields(json.dumps(body).encode())
    assert fields == [("customer.notes.1", "1111"), ("raw", "4444"), ("<key>", "4242")]
    escaped = b'{"card": "\\u0034111111111111111"}'  # "4111…" with its first digit escaped
    assert first_card_number(escaped) is None
    assert body_card_fields(escaped, "application/json") == [("card", "1111")]
    assert body_card_fields(b'{"a": "\\n4111111111111111"}', "application/json") == [("a", "1111")]


def test_ndjson_lines_forms_queries_urls_and_headers_are_named() -> None:
    lines = b'{"meter": "x"}\n\n{"properties": {"pan": "4111-1111-1111-1111"}}\n'
    assert ndjson_card_fields(lines) == [("lines.2.properties.pan", "1111")]
    assert body_card_fields(lines, "application/x-ndjson; charset=utf-8") == [
        ("lines.2.properties.pan", "1111")
    ]
    assert body_card_fields(b"a=1&card=4111+1111+1111+1111", "application/x-www-form-urlencoded") == [
        ("card", "1111")
    ]
    assert body_card_fields(b"event_id,note\n1,4111111111111111\n", "text/csv") == [("body", "1111")]
    assert query_card_fields(b"q=%34111%201111%201111%201111") == [("query.q", "1111")]
    assert url_and_header_card_fields(
        "/v1/customers/4111111111111111", b"", [(b"Idempotency-Key", b"4111-1111-1111-1111")]
    ) == [("path", "1111"), ("header.idempotency-key", "1111")]
    assert url_and_header_card_fields("/v1/customers/cus_01J", b"limit=10", [(b"x", b"2026-07-01")]) == []


def _scan(chunks: list[bytes]) -> Any:
    scanner = StreamScanner()
    for index, chunk in enumerate(chunks):
        found = scanner.feed(chunk, last=index == len(chunks) - 1)
        if found is not None:
            return found
    return None


def test_a_streamed_card_number_is_found_wherever_the_chunks_split_it() -> None:
    body = b'event_id,note\nev-1,"card 4111 1111 1111 1111 thanks"\nev-2,ok\n'
    for cut in range(len(body) + 1):
        assert _scan([body[:cut], body[cut:]]) is not None, cut
    assert _scan([bytes([byte]) for byte in body]) is not None
    # A number that goes on past 19 digits in the next chunk is not one, however it is cut.
    long_number = b"x " + luhn_completed("411111111111111").encode() + b"12345 y"
    for cut in range(len(long_number) + 1):
        assert _scan([long_number[:cut], long_number[cut:]]) is None, cut
    # Nor is a UUID's run cut in two, nor a decimal amount.
    uuid = b"abcd5678-1234-1234-" + luhn_completed("567812341234123")[-4:].encode() + b"-abcdefabcdef"
    amount = luhn_completed("411111111111111").encode() + b".45"
    for text in (uuid, amount):
        for cut in range(len(text) + 1):
            assert _scan([text[:cut], text[cut:]]) is None, (text, cut)


def test_a_card_number_after_a_long_stretch_of_digits_and_spaces_is_still_found() -> None:
    body = b"1 2 " * 200 + b"  4111111111111111 end"
    for cut in (100, 700, 790, 805, 810):
        assert _scan([body[:cut], body[cut:]]) is not None, cut


def test_log_events_and_stdlib_records_are_masked() -> None:
    event = mask_log_event(
        None,
        "info",
        {"event": "x", "body": "pan=4111111111111111", "nested": {"n": [5555555555554444]}, "count": 3},
    )
    assert event == {
        "event": "x",
        "body": "pan=[card ****1111]",
        "nested": {"n": ["[card ****4444]"]},
        "count": 3,
    }
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '"%s %s" %d', ("GET", "/x?c=4111111111111111", 422), None
    )
    assert MaskingFilter().filter(record)
    assert record.getMessage() == '"GET /x?c=[card ****1111]" 422'


_JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.text(alphabet=st.characters(blacklist_categories=["Nd", "Cs"]), max_size=12),
)
_JSON = st.recursive(
    _JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    first = draw(st.sampled_from("23456789"))
    payload = first + draw(st.text(alphabet="0123456789", min_size=length - 2, max_size=length - 2))
    card = luhn_completed(payload)
    style = draw(st.sampled_from(["bare", "spaces", "dashes"]))
    if style == "bare":
        return card
    groups = [card[i : i + 4] for i in range(0, len(card), 4)]
    if len(groups[-1]) < 3:
        groups[-2:] = [groups[-2] + groups[-1]]
    return (" " if style == "spaces" else "-").join(groups)


def _embed(document: Any, value: Any, where: int) -> Any:
    """`document` with `value` put somewhere in it, as deep as `where` says."""
    if isinstance(document, dict) and document and where:
        key = sorted(document)[where % len(document)]
        return {**document, key: _embed(document[key], value, where // 2)}
    if isinstance(document, list) and document and where:
        index = where % len(document)
        return [*document[:index], _embed(document[index], value, where // 2), *document[index + 1 :]]
    return {"wrapper": document, "card": value}


@settings(max_examples=300, deadline=None)
@given(document=_JSON, card=card_numbers(), where=st.integers(0, 64), as_text=st.booleans())
def test_any_valid_card_number_anywhere_in_a_json_document_is_found(
    document: Any, card: str, where: int, as_text: bool
) -> None:
    bare = card.replace(" ", "").replace("-", "")
    value: Any = f"my card is {card}, thanks" if as_text else card
    if not as_text and card == bare:
        value = int(card)  # a JSON number
    body = json.dumps(_embed(document, value, where)).encode()
    fields = body_card_fields(body, "application/json")
    assert fields and all(four == bare[-4:] for _, four in fields)
    assert mask_card_numbers(body.decode()).count("[card ****") == len(fields)
