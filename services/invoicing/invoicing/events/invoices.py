"""Invoice records -> `invoice.drafted` / `invoice.finalized` / `invoice.voided`, keyed by the account.

Two ways to the same payloads: `outgoing_of` builds the contract's pydantic models (validated,
for one invoice at a time), and `serialized_of` builds their JSON form directly — what
`model_dump(mode="json")` of those models gives, field for field — for a bill run's chunk, where
two validated models per invoice with every line cost as much as the charge calculation. Tests
hold the two equal and decode the serialized payloads with the contract. An invoice the contract
would refuse (a quantity with more than six decimals, say) goes the validated way, and is
refused as before.

Memos: the text of an amount, a quantity, a unit price or a tax rate depends only on its
value (and the currency: `amount_out` rounds equal values alike, `decimal_out` gives the
shortest form of any way of writing a value), and a bill run writes the same few values for
thousands of invoices, so each is worked out once and kept (bounded; a refusal is not kept).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final, TypeVar

from pydantic import TypeAdapter

from invoicing.domain.invoices import (
    Invoice,
    InvoiceDraftedRecord,
    InvoiceFinalizedRecord,
    InvoiceLine,
    InvoiceRecord,
)
from libs.contracts import invoicing as contracts
from libs.contracts.envelope import EventPayload
from libs.contracts.types import AMOUNT_PLACES, PERCENT_PLACES, QUANTITY_PLACES
from libs.platform.money import (
    CURRENCY_MINOR_UNITS,
    MAX_INTEGER_DIGITS,
    amount_out,
    decimal_out,
    percent_out,
    unit_price_out,
)

Outgoing = tuple[EventPayload, str]
"""An invoice payload and its partition key (the account id)."""

SerializedPayload = tuple[type[EventPayload], dict[str, Any], str]
"""An invoice payload's contract, its JSON form and its partition key (the account id)."""

_DATETIME: Final = TypeAdapter(datetime)
WRITTEN_MEMO_SIZE: Final = 4096
"""Decimals kept with their written form, per kind (see the module)."""
_LIMIT: Final = Decimal(10) ** MAX_INTEGER_DIGITS


def outgoing_of(record: InvoiceRecord) -> Outgoing:
    """The contract payload of what an invoice recorded, keyed by its account."""
    invoice = record.invoice
    payload: EventPayload
    if isinstance(record, InvoiceFinalizedRecord):
        payload = invoice_finalized(invoice)
    elif isinstance(record, InvoiceDraftedRecord):
        payload = invoice_drafted(invoice, record.change)
    else:
        assert invoice.voided_at is not None
        payload = contracts.InvoiceVoided(
            invoice_id=invoice.id,
            number=record.number,
            account_id=invoice.account_id,
            currency=invoice.currency,
            total=amount_out(invoice.total, invoice.currency),
            reason=invoice.void_reason,
            voided_at=invoice.voided_at,
        )
    return payload, invoice.account_id


def invoice_drafted(invoice: Invoice, change: str) -> contracts.InvoiceDrafted:
    """A draft as the bill run's observers see it."""
    currency = invoice.currency
    return contracts.InvoiceDrafted(
        invoice_id=invoice.id,
        change="memo_changed" if change == "memo_changed" else "drafted",
        account_id=invoice.account_id,
        currency=currency,
        run_kind=invoice.run_kind.value,
        run_source_id=invoice.run_source_id,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        line_count=len(invoice.lines),
        subtotal=amount_out(invoice.subtotal, currency),
        tax_total=amount_out(invoice.tax_total, currency),
        total=amount_out(invoice.total, currency),
        memo=invoice.memo,
        drafted_at=invoice.created_at,
    )


def invoice_finalized(invoice: Invoice) -> contracts.InvoiceFinalized:
    """The issued invoice as ERP books it."""
    assert invoice.number_text is not None and invoice.invoice_date is not None
    assert invoice.due_date is not None and invoice.finalized_at is not None
    currency = invoice.currency
    return contracts.InvoiceFinalized(
        invoice_id=invoice.id,
        number=invoice.number_text,
        account_id=invoice.account_id,
        customer_id=invoice.bill_to.customer_id,
        bill_to_name=invoice.bill_to.name,
        currency=currency,
        run_kind=invoice.run_kind.value,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        payment_terms_days=invoice.payment_terms_days,
        subtotal=amount_out(invoice.subtotal, currency),
        discount_total=amount_out(invoice.discount_total, currency),
        tax_total=amount_out(invoice.tax_total, currency),
        account_credit_carried=amount_out(invoice.account_credit_carried, currency),
        total=amount_out(invoice.total, currency),
        amount_due=amount_out(invoice.amount_due, currency),
        tax_exemption_note=invoice.tax_exemption_note,
        lines=[line_payload(line) for line in invoice.lines],
        finalized_at=invoice.finalized_at,
    )


