"""Finance metrics (issue 10): per month and currency, MRR, ARR, billings, collections, A/R and
DSO (`invoicing.domain.metrics` says what each counts)."""

from __future__ import annotations

from invoicing.domain.metrics import MonthMetrics, finance_metrics
from invoicing.domain.revenue import months_between
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from libs.platform.errors import ValidationFailed
from libs.platform.money import minor_units

MAX_METRIC_MONTHS = 240
"""Months answered at most in one request (20 years)."""
LAST_MONTH = "9998-12"
"""The last month answered (the month after it must be a date)."""


def metric_months(month_from: str, month_to: str) -> list[str]:
    """The months from `month_from` to `month_to` (422 when reversed or too many)."""
    months = months_between(month_from, month_to)
    if month_to > LAST_MONTH:
        raise ValidationFailed.single("to", f"months up to {LAST_MONTH}")
    if len(months) > MAX_METRIC_MONTHS:
        raise ValidationFailed.single("to", f"at most {MAX_METRIC_MONTHS} months at a time")
    return months


async def monthly_metrics(
    *, uow: InvoicingUnitOfWork, month_from: str, month_to: str, currency: str | None
) -> dict[str, list[MonthMetrics]]:
    """Per currency (the one asked, or every one with something to show), one row per month."""
    months = metric_months(month_from, month_to)
    if currency is not None:
        minor_units(currency)  # an unknown currency is a 422
    movements = await uow.metrics.movements(months, currency)
    prices = await uow.metrics.recurring_prices(months, currency)
    found = finance_metrics(months, movements, prices)
    if currency is not None and currency not in found:
        found = {currency: empty_metrics(months, currency)}
    return found


def empty_metrics(months: list[str], currency: str) -> list[MonthMetrics]:
    """Every month zero (a currency with nothing)."""
    return [MonthMetrics(month=month, currency=currency) for month in months]
