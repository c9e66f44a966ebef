"""Views of the finance metrics: per currency, one row per month; amounts are decimal strings."""

from __future__ import annotations

from pydantic import BaseModel, Field

from invoicing.domain.metrics import MonthMetrics
from libs.contracts.types import Amount, CurrencyCode
from libs.platform.money import amount_out

CSV_HEADER = ["currency", "month", "mrr", "arr", "billings", "collections", "ar_month_end", "dso_days"]


class MonthMetricsPublic(BaseModel):
    """One month in one currency."""

    month: str = Field(examples=["2026-03"])
    mrr: Amount = Field(
        description="Monthly recurring revenue at the month's end: active recurring subscriptions, "
        "price x quantity less discount, per month (quarterly / 3, annual / 12)."
    )
    arr: Amount = Field(description="12 x MRR.")
    billings: Amount = Field(
        description="Invoices issued in the month (totals), less credit notes dated in it and "
        "invoices voided in it."
    )
    collections: Amount = Field(description="Payments received in the month, less refunds and reversals.")
    ar_month_end: Amount = Field(description="Accounts receivable at the month's end.")
    dso_days: str | None = Field(
        description="Days sales outstanding: A/R / billings x days in the month (one decimal); null "
        "when the month billed nothing.",
        examples=["45.2"],
    )


class CurrencyMetricsPublic(BaseModel):
    """The months of one currency."""

    currency: CurrencyCode
    months: list[MonthMetricsPublic]


class FinanceMetricsPublic(BaseModel):
    """Finance metrics per month and currency."""

    from_month: str = Field(serialization_alias="from")
    to_month: str = Field(serialization_alias="to")
    currencies: list[CurrencyMetricsPublic]


def month_public(row: MonthMetrics) -> MonthMetricsPublic:
    """The view of one month."""
    c = row.currency
    return MonthMetricsPublic(
        month=row.month,
        mrr=amount_out(row.mrr, c),
        arr=amount_out(row.arr, c),
        billings=amount_out(row.billings, c),
        collections=amount_out(row.collections, c),
        ar_month_end=amount_out(row.receivable, c),
        dso_days=None if row.dso is None else str(row.dso),
    )


def metrics_public(
    month_from: str, month_to: str, rows: dict[str, list[MonthMetrics]]
) -> FinanceMetricsPublic:
    """The view of every currency's months."""
    return FinanceMetricsPublic(
        from_month=month_from,
        to_month=month_to,
        currencies=[
            CurrencyMetricsPublic(currency=code, months=[month_public(row) for row in months])
            for code, months in rows.items()
        ],
    )


def csv_rows(public: FinanceMetricsPublic) -> list[list[str]]:
    """The CSV's rows after its header."""
    return [
        [
            currency.currency,
            row.month,
            str(row.mrr),
            str(row.arr),
            str(row.billings),
            str(row.collections),
            str(row.ar_month_end),
            row.dso_days or "",
        ]
        for currency in public.currencies
        for row in currency.months
    ]
