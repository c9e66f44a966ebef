"""`/v1/accounts/{account_id}/statements`: an account's statement over a period (JSON, HTML, PDF).

`from` and `to` are the account's local dates, both included (default: this month to date);
`currency` defaults to the account's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from invoicing.api.deps import ID_PATTERN, ReadUow, runtime_from
from invoicing.api.invoices import issuer_of
from invoicing.config import InvoicingSettings
from invoicing.documents.html import render_statement_html
from invoicing.documents.pdf_layout import can_draw
from invoicing.documents.statement_pdf import render_statement_pdf
from invoicing.documents.statement_view import StatementDocument, statement_document
from invoicing.handlers import statements as handlers
from invoicing.schemas.statements import StatementPublic, statement_public
from libs.contracts.types import CurrencyCode, IsoDate

router = APIRouter(prefix="/v1/accounts/{account_id}/statements", tags=["statements"])
AccountId = Annotated[
    str, Path(description="Account id (acct_…).", pattern=ID_PATTERN, examples=["acct_01JD0S6Y4Q7V3J6C"])
]
From = Annotated[
    IsoDate | None,
    Query(alias="from", description="First day (account-local, included); default: the 1st of `to`'s month."),
]
To = Annotated[
    IsoDate | None,
    Query(description="Last day, the statement date (account-local, included); default: today."),
]
Currency = Annotated[CurrencyCode | None, Query(description="ISO 4217 code; default: the account's.")]


@router.get("", response_model=StatementPublic, summary="An account's statement")
async def get_statement(
    account_id: AccountId, uow: ReadUow, from_: From = None, to: To = None, currency: Currency = None
) -> StatementPublic:
    found = await handlers.statement_for(
        uow=uow, account_id=account_id, from_=from_, to=to, currency=currency
    )
    return statement_public(found)


@router.get(
    "/html",
    response_class=HTMLResponse,
    summary="An account's statement as an HTML page",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def get_statement_html(
    account_id: AccountId,
    uow: ReadUow,
    request: Request,
    from_: From = None,
    to: To = None,
    currency: Currency = None,
) -> HTMLResponse:
    document = await _document(request, uow, account_id, from_, to, currency)
    return HTMLResponse(render_statement_html(document))


@router.get(
    "/pdf",
    response_class=Response,
    summary="An account's statement as a PDF",
    responses={200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def get_statement_pdf(
    account_id: AccountId,
    uow: ReadUow,
    request: Request,
    from_: From = None,
    to: To = None,
    currency: Currency = None,
) -> Response:
    document = await _document(request, uow, account_id, from_, to, currency, drawable=can_draw)
    filename = f"statement-{account_id}-{document.number.split()[-1]}"
    return Response(
        render_statement_pdf(document),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'},
    )


async def _document(
    request: Request,
    uow: ReadUow,
    account_id: str,
    from_: date | None,
    to: date | None,
    currency: str | None,
    drawable: Callable[[str], bool] | None = None,
) -> StatementDocument:
    found = await handlers.statement_for(
        uow=uow, account_id=account_id, from_=from_, to=to, currency=currency
    )
    settings = runtime_from(request).settings
    assert isinstance(settings, InvoicingSettings)
    return statement_document(found, issuer_of(settings), drawable=drawable)
