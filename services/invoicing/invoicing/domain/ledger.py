"""The general ledger: a chart of accounts (configuration) and double-entry journal entries.

Every entry is in one currency and balances: its debits equal its credits, each line in the
currency's minor units and on one side only (an entry that does not is refused). The entries the
service posts are built here from what happened (an invoice issued or voided, a credit note, a
payment, a refund or reversal, a write-off, a month's recognition) — the amounts come from the
events and the revenue schedules, the accounts from the chart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from libs.platform.errors import ValidationFailed
from libs.platform.money import minor_units_problem

ZERO = Decimal(0)


class LedgerRole(StrEnum):
    """What an account of the chart is for; the chart maps each to an account code and name."""

    CASH = "cash"
    RECEIVABLE = "receivable"
    TAX_PAYABLE = "tax_payable"
    CUSTOMER_CREDIT = "customer_credit"
    DEFERRED_REVENUE = "deferred_revenue"
    REVENUE = "revenue"
    BAD_DEBT = "bad_debt"


@dataclass(frozen=True, slots=True)
class GlAccount:
    """An account of the chart: its code in the ERP and its name."""

    code: str
    name: str


DEFAULT_CHART: Mapping[LedgerRole, GlAccount] = {
    LedgerRole.CASH: GlAccount("1000", "Cash"),
    LedgerRole.RECEIVABLE: GlAccount("1100", "Accounts receivable"),
    LedgerRole.TAX_PAYABLE: GlAccount("2200", "Tax payable"),
    LedgerRole.CUSTOMER_CREDIT: GlAccount("2300", "Customer credit"),
    LedgerRole.DEFERRED_REVENUE: GlAccount("2400", "Deferred revenue"),
    LedgerRole.REVENUE: GlAccount("4000", "Revenue"),
    LedgerRole.BAD_DEBT: GlAccount("6100", "Bad debt expense"),
}


@dataclass(frozen=True, slots=True)
class ChartOfAccounts:
    """The accounts entries are posted to, one per role (codes unique)."""

    accounts: Mapping[LedgerRole, GlAccount]

    def __post_init__(self) -> None:
        missing = [role.value for role in LedgerRole if role not in self.accounts]
        codes = [account.code for account in self.accounts.values()]
        if missing or len(set(codes)) != len(codes):
            raise ValueError(f"chart of accounts: missing roles {missing} or repeated codes {codes}")

    def __getitem__(self, role: LedgerRole) -> GlAccount:
        return self.accounts[role]

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, Mapping[str, str]]) -> ChartOfAccounts:
        """The default chart with some roles given another code or name ({"cash": {"code": "1010"}})."""
        accounts = dict(DEFAULT_CHART)
        for role_name, values in overrides.items():
            role = LedgerRole(role_name)
            current = accounts[role]
            accounts[role] = GlAccount(values.get("code", current.code), values.get("name", current.name))
        return cls(accounts)


DEFAULT_CHART_OF_ACCOUNTS = ChartOfAccounts(DEFAULT_CHART)


class EntryKind(StrEnum):
    """What a journal entry books."""

    INVOICE = "invoice"
    INVOICE_VOID = "invoice_void"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    CREDIT_APPLIED = "credit_applied"
    REFUND = "refund"
    REVERSAL = "reversal"
    WRITE_OFF = "write_off"
    RECOGNITION = "recognition"


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One side of a posting: an amount debited or credited to an account."""

    account: GlAccount
    debit: Decimal = ZERO
    credit: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A balanced posting in one currency, for one thing that happened (`source_id`)."""

    id: str
    kind: EntryKind
    entry_date: date
    currency: str
    source_id: str
    account_id: str | None
    description: str
    lines: tuple[JournalLine, ...]

    def __post_init__(self) -> None:
        check_balanced(self.currency, self.lines)

    @property
    def total(self) -> Decimal:
        """The sum of the debits (= the sum of the credits)."""
        return sum((line.debit for line in self.lines), ZERO)


class UnbalancedEntry(ValidationFailed):
    """A journal entry whose debits and credits differ (or a line that is not money) is refused."""

    code = "unbalanced_entry"


def check_balanced(currency: str, lines: Sequence[JournalLine]) -> None:
    """Refuse lines that do not balance, carry a negative or two-sided amount, or more decimals
    than the currency has."""
    for line in lines:
        for amount in (line.debit, line.credit):
            problem = minor_units_problem(amount, currency)
            if problem is not None:
                raise UnbalancedEntry(f"{line.account.code}: {problem}")
        if line.debit < 0 or line.credit < 0 or (line.debit and line.credit):
            raise UnbalancedEntry(f"{line.account.code}: a line is a positive debit or a positive credit")
    debits = sum((line.debit for line in lines), ZERO)
    credits = sum((line.credit for line in lines), ZERO)
    if not lines or debits != credits:
        raise UnbalancedEntry(f"debits {debits} and credits {credits} {currency} do not balance")


def postings(signed: Iterable[tuple[GlAccount, Decimal]]) -> tuple[JournalLine, ...]:
    """Lines from signed amounts (positive: debit, negative: credit), one per account and side,
    zeros dropped, in the order the accounts first appear."""
    totals: dict[GlAccount, Decimal] = {}
    for account, amount in signed:
        totals[account] = totals.get(account, ZERO) + amount
    return tuple(
        JournalLine(account, debit=amount) if amount > 0 else JournalLine(account, credit=-amount)
        for account, amount in totals.items()
        if amount
    )


@dataclass(frozen=True, slots=True)
class RevenueSplit:
    """Net revenue of a document by where it goes: recognised now, or deferred."""

    recognized: Decimal = ZERO
    deferred: Decimal = ZERO


def invoice_postings(
    chart: ChartOfAccounts,
    *,
    total: Decimal,
    split: RevenueSplit,
    tax: Decimal,
    account_credit: Decimal = ZERO,
) -> tuple[JournalLine, ...]:
    """An issued invoice: Dr receivable the total; Cr revenue (recognised at once), deferred revenue
    (ratable lines) and tax payable; Cr customer credit the excess credit it carried to the account
    (its credits exceeded its charges: net revenue and tax are then negative, debits)."""
    return postings(
        [
            (chart[LedgerRole.RECEIVABLE], total),
            (chart[LedgerRole.REVENUE], -split.recognized),
            (chart[LedgerRole.DEFERRED_REVENUE], -split.deferred),
            (chart[LedgerRole.TAX_PAYABLE], -tax),
            (chart[LedgerRole.CUSTOMER_CREDIT], -account_credit),
        ]
    )


def credit_postings(
    chart: ChartOfAccounts, *, split: RevenueSplit, tax: Decimal, account_credit: Decimal
) -> tuple[JournalLine, ...]:
    """A credit note (or a void): Dr revenue its recognised share, Dr deferred revenue the rest, Dr
    tax payable; Cr receivable, and Cr customer credit what exceeded the invoice's amount due."""
    total = split.recognized + split.deferred + tax
    return postings(
        [
            (chart[LedgerRole.REVENUE], split.recognized),
            (chart[LedgerRole.DEFERRED_REVENUE], split.deferred),
            (chart[LedgerRole.TAX_PAYABLE], tax),
            (chart[LedgerRole.RECEIVABLE], -(total - account_credit)),
            (chart[LedgerRole.CUSTOMER_CREDIT], -account_credit),
        ]
    )


