"""The fast path of a usage batch: msgspec reads the events, whole-batch checks apply the rules.

`decode_batch` (a JSON body), `decode_lines` (NDJSON), `convert_items` (payloads already read)
and `check_events` (payloads msgspec read into `WireEvent`s: the topic door) accept a batch
only when every event is valid, and then give exactly the values pydantic's `UsageRecord`
would; otherwise they answer None and the caller takes pydantic's path (which also words each
refusal). It is a subset of pydantic's rules, never a superset: what it cannot decide cheaply
(a float quantity, an unusual timestamp form, a duplicated key that the two parsers might read
differently) it leaves to pydantic. Property tests hold the two to that
(tests/rating/unit/test_usage_wire.py).

Where the time goes matters here: msgspec reads 10,000 events in a few milliseconds, but one
Python regex call per string would cost more than pydantic's whole validation. So lengths and
integer bounds are checked by msgspec as it decodes, and each character rule is one regex run
over all the batch's strings of a kind joined together (a rule on characters holds for each
string exactly when it holds for their concatenation).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Final

import msgspec

from libs.contracts.types import MAX_INTEGER_QUANTITY, QUANTITY_PLACES
from libs.contracts.usage import MAX_PROPERTIES
from libs.platform.money import MAX_INTEGER_DIGITS

_MAX_BATCH_EVENTS: Final = 10_000
"""As `rating.schemas.usage.MAX_BATCH_EVENTS` (that module imports this one)."""

_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
_Meter = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_PropertyName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_PropertyValue = (
    Annotated[str, msgspec.Meta(max_length=256)]
    | Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
    | bool
)
_Quantity = (
    Annotated[int, msgspec.Meta(ge=0, le=MAX_INTEGER_QUANTITY)] | Annotated[str, msgspec.Meta(max_length=64)]
)


class WireEvent(msgspec.Struct, gc=False, omit_defaults=True):
    """An event as the body (or a `usage.recorded` payload) holds it, unknown fields ignored as
    `UsageRecord` ignores them; fields left at their default are left out of its builtins."""

    event_id: _Id
    meter: _Meter
    quantity: _Quantity
    timestamp: Annotated[str, msgspec.Meta(max_length=40)]
    subscription_id: _Reference | None = None
    account_id: _Reference | None = None
    properties: Annotated[dict[_PropertyName, _PropertyValue], msgspec.Meta(max_length=MAX_PROPERTIES)] = {}


class _WireBatch(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    events: Annotated[list[WireEvent], msgspec.Meta(min_length=1, max_length=_MAX_BATCH_EVENTS)]


class WireUsage(msgspec.Struct, frozen=True, gc=False):
    """A usage event read by the fast path: the fields of a `UsageRecord`, with the same values."""

    event_id: str
    subscription_id: str | None
    account_id: str | None
    meter: str
    quantity: Decimal
    timestamp: datetime
    properties: Mapping[str, str | int | bool]


_DECODER: Final = msgspec.json.Decoder(_WireBatch)
_LINE_DECODER: Final = msgspec.json.Decoder(WireEvent)
_UNREADABLE: Final = (msgspec.MsgspecError, ValueError, TypeError, RecursionError)
"""What msgspec raises on a body or item it will not read (a lone surrogate is a ValueError)."""

# The character rules of `libs.contracts.usage`, as Python regexes over joined strings.
_ID_CHARS: Final = re.compile(r"[!-~]*")
_METER: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_REFERENCE_CHARS: Final = re.compile(r"[A-Za-z0-9_-]*")
# Plain text (libs.platform.text) minus lone surrogates, which pydantic refuses before the rule.
_NOT_PLAIN: Final = re.compile(
    "[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff]"
)
_QUANTITY: Final = re.compile(rf"[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,{QUANTITY_PLACES}}})?")
# RFC 3339 with an upper-case T and an explicit offset, up to microseconds: the form producers
# write and pydantic reads to the same instant; any other form is left to pydantic.
_HOUR_MINUTE: Final = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
_TIMESTAMP: Final = (
    rf"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T{_HOUR_MINUTE}:[0-5][0-9](?:\.[0-9]{{1,6}})?(?:Z|[+-]{_HOUR_MINUTE})"
)
_TIMESTAMPS: Final = re.compile(rf"(?:{_TIMESTAMP}\n)*{_TIMESTAMP}")


def decode_batch(body: bytes) -> list[tuple[int, WireUsage]] | None:
    """Every event of a valid JSON batch `{"events": [...]}`, or None when pydantic must decide."""
    if not body.isascii():
        try:
            body.decode()  # msgspec skips unknown fields unread: pydantic refuses bad UTF-8 anywhere
        except UnicodeDecodeError:
            return None
    try:
        events = _DECODER.decode(body).events
    except _UNREADABLE:
        return None
    return _checked(events)


def decode_lines(lines: Sequence[str]) -> list[tuple[int, WireUsage]] | None:
    """The same for the non-blank lines of an NDJSON body, one event each, or None."""
    try:
        events = [_LINE_DECODER.decode(line) for line in lines]
    except _UNREADABLE:
        return None
    return _checked(events)


def convert_items(items: Sequence[object]) -> list[tuple[int, WireUsage]] | None:
    """The same for events already read from JSON (the `usage.raw` door's payloads), or None."""
    try:
        events = msgspec.convert({"events": items}, _WireBatch)
    except _UNREADABLE:
        return None
    return _checked(events.events)


def check_events(events: Sequence[WireEvent]) -> list[tuple[int, WireUsage]] | None:
    """The same for events msgspec read already (`usage.recorded` payloads of `usage.raw`)."""
    if not 1 <= len(events) <= _MAX_BATCH_EVENTS:
        return None
    return _checked(events)


def _checked(events: Sequence[WireEvent]) -> list[tuple[int, WireUsage]] | None:
    if not _ID_CHARS.fullmatch("".join([e.event_id for e in events])):
        return None
    if not all(_METER.fullmatch(code) for code in {e.meter for e in events}):
        return None
    references = [e.subscription_id or "" for e in events] + [e.account_id or "" for e in events]
    if not _REFERENCE_CHARS.fullmatch("".join(references)):
        return None
    if any(e.subscription_id is None and e.account_id is None for e in events):
        return None
    texts = [
        text
        for e in events
        if e.properties
        for name, value in e.properties.items()
        for text in ((name, value) if type(value) is str else (name,))
    ]
    if texts and _NOT_PLAIN.search("".join(texts)):
        return None
    timestamps = [e.timestamp for e in events]
    if not _TIMESTAMPS.fullmatch("\n".join(timestamps)):
        return None
    try:
        # Python reads these forms as pydantic does; a date out of range is an error in both
        # (hours, minutes, seconds and offsets out of range are not in the pattern).
        # Each distinct text read once: timestamps repeat within a batch.
        read = {text: datetime.fromisoformat(text) for text in set(timestamps)}
        moments = [read[text] for text in timestamps]
    except ValueError:
        return None
    texts = [q for q in (e.quantity for e in events) if type(q) is str]
    if texts and not all(_QUANTITY.fullmatch(q) for q in texts):
        return None
    # Decimal of an int or of a plain decimal text is what `Quantity` gives (no sign: never -0).
    return [
        (
            i,
            WireUsage(
                e.event_id, e.subscription_id, e.account_id, e.meter, Decimal(e.quantity), at, e.properties
            ),
        )
        for i, (e, at) in enumerate(zip(events, moments, strict=True))
    ]
