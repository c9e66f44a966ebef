"""Partners, their deal registrations and the conversion of a deal into a customer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from libs.platform.errors import Conflict, FieldErrors, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.money import is_known_currency

from .accounts import EMAIL_RE, Account, BillingProfile, Contact, ContactRole, Customer
from .events import DomainEvent
from .orders import OrderLine, SalesOrder


class DealLicenseType(StrEnum):
    """The pricing a registered deal follows; every new customer follows new-license pricing."""

    NEW_LICENSE = "new_license"
    RENEWAL = "renewal"


class DealStatus(StrEnum):
    """A registration is open until it is converted, once."""

    REGISTERED = "registered"
    CONVERTED = "converted"


@dataclass(frozen=True)
class AgreementContact:
    """The person who receives the license agreement (the partner's, if it intermediates)."""

    name: str
    email: str


@dataclass(frozen=True)
class LicensingDetails:
    """Currency, pricing type and licensing period of the deal."""

    currency: str | None = None
    license_type: DealLicenseType | None = None
    start_date: date | None = None
    end_date: date | None = None

    def term_months(self) -> int:
        """The licensing period in months, a part month counting as one (at least one month)."""
        assert self.start_date is not None and self.end_date is not None
        start, end = self.start_date, self.end_date
        months = (end.year - start.year) * 12 + end.month - start.month
        return max(1, months + (1 if end.day > start.day else 0))


@dataclass(frozen=True)
class RequestedDiscount:
    """A discount the partner asks for; it is only granted through order approval."""

    description: str
    percent: Decimal


@dataclass(frozen=True)
class DealConverted(DomainEvent):
    """A registration became a customer, an account and a draft sales order."""

    registration_id: str
    partner_id: str
    customer_id: str
    account_id: str
    order_id: str
    by: str


@dataclass
class Partner:
    """A company that brings us deals."""

    id: str
    name: str
    contact_email: str | None = None
    active: bool = True
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)
    # When the record was stored (set by the repository; not part of the domain's identity).
    created_at: datetime | None = field(default=None, compare=False)

    @classmethod
    def enrol(cls, name: str, *, contact_email: str | None = None) -> Partner:
        """Add a partner."""
        errors = FieldErrors()
        if not name.strip():
            errors.add("name", "is required", "required")
        if contact_email is not None and not EMAIL_RE.match(contact_email):
            errors.add("contact_email", "is not an email address")
        errors.raise_if_any("The partner has invalid fields")
        partner = cls(id=new_id("ptnr"), name=name.strip(), contact_email=contact_email)
        return partner


@dataclass(frozen=True)
class DealConversion:
    """What converting a deal produces: a customer, its first account and a draft order."""

    customer: Customer
    account: Account
    order: SalesOrder


# Fields a partner may fill in step by step before converting.
_EDITABLE_FIELDS = frozenset(
    {
        "opportunity_name",
        "opportunity_details",
        "customer_company_name",
        "agreement_contact",
        "licensing",
        "discounts_requested",
        "project_description",
    }
)


