"""`/v1/invoices`: read invoices (JSON, HTML, PDF), finalize, void, change a draft's note.

Drafts are made by bill runs, never by this API. POSTs take an `Idempotency-Key` (the platform's
middleware): the same key and body answer the first response again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import HTMLResponse, Response

from invoicing.api.deps import ID_PATTERN, ReadUow, WriteUow, id_path, runtime_from
from invoicing.config import InvoicingSettings
from invoicing.documents.html import render_html
from invoicing.documents.pdf import render_pdf
from invoicing.documents.pdf_layout import can_draw
from invoicing.documents.view import InvoiceDocument, Issuer, invoice_document
from invoicing.domain.invoices import InvoiceState
from invoicing.handlers import invoices as handlers
from invoicing.handlers.invoices_port import InvoiceFilters
from invoicing.schemas.invoices import InvoiceChange, InvoicePublic, InvoiceVoid, invoice_public
from libs.contracts.types import CURRENCY_PATTERN, IsoDate
from libs.platform.openapi import response_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])
InvoiceId = Annotated[str, id_path("Invoice id (inv_…).")]
_FOLLOW_UP = ("get_invoice", "get_invoice_html", "get_invoice_pdf", "finalize_invoice", "void_invoice")


@router.get(
    "",
    response_model=Page[InvoicePublic],
    summary="List invoices",
    responses=response_links(200, {name: {"invoice_id": "/data/0/id"} for name in _FOLLOW_UP}),
)
async def list_invoices(
    uow: ReadUow,
    page: PageParams,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="The billed account.")] = None,
    state: Annotated[InvoiceState | None, Query(description="draft, finalized, partially_paid, ...")] = None,
    currency: Annotated[str | None, Query(pattern=CURRENCY_PATTERN, description="ISO 4217 code.")] = None,
    invoice_date_from: Annotated[IsoDate | None, Query(description="Invoice date on or after.")] = None,
    invoice_date_to: Annotated[IsoDate | None, Query(description="Invoice date on or before.")] = None,
) -> Page[InvoicePublic]:
    filters = InvoiceFilters(account_id, state, currency, invoice_date_from, invoice_date_to)
    found = await handlers.list_invoices(uow=uow, filters=filters, page=page)
    return Page[InvoicePublic](
        data=[invoice_public(i) for i in found.data], next_cursor=found.next_cursor, has_more=found.has_more
    )


@router.get("/{invoice_id}", response_model=InvoicePublic, summary="Get an invoice")
async def get_invoice(invoice_id: InvoiceId, uow: ReadUow) -> InvoicePublic:
    return invoice_public(await handlers.get_invoice(uow=uow, invoice_id=invoice_id))


@router.get(
    "/{invoice_id}/html",
    response_class=HTMLResponse,
    summary="The invoice as an HTML page",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def get_invoice_html(invoice_id: InvoiceId, uow: ReadUow, request: Request) -> HTMLResponse:
    document = await _document(request, uow, invoice_id)
    return HTMLResponse(render_html(document))


@router.get(
    "/{invoice_id}/pdf",
    response_class=Response,
    summary="The invoice as a PDF",
    responses={200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def get_invoice_pdf(invoice_id: InvoiceId, uow: ReadUow, request: Request) -> Response:
    document = await _document(request, uow, invoice_id, drawable=can_draw)
    filename = document.number if document.number.startswith("INV-") else invoice_id
    return Response(
        render_pdf(document),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'},
    )


@router.patch("/{invoice_id}", response_model=InvoicePublic, summary="Change a draft's note")
async def change_invoice(invoice_id: InvoiceId, body: InvoiceChange, uow: WriteUow) -> InvoicePublic:
    return invoice_public(await handlers.change_draft(uow=uow, invoice_id=invoice_id, memo=body.memo))


@router.post("/{invoice_id}/finalize", response_model=InvoicePublic, summary="Finalize (issue) a draft")
async def finalize_invoice(invoice_id: InvoiceId, uow: WriteUow) -> InvoicePublic:
    return invoice_public(await handlers.finalize_invoice(uow=uow, invoice_id=invoice_id))


@router.post("/{invoice_id}/void", response_model=InvoicePublic, summary="Void an invoice nobody has paid")
async def void_invoice(
    invoice_id: InvoiceId, uow: WriteUow, body: Annotated[InvoiceVoid | None, Body()] = None
) -> InvoicePublic:
    reason = None if body is None else body.reason
    return invoice_public(await handlers.void_invoice(uow=uow, invoice_id=invoice_id, reason=reason))


async def _document(
    request: Request, uow: ReadUow, invoice_id: str, drawable: Callable[[str], bool] | None = None
) -> InvoiceDocument:
    invoice = await handlers.get_invoice(uow=uow, invoice_id=invoice_id)
    settings = runtime_from(request).settings
    assert isinstance(settings, InvoicingSettings)
    return invoice_document(invoice, issuer_of(settings), drawable=drawable)


def issuer_of(settings: InvoicingSettings) -> Issuer:
    """The issuer block of the documents, from the service's settings."""
    address = tuple(line.strip() for line in settings.issuer_address.splitlines() if line.strip())
    return Issuer(
        name=settings.issuer_name,
        address_lines=address,
        tax_id=settings.issuer_tax_id,
        email=settings.issuer_email,
        payment_instructions=settings.issuer_payment_instructions,
    )
