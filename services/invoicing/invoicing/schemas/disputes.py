"""Requests and views of disputes (`/v1/disputes`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from invoicing.domain.disputes import Dispute, DisputeOutcome, DisputeState
from libs.contracts.types import Amount, NonNegativeAmount
from libs.platform.money import amount_out
from libs.platform.text import NON_BLANK_TEXT, ONE_LINE

Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000), NON_BLANK_TEXT]
ChargeKey = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class DisputeCreate(BaseModel):
    """A dispute on an issued invoice, or on one of its lines."""

    model_config = ConfigDict(extra="forbid")

    invoice_id: EntityId
    reason: Reason = Field(examples=["The customer says 10 seats were used, not 12"])
    charge_key: ChargeKey | None = Field(
        default=None, description="The disputed line; omit for the whole invoice."
    )
    disputed_amount: NonNegativeAmount | None = Field(
        default=None, description="Net amount contested, if known."
    )


class DisputeResolve(BaseModel):
    """How a dispute ends: a credit (a credit note for `amount`, net) or a rejection."""

    model_config = ConfigDict(extra="forbid")

    outcome: DisputeOutcome
    amount: NonNegativeAmount | None = Field(
        default=None, description="Net amount credited (credit only); default: the disputed amount."
    )
    note: Reason | None = None


class DisputePublic(BaseModel):
    """A dispute and how it ended."""

    id: str = Field(examples=["dsp_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    invoice_id: str
    invoice_number: str
    account_id: str
    currency: str
    charge_key: str | None
    disputed_amount: Amount | None
    reason: str
    state: DisputeState
    resolution_note: str | None
    credited_amount: Amount | None
    credit_note_id: str | None
    opened_at: datetime
    resolved_at: datetime | None


def dispute_public(dispute: Dispute) -> DisputePublic:
    """The API view of a dispute."""
    currency = dispute.currency
    return DisputePublic(
        id=dispute.id,
        invoice_id=dispute.invoice_id,
        invoice_number=dispute.invoice_number,
        account_id=dispute.account_id,
        currency=currency,
        charge_key=dispute.charge_key,
        disputed_amount=amount_out(dispute.disputed_amount, currency),
        reason=dispute.reason,
        state=dispute.state,
        resolution_note=dispute.resolution_note,
        credited_amount=amount_out(dispute.credited_amount, currency),
        credit_note_id=dispute.credit_note_id,
        opened_at=dispute.opened_at,
        resolved_at=dispute.resolved_at,
    )
