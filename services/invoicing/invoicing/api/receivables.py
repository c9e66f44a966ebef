"""`/v1/ar/aging` (JSON, or CSV streamed a page of accounts at a time) and `/v1/accounts/{id}/balance`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from invoicing.api.deps import ReadUow, id_path, runtime_from
from invoicing.domain.receivables import AgingTotals
from invoicing.handlers import receivables as handlers
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from invoicing.schemas.receivables import (
    AccountBalancePublic,
    AgingReportPublic,
    aging_public,
    balance_public,
    csv_header,
    csv_lines,
)
from libs.contracts.types import IsoDate
from libs.platform.auth import ALL_ROLES, Principal, require_roles
from libs.platform.csv_export import csv_stream
from libs.platform.money import minor_units

router = APIRouter(tags=["receivables"])
AccountId = Annotated[str, id_path("Account id (acct_…).")]
Reader = Annotated[Principal, Depends(require_roles(*ALL_ROLES))]
CURRENCY_QUERY = Query(pattern=r"^[A-Z]{3}$", description="Only this currency (ISO 4217).")


@router.get(
    "/v1/ar/aging",
    response_model=AgingReportPublic,
    summary="Accounts receivable aging as of a date",
    description="Per account and in total per currency: what was owed at the end of `as_of` on "
    "invoices issued by then (not void then), by days past the due date (invoice date + payment "
    "terms): current, 1-30, 31-60, 61-90, 90+. `format=csv` answers `text/csv` (a header row, a row "
    "per account and currency, a TOTAL row per currency), streamed a page of accounts at a time.",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def aging(
    request: Request,
    principal: Reader,
    as_of: Annotated[IsoDate | None, Query(description="Default: today (UTC).")] = None,
    currency: Annotated[str | None, CURRENCY_QUERY] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")] = "json",
) -> AgingReportPublic | StreamingResponse:
    runtime = runtime_from(request)
    if currency is not None:
        minor_units(currency)  # an unknown currency is a 422 before anything is read or streamed
    when: date = as_of or runtime.clock.now().date()

    def units_of_work() -> InvoicingUnitOfWork:
        return runtime.invoicing_unit_of_work(principal)

    if format == "csv":
        return csv_stream(_csv(units_of_work, when, currency), f"ar-aging-{when.isoformat()}.csv")
    report = await handlers.aging_report(units_of_work, as_of=when, currency=currency)
    return aging_public(report, currency)


async def _csv(units_of_work: handlers.UnitsOfWork, as_of: date, currency: str | None) -> AsyncIterator[str]:
    yield csv_header()
    totals = AgingTotals()
    async for rows in handlers.aging_pages(units_of_work, as_of=as_of, currency=currency):
        for row in rows:
            totals.add(row)
        yield csv_lines(rows)
    yield csv_lines(totals.rows(), total=True)


@router.get(
    "/v1/accounts/{account_id}/balance",
    response_model=AccountBalancePublic,
    summary="An account's receivables: billed, past due, credit and unbilled, per currency",
    description="Billed: what its issued invoices still have due; unbilled: the charges due through "
    "today (the account's date) that no invoice has billed yet, by the invoice preview's calculation.",
)
async def account_balance(request: Request, account_id: AccountId, uow: ReadUow) -> AccountBalancePublic:
    billing = runtime_from(request).account_billing
    return balance_public(await handlers.account_balance(uow=uow, account_id=account_id, billing=billing))
