"""Sales orders: what the API accepts and shows (with the deal an order came from)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.contracts.types import (
    Amount,
    IntegerRange,
    Percent,
    Quantity,
    UnitPrice,
)
from libs.contracts.vocabulary import BillingFrequency, ChargeType, LicenseType
from libs.platform.db import utcnow
from libs.platform.money import amount_out, decimal_out, percent_out, unit_price_out
from provisioning.domain.deals import DealLicenseType, DealRegistration
from provisioning.domain.fulfillments import CommittedLicenseBalance
from provisioning.domain.orders import OrderKind, OrderLine, OrderStatus
from provisioning.domain.subscriptions import RenewalKind
from provisioning.handlers.records import StoredOrder
from provisioning.schemas.common import (
    ZERO,
    CatalogId,
    Command,
    Day,
    LongText,
    PositiveLineQuantity,
    RefId,
)


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
    charge_type: ChargeType | None
    billing_period: BillingFrequency | None
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


def licensing_public(deal: DealRegistration) -> LicensingPublic:
    lic = deal.licensing
    return LicensingPublic(
        currency=lic.currency, license_type=lic.license_type, start_date=lic.start_date, end_date=lic.end_date
    )


def agreement_contact_public(deal: DealRegistration) -> AgreementContactPublic | None:
    contact = deal.agreement_contact
    return AgreementContactPublic(name=contact.name, email=contact.email) if contact else None


def _line_terms(kind: OrderKind, line: OrderLine) -> dict[str, Any]:
    if kind is OrderKind.AMENDMENT:
        return {"renewal": None, "commitment_quantity": None, "termination_fee_price_id": None}
    policy = line.renewal_policy
    return {
        "renewal": RenewalPublic(policy=policy.kind, months=policy.months),
        "commitment_quantity": decimal_out(line.committed_quantity),
        "termination_fee_price_id": line.termination_fee_price_id,
    }


def order_public(stored: StoredOrder, *, deal: DealRegistration | None) -> OrderPublic:
    """An order as shown, with amounts rounded to the currency."""
    o = stored.order
    lines = []
    for line in o.lines:
        priced = stored.pricing_of(line.id)
        lines.append(
            OrderLinePublic(
                id=line.id,
                product_id=line.product_id,
                product_sku=priced.product_sku,
                product_name=priced.product_name,
                price_id=line.price_id,
                price_version=line.price_version,
                charge_type=priced.charge_type,
                billing_period=priced.billing_period,
                license_type=line.license_type,
                quantity=decimal_out(line.quantity),
                unit_price=unit_price_out(line.unit_list_price),
                currency=line.currency,
                list_amount=amount_out(priced.list_amount, line.currency),
                discounts=[
                    LineDiscountPublic(
                        discount_id=d.discount_id,
                        name=d.name,
                        amount=amount_out(d.amount, line.currency),
                        approval_threshold_percent=(
                            None
                            if d.approval_threshold_percent is None
                            else percent_out(d.approval_threshold_percent)
                        ),
                    )
                    for d in priced.discounts
                ],
                discount_amount=amount_out(priced.discount_amount, line.currency),
                net_amount=amount_out(priced.net_amount, line.currency),
                effective_percent_off=percent_out(priced.effective_percent_off),
                needs_approval=line.needs_approval,
                term_months=line.term_months,
                effective_date=line.effective_date,
                subscription_id=line.subscription_id,
                **_line_terms(o.kind, line),
            )
        )
    summary = None
    if deal is not None:
        reg = deal
        summary = DealSummaryPublic(
            deal_registration_id=reg.id,
            partner_id=reg.partner_id,
            opportunity_name=reg.opportunity_name,
            opportunity_details=reg.opportunity_details,
            project_description=reg.project_description,
            agreement_contact=agreement_contact_public(reg),
            licensing=licensing_public(reg),
            requested_discounts=o.requested_discounts_note,
        )
    return OrderPublic(
        id=o.id,
        customer_id=o.customer_id,
        account_id=o.account_id,
        kind=o.kind,
        status=o.status,
        currency=stored.currency,
        approval_required=o.approval_required,
        approved_by=o.approved_by,
        lines=lines,
        list_total=amount_out(sum((ln.list_amount for ln in lines), ZERO), stored.currency),
        discount_total=amount_out(sum((ln.discount_amount for ln in lines), ZERO), stored.currency),
        net_total=amount_out(sum((ln.net_amount for ln in lines), ZERO), stored.currency),
        deal=summary,
        created_at=stored.created_at or utcnow(),
        updated_at=stored.updated_at or utcnow(),
    )


def commitments_public(order_id: str, balances: list[CommittedLicenseBalance]) -> CommitmentsPublic:
    """Committed-license balances as shown."""
    return CommitmentsPublic(
        order_id=order_id,
        lines=[
            CommitmentPublic(
                order_line_id=b.order_line_id,
                product_id=b.product_id,
                committed=decimal_out(b.committed),
                launched=decimal_out(b.launched),
                remaining=decimal_out(b.remaining),
            )
            for b in balances
        ],
    )
