"""The charge calculation: the lines due on an account's invoice on a bill date (pure).

`charges_due(inputs, through=...)` is a function of the billing inputs alone, so a preview, a
bill run and a re-run compute the same lines, and what was already billed (by charge key,
`charge_lines`) makes a repeat produce nothing. Rules:
- Recurring charges: `recurring_charges` (periods, proration, credits, bill-back).
- Rated usage is due once the bill date reaches its period's end; its minimum commitment
  shortfall is a line of its own (DESIGN §7). Prepaid money covers the usage charge first,
  then the shortfall; the two lines add up to the rated usage's amount.
- A completed fulfillment line is due from its completion date: billable quantity x unit price
  less its discount; a zero billable quantity (a committed, prepaid part) bills nothing.
- A one-time charge is due on any run whose bill date is on or after its charge date: the bill
  run makes that the next monthly run for accounts billed quarterly or annually (it runs every
  account with a charge due each month); nothing here waits for the account's cycle.
- A pending adjustment is due from its effective date: a credit is negative, a debit positive.
- Currencies never mix: a due charge in another currency than the account's is refused with a
  `CurrencyMismatch` (422) naming every such charge; nothing is billed until it is corrected.
- A key whose difference is zero gives no line (nothing billed, nothing to show: a 100% discount
  or a usage wholly paid from prepaid money has no line of its own).
- Lines keep the account whose charge they are: children that bill to the parent are merged
  into the parent's inputs by the read model and keep their own account id on their lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal, localcontext
from enum import StrEnum
from typing import Final

from libs.platform.errors import FieldError
from libs.platform.money import CurrencyMismatch, minor_units

from .billing_inputs import (
    AdjustmentDirection,
    BillingInputs,
    FulfilledCharge,
    OneTimeCharge,
    PendingAdjustment,
    RatedUsageCharge,
)
from .charge_lines import (
    ZERO,
    BilledLedger,
    ChargeKind,
    ChargeLine,
    ChargeSource,
    adjustment_key,
    fulfillment_key,
    minimum_key,
    one_time_key,
    owed,
    usage_key,
)
from .recurring_charges import recurring_lines

__all__ = ["ChargeKind", "ChargeLine", "ChargeScope", "ChargeSource", "charges_due"]

_HUNDRED: Final = Decimal(100)
_PRECISION: Final = 50


class ChargeScope(StrEnum):
    """Which charges a run bills."""

    ALL = "all"
    """A scheduled bill run or a preview: everything due."""
    FULFILLMENTS = "fulfillments"
    """The on-demand run of a completed fulfillment: only fulfillment lines."""


def charges_due(
    inputs: BillingInputs, *, through: date, scope: ChargeScope = ChargeScope.ALL
) -> list[ChargeLine]:
    """The lines due on `inputs.account`'s invoice for the bill date `through`, in a stable order.

    Recurring lines by subscription, then usage and minimum lines, fulfillment lines, one-time
    charges and adjustments. Raises `CurrencyMismatch` when a due charge is not in the
    account's currency.
    """
    currency = inputs.account.currency
    minor_units(currency)  # an unknown currency is refused before anything is computed
    billed = BilledLedger(inputs.billed)
    usage = [u for u in inputs.rated_usage if through >= u.period_end]
    fulfillments = [f for f in inputs.fulfillments if through >= f.completed_on]
    one_time = [c for c in inputs.one_time_charges if through >= c.charge_date]
    adjustments = [a for a in inputs.adjustments if through >= a.effective_date]
    subscriptions = sorted(inputs.subscriptions, key=lambda s: s.subscription_id)
    if scope is ChargeScope.FULFILLMENTS:
        subscriptions, usage, one_time, adjustments = [], [], [], []
    if not all(
        charge.currency == currency
        for charges in (subscriptions, usage, fulfillments, one_time, adjustments)
        for charge in charges
    ):
        _refuse_other_currencies(
            currency,
            [("subscriptions", s.subscription_id, s.currency) for s in subscriptions]
            + [("rated_usage", u.rated_usage_id, u.currency) for u in usage]
            + [("fulfillments", f"{f.fulfillment_id}:{f.order_line_id}", f.currency) for f in fulfillments]
            + [("one_time_charges", c.charge_id, c.currency) for c in one_time]
            + [("adjustments", a.adjustment_id, a.currency) for a in adjustments],
        )
    lines: list[ChargeLine] = []
    for subscription in subscriptions:
        lines.extend(
            recurring_lines(
                subscription,
                bill_cycle_day=inputs.account.bill_cycle_day,
                currency=currency,
                through=through,
                billed=billed,
            )
        )
    for rated in sorted(usage, key=lambda u: (u.period_end, u.rated_usage_id)):
        lines.extend(_usage_lines(rated, billed))
    for fulfilled in sorted(fulfillments, key=lambda f: (f.completed_on, f.fulfillment_id, f.order_line_id)):
        lines.extend(_fulfillment_line(fulfilled, billed))
    for charge in sorted(one_time, key=lambda c: (c.charge_date, c.charge_id)):
        lines.extend(_one_time_line(charge, billed))
    for adjustment in sorted(adjustments, key=lambda a: (a.effective_date, a.adjustment_id)):
        lines.extend(_adjustment_line(adjustment, billed))
    return lines


def _refuse_other_currencies(currency: str, charges: list[tuple[str, str, str]]) -> None:
    errors = [
        FieldError(
            f"{collection}.{source_id}.currency",
            f"is {other}, not the account's {currency}: currencies never mix on one invoice",
            "currency_mismatch",
        )
        for collection, source_id, other in charges
        if other != currency
    ]
    if errors:
        raise CurrencyMismatch(
            f"{len(errors)} charge(s) due are not in the account's currency {currency}", errors
        )


def _usage_lines(rated: RatedUsageCharge, billed: BilledLedger) -> Iterator[ChargeLine]:
    # Prepaid money covers the usage charge first, then the shortfall (rating drew it against
    # their sum); what is left of the shortfall is the minimum line, the rest the usage line.
    prepaid_beyond_charge = max(ZERO, rated.prepaid_amount - rated.charge_amount)
    shortfall = max(ZERO, rated.minimum_shortfall - prepaid_beyond_charge)
    prepaid = rated.prepaid_amount - prepaid_beyond_charge
    days = f"{rated.period_start.isoformat()} to {_day_before(rated.period_end)}"
    note = f", less {prepaid} prepaid" if prepaid > 0 else ""
    late = f" (incl. {rated.late_quantity} late)" if rated.late_quantity > 0 else ""
    usage = _rated_line(
        rated,
        billed,
        key=usage_key(rated.rated_usage_id),
        kind=ChargeKind.USAGE,
        description=f"{rated.meter}: {rated.quantity} {rated.unit_of_measure}{late}, {days}{note}",
        amount=rated.amount - shortfall,
        quantity=rated.billable_quantity,
    )
    minimum = _rated_line(
        rated,
        billed,
        key=minimum_key(rated.rated_usage_id),
        kind=ChargeKind.MINIMUM,
        description=f"{rated.meter}: minimum commitment shortfall, {days}",
        amount=shortfall,
        quantity=Decimal(1),
    )
    yield from (line for line in (usage, minimum) if line is not None)


def _rated_line(
    rated: RatedUsageCharge,
    billed: BilledLedger,
    *,
    key: str,
    kind: ChargeKind,
    description: str,
    amount: Decimal,
    quantity: Decimal,
) -> ChargeLine | None:
    due = owed(amount, amount, billed.of(key), rated.currency)
    if due is None:
        return None
    return ChargeLine(
        charge_key=key,
        kind=kind,
        description=description,
        account_id=rated.account_id,
        currency=rated.currency,
        amount=due.amount,
        list_amount=due.list_amount,
        discount_amount=due.discount_amount,
        quantity=quantity,
        unit_price=None,
        source_kind=ChargeSource.RATED_USAGE,
        source_id=rated.rated_usage_id,
        period_start=rated.period_start,
        period_end=rated.period_end,
        subscription_id=rated.subscription_id,
        product_id=rated.product_id,
        price_id=rated.price_id,
        price_version=rated.price_version,
    )


def _day_before(day: date) -> str:
    return date.fromordinal(day.toordinal() - 1).isoformat()


def _fulfillment_line(fulfilled: FulfilledCharge, billed: BilledLedger) -> Iterator[ChargeLine]:
    with localcontext(prec=_PRECISION):
        list_amount = fulfilled.billable_quantity * fulfilled.unit_price
        amount = list_amount * (_HUNDRED - fulfilled.discount_percent) / _HUNDRED
    key = fulfillment_key(fulfilled.fulfillment_id, fulfilled.order_line_id)
    due = owed(list_amount, amount, billed.of(key), fulfilled.currency)
    if due is None:
        return
    yield ChargeLine(
        charge_key=key,
        kind=ChargeKind.FULFILLMENT,
        description=(
            f"{fulfilled.product_id}: {fulfilled.billable_quantity} x {fulfilled.unit_price}, "
            f"completed {fulfilled.completed_on.isoformat()}"
        ),
        account_id=fulfilled.account_id,
        currency=fulfilled.currency,
        amount=due.amount,
        list_amount=due.list_amount,
        discount_amount=due.discount_amount,
        quantity=fulfilled.billable_quantity,
        unit_price=fulfilled.unit_price,
        source_kind=ChargeSource.FULFILLMENT,
        source_id=f"{fulfilled.fulfillment_id}:{fulfilled.order_line_id}",
        period_start=fulfilled.completed_on,
        product_id=fulfilled.product_id,
        reference_id=fulfilled.order_id,
    )


def _one_time_line(charge: OneTimeCharge, billed: BilledLedger) -> Iterator[ChargeLine]:
    key = one_time_key(charge.charge_id)
    due = owed(charge.amount, charge.amount, billed.of(key), charge.currency)
    if due is None:
        return
    yield ChargeLine(
        charge_key=key,
        kind=ChargeKind.ONE_TIME,
        description=charge.description,
        account_id=charge.account_id,
        currency=charge.currency,
        amount=due.amount,
        list_amount=due.list_amount,
        discount_amount=due.discount_amount,
        quantity=charge.quantity,
        unit_price=charge.unit_price,
        source_kind=ChargeSource.ONE_TIME_CHARGE,
        source_id=charge.charge_id,
        period_start=charge.charge_date,
        subscription_id=charge.subscription_id,
        product_id=charge.product_id,
        price_id=charge.price_id,
        price_version=charge.price_version,
        reference_id=charge.source_id,
    )


def _adjustment_line(adjustment: PendingAdjustment, billed: BilledLedger) -> Iterator[ChargeLine]:
    signed = -adjustment.amount if adjustment.direction is AdjustmentDirection.CREDIT else adjustment.amount
    key = adjustment_key(adjustment.adjustment_id)
    due = owed(signed, signed, billed.of(key), adjustment.currency)
    if due is None:
        return
    yield ChargeLine(
        charge_key=key,
        kind=ChargeKind.ADJUSTMENT,
        description=adjustment.description,
        account_id=adjustment.account_id,
        currency=adjustment.currency,
        amount=due.amount,
        list_amount=due.list_amount,
        discount_amount=due.discount_amount,
        quantity=Decimal(1),
        unit_price=None,
        source_kind=ChargeSource.ADJUSTMENT,
        source_id=adjustment.adjustment_id,
        period_start=adjustment.effective_date,
        subscription_id=adjustment.subscription_id,
    )
