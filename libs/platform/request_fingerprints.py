"""What makes two requests with one `Idempotency-Key` "the same request" (libs/platform/idempotency.py).

Method, path, query string (parameters sorted by name) and body. A JSON body is compared as
JSON — whitespace and key order do not matter, numbers are compared as written — any other body
byte for byte; a streamed body is hashed as it is read.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode


class _Number(str):
    """A JSON number kept as written, so `1.0` and `1` stay different requests."""


def _canonical_json(value: Any) -> str:
    if isinstance(value, _Number):
        return str.__str__(value)
    if isinstance(value, dict):
        members = (f"{json.dumps(k)}:{_canonical_json(value[k])}" for k in sorted(value))
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical_json(v) for v in value) + "]"
    return json.dumps(value)


def canonical_body(body: bytes, content_type: str | None) -> bytes:
    """The body as compared: canonical JSON for a JSON body, else the bytes as they came."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in {"", "application/json"} or media.endswith("+json"):
        try:
            parsed = json.loads(body, parse_float=_Number, parse_int=_Number, parse_constant=_Number)
            return b"json\0" + _canonical_json(parsed).encode()
        except (ValueError, RecursionError):
            pass
    return b"bytes\0" + body


def _fingerprint_head(method: str, path: str, query_string: str) -> Any:
    pairs = sorted(parse_qsl(query_string, keep_blank_values=True), key=lambda pair: pair[0])
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), urlencode(pairs).encode()):
        digest.update(part)
        digest.update(b"\0")
    return digest


def request_fingerprint(
    method: str, path: str, query_string: str, body: bytes, content_type: str | None
) -> str:
    """Hash of what makes two requests 'the same request'."""
    digest = _fingerprint_head(method, path, query_string)
    digest.update(canonical_body(body, content_type))
    digest.update(b"\0")
    return str(digest.hexdigest())


class StreamedFingerprint:
    """`request_fingerprint` of a body compared byte for byte, taken as the body streams by."""

    def __init__(self, method: str, path: str, query_string: str) -> None:
        self._digest = _fingerprint_head(method, path, query_string)
        self._digest.update(b"bytes\0")

    def update(self, part: bytes) -> None:
        """Add the next part of the body."""
        self._digest.update(part)

    def hexdigest(self) -> str:
        """The fingerprint of the request, once its whole body went through `update`."""
        digest = self._digest.copy()
        digest.update(b"\0")
        return str(digest.hexdigest())
