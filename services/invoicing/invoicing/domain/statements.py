"""The statement of account: what an account owed at the start of a period, what happened in it,
and what it owes at the end — previous balance + payments + adjustments and credit notes + new
invoices = balance due (EXAMPLES §9: 1,000.00 - 600.00 - 50.00 + 300.00 = 650.00).

A statement is read from a ledger of account activity: dated entries of one account in one
currency, each of a kind that says which way it moves the balance (an invoice raises it, a
payment or a credit note lowers it). Amounts are kept as their documents state them (positive);
the kind gives the sign. The period is a closed range of the account's local dates
[`period_start`, `period_end`]; everything dated before it is summed into the previous balance.
Nothing here does I/O or formats: the repository reads the ledger, the documents print it.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from libs.platform.errors import ValidationFailed
from libs.platform.money import minor_units, minor_units_problem

MAX_STATEMENT_MONTHS = 60
"""The longest statement: five years of activity (a longer range is a 422, not a slow query)."""


class StatementSection(StrEnum):
    """The summary lines of a statement, in the order it prints them."""

    PAYMENTS = "payments"
    CREDITS_AND_ADJUSTMENTS = "credits_and_adjustments"
    INVOICES = "invoices"


class EntryKind(StrEnum):
    """What a ledger entry records. Each kind is a debit (+, the customer owes more) or a credit (-).

    The credit-note and payment concepts add their kinds here (with `_DEBITS`/`_SECTIONS` below)
    and their query in `invoicing.repository.statements.LEDGER_SOURCES`.
    """

    INVOICE = "invoice"
    """A finalized invoice, on its invoice date, for its total (tax included)."""
    INVOICE_VOID = "invoice_void"
    """An issued invoice voided later, on the (account-local) date it was voided: its total back."""
    CREDIT_NOTE = "credit_note"
    DEBIT_ADJUSTMENT = "debit_adjustment"
    CREDIT_ADJUSTMENT = "credit_adjustment"
    PAYMENT = "payment"
    PAYMENT_REVERSAL = "payment_reversal"
    REFUND = "refund"
    WRITE_OFF = "write_off"

    @property
    def is_debit(self) -> bool:
        """True when the entry raises what the customer owes."""
        return self in _DEBITS

    @property
    def sign(self) -> int:
        """+1 for a debit, -1 for a credit."""
        return 1 if self.is_debit else -1

    @property
    def section(self) -> StatementSection:
        """The summary line the entry is counted in."""
        return _SECTIONS[self]


# A refund pays money back to the customer (out of a credit balance), so it raises the balance
# like a reversed payment does.
_DEBITS = frozenset(
    {EntryKind.INVOICE, EntryKind.DEBIT_ADJUSTMENT, EntryKind.PAYMENT_REVERSAL, EntryKind.REFUND}
)
_SECTIONS = {
    EntryKind.INVOICE: StatementSection.INVOICES,
    EntryKind.INVOICE_VOID: StatementSection.INVOICES,
    EntryKind.CREDIT_NOTE: StatementSection.CREDITS_AND_ADJUSTMENTS,
    EntryKind.DEBIT_ADJUSTMENT: StatementSection.CREDITS_AND_ADJUSTMENTS,
    EntryKind.CREDIT_ADJUSTMENT: StatementSection.CREDITS_AND_ADJUSTMENTS,
    EntryKind.WRITE_OFF: StatementSection.CREDITS_AND_ADJUSTMENTS,
    EntryKind.PAYMENT: StatementSection.PAYMENTS,
    EntryKind.PAYMENT_REVERSAL: StatementSection.PAYMENTS,
    EntryKind.REFUND: StatementSection.PAYMENTS,
}


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One dated entry of an account's activity, for the amount its document states (≥ 0)."""

    kind: EntryKind
    on: date
    """The account-local date the entry counts on (an invoice's invoice date, a void's day)."""
    document_id: str
    reference: str
    """What the customer knows it by: the invoice or credit-note number, a payment reference."""
    amount: Decimal
    posted_at: datetime
    """When it was recorded: orders entries of one day."""
    description: str = ""
    due_date: date | None = None

    @property
    def signed_amount(self) -> Decimal:
        """The amount with the sign of its kind: what it adds to the balance."""
        return self.amount if self.kind.is_debit else -self.amount


