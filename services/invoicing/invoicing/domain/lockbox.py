"""Lockbox: a bank's file of the checks it received for us, read line by line and matched.

The file is CSV with a header row naming its columns (any order; unknown columns are ignored):

| column | required | what |
| --- | --- | --- |
| `check_number` | yes | the check's number (the payment's reference) |
| `amount` | yes | the check's amount, a plain decimal ("1250.00"), the currency's minor units at most |
| `invoice_number` | no | the remittance's invoice number (INV-YYYY-NNNNNN) |
| `account_id` | no | our account id, when the remittance names it |
| `deposit_date` | yes | the day the bank deposited it (YYYY-MM-DD): the payment's received date |
| `currency` | no | ISO 4217; default the invoice's, else the account's currency |

A line is **matched** when it names an open invoice that takes the whole amount; **partly
matched** when money could be applied only in part or not where it said: the invoice took less
than the check (the rest is account credit), or the invoice number is unknown or closed and the
line's account was paid instead (oldest first); **unmatched** when it names neither an invoice
nor an account we know, or cannot be read: it is kept, unapplied, for manual application.
The file is identified by the SHA-256 of its bytes: the same file again changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from libs.platform.errors import ValidationFailed
from libs.platform.money import is_known_currency, minor_units_problem

COLUMNS = ("check_number", "amount", "invoice_number", "account_id", "deposit_date", "currency")
REQUIRED_COLUMNS = ("check_number", "amount", "deposit_date")
MAX_LINES = 10_000


class LineStatus(StrEnum):
    """How a lockbox line was matched."""

    MATCHED = "matched"
    PARTLY_MATCHED = "partly_matched"
    UNMATCHED = "unmatched"
    APPLIED_MANUALLY = "applied_manually"
    """An unmatched line a person applied later."""


@dataclass(frozen=True, slots=True)
class LockboxLine:
    """One line of a lockbox file as read (fields it could not read are None, with the reason)."""

    number: int
    """1 for the first line after the header."""
    check_number: str
    amount: Decimal | None
    invoice_number: str | None
    account_id: str | None
    deposit_date: date | None
    currency: str | None
    problem: str | None = None
    """Why the line cannot be applied as it stands (an amount or date that does not read)."""


def content_hash(content: bytes) -> str:
    """The file's identity: SHA-256 of its bytes, hex."""
    return hashlib.sha256(content).hexdigest()


def read_lockbox_file(content: bytes) -> list[LockboxLine]:
    """The lines of a lockbox CSV file (422 when it is not UTF-8 CSV with the required columns)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.single("file", "a lockbox file is UTF-8 text (CSV)") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ValidationFailed.single(
            "file", f"the header row lacks {', '.join(missing)} (columns: {', '.join(COLUMNS)})"
        )
    reader.fieldnames = header
    lines: list[LockboxLine] = []
    try:
        for row in reader:
            number = reader.line_num - 1  # the file's own line, less the header: blank lines count
            if number > MAX_LINES:
                raise ValidationFailed.single("file", f"a lockbox file holds at most {MAX_LINES} lines")
            if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
                continue
            lines.append(_line(number, row))
    except csv.Error as error:
        raise ValidationFailed.single("file", f"not a CSV file: {error}") from None
    if not lines:
        raise ValidationFailed.single("file", "the file holds no lines after its header")
    return lines


def _text(row: dict[str, str | None], name: str) -> str | None:
    value = row.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:200] or None


def _line(number: int, row: dict[str, str | None]) -> LockboxLine:
    problems: list[str] = []
    check_number = _text(row, "check_number") or ""
    if not check_number:
        problems.append("no check number")
    currency = (_text(row, "currency") or "").upper() or None
    if currency is not None and not is_known_currency(currency):
        problems.append(f"unknown currency {currency[:3]!r}")
        currency = None
    amount: Decimal | None = None
    raw_amount = _text(row, "amount") or ""
    try:
        amount = Decimal(raw_amount.replace(",", ""))
        if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -3:  # type: ignore[operator]
            raise InvalidOperation
        if currency is not None and minor_units_problem(amount, currency) is not None:
            problems.append(f"amount {raw_amount} has more decimals than {currency} has")
            amount = None
    except (InvalidOperation, ValueError):
        problems.append(f"amount {raw_amount[:20]!r} is not a positive decimal")
        amount = None
    deposit_date: date | None = None
    raw_date = _text(row, "deposit_date") or ""
    try:
        deposit_date = date.fromisoformat(raw_date)
    except ValueError:
        problems.append(f"deposit date {raw_date[:20]!r} is not YYYY-MM-DD")
    return LockboxLine(
        number=number,
        check_number=check_number[:64],
        amount=amount,
        invoice_number=_text(row, "invoice_number"),
        account_id=_text(row, "account_id"),
        deposit_date=deposit_date,
        currency=currency,
        problem="; ".join(problems) or None,
    )


@dataclass(frozen=True, slots=True)
class InvoiceOnFile:
    """What matching needs of the invoice a line names."""

    id: str
    number: str
    account_id: str
    currency: str
    amount_due: Decimal
    open: bool


@dataclass(frozen=True, slots=True)
class LineTarget:
    """Where a line's money goes: an invoice (and its account), or an account oldest first, or nowhere."""

    status: LineStatus
    reason: str | None
    account_id: str | None = None
    currency: str | None = None
    invoice_id: str | None = None


