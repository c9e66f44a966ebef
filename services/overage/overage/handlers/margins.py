"""The margin report: what we billed customers for resold service against what vendors billed us."""

from __future__ import annotations

from typing import TYPE_CHECKING

from overage.domain.margins import MarginReport, MonthRange, margin_report

if TYPE_CHECKING:
    from overage.handlers.unit_of_work import OverageUnitOfWork


async def report_margins(
    *, uow: OverageUnitOfWork, months: MonthRange, account_id: str | None = None
) -> MarginReport:
    """Margin per account and month of `months` (one account's when given), with totals per currency."""
    billed = await uow.customer_billing.resale_amounts(months.start, months.end, account_id)
    vendor = await uow.vendor_invoices.billed_amounts(months.start, months.end, account_id)
    return margin_report(months, billed, vendor)
