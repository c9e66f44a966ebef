"""The read model of provisioning's accounts and subscriptions: what rating needs of them.

Kept from `provisioning.events` (account.opened / account.changed, subscription.*). Each
event carries the whole state after the change, so applying one replaces the row; an event
older than the one last applied (by `occurred_at`) changes nothing, so a redelivered or
replayed old event never undoes a newer state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final

DEFAULT_TIME_ZONE: Final = "UTC"
"""The zone of an account rating has not heard of yet (DESIGN §6: default UTC)."""

USABLE_STATES: Final = frozenset({"active", "trial"})
"""States in which a subscription may consume metered usage (a trial uses the service too)."""


@dataclass(frozen=True)
class Account:
    """An account as rating needs it: its currency, bill-cycle day, time zone and parent."""

    account_id: str
    customer_id: str
    parent_account_id: str | None
    currency: str
    bill_cycle_day: int
    time_zone: str
    event_at: datetime


@dataclass(frozen=True)
class Subscription:
    """A subscription as rating needs it: the pinned price version, its term and its state."""

    subscription_id: str
    account_id: str
    product_id: str
    price_id: str
    price_version: int
    currency: str
    charge_type: str | None
    billing_period: str | None
    state: str
    quantity: Decimal
    term_start: date
    term_end: date
    effective_date: date
    event_at: datetime
    event_kind: str

    @property
    def is_usable(self) -> bool:
        """True when the subscription may consume usage now (active or in trial)."""
        return self.state in USABLE_STATES


def supersedes(occurred_at: datetime, applied_at: datetime | None) -> bool:
    """True when an event that occurred at `occurred_at` may replace the state applied at `applied_at`.

    An equal instant applies: two events of one change may share it, and the later one in the
    partition is the newer state.
    """
    return applied_at is None or occurred_at >= applied_at
