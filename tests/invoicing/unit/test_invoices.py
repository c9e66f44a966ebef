"""The invoice aggregate: totals of rounded lines, finalization, voiding, payments and refusals."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from types import SimpleNamespace

import pytest

from invoicing.domain.billing_inputs import BilledCharge
from invoicing.domain.charge_lines import ChargeKind, ChargeLine, ChargeSource
from invoicing.domain.invoice_lines import billed_after
from invoicing.domain.invoice_numbers import DocumentNumber, invoice_series, parse_number
from invoicing.domain.invoices import (
    InvoiceConflict,
    InvoiceDraftedRecord,
    InvoiceFinalizedRecord,
    InvoiceLine,
    InvoiceState,
    InvoiceVoidedRecord,
)
from libs.platform.errors import ValidationFailed
from libs.platform.money import CurrencyMismatch
from tests.invoicing.factories import draft, invoice_line

AT = datetime(2026, 9, 1, 14, tzinfo=UTC)
NUMBER = DocumentNumber("INV-2026", 42)


def finalized(*lines: InvoiceLine, **kwargs: object) -> object:
    invoice = draft(*lines, **kwargs)  # type: ignore[arg-type]
    invoice.finalize(number=NUMBER, invoice_date=date(2026, 9, 1), at=AT)
    return invoice


def test_totals_are_sums_of_the_rounded_lines_and_tax_is_added() -> None:
    invoice = draft(
        invoice_line("a", quantity="250", unit_price="144.00", tax_rate="8.875"),
        invoice_line("b", quantity="1", unit_price="5000.00", discount="500.00", tax_rate="0"),
    )
    assert invoice.subtotal == Decimal("40500.00")
    assert invoice.tax_total == Decimal("3195.00")
    assert invoice.total == Decimal("43695.00")
    assert invoice.discount_total == Decimal("500.00")
    assert str(invoice.total) == "43695.00"


def test_jpy_totals_have_no_minor_units() -> None:
    invoice = draft(
        invoice_line("a", currency="JPY", quantity="3", unit_price="411.5", tax_rate="10"), currency="JPY"
    )
    assert invoice.subtotal == Decimal("1235")
    assert invoice.tax_total == Decimal("124")
    assert str(invoice.total) == "1359"


def test_a_line_in_another_currency_is_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        draft(invoice_line("a"), invoice_line("b", currency="EUR"))


def test_an_unrounded_line_amount_and_a_charge_twice_are_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        draft(replace(invoice_line("a"), tax_amount=Decimal("1.005")), invoice_line("a"))
    fields = {error.field for error in refused.value.errors}
    assert fields == {"lines.0.tax_amount", "lines.1.charge_key"}


def test_finalize_numbers_dates_and_records_the_event() -> None:
    invoice = draft()
    invoice.finalize(number=NUMBER, invoice_date=date(2026, 9, 1), at=AT)
    assert invoice.state is InvoiceState.FINALIZED
    assert invoice.number_text == "INV-2026-000042"
    assert invoice.due_date == date(2026, 10, 1)
    assert invoice.amount_due == invoice.total
    assert [type(e) for e in invoice.events] == [InvoiceDraftedRecord, InvoiceFinalizedRecord]


def test_a_finalized_invoice_is_never_edited_nor_finalized_again() -> None:
    invoice = draft()
    invoice.finalize(number=NUMBER, invoice_date=date(2026, 9, 1), at=AT)
    with pytest.raises(InvoiceConflict):
        invoice.change_draft(memo="changed")
    with pytest.raises(InvoiceConflict):
        invoice.finalize(number=DocumentNumber("INV-2026", 43), invoice_date=date(2026, 9, 2), at=AT)
    assert invoice.number_text == "INV-2026-000042" and invoice.memo is None


def test_payments_move_the_invoice_to_partially_paid_then_paid_and_never_beyond() -> None:
    invoice = draft(invoice_line("a", quantity="1", unit_price="100.00", tax_rate="10"))
    invoice.finalize(number=NUMBER, invoice_date=date(2026, 9, 1), at=AT)
    assert invoice.apply_payment(Decimal("60.00"), "USD") is InvoiceState.PARTIALLY_PAID
    assert invoice.amount_due == Decimal("50.00")
    with pytest.raises(InvoiceConflict, match=r"more than the 50\.00 USD that remains"):
        invoice.apply_payment(Decimal("50.01"), "USD")
    with pytest.raises(CurrencyMismatch):
        invoice.apply_payment(Decimal("10.00"), "EUR")
    assert invoice.apply_payment(Decimal("50.00"), "USD") is InvoiceState.PAID
    assert invoice.amount_due == Decimal("0.00")


def test_a_payment_on_a_draft_is_refused() -> None:
    with pytest.raises(InvoiceConflict):
        draft().apply_payment(Decimal("1.00"), "USD")


def test_void_rules() -> None:
    discarded = draft()
    discarded.void(reason="wrong account", at=AT)
    assert discarded.state is InvoiceState.VOID
    assert [type(e) for e in discarded.events] == [InvoiceDraftedRecord, InvoiceVoidedRecord]

    unpaid = draft()
    unpaid.finalize(number=NUMBER, invoice_date=date(2026, 9, 1), at=AT)
    unpaid.events.clear()
    unpaid.void(reason=None, at=AT)
    assert unpaid.state is InvoiceState.VOID and len(unpaid.events) == 1
    with pytest.raises(InvoiceConflict):
        unpaid.void(reason=None, at=AT)

    paid = draft()
    paid.finalize(number=NUMBER, invoice_date=date(2026, 9, 1), at=AT)
    paid.apply_payment(Decimal("1.00"), "USD")
    with pytest.raises(InvoiceConflict, match=r"payments of 1\.00 USD"):
        paid.void(reason=None, at=AT)
    assert paid.state is InvoiceState.PARTIALLY_PAID


def test_lines_name_the_invoice_that_last_billed_their_charge() -> None:
    lines = billed_after(
        [invoice_line("a"), invoice_line("b")],
        [BilledCharge("a", Decimal("10.00"), "inv_01A"), BilledCharge("a", Decimal("2.00"), "inv_01B")],
    )
    assert [line.billed_after for line in lines] == ["inv_01B", ""]


def test_invoice_numbers_are_per_year_series_with_six_digits() -> None:
    assert invoice_series(date(2027, 1, 1)) == "INV-2027"
    assert DocumentNumber("INV-2027", 7).text == "INV-2027-000007"
    assert parse_number("INV-2026-000042") == DocumentNumber("INV-2026", 42)
    assert parse_number("INV-26-1") is None


def test_a_line_is_made_from_a_charge_line_and_its_tax() -> None:
    class Kind(StrEnum):
        USAGE = "usage"

    @dataclass(frozen=True)
    class ChargeLine:  # the charge calculation's shape, by field names
        charge_key: str = "ru_1"
        kind: Kind = Kind.USAGE
        description: str = "API calls"
        account_id: str = "acct_1"
        subscription_id: str | None = "sub_1"
        product_id: str | None = "prod_api"
        price_id: str | None = "price_api"
        price_version: int | None = 2
        period_start: date = date(2026, 8, 1)
        period_end: date = date(2026, 9, 1)
        quantity: Decimal = Decimal(12345)
        unit_price: Decimal = Decimal("0.0075")
        list_amount: Decimal = Decimal("92.59")
        discount_amount: Decimal = Decimal("0.00")
        amount: Decimal = Decimal("92.59")
        source_kind: str = "rated_usage"
        source_id: str = "ru_1"
        currency: str = "USD"

    line = InvoiceLine.of(
        ChargeLine(),
        tax_code="SaaS",
        tax_rate=Decimal("8.875"),
        tax_amount=Decimal("8.22"),
        tax_jurisdiction="US-NY",
    )
    assert (line.kind, line.amount, line.tax_amount) == ("usage", Decimal("92.59"), Decimal("8.22"))
    assert line.total == Decimal("100.81")
    assert line.billed_after == ""


def test_credits_beyond_the_charges_are_carried_to_the_account_and_the_total_is_never_negative() -> None:
    # JPY (no minor units): 1,000 + 10 % tax = 1,100; a credit of 3,000 without tax → -1,900.
    charge = invoice_line("a", currency="JPY", quantity="1", unit_price="1000", tax_rate="10")
    credit = invoice_line("adjustment:adj_1", currency="JPY", quantity="1", unit_price="-3000", tax_rate="0")
    invoice = draft(charge, credit, currency="JPY")

    *_, carried = invoice.lines
    assert (carried.kind, carried.charge_key, carried.amount, carried.tax_amount) == (
        "account_credit",
        f"account_credit:{invoice.id}",
        Decimal("1900"),
        Decimal(0),
    )
    assert (str(invoice.total), str(invoice.account_credit_carried)) == ("0", "1900")
    assert (str(invoice.subtotal), str(invoice.tax_total)) == ("-2000", "100")
    assert invoice.subtotal + invoice.tax_total + invoice.account_credit_carried == invoice.total
    assert str(draft(charge, currency="JPY").account_credit_carried) == "0"

    invoice.finalize(number=NUMBER, invoice_date=date(2026, 9, 1), at=AT)
    assert (invoice.state, invoice.amount_due) == (InvoiceState.PAID, Decimal(0))
    with pytest.raises(InvoiceConflict, match="carried 1900 JPY"):
        invoice.void(reason="billed twice", at=AT)


@pytest.mark.parametrize(
    ("kind", "period_end", "tax"),
    [
        (ChargeKind.RECURRING, date(2026, 9, 1), {"tax_code": "SaaS", "tax_rate": Decimal("8.875")}),
        (ChargeKind.RECURRING_CREDIT, date(2026, 9, 1), {"tax_amount": Decimal("-1"), "billed_after": "i"}),
        (ChargeKind.FULFILLMENT, None, {"tax_jurisdiction": "US-NY"}),
        (ChargeKind.ONE_TIME, None, {}),
    ],
)
def test_a_charge_calculation_line_becomes_the_same_invoice_line_as_any_object_with_its_fields(
    kind: ChargeKind, period_end: date | None, tax: dict[str, object]
) -> None:
    # `InvoiceLine.of` reads a `ChargeLine` field by field (the bill run's case) and anything else
    # by name: the two give the same line.
    charge = ChargeLine(
        charge_key=f"{kind.value}:x",
        kind=kind,
        description="Seats",
        account_id="acc_1",
        currency="USD",
        amount=Decimal("-90.00"),
        list_amount=Decimal("-100.00"),
        discount_amount=Decimal("-10.00"),
        quantity=Decimal("2.5"),
        unit_price=Decimal("40.000001"),
        source_kind=ChargeSource.SUBSCRIPTION,
        source_id="sub_1",
        period_start=date(2026, 8, 1),
        period_end=period_end,
        subscription_id="sub_1",
        product_id="prod_1",
        price_id="price_1",
        price_version=3,
        reference_id="ord_1",
    )
    duck = SimpleNamespace(**{name: getattr(charge, name) for name in ChargeLine.__dataclass_fields__})
    line = InvoiceLine.of(charge, **tax)
    assert line == InvoiceLine.of(duck, **tax)
    assert (line.kind, line.source_kind) == (kind.value, "subscription")
    assert line.period_end == (period_end or date(2026, 8, 2))


def test_the_total_kept_with_the_sums_follows_the_lines() -> None:
    invoice = draft(invoice_line("a", quantity="2", unit_price="10.00", tax_rate="10"))
    assert invoice.total == invoice.subtotal + invoice.tax_total + invoice.account_credit_carried
    assert invoice.total == Decimal("22.00")
    invoice.lines = (*invoice.lines, invoice_line("b", quantity="1", unit_price="5.00", tax_rate="0"))
    assert (invoice.subtotal, invoice.total) == (Decimal("25.00"), Decimal("27.00"))
