"""Bill runs on the wire: starting one, its progress report, its failed accounts, and an
account's invoice preview."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Final, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from invoicing.domain.bill_runs import (
    AccountFailure,
    BilledInvoice,
    BillRun,
    BillRunKind,
    BillRunState,
    ChunkTally,
    InvoiceLineSummary,
)
from libs.contracts.types import Amount, CurrencyCode, IsoDate, StrictBool
from libs.platform.money import amount_out, decimal_out, unit_price_out

REQUEST: Final = ConfigDict(extra="forbid")
MAX_LISTED_ACCOUNTS: Final = 1000
"""Accounts a run may list (a run of every account lists none)."""
FAILURE_SAMPLE: Final = 10
"""Failed accounts a run's report shows; `GET /v1/bill-runs/{id}/failures` lists them all."""

AccountId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
"""An account's id (`acct_…`)."""


class BillRunCreate(BaseModel):
    """What a run bills: a bill date, every account or a list of them, for real or as a dry run."""

    model_config = REQUEST

    bill_date: IsoDate = Field(description="Bill every account due by this date.", examples=["2026-08-01"])
    account_ids: list[AccountId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LISTED_ACCOUNTS,
        description="Only these accounts, each once (default: every account).",
        json_schema_extra={"uniqueItems": True},
    )
    dry_run: StrictBool = Field(
        default=False, description="Compute the invoices and report them; store nothing, send nothing."
    )

    @model_validator(mode="after")
    def _accounts_once(self) -> Self:
        if self.account_ids is not None and len(set(self.account_ids)) != len(self.account_ids):
            raise ValueError("account_ids lists an account twice")
        return self


class CurrencyAmountPublic(BaseModel):
    """Invoices created in one currency and their total."""

    currency: CurrencyCode
    invoices: int
    amount: Amount


class AccountFailurePublic(BaseModel):
    """An account the run could not bill, and why."""

    account_id: str
    reason: str


class BillRunPublic(BaseModel):
    """A bill run and its progress (counts move one committed chunk at a time)."""

    id: str = Field(examples=["brun_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    kind: BillRunKind
    state: BillRunState
    bill_date: date
    dry_run: bool
    accounts_listed: int | None = Field(description="How many accounts it lists; null: every account.")
    fulfillment_id: str | None = None
    retry_of: str | None = Field(
        default=None, description="The run whose failed accounts this one bills again."
    )
    enumerated: bool = Field(description="Every account is in a chunk: accounts_total is final.")
    accounts_total: int = Field(description="Accounts enumerated so far (the total once enumerated).")
    accounts_done: int
    accounts_invoiced: int
    accounts_without_invoice: int = Field(description="Nothing was due (or the account bills to its parent).")
    invoices_created: int
    invoices_existing: int = Field(description="Invoices an earlier run had made already (a repeated run).")
    failures: int
    amounts: list[CurrencyAmountPublic] = Field(description="Of the invoices created, per currency.")
    chunks_total: int
    chunks_done: int
    percent: float | None = Field(description="Accounts done of the total; null while enumerating.")
    accounts_per_second: int | None = None
    failure_reason: str | None = Field(default=None, description="Why a failed run stopped.")
    failures_sample: list[AccountFailurePublic] = Field(
        description=f"The first {FAILURE_SAMPLE} failed accounts (all: GET /v1/bill-runs/{{id}}/failures)."
    )
    actor: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


def bill_run_public(
    run: BillRun, *, chunks_done: int, progress: ChunkTally, now: datetime, sample: list[AccountFailure]
) -> BillRunPublic:
    """The report of a run, with its progress and first failures."""
    return BillRunPublic(
        id=run.id,
        kind=run.kind,
        state=run.state,
        bill_date=run.bill_date,
        dry_run=run.dry_run,
        accounts_listed=len(run.account_ids) if run.account_ids is not None else None,
        fulfillment_id=run.fulfillment_id,
        retry_of=run.retry_of,
        enumerated=run.enumerated_at is not None,
        accounts_total=run.accounts_total,
        accounts_done=progress.accounts,
        accounts_invoiced=progress.accounts_invoiced,
        accounts_without_invoice=progress.accounts_without_invoice,
        invoices_created=progress.invoices_created,
        invoices_existing=progress.invoices_existing,
        failures=progress.failures,
        amounts=[
            CurrencyAmountPublic(
                currency=t.currency, invoices=t.invoices, amount=amount_out(t.amount, t.currency)
            )
            for t in progress.amounts
        ],
        chunks_total=run.chunks_total,
        chunks_done=chunks_done,
        percent=run.percent(progress.accounts),
        accounts_per_second=run.accounts_per_second(progress.accounts, now),
        failure_reason=run.failure_reason,
        failures_sample=[failure_public(f) for f in sample],
        actor=run.actor,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


def failure_public(failure: AccountFailure) -> AccountFailurePublic:
    """A failed account on the wire."""
    return AccountFailurePublic(account_id=failure.account_id, reason=failure.reason)


class InvoiceLinePreview(BaseModel):
    """One line of a previewed invoice."""

    description: str
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Amount
    charge_key: str | None = None


class InvoicePreview(BaseModel):
    """An invoice the account would get: one currency, one period."""

    currency: CurrencyCode
    period_start: date
    period_end: date
    subtotal: Amount | None = None
    tax: Amount | None = None
    total: Amount
    existing_invoice_id: str | None = Field(
        default=None, description="The invoice of this account, currency and period, when it exists already."
    )
    lines: list[InvoiceLinePreview]


class InvoicePreviewPublic(BaseModel):
    """An account's next invoices for a bill date, computed as a run would; nothing is stored."""

    account_id: str
    bill_date: date
    invoices: list[InvoicePreview] = Field(description="Empty: nothing is due by the bill date.")


def _line_preview(line: InvoiceLineSummary, currency: str) -> InvoiceLinePreview:
    return InvoiceLinePreview(
        description=line.description,
        quantity=decimal_out(line.quantity),
        unit_price=unit_price_out(line.unit_price),
        amount=amount_out(line.amount, currency),
        charge_key=line.charge_key,
    )


def invoice_preview(invoice: BilledInvoice) -> InvoicePreview:
    """A previewed invoice on the wire."""
    currency = invoice.currency
    return InvoicePreview(
        currency=currency,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        subtotal=amount_out(invoice.subtotal, currency),
        tax=amount_out(invoice.tax, currency),
        total=amount_out(invoice.total, currency),
        existing_invoice_id=invoice.invoice_id if not invoice.created else None,
        lines=[_line_preview(line, currency) for line in invoice.lines],
    )
