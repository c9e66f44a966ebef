"""What the provisioning API accepts (commands) and returns (public views).

Requests are checked for shape here (types, lengths, wire formats from `libs.contracts.types`);
business rules are checked by the domain, which reports every problem of a request in one 422.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from libs.contracts.types import (
    Amount,
    CurrencyCode,
    IntegerRange,
    IsoDate,
    Percent,
    Quantity,
    StrictBool,
    UnitPrice,
)
from libs.platform.money import round_money
from libs.platform.text import MULTI_LINE, ONE_LINE
from provisioning.domain.accounts import ContactRole, DeliveryPreference, TaxTreatment
from provisioning.domain.deals import DealLicenseType, DealStatus
from provisioning.domain.fulfillments import FulfillmentStatus
from provisioning.domain.orders import OrderKind, OrderStatus
from provisioning.domain.subscriptions import (
    ChangeKind,
    LicenseType,
    RenewalKind,
    SubscriptionState,
)
from provisioning.domain.workflows import TaskState, WorkflowStatus

# Free text follows the one text rule (`libs.platform.text`), within the column's length:
# one line, or (notes, details, reasons) several.
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
ShortText = Annotated[str, StringConstraints(max_length=200), ONE_LINE]
LongText = Annotated[str, StringConstraints(max_length=4000), MULTI_LINE]
# The shape the domain checks (accounts.EMAIL_RE: no @ nor whitespace around one @ and a dot),
# stated in the schema with explicit characters so every regex engine reads it alike; the
# characters the one-line text rule refuses (controls, separators, bidi) are refused here too.
_EMAIL_CHAR = r"[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028-\u202f\u205f\u2066-\u2069\u3000]"
Email = Annotated[
    str,
    StringConstraints(
        min_length=3, max_length=254, pattern=rf"^{_EMAIL_CHAR}+@{_EMAIL_CHAR}+\.{_EMAIL_CHAR}+$"
    ),
]
RefId = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
CatalogId = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_\-.]+$")]
UserId = Annotated[str, StringConstraints(min_length=1, max_length=120), ONE_LINE]
ProgramName = Annotated[str, StringConstraints(min_length=1, max_length=100), ONE_LINE]
# Dates bounded to what every backend stores and no contract ever needs beyond.
_FIRST_DAY = date(1900, 1, 1)
_LAST_DAY = date(2200, 12, 31)


def _storable(day: date) -> date:
    if not _FIRST_DAY <= day <= _LAST_DAY:
        raise PydanticCustomError(
            "date_range",
            "must be from {first} to {last}",
            {"first": _FIRST_DAY.isoformat(), "last": _LAST_DAY.isoformat()},
        )
    return day


# The same range as a pattern, so the OpenAPI document states it: any month-day of 1900-2200,
# and 29 February of the leap years only (2000 is one, 1900, 2100 and 2200 are not).
_MONTH_DAY = r"(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31"
_LEAP_YEAR = r"(19|20|21)(0[48]|[2468][048]|[13579][26])|2000"
DAY_PATTERN = rf"^(((19[0-9]{{2}}|2[01][0-9]{{2}}|2200)-({_MONTH_DAY}))|({_LEAP_YEAR})-02-29)$"
Day = Annotated[
    IsoDate,
    AfterValidator(_storable),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "pattern": DAY_PATTERN,
            "description": "From 1900-01-01 to 2200-12-31.",
        }
    ),
]

# What one order, fulfillment or change line may hold (handlers.MAX_LINE_QUANTITY), stated in
# the schema: up to 9 integer digits, or exactly 1000000000.
_UP_TO_LIMIT = r"[0-9]{1,9}(\.[0-9]{1,6})?|1000000000(\.0{1,6})?"
_POSITIVE_FRACTION = (
    r"0{0,5}[1-9]|0{0,4}[1-9][0-9]|0{0,3}[1-9][0-9]{2}|0{0,2}[1-9][0-9]{3}|0?[1-9][0-9]{4}|[1-9][0-9]{5}"
)
_POSITIVE_UP_TO_LIMIT = (
    rf"0{{0,9}}[1-9][0-9]{{0,8}}(\.[0-9]{{1,6}})?|1000000000(\.0{{1,6}})?|0{{1,9}}\.({_POSITIVE_FRACTION})"
)


def _line_quantity_schema(minimum: int, pattern: str, description: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": minimum, "maximum": 1_000_000_000},
                {"type": "string", "pattern": f"^({pattern})$"},
            ],
            "description": description,
            "examples": [25, "1.5"],
        },
        mode="validation",
    )


LineQuantity = Annotated[
    Quantity, _line_quantity_schema(0, _UP_TO_LIMIT, "From 0 to 1000000000, up to 6 decimals.")
]
PositiveLineQuantity = Annotated[
    Quantity,
    _line_quantity_schema(1, _POSITIVE_UP_TO_LIMIT, "More than 0, at most 1000000000, up to 6 decimals."),
]

_PERCENT_STEP = Decimal("0.0001")


def money_out(value: Decimal, currency: str) -> Decimal:
    """An amount as shown: rounded to the currency's minor units."""
    return round_money(value, currency)


