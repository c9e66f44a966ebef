"""Customers, billing accounts, their hierarchy and billing profiles."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from libs.platform.countries import COUNTRY_CODES
from libs.platform.errors import FieldErrors, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.money import is_known_currency
from libs.platform.periods import time_zone

from .events import DomainEvent

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


DEFAULT_PAYMENT_TERMS_DAYS = 30


class DeliveryPreference(StrEnum):
    """How the account wants its invoices and statements delivered."""

    EMAIL = "email"
    POST = "post"
    PORTAL = "portal"


class ContactRole(StrEnum):
    """What a contact is for: receiving bills, owning the relationship, or technical matters."""

    BILLING = "billing"
    CRM_OWNER = "crm_owner"
    TECHNICAL = "technical"


class TaxTreatment(StrEnum):
    """Whether the account's charges are taxed."""

    TAXABLE = "taxable"
    EXEMPT = "exempt"


@dataclass(frozen=True)
class Contact:
    """A person at the customer (or at our side, for the CRM owner) with one role."""

    name: str
    email: str
    role: ContactRole
    phone: str | None = None


@dataclass(frozen=True)
class TaxStatus:
    """Taxable, or exempt under a certificate that has a number and an expiry date."""

    treatment: TaxTreatment = TaxTreatment.TAXABLE
    certificate_number: str | None = None
    certificate_expiry: date | None = None

    @classmethod
    def taxable(cls) -> TaxStatus:
        """The ordinary, taxable status."""
        return cls(TaxTreatment.TAXABLE)

    @classmethod
    def exempt(cls, certificate_number: str, certificate_expiry: date) -> TaxStatus:
        """Exempt under the given certificate."""
        return cls(TaxTreatment.EXEMPT, certificate_number, certificate_expiry)

    def is_exempt_on(self, day: date) -> bool:
        """True when the exemption applies on `day` (an expired certificate no longer does)."""
        return (
            self.treatment is TaxTreatment.EXEMPT
            and self.certificate_expiry is not None
            and day <= self.certificate_expiry
        )


@dataclass(frozen=True)
class TaxAddress:
    """Where the account is taxed: ISO 3166 alpha-2 country, region and postal code."""

    country: str
    region: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True)
class BillingProfile:
    """How, when and in which currency an account is billed."""

    currency: str
    time_zone: str = "UTC"
    bill_cycle_day: int = 1
    payment_terms_days: int = DEFAULT_PAYMENT_TERMS_DAYS
    delivery: DeliveryPreference = DeliveryPreference.EMAIL
    tax_status: TaxStatus = field(default_factory=TaxStatus.taxable)
    # Optional so that a converted deal can open an account before the address is known;
    # invoicing refuses to tax an account without one.
    tax_address: TaxAddress | None = None
    contacts: tuple[Contact, ...] = ()

    def contacts_with(self, role: ContactRole) -> tuple[Contact, ...]:
        """The contacts that hold `role`, e.g. who receives invoices."""
        return tuple(c for c in self.contacts if c.role is role)


def is_valid_time_zone(name: str) -> bool:
    """True when `name` is an IANA time zone known to the bundled tz database."""
    try:
        time_zone(name)
    except ValidationFailed:
        return False
    return True


def validate_billing_profile(profile: BillingProfile, prefix: str = "billing_profile") -> None:
    """Raise one ValidationFailed listing every problem of the profile, or return."""
    errors = FieldErrors()
    collect_billing_profile_errors(profile, errors, prefix)
    errors.raise_if_any("The billing profile has invalid fields")


