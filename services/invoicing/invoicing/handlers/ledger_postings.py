"""Use cases of the `invoicing.ledger` consumer: invoicing's own events booked in the general ledger.

Each event is applied once (the consumer's inbox, and the journal's unique source key behind it):
- `invoice.finalized`: a revenue schedule per line (by its product's revenue rule) and the
  invoice's entry (Dr receivable; Cr revenue / deferred revenue; Cr tax payable);
- `invoice.voided` (an issued one): everything left on its schedules credited on the void date;
- `credit_note.issued`: its share of each schedule, recognised and deferred, and its entry;
- `payment.received`, `payment.refunded`, `payment.reversed`, `invoice.written_off`: cash,
  receivable, customer credit and bad debt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from invoicing.domain.invoices import ACCOUNT_CREDIT_KIND
from invoicing.domain.ledger import (
    ChartOfAccounts,
    EntryKind,
    JournalEntry,
    JournalLine,
    RevenueSplit,
    credit_applied_postings,
    credit_postings,
    invoice_postings,
    payment_postings,
    payment_return_postings,
    write_off_postings,
)
from invoicing.domain.revenue import (
    ZERO,
    RevenueSchedule,
    credit_schedule,
    rule_for_line,
    schedule_months,
    spread_credit,
)
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from libs.contracts.invoicing import CreditNoteIssued, InvoiceFinalized, InvoiceVoided
from libs.contracts.payments import (
    InvoiceWrittenOff,
    PaymentCreditApplied,
    PaymentReceived,
    PaymentRefunded,
    PaymentReversed,
)
from libs.contracts.vocabulary import RevenueRule
from libs.platform.audit import AuditChange
from libs.platform.errors import RetryableError, ValidationFailed
from libs.platform.ids import new_id


def _entry(
    kind: EntryKind,
    *,
    on: date,
    currency: str,
    source_id: str,
    account_id: str | None,
    description: str,
    lines: tuple[JournalLine, ...],
) -> JournalEntry | None:
    """The entry, or None when nothing moves (every amount zero: a zero invoice books nothing)."""
    if not lines:
        return None
    return JournalEntry(
        id=new_id("je"),
        kind=kind,
        entry_date=on,
        currency=currency,
        source_id=source_id,
        account_id=account_id,
        description=description,
        lines=lines,
    )


def _posted(entry: JournalEntry) -> AuditChange:
    return (
        "journal_entry.posted",
        "journal_entry",
        entry.id,
        {
            "kind": entry.kind.value,
            "source_id": entry.source_id,
            "entry_date": entry.entry_date.isoformat(),
            "currency": entry.currency,
            "total": str(entry.total),
        },
    )


async def _post(uow: InvoicingUnitOfWork, entry: JournalEntry | None) -> None:
    if entry is not None:
        await uow.ledger.add(entry)
        uow.audit(*_posted(entry))
    await uow.commit()


async def _post_once(
    uow: InvoicingUnitOfWork,
    kind: EntryKind,
    source_id: str,
    *,
    on: date,
    currency: str,
    account_id: str,
    description: str,
    lines: tuple[JournalLine, ...],
) -> JournalEntry | None:
    """Book what one event says, once: None when its entry (kind, source) is posted already."""
    if await uow.ledger.posted(kind, source_id):
        return None
    entry = _entry(
        kind,
        on=on,
        currency=currency,
        source_id=source_id,
        account_id=account_id,
        description=description,
        lines=lines,
    )
    await _post(uow, entry)
    return entry


async def post_invoice_finalized(
    *, uow: InvoicingUnitOfWork, event: InvoiceFinalized, chart: ChartOfAccounts
) -> JournalEntry | None:
    """Schedule every line of an issued invoice and book it; None when it was booked already."""
    return (await post_invoices_finalized(uow=uow, events=[event], chart=chart))[0]


async def post_invoices_finalized(
    *, uow: InvoicingUnitOfWork, events: Sequence[InvoiceFinalized], chart: ChartOfAccounts
) -> list[JournalEntry | None]:
    """Schedule and book many issued invoices at once (a bill run's burst of `invoice.finalized`):
    one look-up of what is booked already and of the products' rules, one insert per table for
    all of them. Each invoice is booked exactly as on its own; its entry, or None when it was
    booked already (before, or earlier in `events`)."""
    booked = await uow.revenue.invoices_scheduled({event.invoice_id for event in events})
    rules = await uow.revenue.product_rules(
        {line.product_id for event in events for line in event.lines if line.product_id}
    )
    results: list[JournalEntry | None] = []
    bookings: list[tuple[list[RevenueSchedule], str | None]] = []
    entries: list[JournalEntry] = []
    for event in events:
        if event.invoice_id in booked:
            results.append(None)
            continue
        booked.add(event.invoice_id)
        schedules, entry = _invoice_booking(event, rules, chart)
        bookings.append((schedules, None if entry is None else entry.id))
        if entry is not None:
            entries.append(entry)
        results.append(entry)
    await uow.revenue.add_many(bookings)
    await uow.ledger.add_many(entries)
    await uow.audit_many([_posted(entry) for entry in entries])
    await uow.commit()
    return results


def _invoice_booking(
    event: InvoiceFinalized, rules: Mapping[str, RevenueRule], chart: ChartOfAccounts
) -> tuple[list[RevenueSchedule], JournalEntry | None]:
    """An issued invoice's schedules (one per line, by its product's revenue rule) and its entry
    (Dr receivable; Cr revenue / deferred revenue; Cr tax payable)."""
    schedules: list[RevenueSchedule] = []
    # The excess credit the invoice carried to the account is no revenue: it is customer credit.
    carried = sum((line.amount for line in event.lines if line.kind == ACCOUNT_CREDIT_KIND), ZERO)
    for line in event.lines:
        if line.kind == ACCOUNT_CREDIT_KIND:
            continue
        rule = rule_for_line(line.kind, rules.get(line.product_id) if line.product_id else None)
        schedules.append(
            RevenueSchedule(
                id=new_id("rsch"),
                invoice_id=event.invoice_id,
                invoice_number=event.number,
                account_id=event.account_id,
                currency=event.currency,
                charge_key=line.charge_key,
                description=line.description[:500],
                product_id=line.product_id,
                rule=rule,
                invoice_date=event.invoice_date,
                period_start=line.period_start,
                period_end=line.period_end,
                amount=line.amount,
                tax_amount=line.tax_amount,
                months=schedule_months(
                    rule=rule,
                    amount=line.amount,
                    currency=event.currency,
                    invoice_date=event.invoice_date,
                    period_start=line.period_start,
                    period_end=line.period_end,
                ),
            )
        )
    split = RevenueSplit(
        recognized=sum((s.amount for s in schedules if not s.deferred_at_billing), ZERO),
        deferred=sum((s.amount for s in schedules if s.deferred_at_billing), ZERO),
    )
    entry = _entry(
        EntryKind.INVOICE,
        on=event.invoice_date,
        currency=event.currency,
        source_id=event.invoice_id,
        account_id=event.account_id,
        description=f"Invoice {event.number}",
        lines=invoice_postings(
            chart, total=event.total, split=split, tax=event.tax_total, account_credit=carried
        ),
    )
    return schedules, entry


async def _schedules_of(uow: InvoicingUnitOfWork, invoice_id: str) -> list[RevenueSchedule]:
    schedules = await uow.revenue.of_invoice(invoice_id)
    if not schedules:
        # The invoice's own event comes first on its account's partition; without it (an invoice
        # issued before the ledger read the topic) wait for a replay of `invoice.finalized`.
        raise RetryableError(f"invoice {invoice_id!r} has no revenue schedules yet")
    return schedules


async def _credit(
    uow: InvoicingUnitOfWork,
    parts: Sequence[tuple[RevenueSchedule, Decimal, Decimal]],
    *,
    credit_id: str,
    on: date,
) -> tuple[RevenueSplit, Decimal]:
    recognized, deferred, tax = ZERO, ZERO, ZERO
    for schedule, amount, tax_part in parts:
        credited, share = credit_schedule(schedule, credit_id=credit_id, amount=amount, tax=tax_part, on=on)
        await uow.revenue.save_credited(credited, share)
        recognized += share.recognized_share
        deferred += share.deferred_share
        tax += share.tax_share
    return RevenueSplit(recognized=recognized, deferred=deferred), tax


async def post_credit_note(
    *, uow: InvoicingUnitOfWork, event: CreditNoteIssued, chart: ChartOfAccounts
) -> JournalEntry | None:
    """Take a credit note's share off its invoice's schedules and book it; None when booked already."""
    if await uow.ledger.posted(EntryKind.CREDIT_NOTE, event.credit_note_id):
        return None
    schedules = await _schedules_of(uow, event.invoice_id)
    by_key = {schedule.charge_key: schedule for schedule in schedules}
    parts: list[tuple[RevenueSchedule, Decimal, Decimal]] = []
    for line in event.lines:
        if line.charge_key is None:
            parts.extend(spread_credit(schedules, line.amount, line.tax_amount, event.currency))
        elif line.charge_key in by_key:
            parts.append((by_key[line.charge_key], line.amount, line.tax_amount))
        else:
            raise ValidationFailed.single(
                "charge_key", f"{line.charge_key!r} is no line of {event.invoice_number}"
            )
    parts = _merged(parts)
    split, tax = await _credit(uow, parts, credit_id=event.credit_note_id, on=event.note_date)
    entry = _entry(
        EntryKind.CREDIT_NOTE,
        on=event.note_date,
        currency=event.currency,
        source_id=event.credit_note_id,
        account_id=event.account_id,
        description=f"Credit note {event.number} on {event.invoice_number}",
        lines=credit_postings(chart, split=split, tax=tax, account_credit=event.account_credit),
    )
    await _post(uow, entry)
    return entry


def _merged(
    parts: Sequence[tuple[RevenueSchedule, Decimal, Decimal]],
) -> list[tuple[RevenueSchedule, Decimal, Decimal]]:
    """One part per schedule (a note may credit a line and the whole invoice at once)."""
    merged: dict[str, tuple[RevenueSchedule, Decimal, Decimal]] = {}
    for schedule, amount, tax in parts:
        _, before, tax_before = merged.get(schedule.id, (schedule, ZERO, ZERO))
        merged[schedule.id] = (schedule, before + amount, tax_before + tax)
    return list(merged.values())


async def post_invoice_voided(
    *, uow: InvoicingUnitOfWork, event: InvoiceVoided, chart: ChartOfAccounts
) -> JournalEntry | None:
    """Reverse what an issued invoice still carries on its void date; a discarded draft books nothing."""
    if event.number is None or await uow.ledger.posted(EntryKind.INVOICE_VOID, event.invoice_id):
        return None
    schedules = await _schedules_of(uow, event.invoice_id)
    on = event.voided_at.date()
    parts = [
        (s, s.remaining, s.tax_amount - s.tax_credited) for s in schedules if s.remaining or s.tax_amount
    ]
    split, tax = await _credit(uow, parts, credit_id=event.invoice_id, on=on)
    entry = _entry(
        EntryKind.INVOICE_VOID,
        on=on,
        currency=event.currency,
        source_id=event.invoice_id,
        account_id=event.account_id,
        description=f"Invoice {event.number} voided",
        lines=credit_postings(chart, split=split, tax=tax, account_credit=ZERO),
    )
    await _post(uow, entry)
    return entry


async def post_payment_received(
    *, uow: InvoicingUnitOfWork, event: PaymentReceived, chart: ChartOfAccounts
) -> JournalEntry | None:
    """Dr cash; Cr receivable what invoices took, Cr customer credit the unapplied rest."""
    applied = sum((allocation.amount for allocation in event.allocations), ZERO)
    return await _post_once(
        uow,
        EntryKind.PAYMENT,
        event.payment_id,
        on=event.received_on,
        currency=event.currency,
        account_id=event.account_id,
        description=f"Payment {event.payment_id} ({event.method_kind})",
        lines=payment_postings(chart, amount=event.amount, applied=applied, unapplied=event.unapplied),
    )


async def post_payment_credit_applied(
    *, uow: InvoicingUnitOfWork, event: PaymentCreditApplied, chart: ChartOfAccounts
) -> JournalEntry | None:
    """Dr customer credit; Cr receivable what the invoices took of the account's credit."""
    applied = sum((allocation.amount for allocation in event.allocations), ZERO)
    return await _post_once(
        uow,
        EntryKind.CREDIT_APPLIED,
        ":".join([event.payment_id, *(allocation.invoice_id for allocation in event.allocations)]),
        on=event.applied_at.date(),
        currency=event.currency,
        account_id=event.account_id,
        description=f"Credit of payment {event.payment_id} applied",
        lines=credit_applied_postings(chart, amount=applied),
    )


