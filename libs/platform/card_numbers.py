"""Card numbers (PANs) are never accepted, stored or logged (DESIGN §6: a payment method is a token).

The rule — what counts as a card number
---------------------------------------
A *run* is a maximal sequence of digits in which two digits are joined by at most one space or
dash (`4111 1111 1111 1111`, `4111-1111-1111-1111`, `4111111111111111`). A run is a card number
when all of these hold:

1. it holds 13 to 19 digits, and they pass the Luhn check;
2. its first digit is 2 to 9 (every card scheme), or 1 when it holds exactly 15 digits (UATP). No
   issuer numbers from 0, and 13, 16 and 19 digits from 1 are epoch timestamps in ms, µs and ns;
3. it stands on its own: no letter, digit or `_` touches either end (so a digit run inside a hash,
   a ULID or a base64 token is not a card number, while `card: 4111…` and `"4111…"` are); a JSON
   escape (`\\n4111…`) counts as a separator;
4. it is not part of a decimal number (`1234567890123.45`) nor of a UUID;
5. when it is written in groups, the first group holds 4 to 6 digits and every other 3 to 6 (the
   groupings printed on cards: 4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3), so two dates side by side
   (`2026-01-01 2026-01-31`) are not a card number.

A run longer than 19 digits is not a card number, nor any part of it.

Where the rule is applied: `libs.platform.edge.EdgeGuard` refuses with 422 every request with a
card number in its path, query, headers or body (JSON, NDJSON, form, CSV, any other bytes; a
streamed upload chunk by chunk, a number split across two chunks included), before any route,
idempotency record or audit row sees it; the 422 names the field and never the number (the last
four digits at most). `mask_log_event` and `MaskingFilter` mask any card number in every log
line (structlog and stdlib, uvicorn's access lines included): defence in depth.

Events read from Kafka are not refused: every event is produced by a service from input that
passed the edge, so a card number in one is a bug upstream, not a client's mistake to answer;
the log masking keeps it out of log lines all the same.

Cost: the search is one compiled regex over the raw bytes (C speed; most bodies have no run of
13 digits); the rules above run in Python only on the runs it finds.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from libs.platform.errors import FieldError, ValidationFailed

MIN_DIGITS: Final = 13
MAX_DIGITS: Final = 19
# A run: digits joined by single spaces or dashes. Written so that a match never backtracks and
# is the whole maximal run; its digits are counted after (a `{12,}` here costs 5x more).
_RUN_BYTES = re.compile(rb"[0-9]+(?:[ -][0-9]+)*")
_UUID_BYTES = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_GROUP_SEPARATOR = re.compile(rb"[ -]")
# A JSON escape that could hide a digit, a space or a dash from the raw-bytes search.
_ESCAPED_RUN_CHAR = re.compile(rb"\\u00(?:3[0-9]|2[0dD])")
_WORD = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_JSON_ESCAPES = frozenset(b"nrtbf")
_UUID_REACH: Final = 36
# Digits, spaces and dashes are "0", every other byte "x": a run of 13 digits is 13 "0"s or more.
_CLASSES = bytes(48 if byte in b"0123456789 -" else 120 for byte in range(256))
_STRETCH = b"0" * MIN_DIGITS


def luhn_valid(digits: bytes) -> bool:
    """True when the ASCII digits pass the Luhn check (mod 10)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = char - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _digits_are_a_card_number(run: bytes) -> bool:
    digits = run.translate(None, b" -")
    count = len(digits)
    if not MIN_DIGITS <= count <= MAX_DIGITS:
        return False
    first = digits[0]
    if first == 48 or (first == 49 and count != 15):  # "0", or "1" but not 15 digits
        return False
    if count != len(run):
        groups = [len(group) for group in _GROUP_SEPARATOR.split(run)]
        if not 4 <= groups[0] <= 6 or any(not 3 <= size <= 6 for size in groups[1:]):
            return False
    return luhn_valid(digits)


def _stands_alone(data: bytes, start: int, end: int) -> bool:
    before = data[start - 1] if start > 0 else None
    after = data[end] if end < len(data) else None
    if before is not None and before in _WORD:
        # `\n4111…` in JSON text: the letter is half of an escape, a separator.
        escaped = before in _JSON_ESCAPES and start > 1 and data[start - 2] == 92
        if not escaped:
            return False
    if after is not None and after in _WORD:
        return False
    decimal_before = before == 46 and start > 1 and 48 <= data[start - 2] <= 57
    decimal_after = after == 46 and end + 1 < len(data) and 48 <= data[end + 1] <= 57
    return not (decimal_before or decimal_after)


def _inside_uuid(data: bytes, start: int, end: int) -> bool:
    if data.count(b"-", start, end) < 2:
        return False  # 13 digits of a UUID that pass the grouping rule span 3 of its groups
    window_start = max(0, start - _UUID_REACH)
    window = data[window_start : end + _UUID_REACH]
    for uuid in _UUID_BYTES.finditer(window):
        if uuid.start() + window_start < end and uuid.end() + window_start > start:
            return True
    return False


