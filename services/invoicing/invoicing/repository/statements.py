"""The ledger of account activity in SQL: one query per kind of entry, run together with UNION ALL.

Each `LedgerSource` says, for its kind, how to select from its concept's tables

- `before`: one row, the SUM of the amounts dated before the period (computed by the database:
  an account with 10,000 invoices is one aggregate over the `ix_invoices_account_state` index,
  nothing loaded; SUM over money is exact on SQLite too, see libs/platform/db.py);
- `during`: the entries dated in the period, as `ENTRY_COLUMNS`.

Amounts are selected as their documents state them (positive); the kind's sign is applied in
Python (`EntryKind.sign`) because SQLite arithmetic on a money column is not exact.

A kind dated by a business date (an invoice date, a credit note's issue date) compares that date
with the period's dates and selects it as `entry_date`. A kind dated by an instant (a void, a payment
received at) compares the instant with the period's local midnights in UTC (`ActivityScope`) and
selects NULL as `entry_date`: the entry's local date is taken from `posted_at` in the account's zone.

WHERE CREDIT NOTES, ADJUSTMENTS AND PAYMENTS PLUG IN: write a `LedgerSource` for each kind
(like `_invoices_issued`) over the concept's table and append it to `LEDGER_SOURCES`; add the
kind to `EntryKind` (invoicing/domain/statements.py) with its sign and section. Nothing else
changes: the handler, the statement, the API and the documents take any kind.

Voided invoices: an issued invoice that is voided stays on the statement of the period it was
issued in (+total on its invoice date) and is taken back on the day it was voided (-total), so
a statement already sent never changes when printed again and the next one opens with the
balance the last one closed with. A voided draft was never issued and never appears.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, String, cast, func, literal, null, select, union_all
from sqlalchemy.sql import Select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.invoices import InvoiceState
from invoicing.domain.payments import PaymentMethodKind, RefundKind
from invoicing.domain.statements import EntryKind, LedgerEntry
from invoicing.handlers.statements import AccountActivity, AccountLedger
from invoicing.models.credits import CreditNoteRow
from invoicing.models.invoices import InvoiceRow
from invoicing.models.payments import PaymentRefundRow, PaymentRow
from libs.platform.periods import local_date, time_zone

INVOICES = InvoiceRow.__table__  # type: ignore[attr-defined]
CREDIT_NOTES = CreditNoteRow.__table__  # type: ignore[attr-defined]
PAYMENTS = PaymentRow.__table__  # type: ignore[attr-defined]
REFUNDS = PaymentRefundRow.__table__  # type: ignore[attr-defined]

ENTRY_COLUMNS = ("document_id", "reference", "description", "entry_date", "posted_at", "amount", "due_date")
"""What a source's `during` selects, labelled so, in this order (the kind is added here)."""


@dataclass(frozen=True)
class ActivityScope:
    """The account, currency and period a statement reads; the period's bounds as UTC instants too."""

    account_id: str
    currency: str
    from_: date
    to: date
    starts_at: datetime
    """The period's first local midnight, in UTC."""
    ends_at: datetime
    """The local midnight after the period's last day, in UTC (exclusive)."""


@dataclass(frozen=True)
class LedgerSource:
    """One kind of ledger entry and how to select it (see the module)."""

    kind: EntryKind
    before: Callable[[ActivityScope], Select[Any]]
    during: Callable[[ActivityScope], Select[Any]]


def _issued_invoices(scope: ActivityScope) -> list[Any]:
    c = INVOICES.c
    return [
        c.account_id == scope.account_id,
        c.currency == scope.currency,
        c.state != InvoiceState.DRAFT.value,
        c.invoice_date.is_not(None),
    ]


def _invoice_entry(on: Any, posted_at: Any, description: Any) -> list[Any]:
    c = INVOICES.c
    return [
        c.id.label("document_id"),
        c.number.label("reference"),
        description.label("description"),
        on.label("entry_date"),
        posted_at.label("posted_at"),
        c.total.label("amount"),
        c.due_date.label("due_date"),
    ]


_invoices_issued = LedgerSource(
    EntryKind.INVOICE,
    before=lambda s: select(func.sum(INVOICES.c.total)).where(
        *_issued_invoices(s), INVOICES.c.invoice_date < s.from_
    ),
    during=lambda s: select(
        *_invoice_entry(INVOICES.c.invoice_date, INVOICES.c.finalized_at, literal("", String))
    ).where(*_issued_invoices(s), INVOICES.c.invoice_date.between(s.from_, s.to)),
)
"""Every invoice issued (finalized, partially paid, paid, or void after it was issued)."""