def collect_billing_profile_errors(
    profile: BillingProfile, errors: FieldErrors, prefix: str = "billing_profile"
) -> None:
    """Add every problem of the profile to `errors` (for validators that check more)."""
    if not is_known_currency(profile.currency):
        errors.add(f"{prefix}.currency", "must be an ISO 4217 code such as USD")
    if not is_valid_time_zone(profile.time_zone or ""):
        errors.add(f"{prefix}.time_zone", "must be an IANA time zone such as Europe/Paris")
    if not 1 <= profile.bill_cycle_day <= 31:
        errors.add(f"{prefix}.bill_cycle_day", "must be between 1 and 31")
    if profile.payment_terms_days < 0:
        errors.add(f"{prefix}.payment_terms_days", "must not be negative")
    tax = profile.tax_status
    if tax.treatment is TaxTreatment.EXEMPT:
        if not (tax.certificate_number or "").strip():
            errors.add(
                f"{prefix}.tax_status.certificate_number",
                "an exempt account needs its exemption certificate number",
                "required",
            )
        if tax.certificate_expiry is None:
            errors.add(
                f"{prefix}.tax_status.certificate_expiry",
                "an exempt account needs its certificate's expiry date",
                "required",
            )
    address = profile.tax_address
    if address is not None and address.country not in COUNTRY_CODES:
        errors.add(f"{prefix}.tax_address.country", "must be an ISO 3166 alpha-2 country code")
    for index, contact in enumerate(profile.contacts):
        if not contact.name.strip():
            errors.add(f"{prefix}.contacts.{index}.name", "is required", "required")
        if not EMAIL_RE.match(contact.email):
            errors.add(f"{prefix}.contacts.{index}.email", "is not an email address")


@dataclass(frozen=True)
class CustomerRegistered(DomainEvent):
    """A new customer exists."""

    customer_id: str
    name: str
    partner_id: str | None
    by: str


@dataclass(frozen=True)
class AccountOpened(DomainEvent):
    """A billing account was opened; carries the profile invoicing bills by."""

    account_id: str
    customer_id: str
    name: str
    parent_account_id: str | None
    bills_to_parent: bool
    billing_profile: BillingProfile
    by: str


@dataclass(frozen=True)
class AccountBillingProfileChanged(DomainEvent):
    """An account's billing profile was replaced."""

    account_id: str
    billing_profile: BillingProfile
    by: str


@dataclass(frozen=True)
class AccountParentChanged(DomainEvent):
    """An account moved in the hierarchy (or left it)."""

    account_id: str
    parent_account_id: str | None
    bills_to_parent: bool
    by: str


@dataclass
class Customer:
    """The company we sell to; it owns one or more billing accounts."""

    id: str
    name: str
    partner_id: str | None = None
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)
    # When the record was stored (set by the repository; not part of the domain's identity).
    created_at: datetime | None = field(default=None, compare=False)

    @classmethod
    def register(cls, name: str, *, partner_id: str | None = None, by: str) -> Customer:
        """Register a customer, optionally brought in by a partner."""
        if not name.strip():
            raise ValidationFailed.single("name", "is required", "required")
        customer = cls(id=new_id("cus"), name=name.strip(), partner_id=partner_id)
        customer.events.append(CustomerRegistered(customer.id, customer.name, partner_id, by))
        return customer


@dataclass(frozen=True)
class AccountHierarchy:
    """Who is whose parent, as loaded by the repository, to refuse cycles."""

    parent_of: Mapping[str, str | None]

    def ancestors(self, account_id: str) -> list[str]:
        """The parent, grandparent, … of an account, nearest first."""
        found: list[str] = []
        current = self.parent_of.get(account_id)
        # The seen-set stops a walk through data that is already cyclic instead of looping.
        while current is not None and current not in found:
            found.append(current)
            current = self.parent_of.get(current)
        return found

    def would_create_cycle(self, account_id: str, parent_account_id: str) -> bool:
        """True when putting `account_id` under `parent_account_id` closes a loop."""
        return parent_account_id == account_id or account_id in self.ancestors(parent_account_id)


