"""Subscriptions, their history and term-end runs: what the API accepts and shows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from libs.contracts.types import (
    Amount,
    Percent,
    Quantity,
    UnitPrice,
)
from libs.contracts.vocabulary import BillingFrequency, ChargeType, LicenseType
from libs.platform.db import utcnow
from libs.platform.money import amount_out, decimal_out, percent_out, unit_price_out
from provisioning.domain.subscriptions import (
    ChangeKind,
    RenewalKind,
    SubscriptionSnapshot,
    SubscriptionState,
    TerminationFee,
)
from provisioning.handlers.records import RecordedChange, StoredSubscription
from provisioning.schemas.common import (
    Command,
    Day,
    LineQuantity,
    LongText,
)


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
    charge_type: ChargeType | None
    billing_period: BillingFrequency | None
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


def termination_fee_fields(fee: TerminationFee) -> dict[str, Any]:
    """A charged termination fee as shown and as published: the amount in minor units."""
    return {
        "price_id": fee.price_id,
        "price_version": fee.price_version,
        "amount": amount_out(fee.amount, fee.currency),
        "currency": fee.currency,
    }


def subscription_public(stored: StoredSubscription) -> SubscriptionPublic:
    """A subscription as shown."""
    sub = stored.subscription
    return SubscriptionPublic(
        id=sub.id,
        account_id=sub.account_id,
        order_id=sub.order_id,
        product_id=sub.product_id,
        price_id=sub.price_id,
        price_version=sub.price_version,
        currency=stored.currency,
        unit_price=unit_price_out(stored.unit_price),
        discount_percent=percent_out(stored.discount_percent),
        charge_type=stored.charge_type,
        billing_period=stored.billing_period,
        quantity=decimal_out(sub.quantity),
        commitment_quantity=decimal_out(sub.commitment_quantity),
        license_type=sub.license_type,
        term_start=sub.term_start,
        term_end=sub.term_end,
        renewal=sub.renewal.kind,
        renewal_months=sub.renewal.months,
        state=sub.state,
        termination_fee_price_id=sub.termination_fee_price_id,
        termination_fee=TerminationFeePublic(**termination_fee_fields(sub.termination_fee))
        if sub.termination_fee
        else None,
        created_at=stored.created_at or utcnow(),
        updated_at=stored.updated_at or utcnow(),
    )


def _snapshot(snapshot: SubscriptionSnapshot) -> SnapshotPublic:
    return SnapshotPublic(
        state=snapshot.state,
        quantity=decimal_out(snapshot.quantity),
        term_start=snapshot.term_start,
        term_end=snapshot.term_end,
        price_id=snapshot.price_id,
        price_version=snapshot.price_version,
    )


def history_entry_public(entry: RecordedChange) -> SubscriptionChangePublic:
    """One entry of a subscription's history as shown."""
    change = entry.change
    return SubscriptionChangePublic(
        sequence=entry.sequence,
        kind=change.kind,
        effective_date=change.effective_date,
        by=change.by,
        reason=change.reason,
        before=_snapshot(change.before),
        after=_snapshot(change.after),
        recorded_at=entry.recorded_at,
    )
