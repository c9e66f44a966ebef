"""Prepaid balances: what rating publishes about them on `rating.events`.

A balance is prepaid money (in a currency) or prepaid units of one meter (support hours, API
calls) of an account, optionally of one of its subscriptions. Rating publishes every change
(`balance.created`, `balance.changed`), warns before a customer is charged
(`balance.threshold_crossed`: a share of the grant cycle used; `entitlement.exhausted`: nothing
left), and when a subscription is cancelled refunds the unused prepaid part
(`balance.refunded`), which invoicing credits.

Quantities of a money balance are amounts of its currency; of a units balance, units of its
meter. Every event is keyed by the account id.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import RATING_EVENTS
from libs.contracts.types import CurrencyCode, NonNegativeAmount, Percent, Quantity, UnitPrice


class BalanceKind(StrEnum):
    """What a balance holds: money in its currency, or units of one meter."""

    MONEY = "money"
    UNITS = "units"


class RolloverPolicy(StrEnum):
    """What happens to a balance's unused units at the end of each billing period."""

    NONE = "none"
    """Nothing carries over: the unused units expire."""
    ALL = "all"
    """Everything carries over into the next period (it still expires on its own date)."""
    UP_TO = "up_to"
    """At most `rollover_limit` units carry over; the rest expires."""


class BalanceTransactionKind(StrEnum):
    """One movement of a balance."""

    GRANT = "grant"
    """The initial grant of a new balance."""
    TOP_UP = "top_up"
    DRAWDOWN = "drawdown"
    EXPIRY = "expiry"
    ROLLOVER_OUT = "rollover_out"
    """Unused units leaving an ended period..."""
    ROLLOVER_IN = "rollover_in"
    """...and entering the next one (same price paid and expiry)."""
    REFUND = "refund"
    """The unused prepaid part given back when the subscription was cancelled."""


class BalanceChange(StrEnum):
    """The kind of change a `balance.changed` event reports."""

    TOP_UP = "top_up"
    DRAWDOWN = "drawdown"
    EXPIRY = "expiry"
    ROLLOVER = "rollover"


class BalanceState(StrEnum):
    """Where a balance stands on a date."""

    ACTIVE = "active"
    EXHAUSTED = "exhausted"
    """Nothing usable remains (a top-up makes it active again)."""
    EXPIRED = "expired"
    """The balance's own expiry date has passed."""
    CLOSED = "closed"
    """Its subscription was cancelled and the unused part refunded."""


class BalanceFigures(EventPayload):
    """A balance's totals after a change: granted = used + remaining + expired + refunded."""

    granted: Quantity = Field(description="The initial grant and every top-up.")
    used: Quantity = Field(description="Drawn down.")
    remaining: Quantity = Field(description="Unused and not expired.")
    expired: Quantity = Field(description="Lapsed on an expiry date or at a period end.")
    refunded: Quantity = Field(description="Given back on cancellation.")
    rolled_over: Quantity = Field(
        description="Carried from an ended period into the next one (informational: still remaining "
        "or used later)."
    )


class BalanceMovement(EventPayload):
    """One transaction of a change."""

    transaction_id: str = Field(examples=["btx_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    kind: BalanceTransactionKind
    quantity: Quantity
    unit_price: UnitPrice | None = Field(
        default=None, description="Price paid per unit of the grant concerned (units balances)."
    )
    expires_on: date | None = Field(
        default=None, description="First day a granted quantity can no longer be used."
    )
    reference: str | None = Field(default=None, description="The drawdown's reference, or the period end.")


class BalanceEvent(EventPayload):
    """What every balance event names: the balance, its owner and what it holds."""

    balance_id: str = Field(examples=["bal_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    account_id: str
    subscription_id: str | None = None
    kind: BalanceKind
    currency: CurrencyCode = Field(
        description="The money balance's currency; for units, the currency of the prices paid."
    )
    meter: str | None = Field(default=None, description="The meter a units balance counts.")
    unit_label: str | None = Field(default=None, examples=["hours"])


@event_type("balance.created", topic=RATING_EVENTS)
class BalanceCreated(BalanceEvent):
    """A prepaid balance was opened, with its initial grant if any."""

    rollover_policy: RolloverPolicy
    rollover_limit: Quantity | None = None
    thresholds: list[Percent] = Field(description="Percents of a grant cycle used that warn.")
    expires_on: date | None = None
    figures: BalanceFigures
    movements: list[BalanceMovement] = Field(default_factory=list)
    created_at: datetime


@event_type("balance.changed", topic=RATING_EVENTS)
class BalanceChanged(BalanceEvent):
    """A balance was topped up, drawn down, expired or rolled over into a new period."""

    change: BalanceChange
    on: date = Field(description="The account-local business date of the change.")
    movements: list[BalanceMovement]
    figures: BalanceFigures
    changed_at: datetime


@event_type("balance.threshold_crossed", topic=RATING_EVENTS)
class BalanceThresholdCrossed(BalanceEvent):
    """A drawdown used a threshold's share of the balance's grant cycle (once per threshold per cycle).

    A grant cycle starts at each grant or top-up: its base is what was usable just after it.
    """

    threshold_percent: Percent = Field(examples=["80"])
    used_percent: Percent = Field(description="Share of the cycle used after the drawdown.")
    remaining: Quantity
    at: datetime


@event_type("entitlement.exhausted", topic=RATING_EVENTS)
class EntitlementExhausted(BalanceEvent):
    """A drawdown used what remained of a balance: further use is charged (or refused)."""

    on: date = Field(description="The account-local date of the drawdown.")
    at: datetime


class RefundLine(EventPayload):
    """The unused part of one grant of a balance, valued at the price paid for it."""

    balance_id: str
    transaction_id: str
    kind: BalanceKind
    meter: str | None = None
    unit_label: str | None = None
    quantity: Quantity = Field(description="Units (or money) left unused.")
    unit_price: UnitPrice | None = Field(
        default=None, description="Price paid per unit (units balances); money refunds itself."
    )
    amount: NonNegativeAmount = Field(description="Value refunded, rounded once to minor units.")


@event_type("balance.refunded", topic=RATING_EVENTS)
class BalanceRefunded(EventPayload):
    """A cancelled subscription's prepaid balance closed: invoicing credits its unused part, `amount`.

    One event per balance, on the cancellation's effective date (at once when that date has come).
    """

    account_id: str
    subscription_id: str
    balance_id: str
    currency: CurrencyCode
    amount: NonNegativeAmount = Field(description="Sum of the lines' rounded amounts.")
    lines: list[RefundLine]
    cancelled_on: date = Field(description="The cancellation's effective date.")
    cancellation_event_id: str = Field(description="event_id of the `subscription.cancelled` refunded.")
    refunded_at: datetime


__all__ = [
    "BalanceChange",
    "BalanceChanged",
    "BalanceCreated",
    "BalanceEvent",
    "BalanceFigures",
    "BalanceKind",
    "BalanceMovement",
    "BalanceRefunded",
    "BalanceState",
    "BalanceThresholdCrossed",
    "BalanceTransactionKind",
    "EntitlementExhausted",
    "RefundLine",
    "RolloverPolicy",
]