async def post_payment_refunded(
    *, uow: InvoicingUnitOfWork, event: PaymentRefunded, chart: ChartOfAccounts
) -> JournalEntry | None:
    """Cr cash the refund; Dr receivable the invoices reopened, Dr customer credit what it used."""
    return await _post_money_back(
        uow,
        chart,
        event,
        EntryKind.REFUND,
        event.refund_id,
        on=event.refunded_at.date(),
        amount=event.refunded,
        description=f"Refund {event.refund_id} of payment {event.payment_id}",
    )


async def post_payment_reversed(
    *, uow: InvoicingUnitOfWork, event: PaymentReversed, chart: ChartOfAccounts
) -> JournalEntry | None:
    """A payment taken back (bounced check): Cr cash; Dr receivable and customer credit."""
    return await _post_money_back(
        uow,
        chart,
        event,
        EntryKind.REVERSAL,
        event.payment_id,
        on=event.reversed_at.date(),
        amount=event.amount,
        description=f"Payment {event.payment_id} reversed: {event.reason}"[:500],
    )


async def _post_money_back(
    uow: InvoicingUnitOfWork,
    chart: ChartOfAccounts,
    event: PaymentRefunded | PaymentReversed,
    kind: EntryKind,
    source_id: str,
    *,
    on: date,
    amount: Decimal,
    description: str,
) -> JournalEntry | None:
    """A refund or a reversal booked once: what it reopened on invoices and took from credit, out of cash."""
    reopened = sum((allocation.amount for allocation in event.allocations), ZERO)
    return await _post_once(
        uow,
        kind,
        source_id,
        on=on,
        currency=event.currency,
        account_id=event.account_id,
        description=description,
        lines=payment_return_postings(
            chart, amount=amount, reopened=reopened, credit_used=event.account_credit_used
        ),
    )


async def post_invoice_written_off(
    *, uow: InvoicingUnitOfWork, event: InvoiceWrittenOff, chart: ChartOfAccounts
) -> JournalEntry | None:
    """Dr bad debt expense; Cr receivable what was written off."""
    return await _post_once(
        uow,
        EntryKind.WRITE_OFF,
        event.invoice_id,
        on=event.written_off_at.date(),
        currency=event.currency,
        account_id=event.account_id,
        description=f"Invoice {event.invoice_number} written off",
        lines=write_off_postings(chart, amount=event.amount),
    )
