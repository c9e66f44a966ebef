"""Use cases of customers and their billing accounts."""

from __future__ import annotations

from libs.platform.errors import ValidationFailed
from libs.platform.pagination import Page, PageRequest
from provisioning.domain.accounts import Account, BillingProfile, Contact, Customer, TaxAddress, TaxStatus
from provisioning.handlers.common import public_page
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork
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


async def register_customer(
    *, uow: ProvisioningUnitOfWork, command: CustomerCreate, actor: str
) -> CustomerPublic:
    """Register a customer (optionally brought in by a partner)."""
    if command.partner_id is not None:
        await uow.deals.get_partner(command.partner_id)
    customer = Customer.register(command.name, partner_id=command.partner_id, by=actor)
    await uow.customers.add_customer(customer)
    uow.audit("customer.registered", "customer", customer.id, {"name": customer.name})
    await uow.commit()
    return customer_public(customer)


async def open_account(*, uow: ProvisioningUnitOfWork, command: AccountCreate, actor: str) -> AccountPublic:
    """Open a billing account; a child billing to its parent must share its currency."""
    await uow.customers.get_customer(command.customer_id)
    parent = None
    if command.parent_account_id is not None:
        parent = await uow.customers.get_account(command.parent_account_id)
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
    await uow.customers.save_account(account)
    uow.audit("account.opened", "account", account.id, command.model_dump(mode="json"))
    await uow.commit()
    return account_public(account)


async def update_account(
    *, uow: ProvisioningUnitOfWork, account_id: str, command: AccountUpdate, actor: str
) -> AccountPublic:
    """Change an account's billing profile and/or its parent."""
    account = await uow.customers.get_account(account_id, for_update=True)
    sent = command.model_fields_set
    if "parent_account_id" in sent:
        if command.parent_account_id is None:
            account.detach_from_parent(by=actor)
        else:
            parent = await uow.customers.get_account(command.parent_account_id)
            hierarchy = await uow.customers.hierarchy_of({account.customer_id, parent.customer_id})
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
            parent = await uow.customers.get_account(account.parent_account_id)
            hierarchy = await uow.customers.hierarchy_of({account.customer_id})
            account.attach_to_parent(
                parent, hierarchy=hierarchy, bills_to_parent=command.bills_to_parent, by=actor
            )
    if command.billing_profile is not None:
        current_parent = (
            await uow.customers.get_account(account.parent_account_id) if account.parent_account_id else None
        )
        account.change_billing_profile(
            billing_profile_of(command.billing_profile),
            parent=current_parent,
            children_billing_here=await uow.customers.children_billing_to(account.id),
            by=actor,
        )
    if not account.events:
        raise ValidationFailed.single("body", "nothing to change", "empty_update")
    await uow.customers.save_account(account)
    uow.audit("account.changed", "account", account.id, command.model_dump(mode="json", exclude_unset=True))
    await uow.commit()
    return account_public(account)


async def get_customer(*, uow: ProvisioningUnitOfWork, customer_id: str) -> CustomerPublic:
    """One customer."""
    return customer_public(await uow.customers.get_customer(customer_id))


async def list_customers(
    *, uow: ProvisioningUnitOfWork, page: PageRequest, partner_id: str | None
) -> Page[CustomerPublic]:
    """A page of customers."""
    return public_page(await uow.customers.customers_page(page, partner_id=partner_id), customer_public)


async def get_account(*, uow: ProvisioningUnitOfWork, account_id: str) -> AccountPublic:
    """One account."""
    return account_public(await uow.customers.get_account(account_id))


async def list_accounts(
    *, uow: ProvisioningUnitOfWork, page: PageRequest, customer_id: str | None, parent_account_id: str | None
) -> Page[AccountPublic]:
    """A page of accounts, optionally of one customer or under one parent."""
    accounts = await uow.customers.accounts_page(
        page, customer_id=customer_id, parent_account_id=parent_account_id
    )
    return public_page(accounts, account_public)