_invoices_voided = LedgerSource(
    EntryKind.INVOICE_VOID,
    before=lambda s: select(func.sum(INVOICES.c.total)).where(
        *_issued_invoices(s),
        INVOICES.c.state == InvoiceState.VOID.value,
        INVOICES.c.voided_at < s.starts_at,
    ),
    during=lambda s: select(
        *_invoice_entry(cast(null(), Date), INVOICES.c.voided_at, func.coalesce(INVOICES.c.void_reason, ""))
    ).where(
        *_issued_invoices(s),
        INVOICES.c.state == InvoiceState.VOID.value,
        INVOICES.c.voided_at >= s.starts_at,
        INVOICES.c.voided_at < s.ends_at,
    ),
)
"""Issued invoices voided later, taken back on the day they were voided."""


def _document_entry(
    table: Any, *, reference: Any, on: Any, posted_at: Any, amount: Any, description: Any = None
) -> list[Any]:
    return [
        table.c.id.label("document_id"),
        reference.label("reference"),
        (description if description is not None else literal("", String)).label("description"),
        on.label("entry_date"),
        posted_at.label("posted_at"),
        amount.label("amount"),
        cast(null(), Date).label("due_date"),
    ]


def _mine(table: Any, scope: ActivityScope) -> list[Any]:
    return [table.c.account_id == scope.account_id, table.c.currency == scope.currency]


_credit_notes = LedgerSource(
    EntryKind.CREDIT_NOTE,
    before=lambda s: select(func.sum(CREDIT_NOTES.c.total)).where(
        *_mine(CREDIT_NOTES, s), CREDIT_NOTES.c.note_date < s.from_
    ),
    during=lambda s: select(
        *_document_entry(
            CREDIT_NOTES,
            reference=CREDIT_NOTES.c.number,
            on=CREDIT_NOTES.c.note_date,
            posted_at=CREDIT_NOTES.c.created_at,
            amount=CREDIT_NOTES.c.total,
            description=CREDIT_NOTES.c.reason,
        )
    ).where(*_mine(CREDIT_NOTES, s), CREDIT_NOTES.c.note_date.between(s.from_, s.to)),
)
"""Issued credit notes, on their note date, for their total (tax included)."""


def _received_source(kind: EntryKind, *, carried: bool, description: Any) -> LedgerSource:
    def received(scope: ActivityScope) -> list[Any]:
        credit = PAYMENTS.c.method_kind == PaymentMethodKind.CREDIT.value
        return [*_mine(PAYMENTS, scope), PAYMENTS.c.received_on.is_not(None), credit if carried else ~credit]

    return LedgerSource(
        kind,
        before=lambda s: select(func.sum(PAYMENTS.c.amount)).where(
            *received(s), PAYMENTS.c.received_on < s.from_
        ),
        during=lambda s: select(
            *_document_entry(
                PAYMENTS,
                reference=func.coalesce(PAYMENTS.c.reference, PAYMENTS.c.id),
                on=PAYMENTS.c.received_on,
                posted_at=PAYMENTS.c.received_at,
                amount=PAYMENTS.c.amount,
                description=description,
            )
        ).where(*received(s), PAYMENTS.c.received_on.between(s.from_, s.to)),
    )


_payments = _received_source(EntryKind.PAYMENT, carried=False, description=PAYMENTS.c.method_kind)
"""Payments received (declined ones never were), on their received date, for their full amount —
also those refunded or reversed later: the refund or reversal is its own entry, on its day."""

_credit_carried = _received_source(
    EntryKind.CREDIT_ADJUSTMENT,
    carried=True,
    description=literal("Credit carried to the account (credits exceeded the invoice)", String),
)
"""The excess credit an issued invoice carried to the account (it totals 0), on its invoice date,
referenced by its number; the invoices that take it later are paid by it, as by a payment."""


def _given_back(kind: EntryKind, refund_kind: str) -> LedgerSource:
    def mine(scope: ActivityScope) -> list[Any]:
        return [*_mine(REFUNDS, scope), REFUNDS.c.kind == refund_kind]

    return LedgerSource(
        kind,
        before=lambda s: select(func.sum(REFUNDS.c.amount)).where(
            *mine(s), REFUNDS.c.created_at < s.starts_at
        ),
        during=lambda s: select(
            *_document_entry(
                REFUNDS,
                reference=REFUNDS.c.payment_id,
                on=cast(null(), Date),
                posted_at=REFUNDS.c.created_at,
                amount=REFUNDS.c.amount,
                description=func.coalesce(REFUNDS.c.reason, ""),
            )
        ).where(*mine(s), REFUNDS.c.created_at >= s.starts_at, REFUNDS.c.created_at < s.ends_at),
    )


