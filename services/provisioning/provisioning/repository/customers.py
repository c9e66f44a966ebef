"""Customers and accounts: rows <-> domain objects."""

from __future__ import annotations

import json

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from provisioning.domain.accounts import (
    Account,
    AccountHierarchy,
    BillingProfile,
    Contact,
    ContactRole,
    Customer,
    DeliveryPreference,
    TaxAddress,
    TaxStatus,
    TaxTreatment,
)
from provisioning.models import (
    AccountRow,
    CustomerRow,
)
from provisioning.repository.common import _row, _upsert


async def add_customer(session: AsyncSession, customer: Customer) -> CustomerRow:
    """Store a new customer."""
    row = CustomerRow(id=customer.id, name=customer.name, partner_id=customer.partner_id, created_at=utcnow())
    session.add(row)
    return row


async def get_customer_row(session: AsyncSession, customer_id: str) -> CustomerRow:
    """The customer's row, or NotFound."""
    return await _row(session, CustomerRow, "customer", customer_id, for_update=False)


def _profile_from_row(row: AccountRow) -> BillingProfile:
    address = (
        TaxAddress(row.tax_country, row.tax_region, row.tax_postal_code)
        if row.tax_country is not None
        else None
    )
    return BillingProfile(
        currency=row.currency,
        time_zone=row.time_zone,
        bill_cycle_day=row.bill_cycle_day,
        payment_terms_days=row.payment_terms_days,
        delivery=DeliveryPreference(row.delivery),
        tax_status=TaxStatus(
            TaxTreatment(row.tax_treatment), row.tax_certificate_number, row.tax_certificate_expiry
        ),
        tax_address=address,
        contacts=tuple(
            Contact(c["name"], c["email"], ContactRole(c["role"]), c.get("phone"))
            for c in json.loads(row.contacts)
        ),
    )


def account_from_row(row: AccountRow) -> Account:
    """Domain account of a row."""
    return Account(
        id=row.id,
        customer_id=row.customer_id,
        name=row.name,
        billing_profile=_profile_from_row(row),
        parent_account_id=row.parent_account_id,
        bills_to_parent=row.bills_to_parent,
    )


async def get_account_row(session: AsyncSession, account_id: str, *, for_update: bool = False) -> AccountRow:
    """The account's row, or NotFound."""
    return await _row(session, AccountRow, "account", account_id, for_update=for_update)


async def get_account(session: AsyncSession, account_id: str, *, for_update: bool = False) -> Account:
    """The account, or NotFound."""
    return account_from_row(await get_account_row(session, account_id, for_update=for_update))


async def children_billing_to(session: AsyncSession, account_id: str) -> list[Account]:
    """Accounts directly under `account_id` that bill to it."""
    rows = (
        await session.exec(
            select(AccountRow).where(
                AccountRow.parent_account_id == account_id,
                AccountRow.bills_to_parent == True,  # noqa: E712
            )
        )
    ).all()
    return [account_from_row(r) for r in rows]


async def hierarchy_of(session: AsyncSession, customer_ids: set[str]) -> AccountHierarchy:
    """Parent links of the accounts of the given customers (a hierarchy never crosses more)."""
    rows = (
        await session.exec(
            select(AccountRow.id, AccountRow.parent_account_id).where(
                AccountRow.customer_id.in_(customer_ids)  # type: ignore[attr-defined]
            )
        )
    ).all()
    return AccountHierarchy({r[0]: r[1] for r in rows})


async def save_account(session: AsyncSession, account: Account) -> AccountRow:
    """Insert or update an account."""
    now = utcnow()
    existing = await session.get(AccountRow, account.id)
    profile = account.billing_profile
    tax, address = profile.tax_status, profile.tax_address
    values = {
        "id": account.id,
        "customer_id": account.customer_id,
        "name": account.name,
        "parent_account_id": account.parent_account_id,
        "bills_to_parent": account.bills_to_parent,
        "currency": profile.currency,
        "time_zone": profile.time_zone,
        "bill_cycle_day": profile.bill_cycle_day,
        "payment_terms_days": profile.payment_terms_days,
        "delivery": profile.delivery.value,
        "tax_treatment": tax.treatment.value,
        "tax_certificate_number": tax.certificate_number,
        "tax_certificate_expiry": tax.certificate_expiry,
        "tax_country": address.country if address else None,
        "tax_region": address.region if address else None,
        "tax_postal_code": address.postal_code if address else None,
        "contacts": json.dumps(
            [
                {"name": c.name, "email": c.email, "role": c.role.value, "phone": c.phone}
                for c in profile.contacts
            ]
        ),
        "created_at": existing.created_at if existing else now,
        "updated_at": now,
    }
    return await _upsert(session, AccountRow, account.id, values)
