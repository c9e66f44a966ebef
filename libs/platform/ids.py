"""Opaque, prefixed, time-sortable ids (`cus_01J…`), DESIGN §6.

The body is a ULID (48-bit millisecond time + 80 random bits, Crockford base32), so ids sort
by creation time — cursor pagination orders by id and gets creation order for free.
"""

from __future__ import annotations

import os
import re
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID_RE = re.compile(r"^[a-z]{2,8}_[0-9A-HJKMNP-TV-Z]{26}$")


def new_id(prefix: str) -> str:
    """A new id such as `inv_01JD0S6Y4Q7V3J6C3M9W1K2X8Z`."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
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
