"""What we billed customers for resold service, kept from invoicing's `invoice.finalized`.

A line counts toward margin when it bills a resold subscription, or when it is a re-bill of a
vendor overage charge (charge key `overage:...`, whether or not it names the subscription). A
voided invoice bills nothing: its lines stay, marked void, so a redelivered finalization cannot
bring them back. A credit note on a kept line is kept as a negative line of the same period (the
credit note's id in place of the invoice's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

OVERAGE_CHARGE_PREFIX: Final = "overage:"


@dataclass(frozen=True)
class BilledLine:
    """One line of an issued customer invoice that may bill resold service."""

    invoice_id: str
    charge_key: str
    account_id: str
    subscription_id: str | None
    currency: str
    period_start: date
    period_end: date
    invoice_date: date
    amount: Decimal

    @property
    def is_overage_rebill(self) -> bool:
        """True for a vendor overage charge re-billed at our markup."""
        return self.charge_key.startswith(OVERAGE_CHARGE_PREFIX)


def may_bill_resale(charge_key: str, subscription_id: str | None) -> bool:
    """Worth keeping: a subscription's line (resold or not, the catalog may tell later) or a re-bill."""
    return subscription_id is not None or charge_key.startswith(OVERAGE_CHARGE_PREFIX)
