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
from typing import Final

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


_DIGIT_PAIRS: Final = tuple(high + low for high in _ALPHABET for low in _ALPHABET)
"""Two Crockford base32 digits for each 10-bit value: 26 digits are 13 pairs."""
_TEN_BITS: Final = 1023


def _spelled(body: int) -> str:
    """The 128-bit body in 26 Crockford base32 digits, most significant first (its low 130 bits:
    two zero bits, then the body). Ten bits a look-up: a bill run makes a few ids an invoice, and
    base64.b32encode (Python code, five bytes at a time) cost five times this."""
    pairs = _DIGIT_PAIRS
    return "".join(
        (
            pairs[body >> 120],
            pairs[(body >> 110) & _TEN_BITS],
            pairs[(body >> 100) & _TEN_BITS],
            pairs[(body >> 90) & _TEN_BITS],
            pairs[(body >> 80) & _TEN_BITS],
            pairs[(body >> 70) & _TEN_BITS],
            pairs[(body >> 60) & _TEN_BITS],
            pairs[(body >> 50) & _TEN_BITS],
            pairs[(body >> 40) & _TEN_BITS],
            pairs[(body >> 30) & _TEN_BITS],
            pairs[(body >> 20) & _TEN_BITS],
            pairs[(body >> 10) & _TEN_BITS],
            pairs[body & _TEN_BITS],
        )
    )


def new_id(prefix: str) -> str:
    """A new id such as `inv_01JD0S6Y4Q7V3J6C3M9W1K2X8Z`."""
    return f"{prefix}_{_spelled(_next_body())}"


def is_valid_id(value: str, prefix: str | None = None) -> bool:
    """True when `value` has the shape of an id (and the given prefix)."""
    if not _ID_RE.match(value):
        return False
    return prefix is None or value.startswith(prefix + "_")
