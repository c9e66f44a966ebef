"""Invoice charge lines: what the charge calculation returns, their charge keys, and the one rule
that turns an expected amount into what is due — expected minus what was already billed.

Every billable thing has a stable charge key (`billing_inputs` says why). The calculation
computes what each key should have billed in total (`expected`), subtracts what earlier
invoices billed under it (`BilledLedger`), and returns the difference as a line when it is not
zero: a first bill, a proration charge, or a credit. Because the difference is taken per key, a
re-run after the lines were stored produces nothing, and a change only bills what it changed.

Charge key formats (stable; stored with each invoice line):
- `recurring:{subscription_id}:{period_start}:{segment_start}` — the days of one billing period
  billed on one set of terms (price version, quantity, unit price, discount), from the segment's
  first day (ISO dates);
- `usage:{rated_usage_id}` and `minimum:{rated_usage_id}` — a rated usage and its minimum
  commitment shortfall;
- `fulfillment:{fulfillment_id}:{order_line_id}`, `one_time:{charge_id}`,
  `adjustment:{adjustment_id}`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Final

from libs.platform.money import round_money

from .billing_inputs import BilledCharge

ZERO = Decimal(0)


class ChargeKind(StrEnum):
    """What a line bills."""

    RECURRING = "recurring"
    """A recurring charge for days of a period, or a proration charge after a change."""
    RECURRING_CREDIT = "recurring_credit"
    """A credit for recurring days billed before and no longer owed (downgrade, cancellation)."""
    USAGE = "usage"
    MINIMUM = "minimum"
    """A usage minimum commitment's shortfall, shown as its own line (DESIGN §7)."""
    FULFILLMENT = "fulfillment"
    ONE_TIME = "one_time"
    ADJUSTMENT = "adjustment"


