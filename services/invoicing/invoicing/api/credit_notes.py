"""`/v1/credit-notes`: issue a credit note against an issued invoice; read it (JSON, HTML, PDF).

Issuing takes an `Idempotency-Key` (the platform's middleware). Refusals change nothing: 404 an
unknown invoice, 409 a draft or void one, 422 another currency or more than remains creditable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from invoicing.api.deps import ID_PATTERN, ReadUow, WriteUow, id_path, runtime_from
from invoicing.api.invoices import issuer_of
from invoicing.config import InvoicingSettings
from invoicing.documents.credit_note_view import credit_note_document
from invoicing.documents.html import render_html
from invoicing.documents.pdf import render_pdf
from invoicing.documents.pdf_layout import can_draw
from invoicing.documents.view import InvoiceDocument
from invoicing.handlers import credit_notes as handlers
from invoicing.handlers import invoices as invoice_handlers
from invoicing.handlers.credit_notes_port import CreditNoteFilters
from invoicing.schemas.credit_notes import CreditNoteCreate, CreditNotePublic, credit_note_public
from libs.contracts.types import CURRENCY_PATTERN, IsoDate
from libs.platform.openapi import created_links, response_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/credit-notes", tags=["credit notes"])
CreditNoteId = Annotated[str, id_path("Credit note id (cn_…).")]
_FOLLOW_UP = ("get_credit_note", "get_credit_note_html", "get_credit_note_pdf")


@router.post(
    "",
    status_code=201,
    response_model=CreditNotePublic,
    summary="Issue a credit note",
    description="Credits an issued invoice (finalized, partially paid or paid): lines against its "
    "lines (by charge key) or plain amounts, net; tax credited in proportion, rounded per line. "
    "Never more than the invoice's total less earlier credit notes (422); on a paid invoice the "
    "excess over the amount due becomes account credit. Numbered CN-YYYY-NNNNNN.",
    responses=created_links("credit_note_id", *_FOLLOW_UP),
)
async def issue_credit_note(body: CreditNoteCreate, uow: WriteUow) -> CreditNotePublic:
    note = await handlers.issue(
        uow=uow, invoice_id=body.invoice_id, lines=body.requests(), reason=body.reason, currency=body.currency
    )
    return credit_note_public(note)


@router.get(
    "",
    response_model=Page[CreditNotePublic],
    summary="List credit notes",
    responses=response_links(200, {name: {"credit_note_id": "/data/0/id"} for name in _FOLLOW_UP}),
)
async def list_credit_notes(
    uow: ReadUow,
    page: PageParams,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="The credited account.")] = None,
    invoice_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="The credited invoice.")] = None,
    currency: Annotated[str | None, Query(pattern=CURRENCY_PATTERN, description="ISO 4217 code.")] = None,
    note_date_from: Annotated[IsoDate | None, Query(description="Note date on or after.")] = None,
    note_date_to: Annotated[IsoDate | None, Query(description="Note date on or before.")] = None,
) -> Page[CreditNotePublic]:
    filters = CreditNoteFilters(account_id, invoice_id, currency, note_date_from, note_date_to)
    found = await handlers.list_credit_notes(uow=uow, filters=filters, page=page)
    return Page[CreditNotePublic](
        data=[credit_note_public(n) for n in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


@router.get("/{credit_note_id}", response_model=CreditNotePublic, summary="Get a credit note")
async def get_credit_note(credit_note_id: CreditNoteId, uow: ReadUow) -> CreditNotePublic:
    return credit_note_public(await handlers.get_credit_note(uow=uow, credit_note_id=credit_note_id))


@router.get(
    "/{credit_note_id}/html",
    response_class=HTMLResponse,
    summary="The credit note as an HTML page",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def get_credit_note_html(credit_note_id: CreditNoteId, uow: ReadUow, request: Request) -> HTMLResponse:
    return HTMLResponse(render_html(await _document(request, uow, credit_note_id)))


@router.get(
    "/{credit_note_id}/pdf",
    response_class=Response,
    summary="The credit note as a PDF",
    responses={200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def get_credit_note_pdf(credit_note_id: CreditNoteId, uow: ReadUow, request: Request) -> Response:
    document = await _document(request, uow, credit_note_id, drawable=can_draw)
    return Response(
        render_pdf(document),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{document.number}.pdf"'},
    )


async def _document(
    request: Request, uow: ReadUow, credit_note_id: str, drawable: Callable[[str], bool] | None = None
) -> InvoiceDocument:
    note = await handlers.get_credit_note(uow=uow, credit_note_id=credit_note_id)
    invoice = await invoice_handlers.get_invoice(uow=uow, invoice_id=note.invoice_id)
    settings = runtime_from(request).settings
    assert isinstance(settings, InvoicingSettings)
    return credit_note_document(note, invoice, issuer_of(settings), drawable=drawable)
