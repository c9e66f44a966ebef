"""Views of the margin report (`/v1/margins`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from libs.contracts.types import Amount
from libs.platform.money import amount_out
from overage.domain.margins import MarginLine, MarginReport


class MarginLinePublic(BaseModel):
    """One account's month in one currency (or, in `totals`, a currency's total)."""

    account_id: str | None = Field(description="null on a total.")
    period: str = Field(description="YYYY-MM, or total.", examples=["2026-03"])
    currency: str
    billed_to_customer: Amount = Field(
        description="Our invoice lines for resold service (overage re-bills included)."
    )
    billed_by_vendor: Amount = Field(description="The vendor's invoices for the same service periods.")
    margin: Amount = Field(description="billed_to_customer - billed_by_vendor.")
    margin_percent: str | None = Field(
        description="margin / billed_to_customer x 100, 2 decimals half up; null when nothing was billed.",
        examples=["16.67"],
    )


class MarginReportPublic(BaseModel):
    """Margin per account and month, with a total per currency."""

    from_month: str = Field(serialization_alias="from", examples=["2026-03"])
    to_month: str = Field(serialization_alias="to", examples=["2027-02"])
    account_id: str | None
    lines: list[MarginLinePublic]
    totals: list[MarginLinePublic]


def margin_line_public(line: MarginLine) -> MarginLinePublic:
    """The API view of a line."""
    c = line.currency
    percent = line.margin_percent
    return MarginLinePublic(
        account_id=line.account_id,
        period=line.period,
        currency=c,
        billed_to_customer=amount_out(line.billed, c),
        billed_by_vendor=amount_out(line.vendor_billed, c),
        margin=amount_out(line.margin, c),
        margin_percent=None if percent is None else format(percent, "f"),
    )


def margin_report_public(report: MarginReport, account_id: str | None) -> MarginReportPublic:
    """The API view of a report."""
    return MarginReportPublic(
        from_month=str(report.months.first),
        to_month=str(report.months.last),
        account_id=account_id,
        lines=[margin_line_public(line) for line in report.lines],
        totals=[margin_line_public(line) for line in report.totals],
    )
