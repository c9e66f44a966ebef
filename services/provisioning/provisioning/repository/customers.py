"""Customers and their accounts on the service's database: rows <-> domain objects."""

from __future__ import annotations

import json
from collections.abc import Collection

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from libs.platform.pagination import Page, PageRequest
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
from provisioning.handlers.unit_of_work import CustomerRepository
from provisioning.models import AccountRow, CustomerRow
from provisioning.repository.common import find_row, get_row, mapped, rows_page, upsert


def customer_from_row(row: CustomerRow) -> Customer:
    """Domain customer of a row."""
    return Customer(id=row.id, name=row.name, partner_id=row.partner_id, created_at=row.created_at)


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
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlCustomerRepository(CustomerRepository):
    """Customers and accounts in the service's database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    async def add_customer(self, customer: Customer) -> Customer:
        """Stage a new customer (its registration time set)."""
        customer.created_at = utcnow()
        row = CustomerRow(
            id=customer.id, name=customer.name, partner_id=customer.partner_id, created_at=customer.created_at
        )
        self.session.add(row)
        # Accounts reference their customer: the row goes first.
        await self.session.flush()
        self._staged(customer)
        return customer

    async def get_customer(self, customer_id: str) -> Customer:
        """The customer, or NotFound."""
        return customer_from_row(
            await get_row(self.session, CustomerRow, "customer", customer_id, for_update=False)
        )

    async def customers_page(self, page: PageRequest, *, partner_id: str | None) -> Page[Customer]:
        """A page of customers by id, optionally of one partner."""
        rows = await rows_page(self.session, CustomerRow, page, partner_id=partner_id)
        return mapped(rows, customer_from_row)

    async def find_account(self, account_id: str, *, for_update: bool = False) -> Account | None:
        """The account, or None."""
        row = await find_row(self.session, AccountRow, account_id, for_update=for_update)
        return account_from_row(row) if row else None

    async def time_zones(self, account_ids: Collection[str]) -> dict[str, str]:
        """The billing profile's IANA time zone of each of these accounts that exists (one query)."""
        if not account_ids:
            return {}
        stmt = select(AccountRow.id, AccountRow.time_zone).where(col(AccountRow.id).in_(list(account_ids)))
        return {r[0]: r[1] for r in (await self.session.exec(stmt)).all()}

    async def children_billing_to(self, account_id: str) -> list[Account]:
        """Accounts directly under `account_id` that bill to it."""
        stmt = select(AccountRow).where(
            AccountRow.parent_account_id == account_id,
            AccountRow.bills_to_parent == True,  # noqa: E712
        )
        return [account_from_row(r) for r in (await self.session.exec(stmt)).all()]

    async def hierarchy_of(self, customer_ids: set[str]) -> AccountHierarchy:
        """Parent links of the accounts of the given customers (a hierarchy never crosses more)."""
        stmt = select(AccountRow.id, AccountRow.parent_account_id).where(
            col(AccountRow.customer_id).in_(customer_ids)
        )
        return AccountHierarchy({r[0]: r[1] for r in (await self.session.exec(stmt)).all()})

    async def accounts_page(
        self, page: PageRequest, *, customer_id: str | None, parent_account_id: str | None
    ) -> Page[Account]:
        """A page of accounts by id, optionally of one customer or under one parent."""
        rows = await rows_page(
            self.session, AccountRow, page, customer_id=customer_id, parent_account_id=parent_account_id
        )
        return mapped(rows, account_from_row)

    async def save_account(self, account: Account) -> Account:
        """Stage a new or changed account (its timestamps set)."""
        now = utcnow()
        existing = await self.session.get(AccountRow, account.id)
        account.created_at = existing.created_at if existing else now
        account.updated_at = now
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
            "created_at": account.created_at,
            "updated_at": now,
        }
        await upsert(self.session, AccountRow, account.id, values)
        # Orders reference their account: the row goes first.
        await self.session.flush()
        self._staged(account)
        return account
