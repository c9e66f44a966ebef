"""Vendors, their webhook secrets (rotation with an overlap) and their tenants."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta
from typing import TYPE_CHECKING

from libs.platform.errors import Conflict, NotFound, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest
from overage.domain.signatures import derive_secret, fingerprint
from overage.domain.vendors import Contact, Vendor, VendorSecret, VendorTenant, rotate
from overage.schemas.vendors import (
    ContactPublic,
    SecretCreate,
    SecretCreated,
    SecretPublic,
    VendorCreate,
    VendorCreated,
    VendorPublic,
    VendorTenantCreate,
    VendorTenantPublic,
)

if TYPE_CHECKING:
    from datetime import datetime

    from overage.handlers.unit_of_work import OverageUnitOfWork


def _contact_public(contact: Contact) -> ContactPublic:
    return ContactPublic(**asdict(contact))


def _secret_public(secret: VendorSecret, now: datetime) -> SecretPublic:
    return SecretPublic(
        id=secret.id,
        fingerprint=secret.fingerprint,
        created_at=secret.created_at,
        expires_at=secret.expires_at,
        active=secret.valid_at(now),
    )


def vendor_public(vendor: Vendor, now: datetime) -> VendorPublic:
    """The view of a vendor."""
    director = vendor.account_director()
    return VendorPublic(
        id=vendor.id,
        name=vendor.name,
        cost_book_id=vendor.cost_book_id,
        contacts=[_contact_public(c) for c in vendor.contacts],
        account_director=None if director is None else _contact_public(director),
        secrets=[_secret_public(s, now) for s in vendor.secrets],
        created_at=vendor.created_at,
    )


def _new_secret(vendor_id: str, master_key: str, now: datetime) -> tuple[VendorSecret, str]:
    secret_id = new_id("whs")
    secret = derive_secret(master_key, secret_id)
    return VendorSecret(
        id=secret_id, vendor_id=vendor_id, fingerprint=fingerprint(secret), created_at=now
    ), secret


def contacts_json(contacts: tuple[Contact, ...]) -> str:
    """The stored form of a vendor's contacts."""
    return json.dumps([asdict(c) for c in contacts])


async def create_vendor(*, uow: OverageUnitOfWork, command: VendorCreate, master_key: str) -> VendorCreated:
    """Add a vendor and its first webhook secret (shown once)."""
    now = uow.clock.now()
    vendor_id = new_id("ven")
    secret, plain = _new_secret(vendor_id, master_key, now)
    contacts = tuple(Contact(**c.model_dump()) for c in command.contacts)
    vendor = Vendor(vendor_id, command.name, command.cost_book_id, now, contacts, (secret,))
    await uow.vendors.add(vendor)
    uow.audit(
        "vendor.created", "vendor", vendor_id, {"name": command.name, "cost_book_id": command.cost_book_id}
    )
    uow.audit("vendor.secret_created", "vendor", vendor_id, {"secret_id": secret.id})
    await uow.commit()
    public = vendor_public(vendor, now)
    return VendorCreated(
        **public.model_dump(),
        webhook_secret=SecretCreated(**_secret_public(secret, now).model_dump(), secret=plain),
    )


async def get_vendor(*, uow: OverageUnitOfWork, vendor_id: str) -> VendorPublic:
    """One vendor."""
    vendor = await uow.vendors.get(vendor_id)
    if vendor is None:
        raise NotFound("vendor", vendor_id)
    return vendor_public(vendor, uow.clock.now())


async def list_vendors(*, uow: OverageUnitOfWork, page: PageRequest) -> Page[VendorPublic]:
    """A page of vendors."""
    found = await uow.vendors.page(page)
    now = uow.clock.now()
    return Page[VendorPublic](
        data=[vendor_public(v, now) for v in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


async def add_secret(
    *, uow: OverageUnitOfWork, vendor_id: str, command: SecretCreate, master_key: str
) -> SecretCreated:
    """Rotate: a new secret; the ones in use stay valid for the overlap, then end."""
    vendor = await uow.vendors.get(vendor_id)
    if vendor is None:
        raise NotFound("vendor", vendor_id)
    now = uow.clock.now()
    secret, plain = _new_secret(vendor_id, master_key, now)
    secrets = rotate(vendor.secrets, secret, now=now, overlap=timedelta(hours=command.overlap_hours))
    await uow.vendors.save_secrets(secrets)
    uow.audit(
        "vendor.secret_rotated",
        "vendor",
        vendor_id,
        {"secret_id": secret.id, "overlap_hours": command.overlap_hours},
    )
    await uow.commit()
    return SecretCreated(**_secret_public(secret, now).model_dump(), secret=plain)


async def tenant_public(uow: OverageUnitOfWork, tenant: VendorTenant) -> VendorTenantPublic:
    """The view of a tenant mapping, with the licensed quantity the read model holds."""
    subscription = await uow.read_model.subscription(tenant.subscription_id)
    return VendorTenantPublic(
        id=tenant.id,
        vendor_id=tenant.vendor_id,
        tenant_id=tenant.tenant_ref,
        account_id=tenant.account_id,
        subscription_id=tenant.subscription_id,
        licensed_quantity=None if subscription is None else subscription.quantity,
        created_at=tenant.created_at,
    )


async def map_tenant(*, uow: OverageUnitOfWork, command: VendorTenantCreate) -> VendorTenantPublic:
    """Map a vendor's tenant to our account and subscription (once per tenant)."""
    if await uow.vendors.get(command.vendor_id) is None:
        raise ValidationFailed.single("vendor_id", f"vendor {command.vendor_id!r} does not exist")
    subscription = await uow.read_model.subscription(command.subscription_id)
    if subscription is not None and subscription.account_id != command.account_id:
        raise ValidationFailed.single("subscription_id", "the subscription belongs to another account")
    tenant = VendorTenant(
        id=new_id("vtn"),
        vendor_id=command.vendor_id,
        tenant_ref=command.tenant_id,
        account_id=command.account_id,
        subscription_id=command.subscription_id,
        created_at=uow.clock.now(),
    )
    if not await uow.vendors.add_tenant(tenant):
        raise Conflict(f"tenant {command.tenant_id!r} of vendor {command.vendor_id!r} is mapped already")
    uow.audit("vendor_tenant.mapped", "vendor_tenant", tenant.id, command.model_dump())
    await uow.commit()
    return await tenant_public(uow, tenant)


async def get_tenant(*, uow: OverageUnitOfWork, tenant_id: str) -> VendorTenantPublic:
    """One tenant mapping."""
    tenant = await uow.vendors.get_tenant(tenant_id)
    if tenant is None:
        raise NotFound("vendor tenant", tenant_id)
    return await tenant_public(uow, tenant)


async def list_tenants(
    *, uow: OverageUnitOfWork, page: PageRequest, vendor_id: str | None, account_id: str | None
) -> Page[VendorTenantPublic]:
    """A page of tenant mappings."""
    found = await uow.vendors.tenants_page(page, vendor_id=vendor_id, account_id=account_id)
    return Page[VendorTenantPublic](
        data=[await tenant_public(uow, t) for t in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )
