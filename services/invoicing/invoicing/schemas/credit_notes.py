"""Requests and views of credit notes (`/v1/credit-notes`).

Amounts asked are net (tax-exclusive); each line's tax is credited in proportion to what the
invoice charged and shown on the line. Amounts have exactly the currency's minor units.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from invoicing.domain.credit_notes import CreditNote, CreditNoteLine, CreditNoteState, CreditRequest
from libs.contracts.types import Amount, CurrencyCode, NonNegativeAmount, Percent
from libs.platform.money import amount_out, percent_out
from libs.platform.text import MULTI_LINE, ONE_LINE

Reason = Annotated[str, StringConstraints(min_length=1, max_length=500), MULTI_LINE]
ChargeKey = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
Description = Annotated[str, StringConstraints(min_length=1, max_length=500), ONE_LINE]
EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class CreditLineRequest(BaseModel):
    """A net amount credited on one invoice line (its charge key), or on the whole invoice."""

    model_config = ConfigDict(extra="forbid")

    amount: NonNegativeAmount = Field(description="Net, positive, at most the currency's minor units.")
    charge_key: ChargeKey | None = Field(
        default=None, description="The invoice line; omit for a plain amount."
    )
    description: Description | None = None


class CreditNoteCreate(BaseModel):
    """A credit note against an issued invoice."""

    model_config = ConfigDict(extra="forbid")

    invoice_id: EntityId
    currency: CurrencyCode = Field(description="Must be the invoice's currency.")
    reason: Reason = Field(examples=["Billed 12 seats, 10 were ordered"])
    lines: list[CreditLineRequest] = Field(min_length=1, max_length=500)

    def requests(self) -> list[CreditRequest]:
        """The lines as the domain takes them."""
        return [CreditRequest(line.amount, line.charge_key, line.description) for line in self.lines]


class CreditNoteLinePublic(BaseModel):
    """One credited line with its tax."""

    charge_key: str | None = Field(description="The invoice line credited; null for a plain amount.")
    description: str
    amount: Amount
    tax_rate: Percent
    tax_amount: Amount
    total: Amount
    tax_code: str | None
    tax_jurisdiction: str | None


class CreditNotePublic(BaseModel):
    """An issued credit note."""

    id: str = Field(examples=["cn_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    number: str = Field(description="CN-YYYY-NNNNNN, gap-free.")
    state: CreditNoteState
    invoice_id: str
    invoice_number: str
    account_id: str
    currency: str
    note_date: date
    reason: str
    lines: list[CreditNoteLinePublic]
    subtotal: Amount
    tax_total: Amount
    total: Amount
    account_credit: Amount = Field(
        description="What exceeded the invoice's amount due: the account's credit."
    )
    dispute_id: str | None
    created_at: datetime


def credit_note_public(note: CreditNote) -> CreditNotePublic:
    """The API view of a credit note."""
    currency = note.currency
    return CreditNotePublic(
        id=note.id,
        number=note.number_text,
        state=note.state,
        invoice_id=note.invoice_id,
        invoice_number=note.invoice_number,
        account_id=note.account_id,
        currency=currency,
        note_date=note.note_date,
        reason=note.reason,
        lines=[_line(line, currency) for line in note.lines],
        subtotal=amount_out(note.subtotal, currency),
        tax_total=amount_out(note.tax_total, currency),
        total=amount_out(note.total, currency),
        account_credit=amount_out(note.account_credit, currency),
        dispute_id=note.dispute_id,
        created_at=note.created_at,
    )


def _line(line: CreditNoteLine, currency: str) -> CreditNoteLinePublic:
    return CreditNoteLinePublic(
        charge_key=line.charge_key,
        description=line.description,
        amount=amount_out(line.amount, currency),
        tax_rate=percent_out(line.tax_rate),
        tax_amount=amount_out(line.tax_amount, currency),
        total=amount_out(line.total, currency),
        tax_code=line.tax_code,
        tax_jurisdiction=line.tax_jurisdiction,
    )
