"""Booking what time and cancellations do to balances: expiry, period ends, refunds.

- `settle_balances` books grants past their expiry date (`expiry`) and each ended period's
  rollover (`rollover_out` / `rollover_in`, the rest `expiry`). The periodic job and
  `POST /v1/balances/expire` run it. Each period end is booked once: the balance then moves to
  the next period, and the table's unique key refuses a second booking of the same grant.
  By default it books what was due `delay_days` before each account's local today, so that the
  period close of rating, which draws the usage of an ended period, comes first.
- `refund_cancelled_subscription` applies `subscription.cancelled`: what is due by the
  cancellation date is booked, then the unused part of each of the subscription's balances is
  refunded at the price paid (`refund`), the balances close and `balance.refunded` tells
  invoicing what to credit. A redelivered cancellation finds no open balance: nothing changes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from libs.contracts.provisioning import SubscriptionCancelled
from libs.platform.ids import new_id
from libs.platform.logging import get_logger
from rating.domain.balances import Balance, RefundedGrant
from rating.events.balances import balance_refunded, emit_recorded, movements_audit
from rating.handlers.unit_of_work import RatingUnitOfWork

log = get_logger("rating.balances")

SETTLEMENT_BATCH = 200


@dataclass(frozen=True)
class Settlement:
    """What a settlement run booked."""

    balances_changed: int
    transactions: int


def _txn_id() -> str:
    return new_id("btx")


async def settle_balances(
    uow: RatingUnitOfWork,
    *,
    as_of: date | None,
    delay_days: int = 0,
    account_id: str | None = None,
    batch: int = SETTLEMENT_BATCH,
) -> Settlement:
    """Book expiries and period ends due by `as_of` (default: each account's local today less
    `delay_days`), committing every `batch` balances."""
    # Only balances with something due by the latest date any account can be at are loaded.
    horizon = as_of or uow.business_date("UTC") + timedelta(days=1 - delay_days)
    changed = transactions = 0
    after: str | None = None
    while ids := await uow.balances.due(through=horizon, after=after, limit=batch, account_id=account_id):
        after = ids[-1]
        balances = [await uow.balances.get(balance_id, for_update=True) for balance_id in ids]
        accounts = await uow.balances.accounts({b.account_id for b in balances})
        at = uow.clock.now()
        for balance in balances:
            account = accounts.get(balance.account_id)
            if account is None:
                log.warning("balance.account_unknown", balance_id=balance.id, account_id=balance.account_id)
                continue
            day = as_of or uow.business_date(account.time_zone) - timedelta(days=delay_days)
            balance.settle(day, account.bill_cycle_day, _txn_id, at)
            if balance.new_transactions:
                changed += 1
                transactions += len(balance.new_transactions)
                uow.audit("balance.settled", "balance", balance.id, movements_audit(balance))
                emit_recorded(uow, balance, at)
            await uow.balances.save(balance)
        await uow.commit()
    return Settlement(changed, transactions)


async def refund_cancelled_subscription(
    uow: RatingUnitOfWork, *, cancellation: SubscriptionCancelled, event_id: str
) -> Settlement:
    """Refund the unused prepaid part of a cancelled subscription's balances and close them."""
    balances = await uow.balances.of_subscription(cancellation.subscription_id, for_update=True)
    if not balances:
        return Settlement(0, 0)
    on = cancellation.effective_date
    account = await uow.balances.account(cancellation.account_id)
    at = uow.clock.now()
    per_currency: dict[str, list[tuple[Balance, RefundedGrant]]] = defaultdict(list)
    transactions = 0
    for balance in balances:
        if account is not None:
            balance.settle(on, account.bill_cycle_day, _txn_id, at)
        per_currency[balance.currency] += [
            (balance, refunded)
            for refunded in balance.refund(on=on, at=at, reference=f"cancellation:{event_id}", new_id=_txn_id)
        ]
        transactions += len(balance.new_transactions)
        uow.audit("balance.refunded", "balance", balance.id, movements_audit(balance))
        emit_recorded(uow, balance, at)
        await uow.balances.save(balance)
    for currency, lines in per_currency.items():
        refund = balance_refunded(
            account_id=cancellation.account_id,
            subscription_id=cancellation.subscription_id,
            currency=currency,
            lines=lines,
            cancelled_on=on,
            cancellation_event_id=event_id,
            at=at,
        )
        uow.emit(refund, key=cancellation.account_id)
    await uow.commit()
    return Settlement(len(balances), transactions)
