"""Finance metrics: `/v1/metrics/finance` (JSON or CSV), and the charts an ops dashboard embeds:
`/v1/metrics/mrr.svg` (MRR by month) and `/v1/ar/aging.svg` (the aging's buckets)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from invoicing.api.deps import ReadUow, runtime_from
from invoicing.documents.metrics_charts import aging_svg, mrr_svg
from invoicing.handlers import metrics as handlers
from invoicing.handlers import receivables
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from invoicing.schemas.metrics import CSV_HEADER, FinanceMetricsPublic, csv_rows, metrics_public
from invoicing.schemas.revenue import MONTH_PATTERN
from libs.contracts.types import CurrencyCode, IsoDate
from libs.platform.auth import ALL_ROLES, Principal, require_roles
from libs.platform.csv_export import csv_download, wants_csv
from libs.platform.errors import ValidationFailed
from libs.platform.money import minor_units

router = APIRouter(tags=["metrics"])
Reader = Annotated[Principal, Depends(require_roles(*ALL_ROLES))]
MonthFrom = Annotated[str, Query(alias="from", pattern=MONTH_PATTERN, description="First month, YYYY-MM.")]
MonthTo = Annotated[
    str, Query(alias="to", pattern=MONTH_PATTERN, description="Last month, YYYY-MM (included).")
]
CurrencyFilter = Annotated[CurrencyCode | None, Query(description="Only this currency (ISO 4217).")]
SVG = {200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}}


def _csv(public: FinanceMetricsPublic) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(public))
    return out.getvalue()


@router.get(
    "/v1/metrics/finance",
    response_model=FinanceMetricsPublic,
    summary="Finance metrics per month: MRR, ARR, billings, collections, A/R and DSO (JSON or CSV)",
    description="Per month and currency (docs/invoicing.md, Finance metrics, says what each counts). "
    "`format=csv` (or `Accept: text/csv`) answers a CSV of the same rows.",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def finance_metrics(
    request: Request,
    uow: ReadUow,
    month_from: MonthFrom,
    month_to: MonthTo,
    currency: CurrencyFilter = None,
    format: Annotated[Literal["json", "csv"] | None, Query(description="json (default) or csv.")] = None,
) -> Response:
    rows = await handlers.monthly_metrics(
        uow=uow, month_from=month_from, month_to=month_to, currency=currency
    )
    public = metrics_public(month_from, month_to, rows)
    if wants_csv(request, format):
        return csv_download(_csv(public), f"finance-metrics-{month_from}-{month_to}.csv")
    return Response(public.model_dump_json(by_alias=True), media_type="application/json")


@router.get(
    "/v1/metrics/mrr.svg",
    summary="MRR by month as an SVG chart",
    description="MRR at each month's end, in one currency (the `currency` asked; without it, the one "
    "currency there is; 422 when there are several).",
    response_class=Response,
    responses=SVG,  # type: ignore[arg-type]
)
async def mrr_chart(
    uow: ReadUow, month_from: MonthFrom, month_to: MonthTo, currency: CurrencyFilter = None
) -> Response:
    rows = await handlers.monthly_metrics(
        uow=uow, month_from=month_from, month_to=month_to, currency=currency
    )
    if len(rows) > 1:
        raise ValidationFailed.single("currency", f"several currencies ({', '.join(rows)}): name one")
    code, months = (
        next(iter(rows.items()))
        if rows
        else ("", handlers.empty_metrics(handlers.metric_months(month_from, month_to), ""))
    )
    svg = await asyncio.to_thread(mrr_svg, code, months, month_from=month_from, month_to=month_to)
    return Response(svg, media_type="image/svg+xml")


@router.get(
    "/v1/ar/aging.svg",
    summary="The A/R aging as an SVG chart",
    description="What was owed at the end of `as_of` per aging bucket (current, 1-30, 31-60, 61-90, "
    "90+ days past due), the totals of `/v1/ar/aging`, in one currency (the `currency` asked; without "
    "it, the one currency there is; 422 when there are several).",
    response_class=Response,
    responses=SVG,  # type: ignore[arg-type]
)
async def aging_chart(
    request: Request,
    principal: Reader,
    as_of: Annotated[IsoDate | None, Query(description="Default: today (UTC).")] = None,
    currency: CurrencyFilter = None,
) -> Response:
    runtime = runtime_from(request)
    if currency is not None:
        minor_units(currency)
    when: date = as_of or runtime.clock.now().date()

    def units_of_work() -> InvoicingUnitOfWork:
        return runtime.invoicing_unit_of_work(principal)

    report = await receivables.aging_report(units_of_work, as_of=when, currency=currency)
    totals = report.totals.rows()
    if len(totals) > 1:
        found = ", ".join(row.currency for row in totals)
        raise ValidationFailed.single("currency", f"several currencies ({found}): name one")
    code = totals[0].currency if totals else (currency or "")
    svg = await asyncio.to_thread(aging_svg, code, totals[0] if totals else None, as_of=when)
    return Response(svg, media_type="image/svg+xml")
