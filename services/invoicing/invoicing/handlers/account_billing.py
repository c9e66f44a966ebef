"""Account billing: what a bill run (and a preview) does for each account of a chunk.

For the chunk as a whole, one query per kind of record: what the accounts' invoices already
billed (by charge key), their pending adjustments (locked until the chunk commits, so a
concurrent cancel waits), their billing inputs (children that bill to them merged in), the tax
codes of the products charged and the tax rates in force on the bill date. Then per account:

1. `charges_due` — the pure charge calculation — gives the lines due through the bill date
   (only fulfillment lines on a fulfillment's run);
2. the tax calculator taxes them line by line;
3. `stage_draft` stores the invoice under its key — account, currency, period, run — or finds
   the one a repeated run (or a concurrent one) stored: the database holds one invoice per key;
4. `stage_finalize` numbers and issues it (`invoice.finalized`), in the chunk's transaction, so a
   rollback gives its number back.

The invoice of a cycle run is keyed by the account's monthly bill-cycle period that contains the
bill date (one per account, currency and month, whatever the subscriptions' own frequencies);
a fulfillment's invoice is keyed by the fulfillment. An account whose charges cannot be billed
for a reason of its own (a currency that does not match, a charge another run billed meanwhile)
comes back as an `AccountFailure` and the others go on; a dry run computes the same invoices and
stores nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from invoicing.domain.bill_runs import (
    AccountFailure,
    AccountInvoiced,
    AccountOutcome,
    BilledInvoice,
    BillRun,
    BillRunKind,
    ChunkResult,
    InvoiceLineSummary,
)
from invoicing.domain.billing_inputs import BillingInputs
from invoicing.domain.charge_lines import ChargeLine
from invoicing.domain.charges import ChargeScope, charges_due
from invoicing.domain.invoices import Invoice, InvoiceLine, RunKind
from invoicing.domain.tax import (
    RateTableTaxCalculator,
    TaxableLine,
    TaxAssessment,
    TaxCalculator,
    TaxRequest,
)
from invoicing.handlers.invoices import DraftRequest, stage_draft, stage_finalize, stage_issued
from invoicing.handlers.tax_rates import tax_calculator_for
from libs.platform.errors import DomainError
from libs.platform.periods import BillingPeriod, monthly_period_containing

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


YIELD_EVERY: Final = 50
"""Accounts whose charges are computed between two yields to the event loop."""


Drafted = DraftRequest | AccountOutcome
"""What an account of a chunk is due: the invoice to issue, or its outcome already (nothing due,
billed on its parent's invoice, refused for a reason of its own)."""


@dataclass(frozen=True)
class _ChunkContext:
    """What one chunk's accounts are billed with (read once for the chunk)."""

    run: BillRun
    inputs: dict[str, BillingInputs]
    tax_codes: dict[str, str]
    taxes: TaxCalculator
    versions: dict[str, int]
    """The version of each account's billing mark, read before its inputs (`_mark_billed`)."""


class InvoiceEngineBilling:
    """The accounts of a chunk billed by the charge calculation, tax and the invoices' keys."""

    async def prepare_chunk(
        self, uow: InvoicingUnitOfWork, run: BillRun, account_ids: Sequence[str]
    ) -> PreparedChunk | None:
        """The chunk read and drafted on a read-only `uow` (see `PreparedChunk`); None when only
        its write transaction can bill it (a dry run, a chunk of one account)."""
        if run.dry_run or len(account_ids) < 2:
            return None
        context = await _read_chunk(uow, run, account_ids)
        return PreparedChunk(context, tuple(account_ids), await _draft_chunk(context, account_ids))

    async def bill_chunk(
        self, uow: InvoicingUnitOfWork, run: BillRun, account_ids: Sequence[str]
    ) -> ChunkResult:
        """One outcome per account, in order; stores nothing when `run.dry_run`."""
        context = await _read_chunk(uow, run, account_ids)
        if not run.dry_run and len(account_ids) > 1:
            result = await _issue_chunk(uow, context, account_ids)
            await _mark_billed(uow, context, result.outcomes)
            return result
        outcomes: list[AccountOutcome] = []
        for account_id in account_ids:
            inputs = context.inputs.get(account_id)
            if inputs is None:
                # Billed on its parent's invoice, or not (yet) known to the read model.
                outcomes.append(AccountInvoiced(account_id))
                continue
            try:
                outcomes.append(await _bill_account(uow, context, inputs))
            except DomainError as refused:
                outcomes.append(AccountFailure(account_id, refused.detail))
        if not run.dry_run:
            await _mark_billed(uow, context, outcomes)
        return ChunkResult(tuple(outcomes))


@dataclass(frozen=True)
class PreparedChunk:
    """A chunk's billing inputs read, and its invoices drafted, before its write transaction.

    On SQLite every write transaction holds the database's one write lock from its start; a
    chunk's reads and its drafting (about half its time) need none, so `prepare_chunk` does them
    on a read-only unit of work (WAL: it reads beside the writer, at one snapshot), and two
    invoicing processes on one file overlap them with each other's writes (issue 9).

    What was read must still hold when the chunk writes. Every write that changes what an
    account is due bumps its billing watermark's version in its own transaction (migration 0012:
    subscriptions, usage, charges, account, prices and products, adjustments, voided invoices),
    so `bill_in` reads the chunk's versions again (one query) and the tax rates in force (one
    query): the accounts whose version moved (or that had none) are read and drafted again
    inside the transaction; a change of rates drafts them all again. Invoices another run issued
    meanwhile are found by their keys (`stage_issued`), a charge billed by another run is refused
    by the database (`ChargeBilledMeanwhile`), and numbers are taken at commit as before.
    """

    context: _ChunkContext
    account_ids: tuple[str, ...]
    drafted: dict[str, Drafted]

    async def moved_in(self, uow: InvoicingUnitOfWork) -> list[str]:
        """The accounts whose inputs may have changed since they were read (in `uow`'s transaction);
        all of them when the tax rates did."""
        context = self.context
        rates = await tax_calculator_for(
            uow, context.run.bill_date, [billing.account.tax for billing in context.inputs.values()]
        )
        if not isinstance(context.taxes, RateTableTaxCalculator) or set(rates.rates) != set(
            context.taxes.rates
        ):
            return list(self.account_ids)
        now = await uow.billing_inputs.watermark_versions(self.account_ids)
        read = context.versions
        return [a for a in self.account_ids if a not in read or now.get(a) != read[a]]

    async def bill_in(self, uow: InvoicingUnitOfWork) -> ChunkResult:
        """Issue the prepared invoices in `uow`'s write transaction, the accounts that moved
        read and drafted again there (see the class); marks the accounts billed."""
        context, drafted = self.context, self.drafted
        moved = await self.moved_in(uow)
        if moved:
            again = await _read_chunk(uow, context.run, moved)
            changed = set(moved)
            context = _ChunkContext(
                context.run,
                {a: i for a, i in context.inputs.items() if a not in changed} | again.inputs,
                context.tax_codes | again.tax_codes,
                again.taxes,
                {a: v for a, v in context.versions.items() if a not in changed} | again.versions,
            )
            drafted = dict(drafted) | await _draft_chunk(again, moved)
        result = await _issue_drafted(uow, context, self.account_ids, drafted)
        await _mark_billed(uow, context, result.outcomes)
        return result


async def _mark_billed(
    uow: InvoicingUnitOfWork, context: _ChunkContext, outcomes: Sequence[AccountOutcome]
) -> None:
    """Mark the accounts a cycle run billed (or found nothing due for) billed through its bill date,
    each only if no charge was kept for it since the chunk read its version. Not marked: an account
    whose charges due found its period's invoice already issued (they wait for the next period's),
    a failed one, and every account of a fulfillment's run (it bills only the fulfillment)."""
    if context.run.kind is BillRunKind.FULFILLMENT:
        return
    versions = {
        o.account_id: context.versions[o.account_id]
        for o in outcomes
        if isinstance(o, AccountInvoiced)
        and all(invoice.created for invoice in o.invoices)
        and o.account_id in context.inputs
        and o.account_id in context.versions
    }
    await uow.billing_inputs.mark_billed_through(versions, context.run.bill_date)


async def _read_chunk(uow: InvoicingUnitOfWork, run: BillRun, account_ids: Sequence[str]) -> _ChunkContext:
    versions = await uow.billing_inputs.watermark_versions(account_ids)
    billed = await uow.invoices.billed_charges(account_ids)
    adjustments = await uow.adjustments.pending_adjustments(account_ids)
    inputs = await uow.billing_inputs.billing_inputs(account_ids, billed=billed, adjustments=adjustments)
    products = {
        product_id
        for billing in inputs.values()
        for product_id in (
            *(s.product_id for s in billing.subscriptions),
            *(u.product_id for u in billing.rated_usage),
            *(f.product_id for f in billing.fulfillments),
            *(c.product_id for c in billing.one_time_charges if c.product_id),
        )
    }
    tax_codes = await uow.billing_inputs.product_tax_codes(products) if products else {}
    taxes = await tax_calculator_for(uow, run.bill_date, [billing.account.tax for billing in inputs.values()])
    return _ChunkContext(run, inputs, tax_codes, taxes, versions)


async def _issue_chunk(
    uow: InvoicingUnitOfWork, context: _ChunkContext, account_ids: Sequence[str]
) -> ChunkResult:
    """The chunk's invoices drafted, then issued together (`_issue_drafted`)."""
    return await _issue_drafted(uow, context, account_ids, await _draft_chunk(context, account_ids))


async def _draft_chunk(context: _ChunkContext, account_ids: Sequence[str]) -> dict[str, Drafted]:
    """The invoice each account is due (pure computation on what the chunk read)."""
    drafted: dict[str, Drafted] = {}
    for position, account_id in enumerate(account_ids):
        if position and not position % YIELD_EVERY:
            await asyncio.sleep(0)  # let the process answer its requests (progress, health) meanwhile
        inputs = context.inputs.get(account_id)
        try:
            request = None if inputs is None else await _draft_request(context, inputs)
        except DomainError as refused:
            drafted[account_id] = AccountFailure(account_id, refused.detail)
            continue
        drafted[account_id] = AccountInvoiced(account_id) if request is None else request
    return drafted


async def _issue_drafted(
    uow: InvoicingUnitOfWork, context: _ChunkContext, account_ids: Sequence[str], drafted: dict[str, Drafted]
) -> ChunkResult:
    """The chunk's invoices issued together (`stage_issued`: one query for those already there,
    one statement for their numbers, one for the invoices, one for their lines). An account
    refused for a reason of its own is a failure; a conflict with another run raises, and the
    chunk is billed again one account at a time (`bill_run_chunks.bill_accounts`)."""
    requests = [d for d in drafted.values() if isinstance(d, DraftRequest)]
    outcomes = {a: d for a, d in drafted.items() if not isinstance(d, DraftRequest)}
    issued = await stage_issued(uow=uow, requests=requests, invoice_date=context.run.bill_date)
    for request, outcome in zip(requests, issued, strict=True):
        outcomes[request.account.account_id] = AccountInvoiced(
            request.account.account_id, (_billed(outcome.invoice, outcome.created),)
        )
    return ChunkResult(tuple(outcomes[account_id] for account_id in account_ids))


async def _draft_request(context: _ChunkContext, inputs: BillingInputs) -> DraftRequest | None:
    """The invoice an account of a cycle run is due (None: nothing is due)."""
    run, account = context.run, inputs.account
    fulfillment = run.kind is BillRunKind.FULFILLMENT
    scope = ChargeScope.FULFILLMENTS if fulfillment else ChargeScope.ALL
    charges = charges_due(inputs, through=run.bill_date, scope=scope)
    if not charges:
        return None
    assessment = await context.taxes.calculate(
        TaxRequest(
            account.tax,
            run.bill_date,
            account.currency,
            [TaxableLine(c.charge_key, context.tax_codes.get(c.product_id or ""), c.amount) for c in charges],
        )
    )
    period = _invoice_period(run, account.bill_cycle_day)
    return DraftRequest(
        account=account,
        currency=account.currency,
        period_start=period.start,
        period_end=period.end,
        lines=[_taxed(charge, assessment, context.tax_codes) for charge in charges],
        billed=inputs.billed,
        run_kind=RunKind.ON_DEMAND if fulfillment else RunKind.CYCLE,
        run_source_id=(run.fulfillment_id or "") if fulfillment else "",
        tax_exemption_note=assessment.note if account.tax.exempt_on(run.bill_date) else None,
    )


def _billed(invoice: Invoice, created: bool) -> BilledInvoice:
    return BilledInvoice(
        currency=invoice.currency,
        total=invoice.total,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        invoice_id=invoice.id,
        created=created,
        subtotal=invoice.subtotal,
        tax=invoice.tax_total,
    )


async def _bill_account(
    uow: InvoicingUnitOfWork, context: _ChunkContext, inputs: BillingInputs
) -> AccountOutcome:
    run, account = context.run, inputs.account
    fulfillment = run.kind is BillRunKind.FULFILLMENT
    charges = charges_due(
        inputs, through=run.bill_date, scope=ChargeScope.FULFILLMENTS if fulfillment else ChargeScope.ALL
    )
    if not charges:
        return AccountInvoiced(account.account_id)
    assessment = await context.taxes.calculate(
        TaxRequest(
            account.tax,
            run.bill_date,
            account.currency,
            [TaxableLine(c.charge_key, context.tax_codes.get(c.product_id or ""), c.amount) for c in charges],
        )
    )
    lines = [_taxed(charge, assessment, context.tax_codes) for charge in charges]
    period = _invoice_period(run, account.bill_cycle_day)
    if run.dry_run:
        # The invoice the run would draft (an excess of credits carried, as on the real one).
        request = DraftRequest(account, account.currency, period.start, period.end, lines, inputs.billed)
        preview = request.draft(locale=account.locale, created_at=uow.clock.now())
        return AccountInvoiced(account.account_id, (_summary(preview),))
    outcome = await stage_draft(
        uow=uow,
        account=account,
        currency=account.currency,
        period_start=period.start,
        period_end=period.end,
        lines=lines,
        billed=inputs.billed,
        run_kind=RunKind.ON_DEMAND if fulfillment else RunKind.CYCLE,
        run_source_id=(run.fulfillment_id or "") if fulfillment else "",
        tax_exemption_note=assessment.note if account.tax.exempt_on(run.bill_date) else None,
        locale=account.locale,
    )
    invoice = outcome.invoice
    if outcome.created:
        invoice = await stage_finalize(uow=uow, invoice=invoice, invoice_date=run.bill_date)
    return AccountInvoiced(account.account_id, (_billed(invoice, outcome.created),))


class ReadModelAccounts:
    """The accounts a run of every account pages through: those of the read model that get their
    own invoice (an account billing to its parent is billed on its parent's), in id order."""

    def __init__(self, uow: InvoicingUnitOfWork) -> None:
        self.uow = uow

    async def accounts_page(
        self, after_account_id: str | None, limit: int, *, due_on: date | None = None
    ) -> list[str]:
        """Up to `limit` account ids after `after_account_id` (from the first when None), sorted;
        with `due_on`, those not marked billed through it."""
        return await self.uow.billing_inputs.account_ids_page(after_account_id, limit, due_on=due_on)


async def invoiced_account(uow: InvoicingUnitOfWork, account_id: str) -> str:
    """The account whose invoice carries `account_id`'s charges: itself, or the ancestor it bills to."""
    seen: set[str] = set()
    current = await uow.billing_inputs.find_account(account_id)
    while current is not None and current.bills_to_parent and current.parent_account_id is not None:
        if current.account_id in seen:
            break  # a loop in the hierarchy: bill the account itself rather than spin
        seen.add(current.account_id)
        parent = await uow.billing_inputs.find_account(current.parent_account_id)
        if parent is None:
            break
        current = parent
    return current.account_id if current is not None else account_id


def _taxed(charge: ChargeLine, assessment: TaxAssessment, tax_codes: dict[str, str]) -> InvoiceLine:
    tax = assessment.by_line[charge.charge_key]
    return InvoiceLine.of(
        charge,
        tax_code=tax_codes.get(charge.product_id or ""),
        tax_rate=tax.rate if tax.rate is not None else Decimal(0),
        tax_amount=tax.amount,
        tax_jurisdiction=tax.jurisdiction,
    )


def _invoice_period(run: BillRun, bill_cycle_day: int) -> BillingPeriod:
    """The period an invoice of this run is keyed by (see the module)."""
    if run.kind is BillRunKind.FULFILLMENT:
        return BillingPeriod(run.bill_date, run.bill_date + timedelta(days=1))
    return monthly_period_containing(run.bill_date, bill_cycle_day)


def _summary(invoice: Invoice) -> BilledInvoice:
    """A dry run's invoice, with its lines: computed, not stored."""
    return BilledInvoice(
        currency=invoice.currency,
        total=invoice.total,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        invoice_id=None,
        created=True,
        subtotal=invoice.subtotal,
        tax=invoice.tax_total,
        lines=tuple(
            InvoiceLineSummary(
                description=line.description,
                amount=line.amount,
                quantity=line.quantity,
                unit_price=line.unit_price,
                charge_key=line.charge_key,
            )
            for line in invoice.lines
        ),
    )
