"""Entitlement checks: may this subscription use this quantity of this meter now, what is left
included or prepaid, and what it would cost — answered from memory plus the local store.

A check costs one statement in the steady state (`EntitlementReads.open_usage`): the read
model's generation, the open period's aggregate (never cached, so usage counts at once) and
whether the account holds an open prepaid balance. The subscription with its account is kept
in memory per read-model generation (`SubscriptionMemory`, as the usage guide is: a change of
any subscription or account bumps the counter, so a suspension stops checks at once, in every
process); the meter and the price come from the process's cache (`handlers/price_cache.py`),
and a price spec validated once is not validated again. Only an account with an open balance
has its balances read (`uow.prepaid.available`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Protocol

from libs.platform.errors import NotFound
from libs.platform.money import round_money
from rating.domain.entitlements import marginal_cost, refusal
from rating.domain.prices import term_months
from rating.domain.rated_usage import price_wanted
from rating.domain.subscriptions import DEFAULT_TIME_ZONE, Account, Subscription
from rating.handlers.price_cache import Unpriced

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork

ZERO = Decimal(0)
NO_PRICE = "no_price_in_force"
MAX_REMEMBERED: Final = 500_000
"""Subscriptions a memory holds before it starts afresh (memory stays flat)."""

SubscriptionAndAccount = tuple[Subscription, Account | None]


@dataclass(frozen=True)
class OpenUsage:
    """What one read of a check finds: the read model's generation (None: not told), whether the
    account holds an open prepaid balance, and the unrated aggregates holding the day, earliest
    first, as (period start, period end, quantity)."""

    generation: int | None
    has_balances: bool
    series: tuple[tuple[date, date, Decimal], ...]


class EntitlementReads(Protocol):
    """The reads of a check (`rating.repository.entitlements`; a fake in unit tests)."""

    async def subscription_and_account(
        self, subscription_id: str
    ) -> tuple[int | None, SubscriptionAndAccount | None]:
        """The read model's generation, then the subscription and its account (None: unknown)."""
        ...

    async def open_usage(self, *, subscription_id: str, account_id: str, meter: str, on: date) -> OpenUsage:
        """The generation, open balances or not, and the open aggregates of the meter on `on`."""
        ...


@dataclass
class SubscriptionMemory:
    """The subscriptions (with their accounts) checks were asked about, of one read-model generation."""

    generation: int | None = None
    pairs: dict[str, SubscriptionAndAccount] = field(default_factory=dict)

    def recall(self, subscription_id: str) -> SubscriptionAndAccount | None:
        """The kept pair (of `self.generation`), if any."""
        return self.pairs.get(subscription_id)

    def keep(self, generation: int | None, subscription_id: str, pair: SubscriptionAndAccount) -> None:
        """Remember a pair read at `generation` (never one of an unknown generation)."""
        if generation is None:
            return
        self.seen(generation)
        if len(self.pairs) >= MAX_REMEMBERED:
            self.pairs.clear()
        self.pairs[subscription_id] = pair

    def seen(self, generation: int | None) -> None:
        """The store is at `generation`: forget what was kept at any other (a rolled-back bump too)."""
        if generation != self.generation:
            self.generation = generation
            self.pairs.clear()


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
    memory = uow.check_memory
    pair = memory.recall(subscription_id)
    recalled = pair is not None
    if pair is None:
        pair = await _subscription_and_account(uow, subscription_id)
    found = (await uow.price_cache.meters(uow, [meter])).get(meter)
    subscription, account = pair
    on = uow.business_date(account.time_zone if account is not None else DEFAULT_TIME_ZONE)
    usage = None
    if found is not None:
        usage = await uow.entitlement_reads.open_usage(
            subscription_id=subscription_id, account_id=subscription.account_id, meter=meter, on=on
        )
        if recalled and usage.generation != memory.generation:
            # The read model changed since the subscription was kept: read it again, then the usage.
            memory.seen(usage.generation)
            subscription, account = pair = await _subscription_and_account(uow, subscription_id)
            on = uow.business_date(account.time_zone if account is not None else DEFAULT_TIME_ZONE)
            usage = await uow.entitlement_reads.open_usage(
                subscription_id=subscription_id, account_id=subscription.account_id, meter=meter, on=on
            )
    reason = refusal(subscription, found)
    refused = EntitlementCheck(
        subscription_id=subscription_id,
        meter=meter,
        quantity=quantity,
        allowed=False,
        reason=reason,
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
    if found is None or usage is None:
        return refused
    if usage.series:
        period_start, period_end, current = usage.series[0]
    else:
        # No usage yet in this period: the period the ingestion will count it in.
        period = subscription.period_containing(on, account.bill_cycle_day if account is not None else 1)
        period_start, period_end, current = period.start, period.end, ZERO
    want = price_wanted(subscription, found, period_start)
    priced = await uow.price_cache.priced(
        uow, want, term_months(subscription.term_start, subscription.term_end)
    )
    if isinstance(priced, Unpriced):
        return replace(
            refused,
            reason=reason or NO_PRICE,
            period_start=period_start,
            period_end=period_end,
            current_quantity=current,
        )
    spec = priced.spec
    units = amount = ZERO
    if usage.has_balances:
        available = await uow.prepaid.available(
            uow,
            subscription_id=subscription_id,
            account_id=subscription.account_id,
            meter=meter,
            currency=spec.currency,
            on=on,
        )
        units, amount = max(ZERO, available.units), max(ZERO, available.amount)
    cost = marginal_cost(spec, current, quantity, units)
    # Built once (not `replace`d twice from the refusal: a check is on the hot path).
    return EntitlementCheck(
        subscription_id=subscription_id,
        meter=meter,
        quantity=quantity,
        allowed=reason is None,
        reason=reason,
        on=on,
        period_start=period_start,
        period_end=period_end,
        current_quantity=current,
        included_quantity=Decimal(spec.included_quantity),
        included_remaining=cost.included_remaining,
        prepaid_units_remaining=units,
        prepaid_amount_remaining=amount,
        currency=spec.currency,
        price_id=priced.price.price_id,
        price_version=priced.price.version,
        pricing_model=str(spec.model),
        cost=cost.amount,
        cost_rounded=round_money(cost.rounded_amount, spec.currency),
    )


async def _subscription_and_account(uow: RatingUnitOfWork, subscription_id: str) -> SubscriptionAndAccount:
    generation, pair = await uow.entitlement_reads.subscription_and_account(subscription_id)
    uow.check_memory.seen(generation)
    if pair is None:
        raise NotFound("subscription", subscription_id)
    uow.check_memory.keep(generation, subscription_id, pair)
    return pair
