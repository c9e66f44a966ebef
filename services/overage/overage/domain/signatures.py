"""Signed vendor webhooks: how a notice proves it comes from its vendor (DESIGN §6 "API").

The vendor signs `"{timestamp}.{raw body}"` with HMAC-SHA256 under a secret we gave it and sends
`X-Signature-Timestamp: <unix seconds>` and `X-Signature: sha256=<hex>`. A notice is accepted when
the timestamp is within the replay window of our clock (5 minutes either way) and the signature
matches one of the vendor's secrets valid at that moment (rotation keeps the old one valid until
its `expires_at`).

Secrets are never stored: each is derived from the service's master key and the secret's id,
`HMAC-SHA256(WEBHOOK_SECRET_KEY, "overage-webhook-secret:" + secret_id)` (hex), so the database
holds only the id and a short fingerprint; a copy of the database verifies nothing and forges
nothing. The secret is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from libs.platform.errors import DomainError

REPLAY_WINDOW = timedelta(minutes=5)
SIGNATURE_PREFIX = "sha256="
_SECRET_CONTEXT = b"overage-webhook-secret:"


class Refusal(StrEnum):
    """Why a webhook call was refused (recorded; the body is never kept)."""

    MISSING_SIGNATURE = "missing_signature"
    MALFORMED_SIGNATURE = "malformed_signature"
    STALE_TIMESTAMP = "stale_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_VENDOR = "unknown_vendor"
    MALFORMED_BODY = "malformed_body"
    BODY_TOO_LARGE = "body_too_large"


class SignatureRefused(DomainError):
    """A webhook call whose signature or timestamp does not hold (401; the reason is recorded)."""

    status = 401
    title = "Unauthorized"
    code = "signature_refused"

    def __init__(self, reason: Refusal) -> None:
        super().__init__(f"webhook refused: {reason.value}")
        self.reason = reason


@dataclass(frozen=True)
class SigningKey:
    """A secret the vendor may sign with (derived, see the module) and until when."""

    secret_id: str
    secret: bytes
    expires_at: datetime | None


def derive_secret(master_key: str, secret_id: str) -> str:
    """The webhook secret of `secret_id` under the service's master key (hex, 64 characters)."""
    return hmac.new(master_key.encode(), _SECRET_CONTEXT + secret_id.encode(), hashlib.sha256).hexdigest()


def fingerprint(secret: str) -> str:
    """A short, non-reversible tag of a secret (shown in listings to tell secrets apart)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def sign(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """The `X-Signature` header value of `body` sent at `timestamp` (what the vendor computes)."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify(
    *,
    keys: Iterable[SigningKey],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: datetime,
    window: timedelta = REPLAY_WINDOW,
) -> Refusal | None:
    """None when the signature is good and fresh, else why not (constant-time comparison)."""
    if not timestamp or not signature:
        return Refusal.MISSING_SIGNATURE
    if not timestamp.isdigit() or len(timestamp) > 12 or not signature.startswith(SIGNATURE_PREFIX):
        return Refusal.MALFORMED_SIGNATURE
    sent = int(timestamp)
    age = now.timestamp() - sent
    if age > window.total_seconds():
        return Refusal.STALE_TIMESTAMP
    if -age > window.total_seconds():
        return Refusal.FUTURE_TIMESTAMP
    matched = False
    for key in keys:
        if key.expires_at is not None and key.expires_at <= now:
            continue
        # Every valid key is compared (no early exit) so timing says nothing about which matched.
        matched |= hmac.compare_digest(sign(key.secret, timestamp, body), signature)
    return None if matched else Refusal.BAD_SIGNATURE
