"""`/v1/revenue-schedules` (read), `/v1/revenue/recognition-runs` (post a month), and the waterfall
(`/v1/revenue/waterfall` as JSON or CSV, `/v1/revenue/waterfall.svg`)."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from invoicing.api.deps import ReadUow, WriteUow, id_path, runtime_from
from invoicing.documents.waterfall_chart import waterfall_svg
from invoicing.handlers import revenue as handlers
from invoicing.handlers.revenue_port import ScheduleFilters
from invoicing.schemas.revenue import (
    MONTH_PATTERN,
    RecognitionRunCreate,
    RecognitionRunPublic,
    RevenueSchedulePublic,
    WaterfallPublic,
)
from libs.contracts.types import CurrencyCode
from libs.platform.csv_export import csv_download, wants_csv
from libs.platform.errors import ValidationFailed
from libs.platform.pagination import Page, PageParams

router = APIRouter(tags=["revenue"])
ScheduleId = Annotated[str, id_path("Revenue schedule id (rsch_…).")]
FilterId = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
MonthFrom = Annotated[str, Query(alias="from", pattern=MONTH_PATTERN, description="First month, YYYY-MM.")]
MonthTo = Annotated[
    str, Query(alias="to", pattern=MONTH_PATTERN, description="Last month, YYYY-MM (included).")
]
CurrencyFilter = Annotated[CurrencyCode | None, Query(description="Only this currency.")]


@router.get(
    "/v1/revenue-schedules",
    response_model=Page[RevenueSchedulePublic],
    summary="List revenue schedules (by account, invoice or product)",
)
async def list_revenue_schedules(
    uow: ReadUow,
    page: PageParams,
    account_id: FilterId = None,
    invoice_id: FilterId = None,
    product_id: FilterId = None,
) -> Page[RevenueSchedulePublic]:
    filters = ScheduleFilters(account_id=account_id, invoice_id=invoice_id, product_id=product_id)
    return await handlers.list_schedules(uow=uow, page=page, filters=filters)


@router.get(
    "/v1/revenue-schedules/{schedule_id}",
    response_model=RevenueSchedulePublic,
    summary="A revenue schedule with its months",
)
async def get_revenue_schedule(schedule_id: ScheduleId, uow: ReadUow) -> RevenueSchedulePublic:
    return await handlers.get_schedule(uow=uow, schedule_id=schedule_id)


@router.post(
    "/v1/revenue/recognition-runs",
    response_model=RecognitionRunPublic,
    summary="Recognise a month's deferred revenue",
    description="Posts, for a month that has ended, every ratable schedule month not posted yet: one "
    "journal entry per currency on the month's last day (Dr deferred revenue, Cr revenue). Repeating "
    "it posts nothing more (only months that arrived since, e.g. from a back-dated invoice). Send an "
    "`Idempotency-Key` to have a retry answer the same.",
)
async def run_recognition(
    request: Request, body: RecognitionRunCreate, uow: WriteUow
) -> RecognitionRunPublic:
    return await handlers.run_recognition(uow=uow, month=body.month, chart=runtime_from(request).chart)


def _csv(waterfall: WaterfallPublic) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["currency", "month", "deferred_opening", "billed", "recognized", "deferred_closing"])
    for currency in waterfall.currencies:
        for row in currency.months:
            writer.writerow(
                [
                    currency.currency,
                    row.month,
                    row.deferred_opening,
                    row.billed,
                    row.recognized,
                    row.deferred_closing,
                ]
            )
    return out.getvalue()


@router.get(
    "/v1/revenue/waterfall",
    response_model=WaterfallPublic,
    summary="The deferred revenue waterfall per month (JSON or CSV)",
    description="Per month and currency: deferred opening + billed - recognized = deferred closing. "
    "`format=csv` (or `Accept: text/csv`) answers a CSV of the same rows.",
    responses={200: {"content": {"text/csv": {}}}},
)
async def revenue_waterfall(
    request: Request,
    uow: ReadUow,
    month_from: MonthFrom,
    month_to: MonthTo,
    currency: CurrencyFilter = None,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
) -> Response:
    public, _rows = await handlers.revenue_waterfall(
        uow=uow, month_from=month_from, month_to=month_to, currency=currency
    )
    if wants_csv(request, format):
        return csv_download(_csv(public), f"revenue-waterfall-{month_from}-{month_to}.csv")
    return Response(public.model_dump_json(by_alias=True), media_type="application/json")


@router.get(
    "/v1/revenue/waterfall.svg",
    summary="The deferred revenue waterfall as an SVG chart",
    description="Billed and recognised revenue per month as bars, the deferred closing as a line, in "
    "one currency (the `currency` asked; without it, the one currency there is).",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def revenue_waterfall_svg(
    uow: ReadUow, month_from: MonthFrom, month_to: MonthTo, currency: CurrencyFilter = None
) -> Response:
    _public, rows = await handlers.revenue_waterfall(
        uow=uow, month_from=month_from, month_to=month_to, currency=currency
    )
    if len(rows) > 1:
        raise ValidationFailed.single("currency", f"several currencies ({', '.join(rows)}): name one")
    code, months = next(iter(rows.items())) if rows else ("", handlers.empty_waterfall(month_from, month_to))
    title = f"Deferred revenue waterfall{f' ({code})' if code else ''}, {month_from} to {month_to}"
    svg = await asyncio.to_thread(waterfall_svg, code, months, title=title)
    return Response(svg, media_type="image/svg+xml")