def target_of(line: LockboxLine, invoice: InvoiceOnFile | None, account_currency: str | None) -> LineTarget:
    """Where a line's money goes, before it is applied: `invoice` is the one its number names (None:
    no number, or unknown); `account_currency` the currency of the account it names (None: unknown)."""
    if line.problem is not None or line.amount is None:
        return LineTarget(LineStatus.UNMATCHED, line.problem or "unreadable")
    if invoice is not None and line.account_id and line.account_id != invoice.account_id:
        return LineTarget(
            LineStatus.UNMATCHED,
            f"invoice {invoice.number} belongs to another account than {line.account_id}",
        )
    if invoice is not None and invoice.open and line.currency in (None, invoice.currency):
        status = LineStatus.MATCHED if line.amount <= invoice.amount_due else LineStatus.PARTLY_MATCHED
        reason = None
        if status is LineStatus.PARTLY_MATCHED:
            excess = line.amount - invoice.amount_due
            reason = f"the check is {excess} more than invoice {invoice.number} owed: kept as account credit"
        return LineTarget(status, reason, invoice.account_id, invoice.currency, invoice.id)
    why = _why_not_invoice(line, invoice)
    account_id = line.account_id or (invoice.account_id if invoice is not None else None)
    currency = account_currency if line.account_id else (invoice.currency if invoice is not None else None)
    if account_id is None or currency is None:
        return LineTarget(LineStatus.UNMATCHED, f"{why}; no account we know is named")
    if line.currency not in (None, currency):
        return LineTarget(LineStatus.UNMATCHED, f"a {line.currency} check for a {currency} account")
    return LineTarget(
        LineStatus.PARTLY_MATCHED,
        f"{why}: applied to account {account_id}'s open invoices, oldest first",
        account_id,
        currency,
    )


def _why_not_invoice(line: LockboxLine, invoice: InvoiceOnFile | None) -> str:
    if not line.invoice_number:
        return "no invoice number"
    if invoice is None:
        return f"invoice {line.invoice_number} is unknown"
    if not invoice.open:
        return f"invoice {invoice.number} is not open"
    return f"a {line.currency} check for a {invoice.currency} invoice {invoice.number}"


@dataclass(slots=True)
class ImportedLine:
    """A line as imported: what the bank sent, how it was matched, the payment it made."""

    line: LockboxLine
    status: LineStatus
    reason: str | None
    payment_id: str | None = None


@dataclass(eq=False)
class LockboxFile:
    """An imported lockbox file and its lines."""

    id: str
    content_hash: str
    filename: str | None
    imported_at: datetime
    lines: list[ImportedLine]

    def count(self, status: LineStatus) -> int:
        """How many lines have `status`."""
        return sum(1 for line in self.lines if line.status is status)

    def line(self, number: int) -> ImportedLine | None:
        """The line numbered `number` (1 = the first after the header), if any."""
        return next((line for line in self.lines if line.line.number == number), None)
