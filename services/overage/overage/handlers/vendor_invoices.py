"""Use cases of vendor invoices: receive one (posted by the vendor or entered by finance) and match
it, approve it, mark it paid, read and list them. Each change is audited and published
(`vendor.invoice_*`) in its transaction."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from libs.platform.errors import ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest
from overage.domain.vendor_invoices import (
    ReceivedInvoice,
    VendorInvoice,
    VendorInvoiceEntry,
    VendorInvoiceKind,
    require_account,
)
from overage.events.vendor_invoices import outgoing_of
from overage.handlers.vendor_payables_port import VendorInvoiceFilters

if TYPE_CHECKING:
    from overage.handlers.unit_of_work import OverageUnitOfWork


async def _with_tenant(uow: OverageUnitOfWork, entry: VendorInvoiceEntry) -> VendorInvoiceEntry:
    """The entry with the account and subscription its tenant mapping names (422 on `tenant_id` when
    the vendor never mapped that tenant, or on the field that disagrees with the mapping)."""
    if entry.tenant_id is None:
        return entry
    tenant = await uow.vendors.find_tenant(entry.vendor_id, entry.tenant_id)
    if tenant is None:
        raise ValidationFailed.single(
            "tenant_id", f"vendor {entry.vendor_id!r} has no tenant {entry.tenant_id!r} mapped to an account"
        )
    for field, given, mapped in (
        ("account_id", entry.account_id, tenant.account_id),
        ("subscription_id", entry.subscription_id, tenant.subscription_id),
    ):
        if given is not None and given != mapped:
            raise ValidationFailed.single(field, f"the tenant {entry.tenant_id!r} is mapped to {mapped!r}")
    return replace(entry, account_id=tenant.account_id, subscription_id=tenant.subscription_id)


async def receive_vendor_invoice(*, uow: OverageUnitOfWork, entry: VendorInvoiceEntry) -> VendorInvoice:
    """Record a vendor invoice and match it (`vendor.invoice_received`): an annual one to the expected
    invoice of its vendor, subscription (or account) and period start, an overage one to its case.
    422 for bad input, 409 for a number the vendor used already."""
    entry = await _with_tenant(uow, entry)
    known = None
    if entry.subscription_id is not None:
        subscription = await uow.resale.subscription(entry.subscription_id)
        if subscription is not None:
            known = subscription.account_id
        else:
            commitment = await uow.vendor_commitments.of_subscription(entry.subscription_id)
            known = commitment.account_id if commitment is not None else None
    account_id = require_account(entry.account_id, known)
    expected = None
    if entry.kind is VendorInvoiceKind.ANNUAL:
        candidates = await uow.vendor_commitments.unmatched_expected(
            vendor_id=entry.vendor_id,
            period_start=entry.period_start,
            subscription_id=entry.subscription_id,
            account_id=account_id,
        )
        # Without a subscription, an account with two commitments starting the same day is ambiguous.
        expected = candidates[0] if len(candidates) == 1 else None
    received = ReceivedInvoice(
        vendor_id=entry.vendor_id,
        number=entry.number,
        kind=entry.kind,
        account_id=account_id,
        subscription_id=entry.subscription_id,
        overage_case_id=entry.overage_case_id,
        currency=entry.currency,
        amount=entry.amount,
        invoice_date=entry.invoice_date,
        period_start=entry.period_start,
        period_end=entry.period_end,
        source=entry.source,
    )
    invoice = VendorInvoice.receive(
        id=new_id("vinv"), received=received, expected=expected, at=uow.clock.now(), by=uow.actor
    )
    await uow.vendor_invoices.add(invoice)
    await _commit(
        uow,
        invoice,
        "vendor_invoice.received",
        {
            "vendor_id": invoice.vendor_id,
            "number": invoice.number,
            "amount": str(invoice.amount),
            "match": invoice.match.value,
            "expected_invoice_id": invoice.expected_invoice_id,
            "difference": None if invoice.difference is None else str(invoice.difference),
        },
    )
    return invoice


async def approve_vendor_invoice(
    *,
    uow: OverageUnitOfWork,
    vendor_invoice_id: str,
    accept_difference: bool = False,
    note: str | None = None,
) -> VendorInvoice:
    """Approve a received invoice for payment (a flagged one with `accept_difference`); 409 otherwise."""
    invoice = await uow.vendor_invoices.get(vendor_invoice_id)
    invoice.approve(by=uow.actor, at=uow.clock.now(), accept_difference=accept_difference, note=note)
    await uow.vendor_invoices.save(invoice)
    await _commit(
        uow,
        invoice,
        "vendor_invoice.approved",
        {"state": ["received", "approved"], "accept_difference": accept_difference, "note": note},
    )
    return invoice


async def pay_vendor_invoice(
    *, uow: OverageUnitOfWork, vendor_invoice_id: str, payment_reference: str | None = None
) -> VendorInvoice:
    """Mark an approved invoice paid; 409 otherwise."""
    invoice = await uow.vendor_invoices.get(vendor_invoice_id)
    invoice.mark_paid(by=uow.actor, at=uow.clock.now(), reference=payment_reference)
    await uow.vendor_invoices.save(invoice)
    await _commit(
        uow,
        invoice,
        "vendor_invoice.paid",
        {"state": ["approved", "paid"], "payment_reference": payment_reference},
    )
    return invoice


async def get_vendor_invoice(*, uow: OverageUnitOfWork, vendor_invoice_id: str) -> VendorInvoice:
    """One vendor invoice (404 when unknown)."""
    return await uow.vendor_invoices.get(vendor_invoice_id)


async def list_vendor_invoices(
    *, uow: OverageUnitOfWork, filters: VendorInvoiceFilters, page: PageRequest
) -> Page[VendorInvoice]:
    """A page of vendor invoices in creation order."""
    return await uow.vendor_invoices.page(filters, page)


async def _commit(
    uow: OverageUnitOfWork, invoice: VendorInvoice, action: str, changes: dict[str, object]
) -> None:
    uow.emit_recorded(invoice.events, outgoing_of)
    uow.audit(action, "vendor_invoice", invoice.id, changes)
    await uow.commit()
