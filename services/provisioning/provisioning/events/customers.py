"""Customer and account events → `libs.contracts.provisioning` payloads."""

from __future__ import annotations

from libs.contracts import provisioning as wire
from provisioning.domain.accounts import Account, AccountOpened, Customer, CustomerRegistered
from provisioning.events.common import Outgoing, taken


def contracts_of(record: Customer | Account) -> list[Outgoing]:
    """The contracts of what a customer or an account recorded: one per change, keyed by its id.

    An account states its whole billing profile: opening it is `account.opened`, any number of
    changes in one unit of work are one `account.changed`.
    """
    events = taken(record)
    if isinstance(record, Customer):
        return [(customer_registered(record), record.id) for e in events if isinstance(e, CustomerRegistered)]
    if any(isinstance(e, AccountOpened) for e in events):
        return [(account_profile(record, opened=True), record.id)]
    return [(account_profile(record, opened=False), record.id)] if events else []


def customer_registered(customer: Customer) -> wire.CustomerRegisteredEvent:
    """`customer.registered`."""
    return wire.CustomerRegisteredEvent(
        customer_id=customer.id, name=customer.name, partner_id=customer.partner_id
    )


def account_profile(account: Account, *, opened: bool) -> wire.AccountProfile:
    """`account.opened` or `account.changed` with the account's full billing profile."""
    profile = account.billing_profile
    tax, address = profile.tax_status, profile.tax_address
    model = wire.AccountOpened if opened else wire.AccountChanged
    return model(
        account_id=account.id,
        customer_id=account.customer_id,
        name=account.name,
        parent_account_id=account.parent_account_id,
        bills_to_parent=account.bills_to_parent,
        currency=profile.currency,
        bill_cycle_day=profile.bill_cycle_day,
        time_zone=profile.time_zone,
        payment_terms_days=profile.payment_terms_days,
        delivery=profile.delivery.value,
        tax=wire.TaxInfo(
            treatment=tax.treatment.value,
            certificate_number=tax.certificate_number,
            certificate_expiry=tax.certificate_expiry,
            country=address.country if address else None,
            region=address.region if address else None,
            postal_code=address.postal_code if address else None,
        ),
        contacts=[
            wire.ContactInfo(name=c.name, email=c.email, role=c.role.value, phone=c.phone)
            for c in profile.contacts
        ],
    )
