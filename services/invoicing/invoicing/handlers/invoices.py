"""Use cases of invoices: draft one (exactly once per account, currency, period and run), finalize
it (number, dates, `invoice.finalized`), void it, change a draft's note, read and list them.

The bill run calls `stage_draft` inside its own transaction (or `draft_invoice`, which commits);
both are idempotent: asked again for a key an invoice already holds — a repeated run, two runs at
once, a run restarted after a crash — they answer that invoice and store nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from invoicing.domain.billing_inputs import BilledCharge, BillingAccount
from invoicing.domain.invoice_lines import billed_after
from invoicing.domain.invoice_numbers import DocumentNumber, invoice_series
from invoicing.domain.invoices import (
    DEFAULT_LOCALE,
    Invoice,
    InvoiceConflict,
    InvoiceLine,
    RunKind,
    bill_to_of,
)
from invoicing.events.invoices import outgoing_of, serialized_of
from invoicing.handlers.account_credit import settle_issued
from invoicing.handlers.invoices_port import BillingPeriodKey, InvoiceFilters, InvoiceKeyTaken
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


@dataclass(frozen=True)
class DraftOutcome:
    """The invoice holding the key, and whether this call drafted it (False: it was there already)."""

    invoice: Invoice
    created: bool


async def stage_draft(
    *,
    uow: InvoicingUnitOfWork,
    account: BillingAccount,
    currency: str,
    period_start: date,
    period_end: date,
    lines: Sequence[InvoiceLine],
    billed: Sequence[BilledCharge] = (),
    run_kind: RunKind = RunKind.CYCLE,
    run_source_id: str = "",
    tax_exemption_note: str | None = None,
    locale: str = DEFAULT_LOCALE,
) -> DraftOutcome:
    """Stage a draft for the account's period in `uow` (not committed), or find the one there.

    `lines` are the charge calculation's lines with their tax; `billed` is what the charges were
    computed against (each line then names the invoice that last billed its charge, so a charge a
    concurrent run billed meanwhile is refused with `ChargeBilledMeanwhile`, 409, and recomputed).
    An on-demand run names what it bills in `run_source_id` (the fulfillment id).
    """
    request = DraftRequest(
        account,
        currency,
        period_start,
        period_end,
        lines,
        billed,
        run_kind,
        run_source_id,
        tax_exemption_note,
    )
    key = request.key
    existing = await uow.invoices.find_by_key(key)
    if existing is not None:
        return DraftOutcome(existing, created=False)
    invoice = request.draft(locale=locale, created_at=uow.clock.now())
    try:
        await uow.invoices.add(invoice)
    except InvoiceKeyTaken:
        # Another run drafted it between our look-up and our insert: answer with its invoice.
        holder = await uow.invoices.find_by_key(key)
        if holder is None:
            raise
        return DraftOutcome(holder, created=False)
    _stage_events(uow, invoice)
    uow.audit("invoice.drafted", "invoice", invoice.id, _draft_audit(invoice))
    return DraftOutcome(invoice, created=True)


@dataclass(frozen=True)
class DraftRequest:
    """One invoice a bill run's chunk issues (the arguments of `stage_draft`)."""

    account: BillingAccount
    currency: str
    period_start: date
    period_end: date
    lines: Sequence[InvoiceLine]
    billed: Sequence[BilledCharge] = ()
    run_kind: RunKind = RunKind.CYCLE
    run_source_id: str = ""
    tax_exemption_note: str | None = None

    def draft(self, *, locale: str, created_at: datetime) -> Invoice:
        """The new draft it asks for, each line naming the invoice that last billed its charge."""
        account = self.account
        return Invoice.draft(
            id=new_id("inv"),
            account_id=account.account_id,
            currency=self.currency,
            period_start=self.period_start,
            period_end=self.period_end,
            run_kind=self.run_kind,
            run_source_id=self.run_source_id,
            bill_to=bill_to_of(account, exempt=self.tax_exemption_note is not None),
            time_zone=account.time_zone,
            payment_terms_days=account.payment_terms_days,
            locale=locale,
            tax_exemption_note=self.tax_exemption_note,
            lines=billed_after(self.lines, self.billed),
            created_at=created_at,
        )

    @property
    def key(self) -> BillingPeriodKey:
        """The billing-period key its invoice is held under."""
        return BillingPeriodKey(
            self.account.account_id,
            self.currency,
            self.period_start,
            self.period_end,
            self.run_kind,
            self.run_source_id,
        )


