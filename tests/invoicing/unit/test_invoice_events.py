"""The invoice events a bill run serializes directly (`events.invoices.serialized_of`) are the
contract's payloads: field for field what the pydantic models dump, and they decode with them.

Covered: 2-, 0- and 3-decimal currencies, an exempt invoice (no tax), a credit line, a line with
no unit price, a zero discount, a fractional quantity and unit price, and credits beyond the
charges carried to the account; an invoice whose lines
the contract would refuse goes the validated way (None here).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from invoicing.domain.invoice_numbers import DocumentNumber
from invoicing.domain.invoices import Invoice, InvoiceDraftedRecord, InvoiceFinalizedRecord
from invoicing.events.invoices import (
    WRITTEN_MEMO_SIZE,
    _amount,
    _amount_text,
    _text,
    _Unfit,
    invoice_drafted,
    invoice_finalized,
    line_json,
    line_payload,
    serialized_of,
)
from libs.contracts import invoicing as contracts
from libs.contracts.types import AMOUNT_PLACES
from libs.platform.money import amount_out
from tests.invoicing.factories import draft, invoice_line

NUMBER = DocumentNumber("INV-2026", 42)


AT = datetime(2026, 8, 1, 16, 5, 7, 123456, tzinfo=UTC)


def _issued(invoice: Invoice, *, at: datetime = AT) -> Invoice:
    invoice.finalize(number=NUMBER, invoice_date=date(2026, 8, 1), at=at)
    return invoice


def _invoices() -> list[Invoice]:
    return [
        _issued(draft()),
        _issued(
            draft(
                invoice_line("seats", quantity="25", unit_price="12.00", discount="30.00"),
                replace(
                    invoice_line("credit", quantity="1", unit_price="300.00", tax_rate="8.875"),
                    kind="recurring_credit",
                    list_amount=Decimal("-150.00"),
                    amount=Decimal("-150.00"),
                    tax_amount=Decimal("-13.31"),
                ),
                invoice_line("usage", quantity="1234.5", unit_price="0.000108", tax_rate="0"),
                replace(invoice_line("minimum", tax_rate="0"), unit_price=None),
            )
        ),
        _issued(draft(invoice_line(currency="JPY", unit_price="1200", tax_rate="10"), currency="JPY")),
        _issued(draft(invoice_line(currency="BHD", unit_price="12.345", tax_rate="10"), currency="BHD")),
        _issued(
            draft(
                invoice_line(tax_rate="0", tax_code=None, tax_jurisdiction=None), tax_exemption_note="EX-1"
            ),
            at=datetime(2026, 8, 1, 12, tzinfo=timezone(timedelta(hours=-4))),
        ),
        _issued(
            draft(
                invoice_line("seats", quantity="1", unit_price="100.00", tax_rate="0"),
                replace(
                    invoice_line("goodwill", quantity="1", unit_price="250.00", tax_rate="0"),
                    kind="adjustment",
                    list_amount=Decimal("-250.00"),
                    amount=Decimal("-250.00"),
                ),
            )
        ),
    ]


def test_the_carried_case_carries_150_to_the_account() -> None:
    carried = _invoices()[-1]
    assert (carried.subtotal, carried.account_credit_carried, carried.total) == (
        Decimal("-150.00"),
        Decimal("150.00"),
        Decimal("0.00"),
    )


@pytest.mark.parametrize("invoice", _invoices(), ids=["usd", "mixed", "jpy", "bhd", "exempt", "carried"])
def test_the_serialized_payloads_are_the_contracts(invoice: Invoice) -> None:
    drafted, finalized = invoice.events
    assert isinstance(drafted, InvoiceDraftedRecord) and isinstance(finalized, InvoiceFinalizedRecord)
    serialized_draft, serialized_issue = serialized_of(drafted), serialized_of(finalized)
    assert serialized_draft is not None and serialized_issue is not None
    assert serialized_draft == (
        contracts.InvoiceDrafted,
        invoice_drafted(invoice, drafted.change).model_dump(mode="json"),
        invoice.account_id,
    )
    assert serialized_issue == (
        contracts.InvoiceFinalized,
        invoice_finalized(invoice).model_dump(mode="json"),
        invoice.account_id,
    )
    decoded = contracts.InvoiceFinalized.model_validate(serialized_issue[1])
    assert decoded.total == invoice.total
    assert [line.amount for line in decoded.lines] == [line.amount for line in invoice.lines]


def test_lines_the_contract_refuses_go_the_validated_way() -> None:
    drafted, finalized = _issued(draft(invoice_line(quantity="1.0000001", unit_price="10.00"))).events
    assert serialized_of(finalized) is None  # 7 decimals: Quantity takes 6
    with pytest.raises(ValidationError):
        invoice_finalized(finalized.invoice)
    # The draft's event carries no line: it is the contract's as ever.
    assert serialized_of(drafted) == (
        contracts.InvoiceDrafted,
        invoice_drafted(drafted.invoice, "drafted").model_dump(mode="json"),
        "acct_1",
    )


def test_amounts_the_contract_refuses_go_the_validated_way() -> None:
    huge = invoice_line(quantity="1", unit_price="1000000000000000000.00", tax_rate="0")  # 19 digits
    drafted, finalized = _issued(draft(huge)).events
    assert serialized_of(drafted) is None and serialized_of(finalized) is None
    with pytest.raises(ValidationError):
        invoice_drafted(drafted.invoice, "drafted")
    with pytest.raises(ValidationError):
        invoice_finalized(finalized.invoice)


@pytest.mark.parametrize("currency", ["USD", "JPY", "BHD", "CLF"])
@pytest.mark.parametrize(
    "value",
    [
        "0",
        "-0",
        "-0.00",
        "0.00",
        "1.5",
        "1.50",
        "1.505",
        "-3.10",
        "-3.1",
        "1E+2",
        "100",
        "12.3456",
        "0.0001",
        "-0.0000",
        "123456.789",
        "1e30",
        "99999999999999999.99",
        "-1E-7",
    ],
)
def test_an_amount_is_written_as_rounding_then_writing_it_would(value: str, currency: str) -> None:
    """The shortcut for an amount already at its currency's minor units writes what rounding it
    (`amount_out`) and writing that would, or refuses what that would refuse."""

    def outcome(write: object) -> str:
        try:
            return write()  # type: ignore[operator,no-any-return]
        except _Unfit:
            return "refused"

    amount = Decimal(value)
    assert outcome(lambda: _amount(amount, currency)) == outcome(
        lambda: _text(amount_out(amount, currency), max_places=AMOUNT_PLACES)
    )


@pytest.mark.parametrize("order", [1, -1])
def test_values_written_differently_are_written_as_their_own_value_in_either_order(order: int) -> None:
    """The written forms are kept by value (a bill run writes the same few values again and
    again): a value written another way first is written as itself all the same."""
    lines = [
        invoice_line(quantity=q, unit_price=p, tax_rate=r)
        for q, p, r in [("25", "12.00", "8.875"), ("25.000", "12", "8.8750")][::order]
    ]
    written = [line_json(line) for line in lines]
    assert [w["quantity"] for w in written] == ["25", "25"]
    assert [w["unit_price"] for w in written] == ["12", "12"]
    assert [w["tax_rate"] for w in written] == ["8.875", "8.875"]
    assert [w["amount"] for w in written] == ["300.00", "300.00"]
    assert written == [line_payload(line).model_dump(mode="json") for line in lines]


def test_the_kept_written_forms_stay_bounded() -> None:
    for n in range(WRITTEN_MEMO_SIZE + 100):
        assert _amount(Decimal(n).scaleb(-2), "USD") == f"{n // 100}.{n % 100:02d}"
    assert _amount_text.cache_info().currsize <= WRITTEN_MEMO_SIZE


@pytest.mark.parametrize("order", [1, -1])
def test_one_moment_in_two_time_zones_is_written_in_each_ones_own_way(order: int) -> None:
    """Moments are kept with their written form too: the same instant at another offset is an
    equal datetime, yet it is written with its own offset."""
    utc = datetime(2026, 8, 1, 16, 5, 7, 123456, tzinfo=UTC)
    moments = [utc, utc.astimezone(timezone(timedelta(hours=-4)))][::order]
    invoices = [_issued(draft(), at=at) for at in moments]
    written = [serialized_of(invoice.events[1]) for invoice in invoices]
    assert [w[1]["finalized_at"] for w in written if w is not None] == [
        invoice_finalized(invoice).model_dump(mode="json")["finalized_at"] for invoice in invoices
    ]
    assert len({w[1]["finalized_at"] for w in written if w is not None}) == 2
