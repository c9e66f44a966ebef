"""Views of lockbox files (`/v1/lockbox-files`) and the request to apply an unmatched line by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from invoicing.domain.lockbox import ImportedLine, LineStatus, LockboxFile
from libs.contracts.types import Amount
from libs.platform.money import amount_out, decimal_out

EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class LockboxLinePublic(BaseModel):
    """One check of the file: what the bank sent and how it was matched."""

    number: int = Field(description="1 for the first line after the header.")
    check_number: str
    amount: Amount | None
    currency: str | None = Field(description="As the file said, else the currency the check was applied in.")
    invoice_number: str | None
    account_id: str | None
    deposit_date: date | None
    status: LineStatus
    reason: str | None
    payment_id: str | None


class LockboxReport(BaseModel):
    """How many lines were matched, partly matched, left unmatched, applied by hand."""

    lines: int
    matched: int
    partly_matched: int
    unmatched: int
    applied_manually: int


class LockboxFilePublic(BaseModel):
    """An imported lockbox file: its report and its lines."""

    id: str = Field(examples=["lbx_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    content_hash: str = Field(description="SHA-256 of the file: the same file is imported once.")
    filename: str | None
    imported_at: datetime
    already_imported: bool = Field(description="True when this call found the file imported before.")
    report: LockboxReport
    lines: list[LockboxLinePublic]


class LineApply(BaseModel):
    """Apply an unmatched line to an account (its named invoices, else oldest first)."""

    model_config = ConfigDict(extra="forbid")

    account_id: EntityId
    invoice_ids: list[EntityId] = Field(default_factory=list, max_length=100)


def _amount(amount: Decimal | None, currency: str | None) -> Decimal | None:
    # With its currency known, an amount has its minor units; else its shortest exact form.
    if amount is None:
        return None
    return amount_out(amount, currency) if currency else decimal_out(amount)


def line_public(imported: ImportedLine) -> LockboxLinePublic:
    """The view of a line."""
    line = imported.line
    return LockboxLinePublic(
        number=line.number,
        check_number=line.check_number,
        amount=_amount(line.amount, line.currency),
        currency=line.currency,
        invoice_number=line.invoice_number,
        account_id=line.account_id,
        deposit_date=line.deposit_date,
        status=imported.status,
        reason=imported.reason,
        payment_id=imported.payment_id,
    )


def lockbox_file_public(file: LockboxFile, *, already_imported: bool = False) -> LockboxFilePublic:
    """The view of a file with its report."""
    return LockboxFilePublic(
        id=file.id,
        content_hash=file.content_hash,
        filename=file.filename,
        imported_at=file.imported_at,
        already_imported=already_imported,
        report=LockboxReport(
            lines=len(file.lines),
            matched=file.count(LineStatus.MATCHED),
            partly_matched=file.count(LineStatus.PARTLY_MATCHED),
            unmatched=file.count(LineStatus.UNMATCHED),
            applied_manually=file.count(LineStatus.APPLIED_MANUALLY),
        ),
        lines=[line_public(line) for line in file.lines],
    )
