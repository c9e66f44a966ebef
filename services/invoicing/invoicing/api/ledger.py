"""`/v1/gl/journal` (JSON pages, or the period's CSV export for the ERP) and `/v1/gl/trial-balance`."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from invoicing.api.deps import ReadUow
from invoicing.handlers import ledger as handlers
from invoicing.schemas.ledger import JournalEntryPublic, TrialBalancePublic
from libs.contracts.types import CurrencyCode, IsoDate
from libs.platform.csv_export import csv_download, wants_csv
from libs.platform.money import amount_out
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/gl", tags=["general ledger"])
DateFrom = Annotated[IsoDate, Query(alias="from", description="First day (YYYY-MM-DD), included.")]
DateTo = Annotated[IsoDate, Query(alias="to", description="Last day (YYYY-MM-DD), included.")]

CSV_COLUMNS = (
    "entry_id",
    "entry_date",
    "kind",
    "source_id",
    "account_id",
    "currency",
    "gl_account",
    "gl_account_name",
    "debit",
    "credit",
    "description",
)


@router.get(
    "/journal",
    response_model=Page[JournalEntryPublic],
    summary="Journal entries of a period (JSON pages, or CSV for the ERP)",
    description="Entries dated from `from` to `to` (both included). `format=csv` (or `Accept: "
    "text/csv`) exports the whole period, one row per debit or credit, by date.",
    responses={200: {"content": {"text/csv": {}}}},
)
async def journal(
    request: Request,
    uow: ReadUow,
    page: PageParams,
    date_from: DateFrom,
    date_to: DateTo,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
) -> Response:
    if wants_csv(request, format):
        entries = await handlers.journal_export(uow=uow, date_from=date_from, date_to=date_to)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for entry in entries:
            for line in entry.lines:
                writer.writerow(
                    [
                        entry.id,
                        entry.entry_date.isoformat(),
                        entry.kind.value,
                        entry.source_id,
                        entry.account_id or "",
                        entry.currency,
                        line.account.code,
                        line.account.name,
                        amount_out(line.debit, entry.currency),
                        amount_out(line.credit, entry.currency),
                        entry.description,
                    ]
                )
        return csv_download(out.getvalue(), f"journal-{date_from.isoformat()}-{date_to.isoformat()}.csv")
    found = await handlers.journal_page(uow=uow, page=page, date_from=date_from, date_to=date_to)
    return Response(found.model_dump_json(), media_type="application/json")


@router.get(
    "/trial-balance",
    response_model=TrialBalancePublic,
    summary="Trial balance as of a day",
    description="Debits, credits and balance (debits - credits) of every account per currency, from "
    "every entry dated on or before `as_of`; the balances of each currency sum to zero.",
)
async def trial_balance(
    uow: ReadUow,
    as_of: Annotated[IsoDate, Query(description="YYYY-MM-DD.")],
    currency: Annotated[CurrencyCode | None, Query(description="Only this currency.")] = None,
) -> TrialBalancePublic:
    return await handlers.trial_balance(uow=uow, as_of=as_of, currency=currency)
