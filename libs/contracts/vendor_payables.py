"""Vendor payables: what the overage service publishes on `overage.events` about the invoices a
vendor sends us (annual commitment invoices and monthly overage invoices).

ERP books the payable from `vendor.invoice_received` (amount, dates, what it matched and by how
much it differs from what we expected), approves it with `vendor.invoice_approved` and settles it
with `vendor.invoice_paid`. Keyed by our account the vendor billed for, so one customer's
payables stay in order with its other events. Amounts are decimal strings with the currency's
minor units.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import OVERAGE_EVENTS
from libs.contracts.types import Amount, CurrencyCode

VendorInvoiceKind = Literal["annual", "overage"]
VendorInvoiceMatch = Literal["matched", "amount_differs", "unmatched"]
VendorInvoiceState = Literal["received", "approved", "paid"]


class VendorInvoicePayload(EventPayload):
    """A vendor's invoice to us, as recorded and matched."""

    vendor_invoice_id: str = Field(examples=["vinv_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    vendor_id: str = Field(examples=["ven_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    number: str = Field(
        description="The vendor's own invoice number (unique per vendor).", examples=["MON-2026-0042"]
    )
    kind: VendorInvoiceKind = Field(
        description="annual (a commitment year, in advance) or overage (a month)."
    )
    account_id: str = Field(description="Our account whose service the vendor billed.")
    subscription_id: str | None = None
    overage_case_id: str | None = Field(
        default=None, description="The overage case an overage invoice settles."
    )
    expected_invoice_id: str | None = Field(
        default=None, description="The expected annual invoice of a commitment it matched, if any."
    )
    currency: CurrencyCode
    amount: Amount = Field(description="What the vendor billed (tax-exclusive).")
    expected_amount: Amount | None = Field(default=None, description="What we expected, when it matched one.")
    difference: Amount | None = Field(default=None, description="amount - expected_amount.")
    match: VendorInvoiceMatch
    state: VendorInvoiceState
    invoice_date: date
    period_start: date
    period_end: date = Field(description="Exclusive end of the billed period.")
    received_at: datetime


@event_type("vendor.invoice_received", topic=OVERAGE_EVENTS)
class VendorInvoiceReceived(VendorInvoicePayload):
    """A vendor invoice was received and matched (or flagged: amount differs, nothing to match)."""

    source: Literal["vendor", "finance"] = Field(description="Posted by the vendor or entered by finance.")


@event_type("vendor.invoice_approved", topic=OVERAGE_EVENTS)
class VendorInvoiceApproved(VendorInvoicePayload):
    """Finance approved a vendor invoice for payment."""

    approved_at: datetime
    approved_by: str


@event_type("vendor.invoice_paid", topic=OVERAGE_EVENTS)
class VendorInvoicePaid(VendorInvoicePayload):
    """Finance paid a vendor invoice."""

    paid_at: datetime
    paid_by: str
    payment_reference: str | None = None


__all__ = [
    "VendorInvoiceApproved",
    "VendorInvoiceKind",
    "VendorInvoiceMatch",
    "VendorInvoicePaid",
    "VendorInvoicePayload",
    "VendorInvoiceReceived",
    "VendorInvoiceState",
]