@dataclass(frozen=True, slots=True)
class StatementLine:
    """An entry as the statement lists it, with the balance after it."""

    entry: LedgerEntry
    balance: Decimal


@dataclass(frozen=True, slots=True)
class KindTotal:
    """The signed sum and the number of one kind's entries in the period."""

    kind: EntryKind
    amount: Decimal
    count: int


@dataclass(frozen=True, slots=True)
class StatementPeriod:
    """The statement's closed range of account-local dates."""

    start: date
    end: date
    """Inclusive: the statement date."""


def statement_period(start: date | None, end: date | None, *, today: date) -> StatementPeriod:
    """The period asked for: by default from the first of the month of `end` (default `today`) to
    `end`; refuses (422) a start after the end, or a range of more than five years."""
    last = end or today
    first = start or last.replace(day=1)
    if first > last:
        raise ValidationFailed.single("from", f"the statement starts ({first}) after it ends ({last})")
    if _months_between(first, last) >= MAX_STATEMENT_MONTHS:
        raise ValidationFailed.single(
            "to", f"a statement covers at most {MAX_STATEMENT_MONTHS // 12} years; ask for several"
        )
    return StatementPeriod(first, last)


def _months_between(first: date, last: date) -> int:
    # Whole months from `first` to `last` (as `add_months` counts them, a day clamped to the month's
    # end), without building a date past the calendar's end (9999-12-31).
    months = (last.year - first.year) * 12 + last.month - first.month
    if last.day < min(first.day, monthrange(last.year, last.month)[1]):
        months -= 1
    return months


def opening_balance(sums: Mapping[EntryKind, Decimal], currency: str) -> Decimal:
    """The previous balance: the signed sum, kind by kind, of everything dated before the period."""
    zero = Decimal(0).scaleb(-minor_units(currency))
    return sum((kind.sign * amount for kind, amount in sums.items()), zero)


@dataclass(frozen=True)
class Statement:
    """A statement of one account in one currency over a period; see the module for the rules."""

    account_id: str
    currency: str
    period: StatementPeriod
    previous_balance: Decimal
    lines: tuple[StatementLine, ...]

    @classmethod
    def of(
        cls,
        *,
        account_id: str,
        currency: str,
        period: StatementPeriod,
        previous_balance: Decimal,
        entries: Iterable[LedgerEntry],
    ) -> Statement:
        """The statement of these entries, in date order (then as recorded), each with its running
        balance; refuses entries outside the period or not in the currency's minor units."""
        ordered = sorted(entries, key=lambda e: (e.on, e.posted_at, e.document_id, e.kind.value))
        for entry in ordered:
            if not period.start <= entry.on <= period.end:
                raise ValueError(f"{entry.kind} {entry.document_id} on {entry.on} is outside the period")
            problem = minor_units_problem(entry.amount, currency)
            if problem is not None or entry.amount < 0:
                raise ValueError(f"{entry.kind} {entry.document_id}: {problem or 'a negative amount'}")
        opening = previous_balance + Decimal(0).scaleb(-minor_units(currency))
        lines = []
        balance = opening
        for entry in ordered:
            balance += entry.signed_amount
            lines.append(StatementLine(entry, balance))
        return cls(account_id, currency, period, opening, tuple(lines))

    @property
    def balance_due(self) -> Decimal:
        """Previous balance + the signed sum of the period's entries (negative: a credit balance)."""
        return self.lines[-1].balance if self.lines else self.previous_balance

    def section_total(self, section: StatementSection) -> Decimal:
        """The signed sum of one summary line's entries (payments and credits are negative)."""
        return self._sum(
            line.entry.signed_amount for line in self.lines if line.entry.kind.section is section
        )

    @property
    def kind_totals(self) -> tuple[KindTotal, ...]:
        """The signed sum and count of each kind present, in the order of `EntryKind`."""
        totals = []
        for kind in EntryKind:
            mine = [line.entry.signed_amount for line in self.lines if line.entry.kind is kind]
            if mine:
                totals.append(KindTotal(kind, self._sum(mine), len(mine)))
        return tuple(totals)

    def _sum(self, amounts: Iterable[Decimal]) -> Decimal:
        return sum(amounts, Decimal(0).scaleb(-minor_units(self.currency)))
