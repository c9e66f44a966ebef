"""Webhook signatures: HMAC-SHA256 of "{timestamp}.{body}", a 5-minute window, rotated secrets."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from overage.domain.signatures import Refusal, SigningKey, derive_secret, sign, verify

NOW = datetime(2026, 8, 2, 12, tzinfo=UTC)
TS = str(int(NOW.timestamp()))
BODY = b'{"notice_id":"n-1"}'
SECRET = b"s3cret-of-the-vendor"


def _key(secret: bytes = SECRET, expires_at: datetime | None = None) -> SigningKey:
    return SigningKey("whs_1", secret, expires_at)


def test_the_signature_is_the_hex_hmac_sha256_of_timestamp_dot_body() -> None:
    # Worked independently of `sign`: what a vendor's own code computes.
    expected = hmac.new(SECRET, f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, TS, BODY) == "sha256=" + expected
    assert verify(keys=[_key()], timestamp=TS, signature="sha256=" + expected, body=BODY, now=NOW) is None


def test_wrong_secret_altered_body_and_missing_headers_are_refused() -> None:
    good = sign(SECRET, TS, BODY)
    assert verify(keys=[_key()], timestamp=TS, signature=sign(b"other", TS, BODY), body=BODY, now=NOW) == (
        Refusal.BAD_SIGNATURE
    )
    assert (
        verify(keys=[_key()], timestamp=TS, signature=good, body=BODY + b" ", now=NOW)
        == Refusal.BAD_SIGNATURE
    )
    assert (
        verify(keys=[_key()], timestamp=None, signature=good, body=BODY, now=NOW) == Refusal.MISSING_SIGNATURE
    )
    assert (
        verify(keys=[_key()], timestamp=TS, signature="md5=00", body=BODY, now=NOW)
        == Refusal.MALFORMED_SIGNATURE
    )
    assert (
        verify(keys=[_key()], timestamp="12:00", signature=good, body=BODY, now=NOW)
        == Refusal.MALFORMED_SIGNATURE
    )


def test_the_replay_window_is_five_minutes_either_way() -> None:
    def at(offset_s: int) -> Refusal | None:
        ts = str(int(NOW.timestamp()) + offset_s)
        return verify(keys=[_key()], timestamp=ts, signature=sign(SECRET, ts, BODY), body=BODY, now=NOW)

    assert at(-300) is None and at(300) is None
    assert at(-301) == Refusal.STALE_TIMESTAMP
    assert at(301) == Refusal.FUTURE_TIMESTAMP


def test_an_expired_secret_no_longer_signs_and_any_valid_one_does() -> None:
    old = _key(b"old", expires_at=NOW + timedelta(hours=1))
    new = SigningKey("whs_2", b"new", None)
    assert verify(keys=[old, new], timestamp=TS, signature=sign(b"old", TS, BODY), body=BODY, now=NOW) is None
    assert verify(keys=[old, new], timestamp=TS, signature=sign(b"new", TS, BODY), body=BODY, now=NOW) is None
    ended = _key(b"old", expires_at=NOW)
    assert verify(keys=[ended, new], timestamp=TS, signature=sign(b"old", TS, BODY), body=BODY, now=NOW) == (
        Refusal.BAD_SIGNATURE
    )


def test_secrets_are_derived_from_the_master_key_and_the_secret_id() -> None:
    expected = hmac.new(b"master", b"overage-webhook-secret:whs_1", hashlib.sha256).hexdigest()
    assert derive_secret("master", "whs_1") == expected
    assert derive_secret("master", "whs_2") != expected
    assert derive_secret("other-master", "whs_1") != expected
