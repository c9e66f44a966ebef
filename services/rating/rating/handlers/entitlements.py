"""Entitlement checks: may this subscription use this quantity of this meter now, what is left
included or prepaid, and what it would cost — answered from memory plus the local store.

One indexed read of the open period's aggregate; the subscription with its account, the meter
and the price come from the process's cache (`handlers/price_cache.py`), and a price spec
validated once is not validated again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from libs.platform.errors import NotFound
from libs.platform.money import round_money
from rating.domain.entitlements import marginal_cost, refusal
from rating.domain.prices import term_months
from rating.domain.rated_usage import price_wanted, usage_period
from rating.domain.subscriptions import DEFAULT_TIME_ZONE
from rating.handlers.price_cache import Unpriced

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork

ZERO = Decimal(0)
NO_PRICE = "no_price_in_force"


@dataclass(frozen=True)
class EntitlementCheck:
    """The answer to a check (amounts exact in `cost`, as billed in `cost_rounded`)."""

    subscription_id: str
    meter: str
    quantity: Decimal
    allowed: bool
    reason: str | None
    on: date
    period_start: date | None
    period_end: date | None
    current_quantity: Decimal
    included_quantity: Decimal
    included_remaining: Decimal
    prepaid_units_remaining: Decimal
    prepaid_amount_remaining: Decimal
    currency: str
    price_id: str | None
    price_version: int | None
    pricing_model: str | None
    cost: Decimal | None
    cost_rounded: Decimal | None


async def check_entitlement(
    *, uow: RatingUnitOfWork, subscription_id: str, meter: str, quantity: Decimal
) -> EntitlementCheck:
    """Answer a check; NotFound (404) when the subscription is unknown."""
    pair = await uow.price_cache.subscription_and_account(uow, subscription_id)
    if pair is None:
        raise NotFound("subscription", subscription_id)
    subscription, account = pair
    on = uow.business_date(account.time_zone if account is not None else DEFAULT_TIME_ZONE)
    found = (await uow.price_cache.meters(uow, [meter])).get(meter)
    answer = EntitlementCheck(
        subscription_id=subscription_id,
        meter=meter,
        quantity=quantity,
        allowed=False,
        reason=refusal(subscription, found),
        on=on,
        period_start=None,
        period_end=None,
        current_quantity=ZERO,
        included_quantity=ZERO,
        included_remaining=ZERO,
        prepaid_units_remaining=ZERO,
        prepaid_amount_remaining=ZERO,
        currency=subscription.currency,
        price_id=None,
        price_version=None,
        pricing_model=None,
        cost=None,
        cost_rounded=None,
    )
    if found is None:
        return answer
    open_series = await uow.rated_usage.open_series(subscription_id, on, meter)
    if open_series:
        series = open_series[0]
        period_start, period_end, current = series.period_start, series.period_end, series.quantity
    else:
        # No usage yet in this period: the period the ingestion will count it in.
        period = usage_period(subscription, account.bill_cycle_day if account is not None else 1, on)
        period_start, period_end, current = period.start, period.end, ZERO
    want = price_wanted(subscription, found, period_start)
    book = await uow.price_cache.price_book(uow, [want])
    usage = book.resolve(want, term_months(subscription.term_start, subscription.term_end))
    answer = replace(answer, period_start=period_start, period_end=period_end, current_quantity=current)
    if isinstance(usage, Unpriced):
        return replace(answer, reason=answer.reason or NO_PRICE)
    spec = usage.spec
    available = await uow.prepaid.available(
        uow,
        subscription_id=subscription_id,
        account_id=subscription.account_id,
        meter=meter,
        currency=spec.currency,
        on=on,
    )
    cost = marginal_cost(spec, current, quantity, max(ZERO, available.units))
    return replace(
        answer,
        allowed=answer.reason is None,
        included_quantity=Decimal(spec.included_quantity),
        included_remaining=cost.included_remaining,
        prepaid_units_remaining=max(ZERO, available.units),
        prepaid_amount_remaining=max(ZERO, available.amount),
        currency=spec.currency,
        price_id=usage.price.price_id,
        price_version=usage.price.version,
        pricing_model=str(spec.model),
        cost=cost.amount,
        cost_rounded=round_money(cost.rounded_amount, spec.currency),
    )
