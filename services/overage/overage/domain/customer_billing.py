"""What we billed customers for resold service, kept from invoicing's `invoice.finalized`.

A line counts toward margin when it bills a resold subscription, or when it is a re-bill of a
vendor overage charge, whether or not it names the subscription: its `rebill_key` is our charge
key (`overage:{vendor}:{notice}`), which invoicing keeps as the line's `source_id` (its own
charge key is `one_time:` + ours); the margin report counts it in the notice's month. A
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
    rebill_key: str | None = None
    """Our charge key when the line re-bills a vendor overage charge (`rebill_key_of`)."""

    @property
    def is_overage_rebill(self) -> bool:
        """True for a vendor overage charge re-billed at our markup."""
        return self.rebill_key is not None


def rebill_key_of(charge_key: str, source_id: str | None) -> str | None:
    """The overage charge key a line re-bills: its source (a one-time charge's id is our key) or,
    from an invoice that names it so, its own charge key; None for any other line."""
    for key in (source_id, charge_key):
        if key is not None and key.startswith(OVERAGE_CHARGE_PREFIX):
            return key
    return None


def may_bill_resale(subscription_id: str | None, rebill_key: str | None) -> bool:
    """Worth keeping: a subscription's line (resold or not, the catalog may tell later) or a re-bill."""
    return subscription_id is not None or rebill_key is not None
