"""Received vendor invoices: matched or flagged, then approved and paid (409 out of order)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from libs.platform.errors import ValidationFailed
from overage.domain.vendor_commitments import ExpectedVendorInvoice
from overage.domain.vendor_invoices import (
    ReceivedInvoice,
    VendorInvoice,
    VendorInvoiceConflict,
    VendorInvoiceKind,
    VendorInvoiceMatch,
    VendorInvoiceSource,
    VendorInvoiceState,
)

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
EXPECTED = ExpectedVendorInvoice(
    id="vcom_1_1",
    commitment_id="vcom_1",
    sequence=1,
    vendor_id="ven_monet",
    account_id="acct_acme",
    subscription_id="sub_wfm",
    currency="USD",
    period_start=date(2026, 3, 1),
    period_end=date(2027, 3, 1),
    amount=Decimal("30000.00"),
)
ANNUAL = ReceivedInvoice(
    vendor_id="ven_monet",
    number="MON-2026-0001",
    kind=VendorInvoiceKind.ANNUAL,
    account_id="acct_acme",
    subscription_id="sub_wfm",
    overage_case_id=None,
    currency="USD",
    amount=Decimal("30000.00"),
    invoice_date=date(2026, 3, 1),
    period_start=date(2026, 3, 1),
    period_end=date(2027, 3, 1),
    source=VendorInvoiceSource.VENDOR,
)


def _receive(
    received: ReceivedInvoice = ANNUAL, expected: ExpectedVendorInvoice | None = EXPECTED
) -> VendorInvoice:
    return VendorInvoice.receive(id="vinv_1", received=received, expected=expected, at=AT, by="finance")


def test_an_invoice_for_the_expected_amount_is_matched() -> None:
    invoice = _receive()
    assert (invoice.match, invoice.flagged, invoice.difference) == (
        VendorInvoiceMatch.MATCHED,
        False,
        Decimal("0.00"),
    )
    assert invoice.expected_invoice_id == "vcom_1_1"
    assert [r.change for r in invoice.events] == ["received"]


def test_an_invoice_for_another_amount_is_flagged_with_the_difference() -> None:
    invoice = _receive(replace(ANNUAL, amount=Decimal("30250.50")))
    assert invoice.match is VendorInvoiceMatch.AMOUNT_DIFFERS
    assert invoice.flagged
    assert invoice.expected_amount == Decimal("30000.00")
    assert invoice.difference == Decimal("250.50")


def test_an_annual_invoice_nothing_expected_is_flagged_unmatched() -> None:
    invoice = _receive(expected=None)
    assert (invoice.match, invoice.difference) == (VendorInvoiceMatch.UNMATCHED, None)


def test_an_overage_invoice_matches_its_case() -> None:
    # EXAMPLES §1: July 2026, 12 users over -> 12 x 10.00 = 120.00.
    overage = replace(
        ANNUAL,
        kind=VendorInvoiceKind.OVERAGE,
        number="MON-OVG-2026-07",
        overage_case_id="ocase_1",
        amount=Decimal("120.00"),
        period_start=date(2026, 7, 1),
        period_end=date(2026, 8, 1),
    )
    assert _receive(overage, None).match is VendorInvoiceMatch.MATCHED
    assert _receive(replace(overage, overage_case_id=None), None).match is VendorInvoiceMatch.UNMATCHED


def test_approved_then_paid() -> None:
    invoice = _receive()
    invoice.approve(by="finance", at=AT)
    invoice.mark_paid(by="finance", at=AT, reference="WIRE-1")
    assert invoice.state is VendorInvoiceState.PAID
    assert [r.change for r in invoice.events] == ["received", "approved", "paid"]


def test_out_of_order_changes_are_conflicts() -> None:
    invoice = _receive()
    with pytest.raises(VendorInvoiceConflict):
        invoice.mark_paid(by="finance", at=AT)
    invoice.approve(by="finance", at=AT)
    with pytest.raises(VendorInvoiceConflict):
        invoice.approve(by="finance", at=AT)
    invoice.mark_paid(by="finance", at=AT)
    with pytest.raises(VendorInvoiceConflict):
        invoice.mark_paid(by="finance", at=AT)


def test_a_flagged_invoice_is_approved_only_when_the_difference_is_accepted() -> None:
    invoice = _receive(replace(ANNUAL, amount=Decimal("31000.00")))
    with pytest.raises(VendorInvoiceConflict, match=r"difference 1000\.00"):
        invoice.approve(by="finance", at=AT)
    invoice.approve(by="finance", at=AT, accept_difference=True, note="price rise agreed")
    assert invoice.state is VendorInvoiceState.APPROVED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": Decimal("0.00")}, "amount"),
        ({"amount": Decimal("10.001")}, "amount"),
        ({"period_end": date(2026, 3, 1)}, "period_end"),
        ({"currency": "EUR"}, "currency"),
        ({"overage_case_id": "ocase_1"}, "overage_case_id"),
    ],
)
def test_bad_invoices_are_refused(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _receive(replace(ANNUAL, **change))
    assert field in [e.field for e in refused.value.errors]
