"""Re-billing a vendor's charge for resold seats at our markup (DESIGN §7 "Resold seats").

The vendor charges each seat over a tenant's licenses at its unit cost (the band of the actual
count, per its cost book); we bill the same seats to the customer at cost x (1 + markup/100),
the unit price kept to 6 decimals half up (the cost-plus rule of `libs.pricing.engine`), and the
line — seats x that unit price — rounded once to the currency's minor units, half up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from libs.platform.money import round_money, round_unit_price

ONE = Decimal(1)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Rebill:
    """What the customer is billed for a vendor charge: our unit price and the rounded amount."""

    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    currency: str


def marked_up_unit_cost(vendor_unit_cost: Decimal, markup_percent: Decimal) -> Decimal:
    """The vendor's unit cost x (1 + markup/100), kept to 6 decimals half up."""
    if vendor_unit_cost < 0 or markup_percent < 0:
        raise ValueError("a unit cost and a markup are never negative")
    with localcontext() as ctx:
        ctx.prec = 50
        return round_unit_price(vendor_unit_cost * (ONE + markup_percent / HUNDRED))


def rebill_vendor_charge(
    *, quantity: Decimal, vendor_unit_cost: Decimal, markup_percent: Decimal, currency: str
) -> Rebill:
    """The customer's charge for `quantity` seats the vendor charged at `vendor_unit_cost`."""
    if quantity < 0:
        raise ValueError("a re-billed quantity is never negative")
    unit_price = marked_up_unit_cost(vendor_unit_cost, markup_percent)
    with localcontext() as ctx:
        ctx.prec = 50
        amount = round_money(quantity * unit_price, currency)
    return Rebill(quantity=quantity, unit_price=unit_price, amount=amount, currency=currency)
