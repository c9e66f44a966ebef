"""Requests and views of vendor commitments (`/v1/vendor-commitments`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from libs.contracts.types import Amount, IsoDate, Quantity, StrictInt
from libs.platform.errors import ValidationFailed
from libs.platform.money import amount_out, decimal_out, unit_price_out
from libs.platform.periods import add_months
from overage.domain.vendor_commitments import (
    MAX_TERM_MONTHS,
    CommitmentSource,
    ExpectedVendorInvoice,
    ManualCommitment,
    VendorCommitment,
)
from overage.domain.vendor_invoices import VendorInvoice, VendorInvoiceMatch

EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class CommitmentCreate(BaseModel):
    """A resold commitment entered by finance: seats of a subscription bought from a vendor."""

    model_config = ConfigDict(extra="forbid")

    vendor_id: EntityId = Field(examples=["ven_monet"])
    account_id: EntityId = Field(examples=["acct_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    subscription_id: EntityId = Field(examples=["sub_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    product_id: EntityId | None = None
    cost_book_id: EntityId = Field(
        description="The vendor's cost book in the catalog.", examples=["cb_monet"]
    )
    seats: Quantity = Field(description="Committed seats.", examples=[250])
    term_start: IsoDate = Field(examples=["2026-03-01"])
    term_end: IsoDate | None = Field(default=None, description="Exclusive end; or give term_months.")
    term_months: StrictInt | None = Field(
        default=None,
        ge=1,
        le=MAX_TERM_MONTHS,
        description="Length of the term (36 for 3 years).",
        examples=[36],
    )

    def entry(self) -> ManualCommitment:
        """The handler's view."""
        if (self.term_end is None) == (self.term_months is None):
            raise ValidationFailed.single("term_months", "give exactly one of term_end and term_months")
        end = self.term_end
        if end is None:
            assert self.term_months is not None
            try:
                end = add_months(self.term_start, self.term_months)
            except ValidationFailed:
                raise ValidationFailed.single("term_months", "the term ends past the calendar") from None
        return ManualCommitment(
            vendor_id=self.vendor_id,
            account_id=self.account_id,
            subscription_id=self.subscription_id,
            cost_book_id=self.cost_book_id,
            seats=self.seats,
            term_start=self.term_start,
            term_end=end,
            product_id=self.product_id,
        )


ExpectedStatus = Literal["expected", "received", "amount_differs"]


class ExpectedVendorInvoicePublic(BaseModel):
    """An annual vendor invoice we expect, and the received one that matched it (if any)."""

    id: str
    sequence: int = Field(description="1 for the term's first year.")
    period_start: date
    period_end: date = Field(description="Exclusive end of the year it bills.")
    invoice_date: date = Field(description="In advance: the year's first day.")
    currency: str
    amount: Amount
    status: ExpectedStatus
    vendor_invoice_id: str | None
    received_amount: Amount | None
    difference: Amount | None = Field(description="received - expected.")


class CommitmentPublic(BaseModel):
    """A vendor commitment with its expected annual invoices."""

    id: str = Field(examples=["vcom_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    vendor_id: str
    account_id: str
    subscription_id: str
    product_id: str | None
    cost_book_id: str
    cost_book_version: int
    currency: str
    seats: Decimal
    term_start: date
    term_end: date
    unit_cost: Decimal = Field(description="The vendor's cost per seat per book period for these seats.")
    book_period: str = Field(description="The period the cost book prices (monthly).")
    annual_amount: Amount = Field(description="One full year of the commitment.")
    total_amount: Amount = Field(description="Sum of the expected invoices.")
    source: CommitmentSource
    created_at: datetime
    expected_invoices: list[ExpectedVendorInvoicePublic]


def commitment_public(c: VendorCommitment, received: dict[str, VendorInvoice]) -> CommitmentPublic:
    """The API view of a commitment, with the received invoice that matched each expected one."""
    return CommitmentPublic(
        id=c.id,
        vendor_id=c.vendor_id,
        account_id=c.account_id,
        subscription_id=c.subscription_id,
        product_id=c.product_id,
        cost_book_id=c.cost_book_id,
        cost_book_version=c.cost_book_version,
        currency=c.currency,
        seats=decimal_out(c.seats),
        term_start=c.term_start,
        term_end=c.term_end,
        unit_cost=unit_price_out(c.unit_cost),
        book_period=c.book_period,
        annual_amount=amount_out(c.annual_amount, c.currency),
        total_amount=amount_out(c.total_amount, c.currency),
        source=c.source,
        created_at=c.created_at,
        expected_invoices=[_expected(e, received.get(e.id)) for e in c.expected_invoices],
    )


def _expected(e: ExpectedVendorInvoice, received: VendorInvoice | None) -> ExpectedVendorInvoicePublic:
    status: ExpectedStatus = "expected"
    if received is not None:
        status = "amount_differs" if received.match is VendorInvoiceMatch.AMOUNT_DIFFERS else "received"
    return ExpectedVendorInvoicePublic(
        id=e.id,
        sequence=e.sequence,
        period_start=e.period_start,
        period_end=e.period_end,
        invoice_date=e.invoice_date,
        currency=e.currency,
        amount=amount_out(e.amount, e.currency),
        status=status,
        vendor_invoice_id=received.id if received else None,
        received_amount=amount_out(received.amount, e.currency) if received else None,
        difference=amount_out(received.difference, e.currency) if received else None,
    )
