"""The port of the payment gateway: charge a card token or an ACH mandate, refund a charge.

Card payments carry Level 2/3 ("enhanced") data — the customer code, the tax amount, the invoices
paid and their line items — which processors reward with lower interchange (seed 001, credit-card
optimization). The handler builds it from the invoices a payment will pay (`enhanced_data_for`)
and records what was sent on each attempt. `invoicing.sandbox_gateway` is the built-in gateway that
approves or declines by token; a processor's adapter implements the same two calls.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from invoicing.domain.invoices import Invoice
from libs.platform.money import amount_out, decimal_out, unit_price_out


@dataclass(frozen=True, slots=True)
class LineItem:
    """A Level 3 line item: what was bought, how many, at what price, with its tax."""

    description: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    tax_amount: Decimal
    product_code: str | None = None
    invoice_number: str | None = None


@dataclass(frozen=True, slots=True)
class EnhancedData:
    """Level 2 (customer code, tax amount, order date, invoice numbers) and Level 3 (line items)."""

    customer_code: str
    tax_amount: Decimal
    order_date: date
    invoice_numbers: tuple[str, ...] = ()
    merchant_postal_code: str | None = None
    line_items: tuple[LineItem, ...] = field(default_factory=tuple)

    def as_record(self) -> dict[str, Any]:
        """The data as stored on the attempt (decimals and dates as strings)."""
        return _plain(asdict(self))


def enhanced_data_for(
    account_id: str,
    currency: str,
    invoices: Iterable[Invoice],
    *,
    on: date,
    merchant_postal_code: str | None = None,
) -> EnhancedData:
    """Level 2/3 data of a payment of these invoices (none: Level 2 with no line items); amounts with
    the currency's minor units, quantities and unit prices in their shortest exact form."""
    paid = list(invoices)
    return EnhancedData(
        customer_code=account_id,
        tax_amount=amount_out(sum((invoice.tax_total for invoice in paid), Decimal(0)), currency),
        order_date=on,
        invoice_numbers=tuple(invoice.number_text or invoice.id for invoice in paid),
        merchant_postal_code=merchant_postal_code,
        line_items=tuple(
            LineItem(
                description=line.description,
                quantity=decimal_out(line.quantity),
                unit_price=unit_price_out(line.unit_price),
                amount=amount_out(line.amount, currency),
                tax_amount=amount_out(line.tax_amount, currency),
                product_code=line.product_id,
                invoice_number=invoice.number_text,
            )
            for invoice in paid
            for line in invoice.lines
        ),
    )


@dataclass(frozen=True, slots=True)
class GatewayResult:
    """The gateway's answer: approved with its reference, or declined with a code."""

    approved: bool
    reference: str | None = None
    decline_code: str | None = None
    message: str | None = None


class PaymentGateway(abc.ABC):
    """A payment processor, reached through tokens only."""

    @abc.abstractmethod
    async def authorize_and_capture(
        self, token: str, amount: Decimal, currency: str, level3: EnhancedData, *, idempotency_key: str
    ) -> GatewayResult:
        """Take `amount` from the card token or ACH mandate `token`, with its enhanced data."""

    @abc.abstractmethod
    async def refund(
        self, reference: str, amount: Decimal, currency: str, *, idempotency_key: str
    ) -> GatewayResult:
        """Give back `amount` of the charge `reference`."""


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal | date):
        return str(value)
    return value
