"""An invoice's line: what the charge calculation billed plus its tax (`invoices` holds the
invoice; this module its lines, as `charge_lines` holds the calculation's)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from invoicing.domain.billing_inputs import BilledCharge
from invoicing.domain.charge_lines import ChargeLine


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line: what the charge calculation billed (its fields, by the same names) plus its tax.

    `amount` and `tax_amount` are already rounded to the currency's minor units; `billed_after`
    is the invoice that last billed the same `charge_key` before this one ("" when none): two
    runs that computed a charge from the same state cannot both store it (see the repository).
    """

    charge_key: str
    kind: str
    description: str
    account_id: str
    currency: str
    period_start: date
    period_end: date
    quantity: Decimal
    unit_price: Decimal | None
    """None where no one price per unit holds (usage across tiers, a minimum, an adjustment)."""
    list_amount: Decimal
    discount_amount: Decimal
    amount: Decimal
    source_kind: str
    source_id: str
    subscription_id: str | None = None
    product_id: str | None = None
    price_id: str | None = None
    price_version: int | None = None
    tax_code: str | None = None
    tax_rate: Decimal = Decimal(0)
    tax_amount: Decimal = Decimal(0)
    tax_jurisdiction: str | None = None
    billed_after: str = ""

    @property
    def total(self) -> Decimal:
        """The line with its tax."""
        return self.amount + self.tax_amount

    @classmethod
    def of(cls, charge: Any, **tax: Any) -> InvoiceLine:
        """A line from a charge-calculation line (any object with the same field names) and its tax
        (`tax_code`, `tax_rate`, `tax_amount`, `tax_jurisdiction`, `billed_after`)."""
        if type(charge) is ChargeLine and tax.keys() <= _TAX_FIELDS:
            # The bill run's case, field by field: the look-ups below cost a tenth of an invoice. Its
            # kinds are `StrEnum`s, whose str() is their value (`.value` is a Python property).
            end = charge.period_end
            if end is None and charge.period_start is not None:
                end = charge.period_start + timedelta(days=1)
            return cls(
                charge_key=charge.charge_key,
                kind=str(charge.kind),
                description=charge.description,
                account_id=charge.account_id,
                currency=charge.currency,
                period_start=charge.period_start,  # type: ignore[arg-type]  # as the look-ups pass it
                period_end=end,  # type: ignore[arg-type]
                quantity=charge.quantity,
                unit_price=charge.unit_price,
                list_amount=charge.list_amount,
                discount_amount=charge.discount_amount,
                amount=charge.amount,
                source_kind=str(charge.source_kind),
                source_id=charge.source_id,
                subscription_id=charge.subscription_id,
                product_id=charge.product_id,
                price_id=charge.price_id,
                price_version=charge.price_version,
                **tax,
            )
        missing: Any = object()
        values: dict[str, Any] = {
            name: value
            for name in _LINE_FIELDS
            if name not in tax and (value := getattr(charge, name, missing)) is not missing
        }
        if values.get("period_end") is None and values.get("period_start") is not None:
            # A one-off (a fulfillment, a fee, an adjustment) is dated: its period is that day.
            values["period_end"] = values["period_start"] + timedelta(days=1)
        for name in ("kind", "source_kind"):
            values[name] = str(getattr(values[name], "value", values[name]))
        return cls(**values, **tax)


_LINE_FIELDS: Final = tuple(InvoiceLine.__dataclass_fields__)
_TAX_FIELDS: Final = frozenset(("tax_code", "tax_rate", "tax_amount", "tax_jurisdiction", "billed_after"))


def billed_after(lines: Iterable[InvoiceLine], billed: Iterable[BilledCharge]) -> tuple[InvoiceLine, ...]:
    """The lines, each naming the latest invoice that billed its charge before (from `billed`, what
    the charges were computed against); a line that names one already keeps it."""
    latest: dict[str, str] = {}
    for charge in billed:
        latest[charge.charge_key] = max(latest.get(charge.charge_key, ""), charge.invoice_id)
    # A line stays as it is when it names one already or nothing billed its charge before (the
    # common case: `replace` re-builds a line, the costliest step of a new invoice's lines).
    return tuple(
        line
        if line.billed_after or not latest.get(line.charge_key)
        else replace(line, billed_after=latest[line.charge_key])
        for line in lines
    )
