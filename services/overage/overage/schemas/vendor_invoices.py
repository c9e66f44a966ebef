"""Requests and views of vendor invoices (`/v1/vendor-invoices`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from libs.contracts.types import Amount, CurrencyCode, IsoDate, NonNegativeAmount, StrictBool
from libs.platform.money import amount_out
from libs.platform.text import MULTI_LINE, ONE_LINE
from overage.domain.vendor_invoices import (
    VendorInvoice,
    VendorInvoiceEntry,
    VendorInvoiceKind,
    VendorInvoiceMatch,
    VendorInvoiceSource,
    VendorInvoiceState,
)

EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
InvoiceNumber = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,62}[A-Za-z0-9])?$")
]
Note = Annotated[str, StringConstraints(min_length=1, max_length=2000), MULTI_LINE]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=120), ONE_LINE]


class VendorInvoiceCreate(BaseModel):
    """A vendor's invoice: an annual commitment year or a month's overage licenses."""

    model_config = ConfigDict(extra="forbid")

    vendor_id: EntityId = Field(examples=["ven_monet"])
    number: InvoiceNumber = Field(
        description="The vendor's invoice number (once per vendor).", examples=["MON-2026-0042"]
    )
    kind: VendorInvoiceKind
    account_id: EntityId | None = Field(default=None, description="Our account it bills; or a subscription.")
    subscription_id: EntityId | None = None
    tenant_id: EntityId | None = Field(
        default=None,
        description="The vendor's tenant id of our customer: its mapping (/v1/vendor-tenants) names "
        "the account and subscription.",
        examples=["monet-4711"],
    )
    overage_case_id: EntityId | None = Field(
        default=None, description="The overage case an overage invoice settles."
    )
    currency: CurrencyCode
    amount: NonNegativeAmount = Field(description="Total billed, tax-exclusive.", examples=["30000.00"])
    invoice_date: IsoDate
    period_start: IsoDate
    period_end: IsoDate = Field(description="Exclusive end of the billed period.")
    source: VendorInvoiceSource = Field(
        default=VendorInvoiceSource.FINANCE,
        description="vendor (posted electronically) or finance (entered).",
    )

    def entry(self) -> VendorInvoiceEntry:
        """The handler's view."""
        return VendorInvoiceEntry(
            vendor_id=self.vendor_id,
            number=self.number,
            kind=self.kind,
            currency=self.currency,
            amount=self.amount,
            invoice_date=self.invoice_date,
            period_start=self.period_start,
            period_end=self.period_end,
            source=self.source,
            account_id=self.account_id,
            subscription_id=self.subscription_id,
            overage_case_id=self.overage_case_id,
            tenant_id=self.tenant_id,
        )


class VendorInvoiceApprove(BaseModel):
    """Approve for payment; a flagged invoice needs `accept_difference`."""

    model_config = ConfigDict(extra="forbid")

    accept_difference: StrictBool = Field(
        default=False, description="Approve although it is flagged (amount differs, or nothing matched)."
    )
    note: Note | None = None


class VendorInvoicePay(BaseModel):
    """Record the payment of an approved invoice."""

    model_config = ConfigDict(extra="forbid")

    payment_reference: Reference | None = Field(default=None, examples=["WIRE-2026-03-0042"])


class VendorInvoicePublic(BaseModel):
    """A vendor invoice, what it matched and where it is."""

    id: str = Field(examples=["vinv_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    vendor_id: str
    number: str
    kind: VendorInvoiceKind
    account_id: str
    subscription_id: str | None
    overage_case_id: str | None
    expected_invoice_id: str | None
    currency: str
    amount: Amount
    expected_amount: Amount | None
    difference: Amount | None = Field(description="amount - expected_amount.")
    match: VendorInvoiceMatch
    flagged: bool = Field(description="Nothing matched, or the amount differs from what we expected.")
    state: VendorInvoiceState
    invoice_date: date
    period_start: date
    period_end: date
    source: VendorInvoiceSource
    received_at: datetime
    received_by: str
    approved_at: datetime | None
    approved_by: str | None
    approval_note: str | None
    paid_at: datetime | None
    paid_by: str | None
    payment_reference: str | None


def vendor_invoice_public(i: VendorInvoice) -> VendorInvoicePublic:
    """The API view of a vendor invoice."""
    currency = i.currency
    return VendorInvoicePublic(
        id=i.id,
        vendor_id=i.vendor_id,
        number=i.number,
        kind=i.kind,
        account_id=i.account_id,
        subscription_id=i.subscription_id,
        overage_case_id=i.overage_case_id,
        expected_invoice_id=i.expected_invoice_id,
        currency=currency,
        amount=amount_out(i.amount, currency),
        expected_amount=amount_out(i.expected_amount, currency),
        difference=amount_out(i.difference, currency),
        match=i.match,
        flagged=i.flagged,
        state=i.state,
        invoice_date=i.invoice_date,
        period_start=i.period_start,
        period_end=i.period_end,
        source=i.source,
        received_at=i.received_at,
        received_by=i.received_by,
        approved_at=i.approved_at,
        approved_by=i.approved_by,
        approval_note=i.approval_note,
        paid_at=i.paid_at,
        paid_by=i.paid_by,
        payment_reference=i.payment_reference,
    )
