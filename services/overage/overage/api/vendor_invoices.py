"""`/v1/vendor-invoices`: invoices vendors send us — received (posted by the vendor's feed with an
ERP key, or entered by finance; an `Idempotency-Key` is taken), matched, approved and paid."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.openapi import created_links, response_links
from libs.platform.pagination import Page, PageParams
from overage.api.deps import ID_PATTERN, FinanceUow, PayablesUow, ReadUow, id_path
from overage.domain.vendor_invoices import VendorInvoiceMatch, VendorInvoiceState
from overage.handlers import vendor_invoices as handlers
from overage.handlers.vendor_payables_port import VendorInvoiceFilters
from overage.schemas.vendor_invoices import (
    VendorInvoiceApprove,
    VendorInvoiceCreate,
    VendorInvoicePay,
    VendorInvoicePublic,
    vendor_invoice_public,
)

router = APIRouter(prefix="/v1/vendor-invoices", tags=["vendor payables"])
VendorInvoiceId = Annotated[str, id_path("Vendor invoice id (vinv_…).")]
IdQuery = Annotated[str | None, Query(pattern=ID_PATTERN)]
_FOLLOW_UP = ("get_vendor_invoice", "approve_vendor_invoice", "pay_vendor_invoice")


@router.post(
    "",
    status_code=201,
    response_model=VendorInvoicePublic,
    summary="Receive a vendor invoice",
    description="An annual invoice is matched to the expected invoice of its vendor, subscription (or "
    "account) and period start; an overage invoice to its overage case. It is flagged when nothing "
    "matches or the amount differs (the difference is shown). A number the vendor used already is a "
    "409. Publishes `vendor.invoice_received`.",
    responses=created_links("vendor_invoice_id", *_FOLLOW_UP),
)
async def receive_vendor_invoice(body: VendorInvoiceCreate, uow: PayablesUow) -> VendorInvoicePublic:
    return vendor_invoice_public(await handlers.receive_vendor_invoice(uow=uow, entry=body.entry()))


@router.get(
    "",
    response_model=Page[VendorInvoicePublic],
    summary="List vendor invoices",
    responses=response_links(200, {name: {"vendor_invoice_id": "/data/0/id"} for name in _FOLLOW_UP}),
)
async def list_vendor_invoices(
    uow: ReadUow,
    page: PageParams,
    account_id: IdQuery = None,
    vendor_id: IdQuery = None,
    state: Annotated[VendorInvoiceState | None, Query(description="received, approved, paid.")] = None,
    match: Annotated[
        VendorInvoiceMatch | None, Query(description="matched, amount_differs, unmatched.")
    ] = None,
) -> Page[VendorInvoicePublic]:
    found = await handlers.list_vendor_invoices(
        uow=uow, filters=VendorInvoiceFilters(account_id, vendor_id, state, match), page=page
    )
    return Page[VendorInvoicePublic](
        data=[vendor_invoice_public(i) for i in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


@router.get("/{vendor_invoice_id}", response_model=VendorInvoicePublic, summary="Get a vendor invoice")
async def get_vendor_invoice(vendor_invoice_id: VendorInvoiceId, uow: ReadUow) -> VendorInvoicePublic:
    return vendor_invoice_public(
        await handlers.get_vendor_invoice(uow=uow, vendor_invoice_id=vendor_invoice_id)
    )


@router.post(
    "/{vendor_invoice_id}/approve",
    response_model=VendorInvoicePublic,
    summary="Approve a vendor invoice for payment",
    description="Only a received invoice; a flagged one only with `accept_difference: true`. 409 otherwise.",
)
async def approve_vendor_invoice(
    vendor_invoice_id: VendorInvoiceId, body: VendorInvoiceApprove, uow: FinanceUow
) -> VendorInvoicePublic:
    invoice = await handlers.approve_vendor_invoice(
        uow=uow, vendor_invoice_id=vendor_invoice_id, accept_difference=body.accept_difference, note=body.note
    )
    return vendor_invoice_public(invoice)


@router.post(
    "/{vendor_invoice_id}/pay",
    response_model=VendorInvoicePublic,
    summary="Mark a vendor invoice paid",
    description="Only an approved invoice; 409 otherwise.",
)
async def pay_vendor_invoice(
    vendor_invoice_id: VendorInvoiceId, body: VendorInvoicePay, uow: FinanceUow
) -> VendorInvoicePublic:
    invoice = await handlers.pay_vendor_invoice(
        uow=uow, vendor_invoice_id=vendor_invoice_id, payment_reference=body.payment_reference
    )
    return vendor_invoice_public(invoice)