async def stage_issued(
    *, uow: InvoicingUnitOfWork, requests: Sequence[DraftRequest], invoice_date: date
) -> list[DraftOutcome]:
    """`stage_draft` + `stage_finalize` for many invoices at once (a bill run's chunk), not committed.

    The invoices already held under the requests' keys are read in one query (and answered,
    `created=False`); the new ones are stored as drafts with their lines in one statement each,
    with their drafts' events and audit records. A key taken, or a charge billed, by a concurrent
    run meanwhile raises `ChargeBilledMeanwhile` with nothing stored: the caller rolls its
    savepoint back and bills the accounts one by one.

    They are numbered and finalized when the unit of work commits (`before_commit`), after
    whatever else its transaction does: the series' counter row, locked from the moment a block
    of numbers is taken until the commit (given back by a rollback like one number, so numbers
    have no gap), is then held only for the numbering itself — one statement for the block, one
    for the invoices' numbers and dates, their `invoice.finalized` and the credit of accounts
    holding any — and not while the chunk's rows are written, so concurrent chunks of other
    invoicing processes wait for it that much less.
    """
    keys = [request.key for request in requests]  # each built once (a dataclass a request)
    held = await uow.invoices.find_by_keys(keys)
    now = uow.clock.now()
    drafted = {
        key: request.draft(locale=request.account.locale, created_at=now)
        for key, request in zip(keys, requests, strict=True)
        if key not in held
    }
    fresh = list(drafted.values())
    await uow.invoices.add_issued(fresh)
    for invoice in fresh:
        _stage_events(uow, invoice)
    await uow.audit_many([("invoice.drafted", "invoice", i.id, _draft_audit(i)) for i in fresh])
    if fresh:

        async def number_and_finalize() -> None:
            await _number_issued(uow, fresh, invoice_date=invoice_date, at=now)

        uow.before_commit(number_and_finalize)
    return [
        DraftOutcome(held[key], created=False) if key in held else DraftOutcome(drafted[key], created=True)
        for key in keys
    ]


async def _number_issued(
    uow: InvoicingUnitOfWork, invoices: Sequence[Invoice], *, invoice_date: date, at: datetime
) -> None:
    """Finalize drafts `stage_issued` stored: a block of numbers of their series, in their order."""
    series = invoice_series(invoice_date)
    last = await uow.invoices.next_numbers(series, len(invoices))
    for offset, invoice in enumerate(invoices):
        number = DocumentNumber(series, last - len(invoices) + 1 + offset)
        invoice.finalize(number=number, invoice_date=invoice_date, at=at)
    await uow.invoices.save_numbered(invoices)
    for invoice in invoices:
        _stage_events(uow, invoice)
    await uow.audit_many([("invoice.finalized", "invoice", i.id, _finalized_audit(i)) for i in invoices])
    # The accounts' credit pays their new invoices at once, and an excess of credits is carried.
    await settle_issued(uow=uow, invoices=list(invoices))


async def draft_invoice(
    *,
    uow: InvoicingUnitOfWork,
    account: BillingAccount,
    currency: str,
    period_start: date,
    period_end: date,
    lines: Sequence[InvoiceLine],
    billed: Sequence[BilledCharge] = (),
    run_kind: RunKind = RunKind.CYCLE,
    run_source_id: str = "",
    tax_exemption_note: str | None = None,
    locale: str = DEFAULT_LOCALE,
) -> DraftOutcome:
    """`stage_draft`, committed (nothing is committed when the invoice was there already)."""
    outcome = await stage_draft(
        uow=uow,
        account=account,
        currency=currency,
        period_start=period_start,
        period_end=period_end,
        lines=lines,
        billed=billed,
        run_kind=run_kind,
        run_source_id=run_source_id,
        tax_exemption_note=tax_exemption_note,
        locale=locale,
    )
    if outcome.created:
        await uow.commit()
    return outcome