Line = TypeVar("Line", bound=contracts.InvoiceLinePayload)


def line_payload(line: InvoiceLine, model: type[Line] = contracts.InvoiceLinePayload) -> Line:  # type: ignore[assignment]
    """One line as ERP and the API see it (`model`: the contract, or the API's view of it, which
    adds nothing): the one mapping of a line's fields to the wire."""
    currency = line.currency
    return model(
        charge_key=line.charge_key,
        kind=line.kind,
        description=line.description,
        subscription_id=line.subscription_id,
        product_id=line.product_id,
        price_id=line.price_id,
        price_version=line.price_version,
        period_start=line.period_start,
        period_end=line.period_end,
        quantity=decimal_out(line.quantity),
        unit_price=unit_price_out(line.unit_price),
        list_amount=amount_out(line.list_amount, currency),
        discount_amount=amount_out(line.discount_amount, currency),
        amount=amount_out(line.amount, currency),
        tax_code=line.tax_code,
        tax_rate=percent_out(line.tax_rate),
        tax_amount=amount_out(line.tax_amount, currency),
        tax_jurisdiction=line.tax_jurisdiction,
        source_kind=line.source_kind,
        source_id=line.source_id,
    )


# --- the same payloads, serialized directly (see the module) -------------------------------------


def serialized_of(record: InvoiceRecord) -> SerializedPayload | None:
    """The JSON form of a draft's or an issued invoice's payload, keyed by its account; None for
    what goes the validated way (`outgoing_of`): a void, or values the contract would refuse."""
    invoice = record.invoice
    try:
        if isinstance(record, InvoiceFinalizedRecord):
            return contracts.InvoiceFinalized, invoice_finalized_json(invoice), invoice.account_id
        if isinstance(record, InvoiceDraftedRecord):
            return contracts.InvoiceDrafted, invoice_drafted_json(invoice, record.change), invoice.account_id
    except _Unfit:
        return None
    return None


class _Unfit(Exception):
    """A value the contract's types would refuse: the payload goes the validated way (and fails)."""


def _text(value: Decimal, *, max_places: int, allow_negative: bool = True) -> str:
    """A decimal as the contract's decimal types write it (never "-0"), if they take it: at most
    `max_places` decimals and MAX_INTEGER_DIGITS digits before the point."""
    if not value.is_finite():
        raise _Unfit
    if value.is_zero():
        value = value.copy_abs()
    elif not (-_LIMIT < value < _LIMIT) or (value < 0 and not allow_negative):
        raise _Unfit
    text = format(value, "f")
    # The decimals written are the exponent's (read off the text: `as_tuple()` builds a named
    # tuple in Python, and cost a tenth of a bill run's CPU here).
    point = text.find(".")
    if point >= 0 and len(text) - point - 1 > max_places:
        raise _Unfit
    return text


def _amount(value: Decimal, currency: str) -> str:
    """`_text(amount_out(value, currency))` (memoized: see the module)."""
    if value.is_snan():  # the one Decimal that cannot be hashed (nor written)
        raise _Unfit
    return _amount_text(value, currency)


@functools.lru_cache(maxsize=WRITTEN_MEMO_SIZE)
def _amount_text(value: Decimal, currency: str) -> str:
    # An amount already at exactly its currency's minor units — every amount of an invoice: its
    # lines are rounded, its totals are their sums — is written as it is, since rounding it
    # changes nothing (the rounding cost a tenth of a bill run's serialization).
    text = format(value, "f")
    point = text.find(".")
    if point > 0 and len(text) - point - 1 == CURRENCY_MINOR_UNITS.get(currency):
        if value.is_zero():
            return text.removeprefix("-")
        if -_LIMIT < value < _LIMIT:
            return text
    return _text(amount_out(value, currency), max_places=AMOUNT_PLACES)


def _moment(value: datetime) -> Any:
    # Memoized too (a chunk's invoices are drafted, and finalized, at one moment), keyed with the
    # offset: equal moments in two time zones are equal datetimes but are written differently.
    return _moment_text(value, value.utcoffset())


@functools.lru_cache(maxsize=256)
def _moment_text(value: datetime, offset: timedelta | None) -> Any:
    return _DATETIME.dump_python(value, mode="json")