def _written_off(s: ActivityScope) -> list[Any]:
    return [*_issued_invoices(s), INVOICES.c.written_off_at.is_not(None)]


_invoices_written_off = LedgerSource(
    EntryKind.WRITE_OFF,
    before=lambda s: select(func.sum(INVOICES.c.written_off)).where(
        *_written_off(s), INVOICES.c.written_off_at < s.starts_at
    ),
    during=lambda s: select(
        INVOICES.c.id.label("document_id"),
        INVOICES.c.number.label("reference"),
        literal("Written off by collections", String).label("description"),
        cast(null(), Date).label("entry_date"),
        INVOICES.c.written_off_at.label("posted_at"),
        INVOICES.c.written_off.label("amount"),
        INVOICES.c.due_date.label("due_date"),
    ).where(
        *_written_off(s), INVOICES.c.written_off_at >= s.starts_at, INVOICES.c.written_off_at < s.ends_at
    ),
)
"""What collections wrote off an invoice, on the (account-local) day it was written off."""

LEDGER_SOURCES: tuple[LedgerSource, ...] = (
    _invoices_issued,
    _invoices_voided,
    _invoices_written_off,
    _credit_notes,
    _payments,
    _credit_carried,
    _given_back(EntryKind.REFUND, RefundKind.REFUND.value),
    _given_back(EntryKind.PAYMENT_REVERSAL, RefundKind.REVERSAL.value),
)
"""Every kind of entry a statement shows; adjustments append theirs."""


def activity_scope(account_id: str, currency: str, from_: date, to: date, zone: str) -> ActivityScope:
    """The scope of a statement over [from_, to] in the account's zone `zone`."""
    tz = time_zone(zone)

    def midnight(day: date, *, after: bool = False) -> datetime:
        # The calendar's first and last days have no midnight in every zone: the ends of time.
        try:
            return datetime.combine(day + timedelta(days=int(after)), time(), tzinfo=tz).astimezone(UTC)
        except OverflowError:
            return datetime.max.replace(tzinfo=UTC) if after else datetime.min.replace(tzinfo=UTC)

    return ActivityScope(account_id, currency, from_, to, midnight(from_), midnight(to, after=True))


class SqlAccountLedger(AccountLedger):
    """The ledger over the invoicing database: two queries, whatever the number of kinds."""

    def __init__(self, session: AsyncSession, sources: tuple[LedgerSource, ...] = LEDGER_SOURCES) -> None:
        self.session = session
        self.sources = sources

    async def account_activity(
        self, account_id: str, currency: str, *, from_: date, to: date, time_zone: str
    ) -> AccountActivity:
        """Sums before the period and entries in it, one UNION ALL each (see the module)."""
        scope = activity_scope(account_id, currency, from_, to, time_zone)
        befores = [
            source.before(scope).add_columns(literal(source.kind.value, String).label("kind"))
            for source in self.sources
        ]
        before: dict[EntryKind, Decimal] = {}
        for amount, kind in (await self.session.exec(union_all(*befores))).all():  # type: ignore[call-overload]
            if amount is not None:
                before[EntryKind(kind)] = _decimal(amount)
        durings = [
            source.during(scope).add_columns(literal(source.kind.value, String).label("kind"))
            for source in self.sources
        ]
        entries = [
            LedgerEntry(
                kind=EntryKind(row.kind),
                on=row.entry_date
                if row.entry_date is not None
                else local_date(_aware(row.posted_at), time_zone),
                document_id=row.document_id,
                reference=row.reference or row.document_id,
                amount=_decimal(row.amount),
                posted_at=_aware(row.posted_at),
                description=row.description or "",
                due_date=row.due_date,
            )
            for row in (await self.session.exec(union_all(*durings))).all()  # type: ignore[call-overload]
        ]
        return AccountActivity(before=before, entries=entries)


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _aware(value: datetime) -> datetime:
    # The union's column takes its type from the first source's; a source whose instant column is
    # another type would give naive UTC on SQLite: always hand the domain an aware UTC instant.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
