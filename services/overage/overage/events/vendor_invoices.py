"""Vendor invoice records -> `vendor.invoice_received` / `_approved` / `_paid`, keyed by the account."""

from __future__ import annotations

from typing import Any

from libs.contracts import vendor_payables as contracts
from libs.contracts.envelope import EventPayload
from libs.platform.money import amount_out
from overage.domain.vendor_invoices import VendorInvoice, VendorInvoiceRecord


def outgoing_of(record: VendorInvoiceRecord) -> tuple[EventPayload, str]:
    """The contract payload of what a vendor invoice recorded, keyed by our account."""
    invoice = record.invoice
    payload: EventPayload
    if record.change == "paid":
        assert invoice.paid_at is not None and invoice.paid_by is not None
        payload = contracts.VendorInvoicePaid(
            **_fields(invoice),
            paid_at=invoice.paid_at,
            paid_by=invoice.paid_by,
            payment_reference=invoice.payment_reference,
        )
    elif record.change == "approved":
        assert invoice.approved_at is not None and invoice.approved_by is not None
        payload = contracts.VendorInvoiceApproved(
            **_fields(invoice), approved_at=invoice.approved_at, approved_by=invoice.approved_by
        )
    else:
        payload = contracts.VendorInvoiceReceived(**_fields(invoice), source=invoice.source.value)
    return payload, invoice.account_id


def _fields(invoice: VendorInvoice) -> dict[str, Any]:
    currency = invoice.currency
    return {
        "vendor_invoice_id": invoice.id,
        "vendor_id": invoice.vendor_id,
        "number": invoice.number,
        "kind": invoice.kind.value,
        "account_id": invoice.account_id,
        "subscription_id": invoice.subscription_id,
        "overage_case_id": invoice.overage_case_id,
        "expected_invoice_id": invoice.expected_invoice_id,
        "currency": currency,
        "amount": amount_out(invoice.amount, currency),
        "expected_amount": amount_out(invoice.expected_amount, currency),
        "difference": amount_out(invoice.difference, currency),
        "match": invoice.match.value,
        "state": invoice.state.value,
        "invoice_date": invoice.invoice_date,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "received_at": invoice.received_at,
    }