def decimal_out(value: Decimal) -> Decimal:
    """The shortest exact form of a quantity or price (no exponent, no trailing zeros)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return Decimal(format(value.normalize(), "f"))


def percent_out(value: Decimal) -> Decimal:
    """A percent as shown: four decimals at most."""
    return decimal_out(value.quantize(_PERCENT_STEP, rounding=ROUND_HALF_UP))


class Command(BaseModel):
    """Base of every request body: unknown fields are refused so typos are not ignored."""

    model_config = ConfigDict(extra="forbid")


# ----- customers and accounts ---------------------------------------------------------------


class ContactIn(Command):
    """A contact and what it is for."""

    name: Name
    email: Email
    role: ContactRole
    phone: Annotated[str, StringConstraints(max_length=40), ONE_LINE] | None = None


class TaxStatusIn(Command):
    """Taxable, or exempt with a certificate number and expiry."""

    treatment: TaxTreatment = TaxTreatment.TAXABLE
    certificate_number: Annotated[str, StringConstraints(max_length=80), ONE_LINE] | None = None
    certificate_expiry: Day | None = None


class TaxAddressIn(Command):
    """Where the account is taxed."""

    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(examples=["US"])
    region: Annotated[str, StringConstraints(max_length=100), ONE_LINE] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=20), ONE_LINE] | None = None


class BillingProfileIn(Command):
    """How, when and in which currency an account is billed."""

    currency: CurrencyCode
    time_zone: Annotated[str, StringConstraints(min_length=1, max_length=64), ONE_LINE] = "UTC"
    bill_cycle_day: Annotated[int, IntegerRange(1, 31)] = 1
    payment_terms_days: Annotated[int, IntegerRange(0, 365)] = 30
    delivery: DeliveryPreference = DeliveryPreference.EMAIL
    tax_status: TaxStatusIn = Field(default_factory=TaxStatusIn)
    tax_address: TaxAddressIn | None = None
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)


class CustomerCreate(Command):
    """Register a customer."""

    name: Name
    partner_id: RefId | None = None


class AccountCreate(Command):
    """Open a billing account for a customer, optionally under a parent account."""

    customer_id: RefId
    name: Name
    billing_profile: BillingProfileIn
    parent_account_id: RefId | None = None
    bills_to_parent: StrictBool = False


class AccountUpdate(Command):
    """Change the billing profile and/or the place in the hierarchy (null parent detaches)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    billing_profile: BillingProfileIn | None = None
    parent_account_id: RefId | None = None
    bills_to_parent: StrictBool | None = None


class CustomerPublic(BaseModel):
    """A customer."""

    id: str
    name: str
    partner_id: str | None
    created_at: datetime


