"""What a statement document shows, as formatted text — with the invoice's helpers (`view`): one
way to format money and dates. Charges and credits are printed in their own columns, positive,
as a finance team reads a statement; the running balance is signed (negative: a credit)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import get_currency_symbol

from invoicing.documents.view import EN_DASH, Issuer, document_locale, format_amount, format_day
from invoicing.domain.invoices import DEFAULT_LOCALE
from invoicing.domain.statements import EntryKind, StatementSection
from invoicing.handlers.statements import AccountStatement

KIND_LABELS = {
    EntryKind.INVOICE: "Invoice",
    EntryKind.INVOICE_VOID: "Invoice voided",
    EntryKind.CREDIT_NOTE: "Credit note",
    EntryKind.DEBIT_ADJUSTMENT: "Debit adjustment",
    EntryKind.CREDIT_ADJUSTMENT: "Credit adjustment",
    EntryKind.PAYMENT: "Payment received",
    EntryKind.PAYMENT_REVERSAL: "Payment reversed",
    EntryKind.REFUND: "Refund",
    EntryKind.WRITE_OFF: "Written off",
}
SECTION_LABELS = {
    StatementSection.PAYMENTS: "Payments",
    StatementSection.CREDITS_AND_ADJUSTMENTS: "Adjustments and credit notes",
    StatementSection.INVOICES: "New invoices",
}


@dataclass(frozen=True)
class StatementDocumentLine:
    """One row of the activity table."""

    date: str
    reference: str
    description: str
    charge: str
    credit: str
    balance: str


@dataclass(frozen=True)
class StatementDocument:
    """Every string a statement document prints (its header and bill-to laid out as an invoice's)."""

    title: str
    number: str
    state: str
    watermark: str | None
    issuer: Issuer
    facts: list[tuple[str, str]]
    bill_to: list[str]
    summary: list[tuple[str, str]]
    balance_label: str
    balance: str
    lines: list[StatementDocumentLine]
    notes: list[str] = field(default_factory=list)
    currency: str = ""
    locale: str = DEFAULT_LOCALE


def statement_document(
    found: AccountStatement,
    issuer: Issuer,
    *,
    locale_name: str | None = None,
    drawable: Callable[[str], bool] | None = None,
) -> StatementDocument:
    """The printed form of a statement, amounts and dates in `locale_name` (by default the
    account's locale, as its invoices; amounts with the ISO code where `drawable` says the output
    has no glyph for the currency symbol, as on invoices)."""
    account, statement = found.account, found.statement
    locale = document_locale(locale_name or account.locale)
    currency = statement.currency
    symbol = drawable is None or drawable(get_currency_symbol(currency, locale=locale))

    def money(amount: Decimal) -> str:
        return format_amount(amount, currency, locale, symbol=symbol)

    period = statement.period
    start, end = format_day(period.start, locale), format_day(period.end, locale)
    facts = [
        ("Statement date", end),
        ("Period", f"{start} {EN_DASH} {end}"),
        ("Account", account.account_id),
        ("Currency", currency),
    ]
    brought_forward = StatementDocumentLine(
        start, "", "Balance brought forward", "", "", money(statement.previous_balance)
    )
    lines = [brought_forward]
    for line in statement.lines:
        entry = line.entry
        description = KIND_LABELS.get(entry.kind, entry.kind.value.replace("_", " ").capitalize())
        if entry.description:
            description += f": {entry.description}"
        if entry.kind is EntryKind.INVOICE and entry.due_date is not None:
            description += f" (due {format_day(entry.due_date, locale)})"
        lines.append(
            StatementDocumentLine(
                date=format_day(entry.on, locale),
                reference=entry.reference,
                description=description,
                charge=money(entry.signed_amount) if entry.signed_amount > 0 else "",
                credit=money(-entry.signed_amount) if entry.signed_amount < 0 else "",
                balance=money(line.balance),
            )
        )
    due = statement.balance_due
    summary = [("Previous balance", money(statement.previous_balance))]
    summary += [(SECTION_LABELS[s], money(statement.section_total(s))) for s in StatementSection]
    return StatementDocument(
        title="Statement",
        number=f"{account.account_id} {period.end.isoformat()}",
        state="CREDIT BALANCE" if due < 0 else ("AMOUNT DUE" if due > 0 else "SETTLED"),
        watermark=None,
        issuer=issuer,
        facts=facts,
        bill_to=_bill_to(found),
        summary=summary,
        balance_label="Credit balance" if due < 0 else "Balance due",
        balance=money(-due if due < 0 else due),
        lines=lines,
        notes=_notes(found, issuer, money(-due if due < 0 else due), end),
        currency=currency,
        locale=str(locale),
    )


def _bill_to(found: AccountStatement) -> list[str]:
    account = found.account
    tax = account.tax
    place = ", ".join(
        part for part in (" ".join(p for p in (tax.region, tax.postal_code) if p), tax.country) if part
    )
    return (
        [account.name]
        + [part for part in (place, account.billing_email) if part]
        + [f"Customer {account.customer_id}"]
    )


def _notes(found: AccountStatement, issuer: Issuer, balance: str, end: str) -> list[str]:
    account, statement = found.account, found.statement
    notes = [
        f"Amounts in {statement.currency}, charges including tax. Activity to the end of {end} "
        f"({account.time_zone} time): payments and credits received after that are not shown."
    ]
    if account.bills_to_parent and account.parent_account_id:
        notes.append(
            f"This account's charges are invoiced to its parent account {account.parent_account_id}: "
            "they appear on that account's statement."
        )
    due = statement.balance_due
    if due < 0:
        notes.append(f"You have a credit of {balance}: it will be applied to your next invoices.")
    elif due > 0:
        notes.append(f"Please pay the balance of {balance}, quoting the invoice numbers above.")
        if issuer.payment_instructions:
            notes.append(issuer.payment_instructions)
    return notes
