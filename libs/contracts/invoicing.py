"""Invoices: what invoicing publishes on `invoicing.events` when an invoice is issued or voided.

ERP books an invoice from `invoice.finalized` alone: its number (gap-free per series), dates,
bill-to, every line with its period, quantity, unit price, discount and tax, and the totals
(sums of the rounded lines; prices are tax-exclusive). `invoice.drafted` tells who follows bill
runs that a draft was made (or its note changed); it bills nothing yet. `invoice.voided` cancels
a draft or an issued invoice nobody had paid; an issued one's number stays used (the series keeps
no gap). Amounts are decimal strings with the currency's minor units.

Corrections: an issued invoice is never edited. `credit_note.issued` credits it (numbered
`CN-YYYY-NNNNNN`, gap-free), naming the invoice, each credited line with its tax, the invoice's
amount due after it and what became account credit (a note on a paid invoice). Pre-billing
credits and debits (`adjustment.created` / `adjustment.cancelled`) reach ERP as lines of the next
`invoice.finalized` (charge key `adjustment:{adjustment_id}`); their events say they are pending.
Disputes (`dispute.opened`, `dispute.review_started`, `dispute.resolved`) end in a credit note or a
rejection.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import INVOICING_EVENTS
from libs.contracts.types import Amount, CurrencyCode, Percent, Quantity

InvoiceState = Literal["draft", "finalized", "partially_paid", "paid", "void"]
InvoiceRunKind = Literal["cycle", "on_demand"]
"""cycle: the account's bill cycle; on_demand: a run of its own (a completed fulfillment's)."""


class InvoiceLinePayload(EventPayload):
    """One line of an issued invoice, with the lineage of its charge."""

    charge_key: str = Field(description="What the line bills; a charge is never billed twice.")
    kind: str = Field(examples=["recurring", "usage", "one_time", "fulfillment", "adjustment"])
    description: str
    subscription_id: str | None = None
    product_id: str | None = None
    price_id: str | None = None
    price_version: int | None = None
    period_start: date
    period_end: date = Field(description="Exclusive end: the line's period is [period_start, period_end).")
    quantity: Quantity
    unit_price: Decimal | None = Field(
        description="List price per unit, tax-exclusive, up to 6 decimals; null where no one price per "
        "unit holds (usage across tiers, a minimum, an adjustment).",
        examples=["12.50"],
    )
    list_amount: Amount
    discount_amount: Amount
    amount: Amount = Field(description="The line's net amount, rounded once to minor units.")
    tax_code: str | None = None
    tax_rate: Percent = Field(description='Percent, e.g. "8.875".')
    tax_amount: Amount = Field(description="The line's tax, rounded on the line.")
    tax_jurisdiction: str | None = None
    source_kind: str = Field(description="What the charge came from (subscription, rated_usage, ...).")
    source_id: str


@event_type("invoice.drafted", topic=INVOICING_EVENTS)
class InvoiceDrafted(EventPayload):
    """A bill run made a draft invoice (or its note changed): what it will bill once finalized."""

    invoice_id: str = Field(examples=["inv_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    change: Literal["drafted", "memo_changed"]
    account_id: str
    currency: CurrencyCode
    run_kind: InvoiceRunKind
    run_source_id: str = Field(
        description="What an on-demand run bills (a fulfillment id); empty for a cycle."
    )
    period_start: date
    period_end: date = Field(description="Exclusive end of the billed period.")
    line_count: int = Field(ge=0)
    subtotal: Amount
    tax_total: Amount
    total: Amount
    memo: str | None = None
    drafted_at: datetime


@event_type("invoice.finalized", topic=INVOICING_EVENTS)
class InvoiceFinalized(EventPayload):
    """An invoice was issued: numbered, dated, due on its due date, never edited from now on."""

    invoice_id: str = Field(examples=["inv_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    number: str = Field(examples=["INV-2026-000042"])
    account_id: str
    customer_id: str
    bill_to_name: str
    currency: CurrencyCode
    run_kind: InvoiceRunKind
    period_start: date
    period_end: date = Field(description="Exclusive end of the billed period.")
    invoice_date: date
    due_date: date = Field(description="Invoice date + the account's payment terms.")
    payment_terms_days: int = Field(ge=0)
    subtotal: Amount = Field(
        description="Sum of the lines' amounts, tax-exclusive (the `account_credit` line aside)."
    )
    discount_total: Amount
    tax_total: Amount = Field(description="Sum of the lines' tax.")
    account_credit_carried: Amount = Field(
        default=Decimal(0),
        description="What the invoice's credits exceeded its charges by (its `account_credit` line): "
        "carried to the account as credit, so the invoice totals 0.",
    )
    total: Amount = Field(description="subtotal + tax_total + account_credit_carried; never negative.")
    amount_due: Amount
    tax_exemption_note: str | None = Field(
        default=None, description="Why the invoice carries no tax (an exemption certificate), if so."
    )
    lines: list[InvoiceLinePayload]
    finalized_at: datetime


@event_type("invoice.voided", topic=INVOICING_EVENTS)
class InvoiceVoided(EventPayload):
    """A draft was discarded, or an issued invoice nobody had paid was voided: it bills nothing."""

    invoice_id: str = Field(examples=["inv_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    number: str | None = Field(
        default=None, description="The issued invoice's number (kept used); null for a discarded draft."
    )
    account_id: str
    currency: CurrencyCode
    total: Amount = Field(description="What the invoice billed before it was voided.")
    reason: str | None = None
    voided_at: datetime


class CreditNoteLinePayload(EventPayload):
    """One credited line: a net amount and its tax, positive, rounded on the line."""

    charge_key: str | None = Field(
        default=None, description="The invoice line credited; null for an amount against the whole invoice."
    )
    description: str
    amount: Amount = Field(description="Net amount credited (tax-exclusive).")
    tax_code: str | None = None
    tax_rate: Percent = Field(description="The credited line's tax rate (effective rate for a plain amount).")
    tax_amount: Amount = Field(description="Tax credited, in proportion to the tax the invoice charged.")
    tax_jurisdiction: str | None = None


@event_type("credit_note.issued", topic=INVOICING_EVENTS)
class CreditNoteIssued(EventPayload):
    """A credit note was issued against an invoice: ERP books it as a credit to the customer."""

    credit_note_id: str = Field(examples=["cn_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    number: str = Field(examples=["CN-2026-000007"])
    invoice_id: str
    invoice_number: str = Field(examples=["INV-2026-000042"])
    account_id: str
    customer_id: str
    currency: CurrencyCode
    note_date: date
    reason: str
    dispute_id: str | None = Field(default=None, description="The dispute it resolves, if any.")
    lines: list[CreditNoteLinePayload]
    subtotal: Amount
    tax_total: Amount
    total: Amount = Field(description="subtotal + tax_total: what the note credits.")
    invoice_credited: Amount = Field(description="All credit notes on the invoice so far, this one included.")
    invoice_amount_due: Amount = Field(description="What remains due on the invoice after this note.")
    invoice_state: InvoiceState
    account_credit: Amount = Field(
        description="What exceeded the invoice's amount due (it was paid already): the account's credit."
    )
    issued_at: datetime


AdjustmentDirection = Literal["credit", "debit"]
AdjustmentKind = Literal["adjustment", "service_credit"]


class AdjustmentPayload(EventPayload):
    """A pre-billing credit or debit, billed on the account's next invoice."""

    adjustment_id: str = Field(examples=["adj_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    account_id: str
    currency: CurrencyCode
    direction: AdjustmentDirection
    kind: AdjustmentKind
    amount: Amount = Field(description="Positive; the direction gives the sign on the invoice.")
    reason: str
    effective_date: date = Field(description="Billed by the first run on or after this date.")
    charge_key: str = Field(description="The key of the invoice line that will bill it.")
    subscription_id: str | None = None
    service_period_start: date | None = None
    service_period_end: date | None = Field(
        default=None, description="Exclusive end of a service credit's period."
    )
    invoice_id: str | None = Field(default=None, description="The issued invoice a debit corrects, if any.")
    dispute_id: str | None = None


@event_type("adjustment.created", topic=INVOICING_EVENTS)
class AdjustmentCreated(AdjustmentPayload):
    """A credit or debit is pending for the account's next invoice."""

    created_at: datetime


@event_type("adjustment.cancelled", topic=INVOICING_EVENTS)
class AdjustmentCancelled(AdjustmentPayload):
    """A pending adjustment was cancelled before any invoice billed it."""

    cancel_reason: str | None = None
    cancelled_at: datetime


DisputeState = Literal["open", "under_review", "resolved_credit", "rejected"]


class DisputePayload(EventPayload):
    """A dispute on an issued invoice or one of its lines."""

    dispute_id: str = Field(examples=["dsp_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    invoice_id: str
    invoice_number: str
    account_id: str
    currency: CurrencyCode
    charge_key: str | None = Field(default=None, description="The disputed line; null for the whole invoice.")
    disputed_amount: Amount | None = None
    reason: str
    state: DisputeState
    opened_at: datetime


@event_type("dispute.opened", topic=INVOICING_EVENTS)
class DisputeOpened(DisputePayload):
    """A customer disputes an invoice (or a line): collections hold the disputed amount."""


@event_type("dispute.review_started", topic=INVOICING_EVENTS)
class DisputeReviewStarted(DisputePayload):
    """Finance took the dispute under review."""


@event_type("dispute.resolved", topic=INVOICING_EVENTS)
class DisputeResolved(DisputePayload):
    """A dispute ended: with a credit note (`resolved_credit`) or rejected."""

    outcome: Literal["credit", "reject"]
    credited_amount: Amount | None = Field(default=None, description="Net amount credited, for a credit.")
    credit_note_id: str | None = None
    resolution_note: str | None = None
    resolved_at: datetime


__all__ = [
    "AdjustmentCancelled",
    "AdjustmentCreated",
    "AdjustmentPayload",
    "CreditNoteIssued",
    "CreditNoteLinePayload",
    "DisputeOpened",
    "DisputePayload",
    "DisputeResolved",
    "DisputeReviewStarted",
    "InvoiceDrafted",
    "InvoiceFinalized",
    "InvoiceLinePayload",
    "InvoiceRunKind",
    "InvoiceState",
    "InvoiceVoided",
]
