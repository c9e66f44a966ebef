"""Secret rotation: the new secret is valid at once, the old one through the overlap only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from overage.domain.vendors import DEFAULT_OVERLAP, VendorSecret, rotate

T0 = datetime(2026, 8, 1, tzinfo=UTC)


def test_rotation_keeps_the_old_secret_valid_for_the_overlap_window() -> None:
    old = VendorSecret("whs_1", "ven_1", "aaa", T0)
    now = T0 + timedelta(days=10)
    new = VendorSecret("whs_2", "ven_1", "bbb", now)
    secrets = rotate([old], new, now=now, overlap=DEFAULT_OVERLAP)
    assert [(s.id, s.expires_at) for s in secrets] == [("whs_1", now + timedelta(hours=24)), ("whs_2", None)]
    assert secrets[0].valid_at(now + timedelta(hours=23, minutes=59))
    assert not secrets[0].valid_at(now + timedelta(hours=24))
    assert secrets[1].valid_at(now + timedelta(days=365))


def test_a_second_rotation_never_lengthens_an_ending_secret() -> None:
    now = T0 + timedelta(days=1)
    ending = VendorSecret("whs_1", "ven_1", "aaa", T0, expires_at=now + timedelta(hours=2))
    secrets = rotate(
        [ending], VendorSecret("whs_2", "ven_1", "bbb", now), now=now, overlap=timedelta(hours=24)
    )
    assert secrets[0].expires_at == now + timedelta(hours=2)