def _percent(rate: Decimal) -> str:
    if rate.is_snan():
        raise _Unfit
    return _percent_text(rate)


@functools.lru_cache(maxsize=WRITTEN_MEMO_SIZE)
def _percent_text(rate: Decimal) -> str:
    shown = percent_out(rate)
    if shown > 100:
        raise _Unfit
    return _text(shown, max_places=PERCENT_PLACES, allow_negative=False)


def _quantity(value: Decimal) -> str:
    if value.is_snan():
        raise _Unfit
    return _quantity_text(value)


@functools.lru_cache(maxsize=WRITTEN_MEMO_SIZE)
def _quantity_text(value: Decimal) -> str:
    return _text(decimal_out(value), max_places=QUANTITY_PLACES, allow_negative=False)


def _unit_price(value: Decimal | None) -> str | None:
    # A plain Decimal field: pydantic writes str() of it (unit_price_out never has an exponent).
    if value is None:
        return None
    if value.is_snan():
        raise _Unfit
    return _unit_price_text(value)


@functools.lru_cache(maxsize=WRITTEN_MEMO_SIZE)
def _unit_price_text(value: Decimal) -> str:
    return str(unit_price_out(value))


def invoice_drafted_json(invoice: Invoice, change: str) -> dict[str, Any]:
    """`invoice_drafted(invoice, change).model_dump(mode="json")`, built directly."""
    currency = invoice.currency
    return {
        "invoice_id": invoice.id,
        "change": "memo_changed" if change == "memo_changed" else "drafted",
        "account_id": invoice.account_id,
        "currency": currency,
        "run_kind": invoice.run_kind.value,
        "run_source_id": invoice.run_source_id,
        "period_start": invoice.period_start.isoformat(),
        "period_end": invoice.period_end.isoformat(),
        "line_count": len(invoice.lines),
        "subtotal": _amount(invoice.subtotal, currency),
        "tax_total": _amount(invoice.tax_total, currency),
        "total": _amount(invoice.total, currency),
        "memo": invoice.memo,
        "drafted_at": _moment(invoice.created_at),
    }


def invoice_finalized_json(invoice: Invoice) -> dict[str, Any]:
    """`invoice_finalized(invoice).model_dump(mode="json")`, built directly."""
    assert invoice.number_text is not None and invoice.invoice_date is not None
    assert invoice.due_date is not None and invoice.finalized_at is not None
    currency = invoice.currency
    return {
        "invoice_id": invoice.id,
        "number": invoice.number_text,
        "account_id": invoice.account_id,
        "customer_id": invoice.bill_to.customer_id,
        "bill_to_name": invoice.bill_to.name,
        "currency": currency,
        "run_kind": invoice.run_kind.value,
        "period_start": invoice.period_start.isoformat(),
        "period_end": invoice.period_end.isoformat(),
        "invoice_date": invoice.invoice_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "payment_terms_days": invoice.payment_terms_days,
        "subtotal": _amount(invoice.subtotal, currency),
        "discount_total": _amount(invoice.discount_total, currency),
        "tax_total": _amount(invoice.tax_total, currency),
        "account_credit_carried": _amount(invoice.account_credit_carried, currency),
        "total": _amount(invoice.total, currency),
        "amount_due": _amount(invoice.amount_due, currency),
        "tax_exemption_note": invoice.tax_exemption_note,
        "lines": [line_json(line) for line in invoice.lines],
        "finalized_at": _moment(invoice.finalized_at),
    }


def line_json(line: InvoiceLine) -> dict[str, Any]:
    """`line_payload(line).model_dump(mode="json")`, built directly (raises `_Unfit` where the
    contract would refuse a value)."""
    currency = line.currency
    return {
        "charge_key": line.charge_key,
        "kind": line.kind,
        "description": line.description,
        "subscription_id": line.subscription_id,
        "product_id": line.product_id,
        "price_id": line.price_id,
        "price_version": line.price_version,
        "period_start": line.period_start.isoformat(),
        "period_end": line.period_end.isoformat(),
        "quantity": _quantity(line.quantity),
        "unit_price": _unit_price(line.unit_price),
        "list_amount": _amount(line.list_amount, currency),
        "discount_amount": _amount(line.discount_amount, currency),
        "amount": _amount(line.amount, currency),
        "tax_code": line.tax_code,
        "tax_rate": _percent(line.tax_rate),
        "tax_amount": _amount(line.tax_amount, currency),
        "tax_jurisdiction": line.tax_jurisdiction,
        "source_kind": line.source_kind,
        "source_id": line.source_id,
    }
