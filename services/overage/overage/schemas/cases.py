"""Requests and views of overage cases."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from libs.platform.text import ONE_LINE
from overage.domain.cases import CaseAction, Decision


class CaseActionRequest(BaseModel):
    """One step of a case's workflow."""

    model_config = ConfigDict(extra="forbid")

    action: CaseAction = Field(
        description="contact_crm_owner | record_decision (with `decision`) | inform_vendor | "
        "record_vendor_invoice | sign_paperwork (keep) | confirm_removal (remove) | close"
    )
    decision: Decision | None = Field(default=None, description="keep | remove: with record_decision only.")
    note: Annotated[str, StringConstraints(max_length=500), ONE_LINE] | None = None


class CaseStepPublic(BaseModel):
    """One step of a case: the action, the state it led to, who and when."""

    action: str
    state: str
    actor: str
    at: datetime
    note: str | None


class CaseNoticePublic(BaseModel):
    """A monthly notice on the case with its re-bill to the customer."""

    notice_id: str
    vendor_notice_id: str
    period_start: date
    licensed_count: Decimal
    actual_user_count: Decimal
    overage_count: Decimal
    our_licensed_quantity: Decimal | None = Field(description="The subscription's quantity we knew then.")
    licensed_mismatch: bool = Field(description="The vendor's licensed count differs from our quantity.")
    vendor_unit_cost: Decimal
    markup_percent: Decimal
    unit_price: Decimal
    amount: Decimal = Field(description="Re-billed to the customer (overage x unit price, rounded).")
    currency: str
    charge_key: str | None = Field(description="The re-bill's key on the invoice (None: nothing charged).")


class CaseSummary(BaseModel):
    """An overage case."""

    id: str
    vendor_id: str
    tenant_id: str
    account_id: str
    subscription_id: str
    state: str
    decision: str | None
    opened_at: datetime
    state_entered_at: datetime
    due_at: datetime | None = Field(description="When the waiting state is overdue (None: closed).")
    overdue: bool
    paperwork_opened_at: datetime | None = Field(description="Keep: when the vendor-paperwork task opened.")
    paperwork_signed_at: datetime | None
    removal_confirmed_at: datetime | None
    closed_at: datetime | None
    licensed_mismatch: bool
    last_actual_user_count: Decimal


class CasePublic(CaseSummary):
    """An overage case with its notices and steps."""

    notices: list[CaseNoticePublic]
    steps: list[CaseStepPublic]
    rebilled_amount: Decimal = Field(description="Sum of the notices' re-bills.")