@dataclass
class DealRegistration:
    """An opportunity a partner registered; filled in over time, validated on conversion."""

    id: str
    partner_id: str
    opportunity_name: str
    opportunity_details: str | None = None
    customer_company_name: str | None = None
    agreement_contact: AgreementContact | None = None
    licensing: LicensingDetails = field(default_factory=LicensingDetails)
    discounts_requested: tuple[RequestedDiscount, ...] = ()
    project_description: str | None = None
    status: DealStatus = DealStatus.REGISTERED
    customer_id: str | None = None
    order_id: str | None = None
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)
    # When the record was stored (set by the repository; not part of the domain's identity).
    created_at: datetime | None = field(default=None, compare=False)
    updated_at: datetime | None = field(default=None, compare=False)

    @classmethod
    def register(cls, partner: Partner, opportunity_name: str, *, by: str) -> DealRegistration:
        """Register an opportunity for an active partner; the rest may follow later."""
        errors = FieldErrors()
        if not partner.active:
            errors.add("partner_id", "the partner is not active", "inactive")
        if not opportunity_name.strip():
            errors.add("opportunity_name", "is required", "required")
        errors.raise_if_any("The deal cannot be registered")
        registration = cls(
            id=new_id("dreg"), partner_id=partner.id, opportunity_name=opportunity_name.strip()
        )
        return registration

    def update(self, **changes: object) -> None:
        """Fill in or change details (the partner's "Update"); refused once converted."""
        self._require_open("update")
        unknown = sorted(set(changes) - _EDITABLE_FIELDS)
        if unknown:
            errors = FieldErrors()
            for name in unknown:
                errors.add(name, "cannot be changed on a deal registration", "unknown_field")
            errors.raise_if_any()
        for name, value in changes.items():
            setattr(self, name, value)

    def problems(self) -> list[tuple[str, str]]:
        """Every missing or invalid mandatory field as (field, message), for a checklist."""
        errors = FieldErrors()
        self._collect_errors(errors)
        return [(e.field, e.message) for e in errors.errors]

    def convert(
        self,
        *,
        billing_profile: BillingProfile | None = None,
        lines: Iterable[OrderLine] = (),
        by: str,
    ) -> DealConversion:
        """Turn the deal into a customer, an account and a draft order ("Convert to Customer").

        Every mandatory field is checked and all problems are reported in one error; a
        registration converts only once.
        """
        self._require_open("convert")
        errors = FieldErrors()
        self._collect_errors(errors)
        errors.raise_if_any("The deal registration is incomplete")
        # The checks above guarantee these are filled in.
        assert self.customer_company_name and self.agreement_contact
        assert self.licensing.currency

        customer = Customer.register(self.customer_company_name, partner_id=self.partner_id, by=by)
        profile = billing_profile or BillingProfile(
            currency=self.licensing.currency,
            contacts=(
                Contact(
                    self.agreement_contact.name,
                    self.agreement_contact.email,
                    ContactRole.BILLING,
                ),
            ),
        )
        if profile.currency != self.licensing.currency:
            raise ValidationFailed.single(
                "billing_profile.currency",
                f"must be the deal's currency {self.licensing.currency}",
                "currency_mismatch",
            )
        account = Account.open(
            customer_id=customer.id,
            name=self.customer_company_name,
            billing_profile=profile,
            by=by,
        )
        order = SalesOrder.draft(
            customer_id=customer.id,
            account_id=account.id,
            lines=lines,
            deal_registration_id=self.id,
            requested_discounts_note=self._discounts_note(),
        )
        self.status = DealStatus.CONVERTED
        self.customer_id = customer.id
        self.order_id = order.id
        self.events.append(DealConverted(self.id, self.partner_id, customer.id, account.id, order.id, by))
        return DealConversion(customer, account, order)

    def _require_open(self, action: str) -> None:
        if self.status is not DealStatus.REGISTERED:
            raise Conflict(f"Cannot {action} a deal registration that is {self.status.value}")

    def _collect_errors(self, errors: FieldErrors) -> None:
        for name in (
            "opportunity_name",
            "opportunity_details",
            "customer_company_name",
            "project_description",
        ):
            if not (getattr(self, name) or "").strip():
                errors.add(name, "is required", "required")
        contact = self.agreement_contact
        if contact is None or not contact.name.strip():
            errors.add("agreement_contact.name", "is required", "required")
        if contact is None or not contact.email.strip():
            errors.add("agreement_contact.email", "is required", "required")
        elif not EMAIL_RE.match(contact.email):
            errors.add("agreement_contact.email", "is not an email address")
        self._collect_licensing_errors(errors)
        for index, discount in enumerate(self.discounts_requested):
            if not discount.description.strip():
                errors.add(f"discounts_requested.{index}.description", "is required", "required")
            if not Decimal(0) < discount.percent <= Decimal(100):
                errors.add(f"discounts_requested.{index}.percent", "must be above 0 and at most 100")

    def _collect_licensing_errors(self, errors: FieldErrors) -> None:
        licensing = self.licensing
        if not licensing.currency:
            errors.add("licensing.currency", "is required", "required")
        elif not is_known_currency(licensing.currency):
            errors.add("licensing.currency", "must be an ISO 4217 code such as USD")
        if licensing.license_type is None:
            errors.add("licensing.license_type", "is required", "required")
        elif licensing.license_type is not DealLicenseType.NEW_LICENSE:
            errors.add(
                "licensing.license_type",
                "registered deals follow new-license pricing",
                "not_new_license",
            )
        if licensing.start_date is None:
            errors.add("licensing.start_date", "is required", "required")
        if licensing.end_date is None:
            errors.add("licensing.end_date", "is required", "required")
        if (
            licensing.start_date is not None
            and licensing.end_date is not None
            and licensing.end_date <= licensing.start_date
        ):
            errors.add("licensing.end_date", "must be after the start date")

    def _discounts_note(self) -> str | None:
        if not self.discounts_requested:
            return None
        return "; ".join(f"{d.description}: {d.percent}%" for d in self.discounts_requested)