class ContactPublic(BaseModel):
    """A contact."""

    name: str
    email: str
    role: ContactRole
    phone: str | None = None


class TaxStatusPublic(BaseModel):
    """Tax status."""

    treatment: TaxTreatment
    certificate_number: str | None = None
    certificate_expiry: date | None = None


class TaxAddressPublic(BaseModel):
    """Tax address."""

    country: str
    region: str | None = None
    postal_code: str | None = None


class BillingProfilePublic(BaseModel):
    """A billing profile."""

    currency: str
    time_zone: str
    bill_cycle_day: int
    payment_terms_days: int
    delivery: DeliveryPreference
    tax_status: TaxStatusPublic
    tax_address: TaxAddressPublic | None
    contacts: list[ContactPublic]


class AccountPublic(BaseModel):
    """A billing account."""

    id: str
    customer_id: str
    name: str
    parent_account_id: str | None
    bills_to_parent: bool
    billing_profile: BillingProfilePublic
    created_at: datetime
    updated_at: datetime


# ----- partners and deals -------------------------------------------------------------------


class PartnerCreate(Command):
    """Enrol a partner."""

    name: Name
    contact_email: Email | None = None


class PartnerPublic(BaseModel):
    """A partner."""

    id: str
    name: str
    contact_email: str | None
    active: bool
    created_at: datetime


class AgreementContactIn(Command):
    """Who receives the license agreement."""

    name: ShortText = ""
    email: Annotated[str, StringConstraints(max_length=254), ONE_LINE] = ""


class LicensingIn(Command):
    """Licensing details; every field may be filled in later."""

    currency: CurrencyCode | None = None
    license_type: DealLicenseType | None = None
    start_date: Day | None = None
    end_date: Day | None = None


class RequestedDiscountIn(Command):
    """A discount the partner asks for (granted only through order approval)."""

    description: ShortText
    percent: Percent


class DealFields(Command):
    """The details a partner fills in, step by step."""

    opportunity_details: LongText | None = None
    customer_company_name: ShortText | None = None
    agreement_contact: AgreementContactIn | None = None
    licensing: LicensingIn | None = None
    discounts_requested: list[RequestedDiscountIn] | None = Field(default=None, max_length=20)
    project_description: LongText | None = None


class DealRegistrationCreate(DealFields):
    """Register an opportunity for a partner."""

    partner_id: RefId
    opportunity_name: Name


class DealRegistrationUpdate(DealFields):
    """Fill in or change details; only the fields sent change (licensing merges field by field)."""

    opportunity_name: Name | None = None


