"""Use cases of customers and their billing accounts."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.errors import ValidationFailed
from libs.platform.pagination import Page, PageRequest, paginate
from libs.platform.unit_of_work import UnitOfWork
from provisioning import repository as repo
from provisioning.domain.accounts import (
    Account,
    BillingProfile,
    Contact,
    Customer,
    TaxAddress,
    TaxStatus,
)
from provisioning.events.customers import account_profile, customer_registered
from provisioning.handlers.common import filtered
from provisioning.models import (
    AccountRow,
    CustomerRow,
)
from provisioning.schemas.customers import (
    AccountCreate,
    AccountPublic,
    AccountUpdate,
    BillingProfileIn,
    CustomerCreate,
    CustomerPublic,
    account_public,
    customer_public,
)


def billing_profile_of(data: BillingProfileIn) -> BillingProfile:
    """The domain profile of a request's profile."""
    tax = data.tax_status
    address = data.tax_address
    return BillingProfile(
        currency=data.currency,
        time_zone=data.time_zone,
        bill_cycle_day=data.bill_cycle_day,
        payment_terms_days=data.payment_terms_days,
        delivery=data.delivery,
        tax_status=TaxStatus(tax.treatment, tax.certificate_number, tax.certificate_expiry),
        tax_address=TaxAddress(address.country, address.region, address.postal_code) if address else None,
        contacts=tuple(Contact(c.name, c.email, c.role, c.phone) for c in data.contacts),
    )


async def register_customer(*, uow: UnitOfWork, command: CustomerCreate, actor: str) -> CustomerPublic:
    """Register a customer (optionally brought in by a partner)."""
    if command.partner_id is not None:
        await repo.get_partner(uow.session, command.partner_id)
    customer = Customer.register(command.name, partner_id=command.partner_id, by=actor)
    row = await repo.add_customer(uow.session, customer)
    uow.audit("customer.registered", "customer", customer.id, {"name": customer.name})
    uow.emit(customer_registered(customer), key=customer.id)
    await uow.commit()
    return customer_public(row)


async def open_account(*, uow: UnitOfWork, command: AccountCreate, actor: str) -> AccountPublic:
    """Open a billing account; a child billing to its parent must share its currency."""
    await repo.get_customer_row(uow.session, command.customer_id)
    parent = None
    if command.parent_account_id is not None:
        parent = await repo.get_account(uow.session, command.parent_account_id)
        if parent.customer_id != command.customer_id:
            raise ValidationFailed.single("parent_account_id", "belongs to another customer")
    account = Account.open(
        customer_id=command.customer_id,
        name=command.name,
        billing_profile=billing_profile_of(command.billing_profile),
        parent=parent,
        bills_to_parent=command.bills_to_parent,
        by=actor,
    )
    row = await repo.save_account(uow.session, account)
    uow.audit("account.opened", "account", account.id, command.model_dump(mode="json"))
    uow.emit(account_profile(account, opened=True), key=account.id)
    await uow.commit()
    return account_public(row, account)


async def update_account(
    *, uow: UnitOfWork, account_id: str, command: AccountUpdate, actor: str
) -> AccountPublic:
    """Change an account's billing profile and/or its parent."""
    session = uow.session
    account = await repo.get_account(session, account_id, for_update=True)
    sent = command.model_fields_set
    if "parent_account_id" in sent:
        if command.parent_account_id is None:
            account.detach_from_parent(by=actor)
        else:
            parent = await repo.get_account(session, command.parent_account_id)
            hierarchy = await repo.hierarchy_of(session, {account.customer_id, parent.customer_id})
            if parent.customer_id != account.customer_id:
                raise ValidationFailed.single("parent_account_id", "belongs to another customer")
            account.attach_to_parent(
                parent, hierarchy=hierarchy, bills_to_parent=bool(command.bills_to_parent), by=actor
            )
    elif command.bills_to_parent is not None:
        if account.parent_account_id is None:
            if command.bills_to_parent:
                raise ValidationFailed.single(
                    "bills_to_parent", "only an account with a parent can bill to it"
                )
        else:
            parent = await repo.get_account(session, account.parent_account_id)
            hierarchy = await repo.hierarchy_of(session, {account.customer_id})
            account.attach_to_parent(
                parent, hierarchy=hierarchy, bills_to_parent=command.bills_to_parent, by=actor
            )
    if command.billing_profile is not None:
        current_parent = (
            await repo.get_account(session, account.parent_account_id) if account.parent_account_id else None
        )
        account.change_billing_profile(
            billing_profile_of(command.billing_profile),
            parent=current_parent,
            children_billing_here=await repo.children_billing_to(session, account.id),
            by=actor,
        )
    if not account.events:
        raise ValidationFailed.single("body", "nothing to change", "empty_update")
    row = await repo.save_account(session, account)
    uow.audit("account.changed", "account", account.id, command.model_dump(mode="json", exclude_unset=True))
    uow.emit(account_profile(account, opened=False), key=account.id)
    await uow.commit()
    return account_public(row, account)


async def get_customer(*, session: AsyncSession, customer_id: str) -> CustomerPublic:
    """One customer."""
    return customer_public(await repo.get_customer_row(session, customer_id))


async def list_customers(*, session: AsyncSession, page: PageRequest, partner_id: str | None) -> Page[Any]:
    """A page of customers."""
    stmt = filtered(CustomerRow, partner_id=partner_id)
    return await paginate(session, stmt, CustomerRow.id, page, customer_public)


async def get_account(*, session: AsyncSession, account_id: str) -> AccountPublic:
    """One account."""
    return account_public(await repo.get_account_row(session, account_id))


async def list_accounts(
    *, session: AsyncSession, page: PageRequest, customer_id: str | None, parent_account_id: str | None
) -> Page[Any]:
    """A page of accounts, optionally of one customer or under one parent."""
    stmt = filtered(AccountRow, customer_id=customer_id, parent_account_id=parent_account_id)
    return await paginate(session, stmt, AccountRow.id, page, account_public)