@dataclass
class Account:
    """A billing account of a customer; it may sit under a parent and bill to it."""

    id: str
    customer_id: str
    name: str
    billing_profile: BillingProfile
    parent_account_id: str | None = None
    bills_to_parent: bool = False
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)
    # When the record was stored (set by the repository; not part of the domain's identity).
    created_at: datetime | None = field(default=None, compare=False)
    updated_at: datetime | None = field(default=None, compare=False)

    @property
    def currency(self) -> str:
        """The one currency this account is billed in."""
        return self.billing_profile.currency

    @classmethod
    def open(
        cls,
        *,
        customer_id: str,
        name: str,
        billing_profile: BillingProfile,
        parent: Account | None = None,
        bills_to_parent: bool = False,
        by: str,
    ) -> Account:
        """Open an account, checking its profile and its place under `parent` together."""
        errors = FieldErrors()
        if not name.strip():
            errors.add("name", "is required", "required")
        collect_billing_profile_errors(billing_profile, errors)
        _collect_parent_errors(billing_profile, parent, bills_to_parent, errors)
        errors.raise_if_any("The account has invalid fields")
        account = cls(
            id=new_id("acct"),
            customer_id=customer_id,
            name=name.strip(),
            billing_profile=billing_profile,
            parent_account_id=parent.id if parent else None,
            bills_to_parent=bills_to_parent,
        )
        account.events.append(
            AccountOpened(
                account.id,
                customer_id,
                account.name,
                account.parent_account_id,
                bills_to_parent,
                billing_profile,
                by,
            )
        )
        return account

    def change_billing_profile(
        self,
        billing_profile: BillingProfile,
        *,
        parent: Account | None = None,
        children_billing_here: Sequence[Account] = (),
        by: str,
    ) -> None:
        """Replace the profile; a currency change must keep parent and billed children equal."""
        if self.parent_account_id is not None and parent is not None:
            _require_is_parent(self, parent)
        errors = FieldErrors()
        collect_billing_profile_errors(billing_profile, errors)
        if self.bills_to_parent:
            if parent is None:
                # Without the parent we cannot prove the currencies still agree.
                errors.add("parent_account_id", "the parent account is needed to check currency")
            else:
                _collect_parent_errors(billing_profile, parent, True, errors)
        for child in children_billing_here:
            if child.bills_to_parent and child.currency != billing_profile.currency:
                errors.add(
                    "billing_profile.currency",
                    f"child account {child.id} bills here in {child.currency}",
                    "currency_mismatch",
                )
        errors.raise_if_any("The billing profile has invalid fields")
        self.billing_profile = billing_profile
        self.events.append(AccountBillingProfileChanged(self.id, billing_profile, by))

    def attach_to_parent(
        self,
        parent: Account,
        *,
        hierarchy: AccountHierarchy,
        bills_to_parent: bool,
        by: str,
    ) -> None:
        """Put this account under `parent`, refusing cycles and a currency mismatch."""
        errors = FieldErrors()
        if hierarchy.would_create_cycle(self.id, parent.id):
            errors.add(
                "parent_account_id",
                "the account would become its own ancestor",
                "hierarchy_cycle",
            )
        _collect_parent_errors(self.billing_profile, parent, bills_to_parent, errors)
        errors.raise_if_any("The account cannot move there")
        self.parent_account_id = parent.id
        self.bills_to_parent = bills_to_parent
        self.events.append(AccountParentChanged(self.id, parent.id, bills_to_parent, by))

    def detach_from_parent(self, *, by: str) -> None:
        """Make this account a top-level account that bills for itself."""
        self.parent_account_id = None
        self.bills_to_parent = False
        self.events.append(AccountParentChanged(self.id, None, False, by))


def _collect_parent_errors(
    profile: BillingProfile,
    parent: Account | None,
    bills_to_parent: bool,
    errors: FieldErrors,
) -> None:
    if bills_to_parent and parent is None:
        errors.add("bills_to_parent", "only an account with a parent can bill to it")
    elif bills_to_parent and parent is not None and parent.currency != profile.currency:
        # One invoice never mixes currencies, so a child billed on its parent's invoice must
        # share the parent's currency.
        errors.add(
            "billing_profile.currency",
            f"must be the parent account's currency {parent.currency}",
            "currency_mismatch",
        )


def _require_is_parent(account: Account, parent: Account) -> None:
    if parent.id != account.parent_account_id:
        raise ValidationFailed.single("parent_account_id", "is not this account's parent")