def payment_postings(
    chart: ChartOfAccounts, *, amount: Decimal, applied: Decimal, unapplied: Decimal
) -> tuple[JournalLine, ...]:
    """A payment received: Dr cash; Cr receivable what invoices took, Cr customer credit the rest."""
    return postings(
        [
            (chart[LedgerRole.CASH], amount),
            (chart[LedgerRole.RECEIVABLE], -applied),
            (chart[LedgerRole.CUSTOMER_CREDIT], -unapplied),
        ]
    )


def credit_applied_postings(chart: ChartOfAccounts, *, amount: Decimal) -> tuple[JournalLine, ...]:
    """Account credit applied to an invoice (no cash moves): Dr customer credit; Cr receivable."""
    return postings([(chart[LedgerRole.CUSTOMER_CREDIT], amount), (chart[LedgerRole.RECEIVABLE], -amount)])


def payment_return_postings(
    chart: ChartOfAccounts, *, amount: Decimal, reopened: Decimal, credit_used: Decimal
) -> tuple[JournalLine, ...]:
    """A refund or a reversal, the opposite of a payment: Dr receivable what invoices owe again, Dr
    customer credit what came out of the account's credit; Cr cash."""
    return postings(
        [
            (chart[LedgerRole.RECEIVABLE], reopened),
            (chart[LedgerRole.CUSTOMER_CREDIT], credit_used),
            (chart[LedgerRole.CASH], -amount),
        ]
    )


def write_off_postings(chart: ChartOfAccounts, *, amount: Decimal) -> tuple[JournalLine, ...]:
    """A write-off: Dr bad debt expense; Cr receivable."""
    return postings([(chart[LedgerRole.BAD_DEBT], amount), (chart[LedgerRole.RECEIVABLE], -amount)])


def recognition_postings(chart: ChartOfAccounts, *, amount: Decimal) -> tuple[JournalLine, ...]:
    """A month's recognition: Dr deferred revenue; Cr revenue."""
    return postings([(chart[LedgerRole.DEFERRED_REVENUE], amount), (chart[LedgerRole.REVENUE], -amount)])


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    """An account's balance in one currency: debits - credits (a credit balance is negative)."""

    account: GlAccount
    currency: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Debits minus credits."""
        return self.debit - self.credit


def trial_balance_total(rows: Iterable[TrialBalanceRow]) -> dict[str, Decimal]:
    """The sum of the balances per currency (zero in a ledger of balanced entries)."""
    totals: dict[str, Decimal] = {}
    for row in rows:
        totals[row.currency] = totals.get(row.currency, ZERO) + row.balance
    return totals
