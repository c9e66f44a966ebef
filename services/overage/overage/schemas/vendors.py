"""Requests and views of vendors, their webhook secrets and their tenants."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from libs.contracts.types import IntegerRange
from libs.platform.text import ONE_LINE

Name = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
"""An id at the vendor or in another service (letters, digits, `_ . : -`)."""
ServiceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
"""An id of ours or of another service (`acct_…`, `sub_…`, `cb_…`)."""
Short = Annotated[str, StringConstraints(min_length=1, max_length=120), ONE_LINE]


class Request(BaseModel):
    """Base of every request body: unknown fields are refused so typos are not ignored."""

    model_config = ConfigDict(extra="forbid")


class ContactIn(Request):
    """Someone at the vendor."""

    role: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")] = Field(
        description="account_director (kickoff calls), billing, support, ...", examples=["account_director"]
    )
    name: Short = Field(examples=["Brooks Morris"])
    title: Short | None = Field(default=None, examples=["National Account Director"])
    email: Short | None = Field(default=None, examples=["brooks.morris@vendor.example"])
    phone: Short | None = Field(default=None, examples=["+1 310 207 2236"])


class ContactPublic(BaseModel):
    """Someone at the vendor."""

    role: str
    name: str
    title: str | None
    email: str | None
    phone: str | None


class VendorCreate(Request):
    """A vendor we resell."""

    name: Name = Field(examples=["WFM Vendor"])
    cost_book_id: ServiceId = Field(description="The vendor's cost book in the catalog (its markup).")
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)


class SecretPublic(BaseModel):
    """A webhook secret (never the secret itself after creation)."""

    id: str
    fingerprint: str = Field(description="First 12 hex digits of the secret's SHA-256: tells secrets apart.")
    created_at: datetime
    expires_at: datetime | None = Field(description="When the vendor may no longer sign with it.")
    active: bool


class VendorPublic(BaseModel):
    """A vendor with its secrets (ids only) and contacts."""

    id: str
    name: str
    cost_book_id: str
    contacts: list[ContactPublic]
    account_director: ContactPublic | None = Field(description="Whom to call to schedule a kickoff.")
    secrets: list[SecretPublic]
    created_at: datetime


class SecretCreated(SecretPublic):
    """A new webhook secret: `secret` is shown this once."""

    secret: str = Field(description="Give it to the vendor; it is not shown again.")


class VendorCreated(VendorPublic):
    """A new vendor and its first webhook secret (shown this once)."""

    webhook_secret: SecretCreated


class SecretCreate(Request):
    """Rotate: a new secret; the ones in use stay valid for `overlap_hours` more."""

    overlap_hours: Annotated[int, IntegerRange(0, 720)] = Field(
        default=24, description="Hours the previous secrets stay valid (0: they end now)."
    )


class VendorTenantCreate(Request):
    """Map a tenant at a vendor to our account and subscription."""

    vendor_id: ServiceId
    tenant_id: Ref = Field(description="The tenant's id at the vendor.")
    account_id: ServiceId
    subscription_id: ServiceId


class VendorTenantPublic(BaseModel):
    """A tenant at a vendor, our account and subscription, and the licensed quantity we know."""

    id: str
    vendor_id: str
    tenant_id: str
    account_id: str
    subscription_id: str
    licensed_quantity: Decimal | None = Field(
        description="The subscription's quantity from provisioning's events (None: not known yet)."
    )
    created_at: datetime
