"""Vendors, their webhook secrets and their tenants mapped to our accounts (pure rules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

DEFAULT_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class Contact:
    """Someone at the vendor: the account director for kickoff calls, billing, support."""

    role: str
    name: str
    email: str | None = None
    phone: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class VendorSecret:
    """A webhook secret of a vendor: valid from `created_at` until `expires_at` (None: no end yet)."""

    id: str
    vendor_id: str
    fingerprint: str
    created_at: datetime
    expires_at: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        """True while the vendor may sign with it."""
        return self.created_at <= now and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class Vendor:
    """A vendor we resell: its catalog cost book (our markup on its costs) and its contacts."""

    id: str
    name: str
    cost_book_id: str
    created_at: datetime
    contacts: tuple[Contact, ...] = ()
    secrets: tuple[VendorSecret, ...] = field(default=())

    def account_director(self) -> Contact | None:
        """The contact for kickoff calls (role `account_director`), if named."""
        return next((c for c in self.contacts if c.role == "account_director"), None)


def rotate(
    secrets: Sequence[VendorSecret], new: VendorSecret, *, now: datetime, overlap: timedelta
) -> list[VendorSecret]:
    """The secrets after `new` is added: each one still valid later than `now + overlap` ends then.

    The old secret stays valid through the overlap so the vendor can switch without a refused
    notice; a secret already ending sooner keeps its end.
    """
    ends = now + overlap
    changed = [
        replace(s, expires_at=ends)
        if s.valid_at(now) and (s.expires_at is None or s.expires_at > ends)
        else s
        for s in secrets
    ]
    return [*changed, new]


@dataclass(frozen=True)
class VendorTenant:
    """A tenant at a vendor (its id there) mapped to our account and subscription."""

    id: str
    vendor_id: str
    tenant_ref: str
    account_id: str
    subscription_id: str
    created_at: datetime


@dataclass(frozen=True)
class LicensedSubscription:
    """A subscription as overage needs it (from provisioning's events): its licensed quantity."""

    subscription_id: str
    account_id: str
    quantity: Decimal
    currency: str
    state: str
    event_at: datetime


@dataclass(frozen=True)
class CostBookTerms:
    """A vendor cost book's markup and currency (from the catalog's `catalog.cost_book_published`)."""

    cost_book_id: str
    version: int
    vendor_id: str
    currency: str
    markup_percent: Decimal
    event_at: datetime
