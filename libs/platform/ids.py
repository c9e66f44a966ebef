"""Opaque, prefixed, time-sortable ids (`cus_01J…`), DESIGN §6.

The body is a ULID (48-bit millisecond time + 80 random bits, Crockford base32), so ids sort
by creation time — cursor pagination orders by id and gets creation order for free. Within one
millisecond a process increments the random part (monotonic ULID), so the tasks of a workflow
created together still list in the order they were made.
"""

from __future__ import annotations

import base64
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


_FROM_BASE32: Final = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())
"""RFC 4648 base32's digits to Crockford's, digit for digit (both are 5 bits a character)."""


def new_id(prefix: str) -> str:
    """A new id such as `inv_01JD0S6Y4Q7V3J6C3M9W1K2X8Z`."""
    # The 128-bit body in 20 bytes is 32 base32 digits, the last 26 of which hold its low 130
    # bits: the body, two zero bits first. Encoded in C rather than digit by digit in Python (a
    # bill run makes a few ids an invoice).
    digits = base64.b32encode(_next_body().to_bytes(20, "big")).translate(_FROM_BASE32)
    return f"{prefix}_{digits[-26:].decode()}"


def is_valid_id(value: str, prefix: str | None = None) -> bool:
    """True when `value` has the shape of an id (and the given prefix)."""
    if not _ID_RE.match(value):
        return False
    return prefix is None or value.startswith(prefix + "_")