class RenewalIn(Command):
    """What happens at the end of the term: auto-renew for `months`, or expire."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "properties": {"policy": {"const": "auto_renew"}, "months": {"type": "integer"}},
                    "required": ["policy", "months"],
                },
                {
                    "properties": {"policy": {"const": "expire"}, "months": {"type": "null"}},
                    "required": ["policy"],
                },
            ]
        }
    )

    policy: RenewalKind = Field(examples=["auto_renew"])
    months: Annotated[int, IntegerRange(1, 600)] | None = Field(
        default=None, description="auto_renew only: months per renewal."
    )

    @model_validator(mode="after")
    def _months_with_auto_renew(self) -> RenewalIn:
        if self.policy is RenewalKind.AUTO_RENEW and self.months is None:
            raise ValueError("auto_renew needs the number of months")
        if self.policy is RenewalKind.EXPIRE and self.months is not None:
            raise ValueError("expire takes no months")
        return self


class RenewalPublic(BaseModel):
    """What happens at the end of the term."""

    policy: RenewalKind
    months: int | None = None


class OrderLineIn(Command):
    """A line to price: a catalog price, a quantity, discounts and a term.

    New lines name `price_id`; amendment lines name `subscription_id` (the price defaults to the
    subscription's) and an `effective_date`. `effective_date` of a new line is its term start.
    """

    price_id: CatalogId | None = None
    quantity: PositiveLineQuantity
    discount_ids: list[CatalogId] = Field(default_factory=list, max_length=10)
    term_months: Annotated[int, IntegerRange(1, 600)] | None = None
    effective_date: Day | None = None
    subscription_id: RefId | None = None
    license_type: LicenseType | None = Field(
        default=None, description="Overrides the product's license type from the catalog."
    )
    renewal: RenewalIn | None = Field(
        default=None, description="New lines: renewal at term end; expire when omitted."
    )
    commitment_quantity: Quantity | None = Field(
        default=None,
        description="New lines: quantity committed for the term, at most `quantity`; "
        "defaults to the whole quantity of a committed license, else 0.",
    )
    termination_fee_price_id: CatalogId | None = Field(
        default=None,
        description="New lines: a one-time catalog price charged when the committed term is "
        "cancelled early, quoted for the committed quantity at cancel time.",
    )


class DealConvert(Command):
    """Convert a deal: optionally a full billing profile and the lines of the draft order."""

    billing_profile: BillingProfileIn | None = None
    lines: list[OrderLineIn] = Field(default_factory=list, max_length=100)


class FieldProblemPublic(BaseModel):
    """One missing or invalid field."""

    field: str
    message: str


class AgreementContactPublic(BaseModel):
    """Who receives the license agreement."""

    name: str | None
    email: str | None


class LicensingPublic(BaseModel):
    """Licensing details."""

    currency: str | None
    license_type: DealLicenseType | None
    start_date: date | None
    end_date: date | None


class RequestedDiscountPublic(BaseModel):
    """A requested discount."""

    description: str
    percent: Percent


class DealRegistrationPublic(BaseModel):
    """A deal registration, with the checklist of what is still missing."""

    id: str
    partner_id: str
    status: DealStatus
    opportunity_name: str
    opportunity_details: str | None
    customer_company_name: str | None
    agreement_contact: AgreementContactPublic | None
    licensing: LicensingPublic
    discounts_requested: list[RequestedDiscountPublic]
    project_description: str | None
    customer_id: str | None
    order_id: str | None
    missing: list[FieldProblemPublic] = Field(description="What must be filled in before converting.")
    created_at: datetime
    updated_at: datetime


# ----- orders -------------------------------------------------------------------------------


class OrderCreate(Command):
    """A draft order for an account, priced by the catalog."""

    account_id: RefId
    kind: OrderKind = OrderKind.NEW
    lines: list[OrderLineIn] = Field(default_factory=list, max_length=100)


class OrderLinesAdd(Command):
    """Lines to add to a draft order."""

    lines: list[OrderLineIn] = Field(min_length=1, max_length=100)


class CancelRequest(Command):
    """Why something is cancelled."""

    reason: LongText | None = None


class LineDiscountPublic(BaseModel):
    """A discount on a line, as the catalog quoted it."""

    discount_id: str
    name: str
    amount: Amount
    approval_threshold_percent: Percent | None = Field(
        default=None, description="None: the discount is pre-approved; above it the order waits for finance."
    )


class OrderLinePublic(BaseModel):
    """A priced order line."""

    id: str
    product_id: str
    product_sku: str | None
    product_name: str | None
    price_id: str
    price_version: int
    charge_type: str | None
    billing_period: str | None
    license_type: LicenseType
    quantity: Quantity
    unit_price: UnitPrice
    currency: str
    list_amount: Amount
    discounts: list[LineDiscountPublic]
    discount_amount: Amount
    net_amount: Amount
    effective_percent_off: Percent
    needs_approval: bool
    term_months: int | None
    effective_date: date | None
    subscription_id: str | None
    renewal: RenewalPublic | None = Field(description="New lines: what the subscription does at term end.")
    commitment_quantity: Quantity | None = Field(
        description="New lines: the quantity committed for the term."
    )
    termination_fee_price_id: str | None = Field(description="New lines: the early-cancellation fee price.")


class DealSummaryPublic(BaseModel):
    """The deal an order came from: opportunity, agreement contact and licensing."""

    deal_registration_id: str
    partner_id: str
    opportunity_name: str
    opportunity_details: str | None
    project_description: str | None
    agreement_contact: AgreementContactPublic | None
    licensing: LicensingPublic
    requested_discounts: str | None


class OrderPublic(BaseModel):
    """A sales order."""

    id: str
    customer_id: str
    account_id: str
    kind: OrderKind
    status: OrderStatus
    currency: str
    approval_required: bool
    approved_by: str | None
    lines: list[OrderLinePublic]
    list_total: Amount
    discount_total: Amount
    net_total: Amount
    deal: DealSummaryPublic | None
    created_at: datetime
    updated_at: datetime


class DealConversionPublic(BaseModel):
    """What converting a deal created."""

    deal_registration: DealRegistrationPublic
    customer: CustomerPublic
    account: AccountPublic
    order: OrderPublic


class CommitmentPublic(BaseModel):
    """The committed-license balance of one order line."""

    order_line_id: str
    product_id: str
    committed: Quantity
    launched: Quantity
    remaining: Quantity


class CommitmentsPublic(BaseModel):
    """Committed-license balances of an order."""

    order_id: str
    lines: list[CommitmentPublic]


# ----- workflows and tasks ------------------------------------------------------------------


class TaskNotePublic(BaseModel):
    """A note on a task."""

    at: datetime
    by: str
    text: str


class TaskPublic(BaseModel):
    """A workflow task."""

    id: str
    workflow_id: str
    key: str
    title: str
    owner_team: str
    state: TaskState
    assignee: str | None
    due_date: date
    requires: list[str]
    completed_on: date | None
    blocked_reason: str | None
    overdue: bool
    notes: list[TaskNotePublic]


class WorkflowPublic(BaseModel):
    """A provisioning workflow and its tasks."""

    id: str
    template_name: str
    order_id: str
    account_id: str
    subscription_id: str | None
    status: WorkflowStatus
    started_on: date
    completed_on: date | None
    tasks: list[TaskPublic]


class TaskUpdate(Command):
    """Give a task to someone."""

    assignee: UserId


class TaskComplete(Command):
    """Complete a task, on a date (today when omitted)."""

    completed_on: Day | None = None


class TaskBlock(Command):
    """Block a task, with the reason."""

    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000), MULTI_LINE]


class TaskNoteCreate(Command):
    """A note for a task."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=4000), MULTI_LINE]


# ----- subscriptions ------------------------------------------------------------------------


class TerminationFeePublic(BaseModel):
    """The one-time charge for cancelling a committed term early."""

    price_id: str
    price_version: int
    amount: Amount
    currency: str


class SubscriptionPublic(BaseModel):
    """A subscription (service instance)."""

    id: str
    account_id: str
    order_id: str | None
    product_id: str
    price_id: str
    price_version: int
    currency: str
    unit_price: UnitPrice
    discount_percent: Percent
    charge_type: str | None
    billing_period: str | None
    quantity: Quantity
    commitment_quantity: Quantity
    license_type: LicenseType
    term_start: date
    term_end: date
    renewal: RenewalKind
    renewal_months: int | None
    state: SubscriptionState
    termination_fee_price_id: str | None = Field(
        description="Catalog price of the fee for cancelling the committed term early."
    )
    termination_fee: TerminationFeePublic | None = Field(
        description="The fee charged when the subscription was cancelled before its term end."
    )
    created_at: datetime
    updated_at: datetime


class SnapshotPublic(BaseModel):
    """The billing-relevant facts before or after a change."""

    state: SubscriptionState
    quantity: Quantity
    term_start: date
    term_end: date
    price_id: str
    price_version: int


class SubscriptionChangePublic(BaseModel):
    """One entry of a subscription's history."""

    sequence: int
    kind: ChangeKind
    effective_date: date
    by: str
    reason: str | None
    before: SnapshotPublic
    after: SnapshotPublic
    recorded_at: datetime


class SubscriptionAction(Command):
    """Suspend, resume or cancel from a date (today when omitted)."""

    effective_date: Day | None = None
    reason: LongText | None = None


class SubscriptionChange(Command):
    """Change quantity and/or term end from an effective date."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                for name in ("quantity", "term_end")
            ]
        }
    )

    effective_date: Day
    quantity: LineQuantity | None = None
    term_end: Day | None = None


class TermEndsRun(Command):
    """Process the ends of terms up to and including a date."""

    as_of: Day = Field(description="Every active subscription whose term_end is on or before it.")


class TermEndsPublic(BaseModel):
    """What a term-end run did."""

    as_of: date
    renewed: int = Field(description="Subscriptions auto-renewed (until their term runs past as_of).")
    expired: int = Field(description="Subscriptions expired at their term end.")


# ----- fulfillments -------------------------------------------------------------------------


class FulfillmentLineIn(Command):
    """How much of an order line is launched or delivered."""

    order_line_id: RefId
    quantity: LineQuantity


class FulfillmentCreate(Command):
    """Record a fulfillment against an order: scheduled, or straight away completed."""

    order_id: RefId
    associated_project_id: Annotated[str, StringConstraints(min_length=1, max_length=60), ONE_LINE] | None = (
        None
    )
    status: FulfillmentStatus = FulfillmentStatus.SCHEDULED
    completed_on: Day | None = None
    lines: list[FulfillmentLineIn] = Field(min_length=1, max_length=100)


class FulfillmentUpdate(Command):
    """New quantities of some lines while scheduled."""

    lines: list[FulfillmentLineIn] = Field(min_length=1, max_length=100)


class FulfillmentLinePublic(BaseModel):
    """A fulfilled line and what it bills."""

    order_line_id: str
    product_id: str
    license_type: LicenseType
    quantity: Quantity
    billable_quantity: Quantity
    unit_price: UnitPrice
    discount_percent: Percent
    billable_amount: Amount


class FulfillmentPublic(BaseModel):
    """A fulfillment."""

    id: str
    order_id: str
    account_id: str
    associated_project_id: str | None
    status: FulfillmentStatus
    completed_on: date | None
    currency: str
    lines: list[FulfillmentLinePublic]
    billable_total: Amount
    created_at: datetime
    updated_at: datetime


# ----- named users --------------------------------------------------------------------------


class PoolCreate(Command):
    """A named-user pool for an account's contract."""

    account_id: RefId
    size: Annotated[int, IntegerRange(1, 10_000_000)]
    programs_per_user: Annotated[int, IntegerRange(1, 1000)]
    contract_programs: list[ProgramName] = Field(min_length=1, max_length=1000)
    contract_start: Day
    transfer_percent: Percent = Decimal(10)
    subscription_id: RefId | None = None


class AssignmentCreate(Command):
    """Give a user access to programs."""

    user_id: UserId
    programs: list[ProgramName] = Field(min_length=1, max_length=100)


class TransferCreate(Command):
    """Move a seat to another person."""

    from_user: UserId
    to_user: UserId
    on_date: Day


class PoolPublic(BaseModel):
    """A named-user pool and how much of it is used."""

    id: str
    account_id: str
    subscription_id: str | None
    size: int
    programs_per_user: int
    contract_programs: list[str]
    contract_start: date
    transfer_percent: Percent
    seats_used: int
    seats_available: int
    transfers_per_year: int
    created_at: datetime


class AssignmentPublic(BaseModel):
    """A named user and their programs."""

    pool_id: str
    user_id: str
    programs: list[str]


class TransferPublic(BaseModel):
    """A seat transfer."""

    pool_id: str
    from_user: str
    to_user: str
    on_date: date
    contract_year: int
    transfers_remaining: int
