"""Booking what time and cancellations do to balances: expiry, period ends, refunds.

- `settle_balances` books grants past their expiry date (`expiry`) and each ended period's
  rollover (`rollover_out` / `rollover_in`, the rest `expiry`). The periodic job and
  `POST /v1/balances/expire` run it. Each period end is booked once: the balance then moves to
  the next period, and the table's unique key refuses a second booking of the same grant.
  By default it books what was due `delay_days` before each account's local today, so that the
  period close of rating, which draws the usage of an ended period, comes first.
- `refund_cancelled_subscription` applies `subscription.cancelled`: on its effective date
  (at once when it has come, else by the settlement job on that date) what is due by then is
  booked, the unused part of each of the subscription's balances is refunded at the price paid
  (`refund`), the balance closes and `balance.refunded` tells invoicing what to credit. A
  redelivered cancellation finds the balances closing or closed: nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from libs.contracts.provisioning import SubscriptionCancelled
from libs.platform.ids import new_id
from libs.platform.logging import get_logger
from rating.events.balances import emit_recorded, movements_audit
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
        accounts = await uow.subscriptions.accounts({b.account_id for b in balances})
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
    """Close a cancelled subscription's balances on its effective date, refunding the unused part.

    When that date has come (account-local), what is due by it is booked and the refund with
    it; a later date is kept on the balances and the settlement job books it then. A balance
    already closing (a redelivered cancellation) is left as it is.
    """
    balances = await uow.balances.of_subscription(cancellation.subscription_id, for_update=True)
    on = cancellation.effective_date
    account = await uow.subscriptions.account(cancellation.account_id)
    today = uow.business_date(account.time_zone) if account is not None else on
    at = uow.clock.now()
    changed = transactions = 0
    for balance in balances:
        if balance.closing_on is not None:
            continue
        balance.close_on_cancellation(on=on, cancellation_event_id=event_id)
        if on <= today and account is not None:
            balance.settle(on, account.bill_cycle_day, _txn_id, at)
        elif on <= today:
            balance.refund(on=on, at=at, cancellation_event_id=event_id, new_id=_txn_id)
        changed += 1
        transactions += len(balance.new_transactions)
        audit = movements_audit(balance) | {"closing_on": on.isoformat(), "cancellation_event_id": event_id}
        uow.audit(
            "balance.refunded" if balance.closed_on else "balance.closing", "balance", balance.id, audit
        )
        emit_recorded(uow, balance, at)
        await uow.balances.save(balance)
    await uow.commit()
    return Settlement(changed, transactions)