@dataclass(frozen=True)
class Found:
    """A card number found in some data: where it is (byte offsets) and its last four digits."""

    start: int
    end: int
    last_four: str

    @property
    def masked(self) -> str:
        """How a log line shows it (ASCII, so JSON lines keep it readable): the last four digits."""
        return f"[card ****{self.last_four}]"


def _stretches(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each stretch of at least 13 bytes that are all digits, spaces or dashes.

    Every run of 13 digits lies in one. Found with C-speed bytes methods only (a translation and
    substring searches): far cheaper than any regex over every byte, and most bodies have none.
    """
    classes = data.translate(_CLASSES)
    at = classes.find(_STRETCH)
    while at >= 0:
        end = classes.find(b"x", at)
        end = len(data) if end < 0 else end
        yield at, end
        at = classes.find(_STRETCH, end)


def find_card_numbers(data: bytes, *, first_run_cut: bool = False) -> Iterator[Found]:
    """Every card number in `data` (see the module's rule), left to right.

    `first_run_cut` says `data` starts inside a run whose beginning was cut off (a streamed
    body's window), so a run at offset 0 is not judged.
    """
    for stretch_start, stretch_end in _stretches(data):
        stretch = data[stretch_start:stretch_end]
        if stretch.isdigit():  # the usual stretch: one long number, one run
            runs: Iterable[tuple[int, bytes]] = ((stretch_start, stretch),)
        else:
            runs = ((stretch_start + m.start(), m.group()) for m in _RUN_BYTES.finditer(stretch))
        for start, run in runs:
            end = start + len(run)
            if start == 0 and first_run_cut:
                continue
            if len(run) < MIN_DIGITS or not _digits_are_a_card_number(run):
                continue
            if not _stands_alone(data, start, end) or _inside_uuid(data, start, end):
                continue
            yield Found(start, end, run.translate(None, b" -")[-4:].decode())


def first_card_number(data: bytes) -> Found | None:
    """The first card number in `data`, if any."""
    return next(find_card_numbers(data), None)


def holds_card_number(text: str) -> bool:
    """True when `text` holds a card number (see the module's rule)."""
    return first_card_number(text.encode()) is not None


def mask_card_numbers(text: str) -> str:
    """`text` with each card number replaced by `[card ****1111]` (its last four digits)."""
    data = text.encode()
    found = list(find_card_numbers(data))
    if not found:
        return text
    pieces = []
    done = 0
    for card in found:
        pieces.append(data[done : card.start])
        pieces.append(card.masked.encode())
        done = card.end
    pieces.append(data[done:])
    return b"".join(pieces).decode(errors="replace")


def may_hide_escaped_digits(body: bytes) -> bool:
    """True when a JSON text escapes a digit, space or dash (`\\u0034`): search its values too."""
    return _ESCAPED_RUN_CHAR.search(body) is not None


# --- where in a document --------------------------------------------------------------------


class _Number(str):
    """A JSON number kept as its text, so it is judged as written (`1234567890123.45`)."""


def _card_paths(value: Any, path: list[str]) -> Iterator[tuple[str, str]]:
    """(dotted path, last four) of every card number in a parsed JSON value, keys included."""
    if isinstance(value, dict):
        for key, item in value.items():
            if holds_card_number(key):
                yield ".".join([*path, "<key>"]) or "<key>", _last_four(key)
            yield from _card_paths(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _card_paths(item, [*path, str(index)])
    elif isinstance(value, str) and holds_card_number(value):
        yield ".".join(path) or "body", _last_four(value)


def _last_four(text: str) -> str:
    found = first_card_number(text.encode())
    return found.last_four if found else "????"


def _parse(text: bytes) -> Any:
    return json.loads(text, parse_int=_Number, parse_float=_Number, parse_constant=_Number)


def json_card_fields(body: bytes) -> list[tuple[str, str]]:
    """(dotted path, last four) of each card number in a JSON document; [] when it is not JSON."""
    try:
        return list(_card_paths(_parse(body), []))
    except (ValueError, RecursionError):
        return []


def ndjson_card_fields(body: bytes) -> list[tuple[str, str]]:
    """(`lines.<n>.<path>`, last four) of each card number in NDJSON (n from 0, blank lines count)."""
    fields = []
    for number, line in enumerate(body.split(b"\n")):
        if line.strip() and (first_card_number(line) or may_hide_escaped_digits(line)):
            fields += [(f"lines.{number}.{path}", four) for path, four in json_card_fields(line)]
    return fields


def form_card_fields(body: bytes) -> list[tuple[str, str]]:
    """(`<name>`, last four) of each card number in a form body, names and values decoded."""
    return [
        (name or "<name>", _last_four(text))
        for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        for text in (name, value)
        if holds_card_number(text)
    ]


def query_card_fields(query_string: bytes) -> list[tuple[str, str]]:
    """(`query.<name>`, last four) of each card number in a query string, decoded."""
    text = query_string.decode("latin-1")
    if not text:
        return []
    return [(f"query.{field}", four) for field, four in form_card_fields(text.encode("latin-1"))]


# --- a streamed body ------------------------------------------------------------------------

_CARRY_LIMIT: Final = 256
# Bytes on each side of a run that decide whether it is a card number (a UUID is 36 long).
_CONTEXT: Final = 40
_RUN_CHARS = frozenset(b"0123456789 -.")


class StreamScanner:
    """Finds a card number in a body that arrives in chunks, one split across chunks included.

    Each chunk is searched together with the tail of what came before it that could still be
    the start of a run (digits, spaces, dashes and dots, plus one more byte for its boundary).
    """

    def __init__(self) -> None:
        self._carry = b""
        self._carry_cut = False

    def feed(self, chunk: bytes, *, last: bool) -> Found | None:
        """Search `chunk`; `last` says no more comes, so a run at its very end is judged too."""
        window = self._carry + chunk
        settled = len(window) - _CONTEXT
        for found in find_card_numbers(window, first_run_cut=self._carry_cut):
            if last or found.end <= settled:
                return found
            # What follows a run decides it too (`.45`, the rest of a UUID): judged next time.
        if last:
            return None
        limit = max(0, len(window) - _CARRY_LIMIT)
        tail = len(window)
        while tail > limit and window[tail - 1] in _RUN_CHARS:
            tail -= 1
        # Past the limit the stretch is too long to end in a run of 19 digits that starts in it,
        # except one it cut; else keep what precedes it too (its boundary, a UUID around it), and
        # always the last bytes, where a run waits for what follows it.
        self._carry_cut = tail == limit and tail > 0 and window[tail - 1] in _RUN_CHARS
        keep = tail if self._carry_cut else max(0, min(tail, settled - _CONTEXT) - _CONTEXT)
        self._carry = window[keep:]
        return None


# --- logs -----------------------------------------------------------------------------------


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_card_numbers(value)
    if isinstance(value, bytes):
        return mask_card_numbers(value.decode("utf-8", errors="replace"))
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10 ** (MIN_DIGITS - 1):
        return mask_card_numbers(str(value))
    return value


def mask_log_event(logger: Any, method: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """structlog processor: every card number in a log event's values masked (last four)."""
    return {key: _masked(value) for key, value in event.items()}


class MaskingFilter(logging.Filter):
    """A stdlib logging filter that masks card numbers in a record's message (access lines too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message by its masked text; never drops a record."""
        message = record.getMessage()
        masked = mask_card_numbers(message)
        if masked is not message:
            record.msg, record.args = masked, None
        return True


# --- a request ------------------------------------------------------------------------------


def url_and_header_card_fields(
    path: str, query_string: bytes, headers: Iterable[tuple[bytes, bytes]]
) -> list[tuple[str, str]]:
    """(field, last four) of each card number in a request's path, query or header values."""
    fields = [("path", found.last_four) for found in find_card_numbers(path.encode())]
    fields += query_card_fields(query_string)
    for name, value in headers:
        for found in find_card_numbers(value):
            fields.append((f"header.{name.decode('latin-1').lower()}", found.last_four))
    return fields


def body_card_fields(body: bytes, content_type: str) -> list[tuple[str, str]]:
    """(field, last four) of each card number in a request body of that media type.

    The raw bytes are searched first (what every body costs); a JSON or NDJSON body is parsed
    only when that finds one, to name its fields, or when it escapes a digit (`\\u0034`); a form
    body is decoded (`4111+1111…`, `%34111…`).
    """
    media = content_type.split(";")[0].strip().lower()
    found = first_card_number(body)
    fields: list[tuple[str, str]] = []
    if media == "application/x-www-form-urlencoded":
        fields = form_card_fields(body)
    elif found is not None or may_hide_escaped_digits(body):
        if media.endswith(("ndjson", "jsonl", "jsonlines")):
            fields = ndjson_card_fields(body)
        elif media in {"", "application/json"} or media.endswith("+json"):
            fields = json_card_fields(body)
    if not fields and found is not None:
        fields = [("body", found.last_four)]
    return fields


REFUSAL_DETAIL: Final = (
    "The request holds a card number, which no service accepts or stores: send a payment method token"
)


def card_number_refusal(fields: Iterable[tuple[str, str]]) -> ValidationFailed:
    """The 422 for card numbers found at these fields: each named, no number shown but its last four."""
    return ValidationFailed(
        REFUSAL_DETAIL,
        [
            FieldError(field, f"holds a card number (…{four}); send a payment method token", "card_number")
            for field, four in fields
        ],
    )
