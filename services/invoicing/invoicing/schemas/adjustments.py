"""Requests and views of adjustments (`/v1/adjustments`).

An amount is positive with at most the currency's minor units; the direction gives its sign on
the invoice. A service credit names its subscription and the service period it reduces.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from invoicing.domain.adjustments import (
    Adjustment,
    AdjustmentDirection,
    AdjustmentKind,
    AdjustmentState,
    NewAdjustment,
)
from libs.contracts.types import Amount, CurrencyCode, IsoDate, NonNegativeAmount
from libs.platform.money import amount_out
from libs.platform.text import NON_BLANK_TEXT

Reason = Annotated[str, StringConstraints(min_length=1, max_length=500), NON_BLANK_TEXT]
EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class AdjustmentCreate(BaseModel):
    """A credit or debit for the account's next invoice (a service credit reduces one period)."""

    model_config = ConfigDict(extra="forbid")

    account_id: EntityId = Field(
        description="The invoiced account (a child billing to its parent: the parent)."
    )
    currency: CurrencyCode = Field(description="Must be the account's currency.")
    direction: AdjustmentDirection
    amount: NonNegativeAmount = Field(description="Positive, at most the currency's minor units.")
    reason: Reason = Field(examples=["Goodwill credit for the outage of 3 June"])
    kind: AdjustmentKind = AdjustmentKind.ADJUSTMENT
    effective_date: IsoDate | None = Field(
        default=None,
        description="Billed by the first run on or after it "
        "(default: today; a service credit: its period start).",
    )
    subscription_id: EntityId | None = None
    service_period_start: IsoDate | None = Field(
        default=None, description="A service credit's period, first day."
    )
    service_period_end: IsoDate | None = Field(
        default=None, description="A service credit's period, exclusive end."
    )
    invoice_id: EntityId | None = Field(
        default=None, description="The issued invoice a debit corrects, if any."
    )

    def command(self) -> NewAdjustment:
        """The handler's command."""
        return NewAdjustment(
            account_id=self.account_id,
            currency=self.currency,
            direction=self.direction,
            amount=self.amount,
            reason=self.reason,
            kind=self.kind,
            effective_date=self.effective_date,
            subscription_id=self.subscription_id,
            service_period_start=self.service_period_start,
            service_period_end=self.service_period_end,
            invoice_id=self.invoice_id,
        )


class AdjustmentCancel(BaseModel):
    """Why a pending adjustment is cancelled."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = None


class AdjustmentPublic(BaseModel):
    """An adjustment: pending until an invoice bills it (applied), or cancelled."""

    id: str = Field(examples=["adj_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    account_id: str
    currency: str
    direction: AdjustmentDirection
    kind: AdjustmentKind
    state: AdjustmentState
    amount: Amount
    signed_amount: Amount = Field(description="What it adds to the invoice: negative for a credit.")
    reason: str
    effective_date: date
    charge_key: str = Field(description="The key of the invoice line that bills it.")
    applied_invoice_id: str | None = Field(description="The invoice billing it, once applied.")
    subscription_id: str | None
    service_period_start: date | None
    service_period_end: date | None
    invoice_id: str | None
    dispute_id: str | None
    created_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None


def adjustment_public(adjustment: Adjustment) -> AdjustmentPublic:
    """The API view of an adjustment."""
    currency = adjustment.currency
    return AdjustmentPublic(
        id=adjustment.id,
        account_id=adjustment.account_id,
        currency=currency,
        direction=adjustment.direction,
        kind=adjustment.kind,
        state=adjustment.state,
        amount=amount_out(adjustment.amount, currency),
        signed_amount=amount_out(adjustment.signed_amount, currency),
        reason=adjustment.reason,
        effective_date=adjustment.effective_date,
        charge_key=adjustment.charge_key,
        applied_invoice_id=adjustment.applied_invoice_id,
        subscription_id=adjustment.subscription_id,
        service_period_start=adjustment.service_period_start,
        service_period_end=adjustment.service_period_end,
        invoice_id=adjustment.invoice_id,
        dispute_id=adjustment.dispute_id,
        created_at=adjustment.created_at,
        cancelled_at=adjustment.cancelled_at,
        cancel_reason=adjustment.cancel_reason,
    )
