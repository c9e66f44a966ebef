"""`/v1/margins`: margin per customer and month — JSON, CSV (`format=csv`) and an SVG chart."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from libs.contracts.types import CurrencyCode
from libs.platform.csv_export import csv_download
from overage.api.deps import ID_PATTERN, ReadUow
from overage.documents.margins import chart_currency, margin_csv, margin_svg
from overage.domain.margins import month_range
from overage.handlers.margins import report_margins
from overage.schemas.margins import MarginReportPublic, margin_report_public

router = APIRouter(prefix="/v1", tags=["margins"])

MonthQuery = Annotated[
    str, Query(min_length=7, max_length=7, description="YYYY-MM, included.", examples=["2026-03"])
]
AccountQuery = Annotated[str | None, Query(pattern=ID_PATTERN, description="One account only.")]


@router.get(
    "/margins",
    response_model=MarginReportPublic,
    response_model_by_alias=True,
    summary="Margin per customer and month",
    description="Per account and month of [from, to]: billed to the customer for resold service "
    "(invoice lines of committed subscriptions and overage re-bills, by the month their service period "
    "starts), billed by the vendor (vendor invoices, by the month the period they bill starts), margin "
    "and margin percent (2 decimals, half up; null when nothing was billed), and a total per currency. "
    "`format=csv` answers text/csv with the same rows, totals last.",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def get_margins(
    uow: ReadUow,
    from_month: Annotated[
        str, Query(alias="from", min_length=7, max_length=7, description="YYYY-MM, included.")
    ],
    to_month: Annotated[str, Query(alias="to", min_length=7, max_length=7, description="YYYY-MM, included.")],
    account_id: AccountQuery = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")] = "json",
) -> MarginReportPublic | Response:
    report = await report_margins(uow=uow, months=month_range(from_month, to_month), account_id=account_id)
    if format == "csv":
        return csv_download(margin_csv(report), f"margins-{report.months.first}-{report.months.last}.csv")
    return margin_report_public(report, account_id)


@router.get(
    "/margins.svg",
    summary="Margin chart",
    description="Per month of [from, to], all accounts together (or one): billed to customers and by "
    "vendors as bars, the margin as a line, in one currency (the one billed most unless `currency`).",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}},
)
async def get_margin_chart(
    uow: ReadUow,
    from_month: Annotated[
        str, Query(alias="from", min_length=7, max_length=7, description="YYYY-MM, included.")
    ],
    to_month: Annotated[str, Query(alias="to", min_length=7, max_length=7, description="YYYY-MM, included.")],
    account_id: AccountQuery = None,
    currency: Annotated[CurrencyCode | None, Query(description="The currency to draw.")] = None,
) -> Response:
    report = await report_margins(uow=uow, months=month_range(from_month, to_month), account_id=account_id)
    drawn = chart_currency(report, currency)
    title = f"Margin {report.months.first} to {report.months.last}" + (
        f", {account_id}" if account_id else ""
    )
    svg = await run_in_threadpool(margin_svg, report, drawn, title)
    return Response(svg, media_type="image/svg+xml")
