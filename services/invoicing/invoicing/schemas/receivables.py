"""Views of accounts receivable: the aging (`/v1/ar/aging`, JSON and CSV) and an account's balance."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel, Field

from invoicing.domain.receivables import AGING_BUCKETS, AgingBucket, AgingRow
from invoicing.handlers.receivables import AccountBalance, AgingReport
from libs.contracts.types import Amount
from libs.platform.money import amount_out

CSV_COLUMNS = ("account_id", "account_name", "currency", "invoices", *AGING_BUCKETS, "total")
"""The CSV's header row; the total rows name no account (`account_id` is "TOTAL")."""


class AgingBuckets(BaseModel):
    """What was owed in each bucket of days past due, and their total."""

    current: Amount = Field(description="Not yet past due.")
    days_1_30: Amount
    days_31_60: Amount
    days_61_90: Amount
    days_over_90: Amount
    total: Amount


class AgingAccountPublic(AgingBuckets):
    """One account's receivables in one currency."""

    account_id: str
    account_name: str | None
    currency: str
    invoices: int = Field(description="Invoices with something owed at the date.")


class AgingTotalPublic(AgingBuckets):
    """The book's receivables in one currency."""

    currency: str
    accounts: int
    invoices: int


class AgingReportPublic(BaseModel):
    """Receivables as of a date: per account and in total per currency, by days past due."""

    as_of: date
    currency: str | None = Field(description="The currency asked for; None: every currency.")
    accounts: list[AgingAccountPublic]
    totals: list[AgingTotalPublic]


def _buckets(row: AgingRow) -> dict[str, object]:
    values: dict[str, object] = {b.value: amount_out(row.amount(b), row.currency) for b in AgingBucket}
    values["total"] = amount_out(row.total, row.currency)
    return values


def aging_public(report: AgingReport, currency: str | None) -> AgingReportPublic:
    """The API view of an aging report."""
    accounts_per_currency: dict[str, int] = {}
    for row in report.rows:
        accounts_per_currency[row.currency] = accounts_per_currency.get(row.currency, 0) + 1
    return AgingReportPublic(
        as_of=report.as_of,
        currency=currency,
        accounts=[
            AgingAccountPublic(
                account_id=row.account_id,
                account_name=row.account_name,
                currency=row.currency,
                invoices=row.invoices,
                **_buckets(row),
            )
            for row in report.rows
        ],
        totals=[
            AgingTotalPublic(
                currency=row.currency,
                accounts=accounts_per_currency.get(row.currency, 0),
                invoices=row.invoices,
                **_buckets(row),
            )
            for row in report.totals.rows()
        ],
    )


def csv_lines(rows: Iterable[AgingRow], *, total: bool = False) -> str:
    """CSV text of aging rows (total rows say TOTAL instead of an account)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        name = row.account_name or ""
        # A spreadsheet runs a cell that starts with = + - @ as a formula: a name is data, never code.
        if name[:1] in ("=", "+", "-", "@", "\t", "\r"):
            name = "'" + name
        writer.writerow(
            [
                "TOTAL" if total else row.account_id,
                "" if total else name,
                row.currency,
                row.invoices,
                *(str(amount_out(row.amount(b), row.currency)) for b in AGING_BUCKETS),
                str(amount_out(row.total, row.currency)),
            ]
        )
    return out.getvalue()


def csv_header() -> str:
    """The CSV's header row."""
    return ",".join(str(c) for c in CSV_COLUMNS) + "\r\n"


class CurrencyBalancePublic(BaseModel):
    """An account's receivables in one currency."""

    currency: str
    billed: Amount = Field(description="What the account's issued invoices still have due.")
    past_due: Amount = Field(description="The part of `billed` due before today.")
    account_credit: Amount = Field(
        description="Credit the account holds (from credit notes beyond what was due)."
    )
    unbilled: Amount | None = Field(
        description="Charges due through today not invoiced yet (None when they cannot be computed)."
    )
    net: Amount = Field(description="billed + unbilled - account_credit.")
    open_invoices: int


class AccountBalancePublic(BaseModel):
    """An account's balance today (its local date), per currency."""

    account_id: str
    as_of: date
    balances: list[CurrencyBalancePublic]
    unbilled_note: str | None = Field(default=None, description="Why unbilled is unknown, when it is.")


def balance_public(balance: AccountBalance) -> AccountBalancePublic:
    """The API view of an account's balance."""
    return AccountBalancePublic(
        account_id=balance.account_id,
        as_of=balance.as_of,
        balances=[
            CurrencyBalancePublic(
                currency=b.currency,
                billed=amount_out(b.billed, b.currency),
                past_due=amount_out(b.past_due, b.currency),
                account_credit=amount_out(b.account_credit, b.currency),
                unbilled=amount_out(b.unbilled, b.currency),
                net=amount_out(b.net, b.currency),
                open_invoices=b.open_invoices,
            )
            for b in balance.currencies
        ],
        unbilled_note=balance.unbilled_note,
    )
