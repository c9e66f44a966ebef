"""Requests and views of revenue schedules, recognition runs and the waterfall.

Months are `YYYY-MM`; amounts are decimal strings with the currency's minor units.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from invoicing.domain.revenue import RevenueSchedule, ScheduleMonth, WaterfallMonth
from libs.contracts.types import Amount, CurrencyCode
from libs.contracts.vocabulary import RevenueRule
from libs.platform.money import amount_out

MONTH_PATTERN = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"
Month = Annotated[str, StringConstraints(pattern=MONTH_PATTERN)]


class ScheduleMonthPublic(BaseModel):
    """What a schedule recognises in a month."""

    month: str = Field(examples=["2026-03"])
    recognize_on: date = Field(description="The month's last day of service: when it counts as recognised.")
    amount: Amount
    posted: bool = Field(description="Recognised in the general ledger already.")


class RevenueSchedulePublic(BaseModel):
    """The recognition of one invoice line."""

    id: str
    invoice_id: str
    invoice_number: str
    account_id: str
    currency: CurrencyCode
    charge_key: str
    description: str
    product_id: str | None
    rule: RevenueRule = Field(
        description="ratable (by day over the service period), on_fulfillment or on_invoice."
    )
    invoice_date: date
    period_start: date
    period_end: date = Field(description="Exclusive end of the service period.")
    amount: Amount = Field(description="The line's net amount.")
    credited: Amount = Field(description="Taken off by credit notes (or a void).")
    months: list[ScheduleMonthPublic] = Field(description="The months, summing to amount - credited.")


def _month_public(month: ScheduleMonth, currency: str) -> ScheduleMonthPublic:
    return ScheduleMonthPublic(
        month=month.month,
        recognize_on=month.recognize_on,
        amount=amount_out(month.amount, currency),
        posted=month.posted,
    )


def schedule_public(schedule: RevenueSchedule) -> RevenueSchedulePublic:
    """The view of a schedule."""
    currency = schedule.currency
    return RevenueSchedulePublic(
        id=schedule.id,
        invoice_id=schedule.invoice_id,
        invoice_number=schedule.invoice_number,
        account_id=schedule.account_id,
        currency=currency,
        charge_key=schedule.charge_key,
        description=schedule.description,
        product_id=schedule.product_id,
        rule=schedule.rule,
        invoice_date=schedule.invoice_date,
        period_start=schedule.period_start,
        period_end=schedule.period_end,
        amount=amount_out(schedule.amount, currency),
        credited=amount_out(schedule.credited, currency),
        months=[_month_public(month, currency) for month in schedule.months],
    )


class RecognitionRunCreate(BaseModel):
    """Recognise a month: post its deferred revenue not posted yet."""

    model_config = ConfigDict(extra="forbid")

    month: Month = Field(description="YYYY-MM; the month must have ended (its last day is today or before).")


class RecognitionPostingPublic(BaseModel):
    """One journal entry of a month's recognition (one per currency and run that found something)."""

    journal_entry_id: str
    currency: CurrencyCode
    amount: Amount
    schedule_months: int


class CurrencyAmount(BaseModel):
    """An amount in a currency."""

    currency: CurrencyCode
    amount: Amount


class RecognitionRunPublic(BaseModel):
    """A month's recognition: what this run posted and what the month has recognised in all."""

    month: str
    posted: list[RecognitionPostingPublic] = Field(
        description="Posted by this run (empty: nothing was left)."
    )
    recognized: list[CurrencyAmount] = Field(description="Everything posted for the month, per currency.")


class WaterfallMonthPublic(BaseModel):
    """One month: deferred opening + billed - recognized = deferred closing."""

    month: str
    deferred_opening: Amount
    billed: Amount = Field(description="Net revenue invoiced in the month, less credit notes dated in it.")
    recognized: Amount = Field(
        description="Revenue recognised in the month, less credited recognised revenue."
    )
    deferred_closing: Amount


class WaterfallCurrency(BaseModel):
    """The waterfall of one currency."""

    currency: CurrencyCode
    months: list[WaterfallMonthPublic]


class WaterfallPublic(BaseModel):
    """The deferred revenue waterfall per month, per currency."""

    from_month: str = Field(serialization_alias="from")
    to_month: str = Field(serialization_alias="to")
    currencies: list[WaterfallCurrency]


def waterfall_currency(currency: str, rows: list[WaterfallMonth]) -> WaterfallCurrency:
    """The view of one currency's waterfall."""
    return WaterfallCurrency(
        currency=currency,
        months=[
            WaterfallMonthPublic(
                month=row.month,
                deferred_opening=amount_out(row.deferred_opening, currency),
                billed=amount_out(row.billed, currency),
                recognized=amount_out(row.recognized, currency),
                deferred_closing=amount_out(row.deferred_closing, currency),
            )
            for row in rows
        ],
    )
