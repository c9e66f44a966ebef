"""Opaque, prefixed, time-sortable ids (`cus_01J…`), DESIGN §6.

The body is a ULID (48-bit millisecond time + 80 random bits, Crockford base32), so ids sort
by creation time — cursor pagination orders by id and gets creation order for free. Within one
millisecond a process increments the random part (monotonic ULID), so the tasks of a workflow
created together still list in the order they were made.
"""

from __future__ import annotations

import os
import re
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID_RE = re.compile(r"^[a-z]{2,8}_[0-9A-HJKMNP-TV-Z]{26}$")


_lock = threading.Lock()
_last = (0, 0)
_RANDOM_MAX = (1 << 80) - 1


def _next_body() -> int:
    global _last
    with _lock:
        millis = int(time.time() * 1000)
        last_millis, last_random = _last
        if millis <= last_millis and last_random < _RANDOM_MAX:
            millis, random_part = last_millis, last_random + 1
        else:
            random_part = int.from_bytes(os.urandom(10), "big")
        _last = (millis, random_part)
    return (millis << 80) | random_part


def new_id(prefix: str) -> str:
    """A new id such as `inv_01JD0S6Y4Q7V3J6C3M9W1K2X8Z`."""
    value = _next_body()
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def is_valid_id(value: str, prefix: str | None = None) -> bool:
    """True when `value` has the shape of an id (and the given prefix)."""
    if not _ID_RE.match(value):
        return False
    return prefix is None or value.startswith(prefix + "_")