class ChargeSource(StrEnum):
    """The kind of record behind a line (`ChargeLine.source_id` names it)."""

    SUBSCRIPTION = "subscription"
    RATED_USAGE = "rated_usage"
    FULFILLMENT = "fulfillment"
    ONE_TIME_CHARGE = "one_time_charge"
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One line due on an invoice, rounded once to the currency's minor units.

    `list_amount - discount_amount == amount`; a credit has negative amounts. `account_id` is
    the account whose charge it is (a child's line on its parent's invoice keeps the child's).
    """

    charge_key: str
    kind: ChargeKind
    description: str
    account_id: str
    currency: str
    amount: Decimal
    list_amount: Decimal
    discount_amount: Decimal
    quantity: Decimal
    unit_price: Decimal | None
    """Price per unit (per billing period for a recurring line); None when no one price applies
    (tiered usage, a minimum shortfall, an adjustment)."""
    source_kind: ChargeSource
    source_id: str
    """The subscription, rated usage, `fulfillment_id:order_line_id`, charge or adjustment id."""
    period_start: date | None = None
    """First day the line bills or credits; the day of a one-off (fulfillment, fee, adjustment)."""
    period_end: date | None = None
    """Exclusive end of the days a recurring or usage line bills or credits; None for a one-off."""
    subscription_id: str | None = None
    product_id: str | None = None
    price_id: str | None = None
    price_version: int | None = None
    reference_id: str | None = None
    """What stands behind the source: the order of a fulfillment or fee, the overage case of an
    overage re-bill."""


def recurring_key(subscription_id: str, period_start: date, segment_start: date) -> str:
    """The charge key of the days of one period billed on one set of terms from `segment_start`."""
    return f"recurring:{subscription_id}:{period_start.isoformat()}:{segment_start.isoformat()}"


def parse_recurring_key(key: str) -> tuple[str, date, date] | None:
    """The (subscription id, period start, segment start) of a recurring key, or None if not one."""
    head, _, rest = key.partition(":")
    # Split from the right: the two dates never hold a colon, a subscription id might.
    parts = rest.rsplit(":", 2)
    if head != "recurring" or len(parts) != 3:
        return None
    try:
        return parts[0], date.fromisoformat(parts[1]), date.fromisoformat(parts[2])
    except ValueError:
        return None


def usage_key(rated_usage_id: str) -> str:
    """The charge key of a rated usage."""
    return f"usage:{rated_usage_id}"


def minimum_key(rated_usage_id: str) -> str:
    """The charge key of a rated usage's minimum commitment shortfall."""
    return f"minimum:{rated_usage_id}"


def fulfillment_key(fulfillment_id: str, order_line_id: str) -> str:
    """The charge key of one line of a completed fulfillment."""
    return f"fulfillment:{fulfillment_id}:{order_line_id}"


def one_time_key(charge_id: str) -> str:
    """The charge key of a one-time charge."""
    return f"one_time:{charge_id}"


def adjustment_key(adjustment_id: str) -> str:
    """The charge key of a pending adjustment."""
    return f"adjustment:{adjustment_id}"


@dataclass(frozen=True, slots=True)
class BilledSoFar:
    """What earlier invoices billed under one key: net amount and, when every line kept it, list."""

    amount: Decimal = ZERO
    list_amount: Decimal | None = ZERO


NOTHING_BILLED: Final = BilledSoFar()
"""What a key that was never billed has billed so far."""


class BilledLedger:
    """What was already billed, by charge key (several invoices' lines on one key add up)."""

    def __init__(self, billed: Iterable[BilledCharge]) -> None:
        self._by_key: dict[str, BilledSoFar] = {}
        self._recurring: dict[str, list[tuple[str, date, date]]] = {}
        for charge in billed:
            before = self._by_key.get(charge.charge_key, BilledSoFar())
            lists = (
                None
                if before.list_amount is None or charge.list_amount is None
                else before.list_amount + charge.list_amount
            )
            if charge.charge_key not in self._by_key:
                parsed = parse_recurring_key(charge.charge_key)
                if parsed is not None:
                    subscription_id, period_start, segment_start = parsed
                    self._recurring.setdefault(subscription_id, []).append(
                        (charge.charge_key, period_start, segment_start)
                    )
            self._by_key[charge.charge_key] = BilledSoFar(before.amount + charge.amount, lists)

    def of(self, key: str) -> BilledSoFar:
        """What was billed under `key` (`NOTHING_BILLED` when nothing was)."""
        return self._by_key.get(key, NOTHING_BILLED)

    def recurring_keys(self, subscription_id: str) -> list[tuple[str, date, date]]:
        """The subscription's billed recurring keys as (key, period start, segment start), sorted."""
        return sorted(self._recurring.get(subscription_id, ()))


@dataclass(frozen=True, slots=True)
class Owed:
    """A key's due difference: rounded list, discount and net amounts (list - discount = amount)."""

    list_amount: Decimal
    discount_amount: Decimal
    amount: Decimal


def owed(expected_list: Decimal, expected_amount: Decimal, billed: BilledSoFar, currency: str) -> Owed | None:
    """What is due under a key that should have billed `expected_amount` in all, or None if nothing.

    The expected amounts are unrounded; each is rounded once here, so a key's lines always add
    up to its rounded expected amount. A difference line shows its own list amount when the
    earlier lines' list amounts are known, else its net difference as list with no discount.
    """
    if billed is NOTHING_BILLED:
        # The usual case of a bill run: what is due is the expected amounts, rounded (the same
        # as the general case, where subtracting zero and rounding again change nothing).
        amount = round_money(expected_amount, currency)
        if amount.is_zero():
            return None
        list_amount = round_money(expected_list, currency)
        return Owed(list_amount, list_amount - amount, amount)
    # Rounded before subtracting: earlier lines were rounded the same way, so a key's lines add
    # up to exactly its rounded expected amount and no minor unit drifts across re-runs.
    amount = round_money(round_money(expected_amount, currency) - billed.amount, currency)
    if amount.is_zero():
        return None
    if billed.list_amount is None:
        return Owed(amount, ZERO, amount)
    list_amount = round_money(round_money(expected_list, currency) - billed.list_amount, currency)
    return Owed(list_amount, list_amount - amount, amount)