async def finalize_invoice(
    *, uow: InvoicingUnitOfWork, invoice_id: str, invoice_date: date | None = None
) -> Invoice:
    """Issue a draft: the next number of its year's series, its invoice date (default: today in the
    account's time zone) and due date; publishes `invoice.finalized`. Anything but a draft is a 409."""
    invoice = await stage_finalize(
        uow=uow, invoice=await uow.invoices.get(invoice_id), invoice_date=invoice_date
    )
    await uow.commit()
    return invoice


async def stage_finalize(
    *, uow: InvoicingUnitOfWork, invoice: Invoice, invoice_date: date | None = None
) -> Invoice:
    """`finalize_invoice` in `uow`, not committed (a bill run issues a chunk's drafts in its own
    transaction: the number is taken there, so a rollback gives it back and no gap is left)."""
    invoice.require_draft("finalized")
    issued_on = invoice_date or uow.business_date(invoice.time_zone)
    series = invoice_series(issued_on)
    number = DocumentNumber(series, await uow.invoices.next_number(series))
    invoice.finalize(number=number, invoice_date=issued_on, at=uow.clock.now())
    await uow.invoices.save(invoice)
    _stage_events(uow, invoice)
    # The account's credit pays the new invoice at once; an excess of credits is carried to it.
    await settle_issued(uow=uow, invoices=[invoice])
    uow.audit("invoice.finalized", "invoice", invoice.id, _finalized_audit(invoice))
    return invoice


async def void_invoice(*, uow: InvoicingUnitOfWork, invoice_id: str, reason: str | None = None) -> Invoice:
    """Void a draft (discard it) or an issued invoice with no payment (`invoice.voided`); else a 409."""
    invoice = await uow.invoices.get(invoice_id)
    was = invoice.state
    invoice.void(reason=reason, at=uow.clock.now())
    await uow.invoices.save(invoice)
    await _commit(uow, "invoice.voided", invoice, {"state": [was.value, "void"], "reason": reason})
    return invoice


async def change_draft(*, uow: InvoicingUnitOfWork, invoice_id: str, memo: str | None) -> Invoice:
    """Change the note printed on a draft; a finalized invoice is never edited (409)."""
    invoice = await uow.invoices.get(invoice_id)
    before = invoice.memo
    invoice.change_draft(memo=memo)
    await uow.invoices.save(invoice)
    await _commit(uow, "invoice.draft_changed", invoice, {"memo": [before, memo]})
    return invoice


async def get_invoice(*, uow: InvoicingUnitOfWork, invoice_id: str) -> Invoice:
    """One invoice with its lines (404 when unknown)."""
    return await uow.invoices.get(invoice_id)


async def list_invoices(
    *, uow: InvoicingUnitOfWork, filters: InvoiceFilters, page: PageRequest
) -> Page[Invoice]:
    """A page of invoices in creation order, narrowed by account, state, currency and invoice dates."""
    return await uow.invoices.page(filters, page)


async def _commit(uow: InvoicingUnitOfWork, action: str, invoice: Invoice, changes: dict[str, Any]) -> None:
    # Audit the change, put the events the invoice recorded in the outbox, commit them together.
    _stage_events(uow, invoice)
    uow.audit(action, "invoice", invoice.id, changes)
    await uow.commit()


def _stage_events(uow: InvoicingUnitOfWork, invoice: Invoice) -> None:
    for record in invoice.events:
        serialized = serialized_of(record)
        if serialized is not None:
            payload_type, data, key = serialized
            uow.emit_serialized(payload_type, data, key=key)
        else:
            payload, key = outgoing_of(record)
            uow.emit(payload, key=key)
    invoice.events.clear()


def _finalized_audit(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.number_text,
        "invoice_date": str(invoice.invoice_date),
        "due_date": str(invoice.due_date),
        "total": str(invoice.total),
        "state": invoice.state.value,
    }


def _draft_audit(invoice: Invoice) -> dict[str, Any]:
    return {
        "account_id": invoice.account_id,
        "currency": invoice.currency,
        "period": [invoice.period_start.isoformat(), invoice.period_end.isoformat()],
        "run": [invoice.run_kind.value, invoice.run_source_id],
        "lines": len(invoice.lines),
        "total": str(invoice.total),
    }


__all__ = [
    "DraftOutcome",
    "InvoiceConflict",
    "change_draft",
    "draft_invoice",
    "finalize_invoice",
    "get_invoice",
    "list_invoices",
    "stage_draft",
    "stage_finalize",
    "void_invoice",
]
