"""Prepaid balances: grants of money or units, drawn down, expired, rolled over and refunded.

A balance holds *grants* — its initial grant, each top-up and what rolled in from the previous
period — each with what is still open of it, the price paid per unit (units balances, so that a
refund can be valued) and the first day it can no longer be used (`expires_on`). Every movement
is a transaction, and the ledger always balances:

    granted + rolled in = used + remaining + expired + refunded + rolled out

(rolled in equals rolled out, both inside the balance, so granted = used + remaining + expired +
refunded). Drawdowns take the grant that expires first; at each period end (monthly on the
account's bill-cycle day) the unused units roll over per the policy and the rest expires.
Thresholds are percents of a *grant cycle* used: a cycle starts at each grant or top-up, its base
is what was usable just after it, and each threshold warns once per cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from libs.contracts.balances import BalanceChange, BalanceKind, BalanceState
from libs.contracts.balances import BalanceTransactionKind as Kind
from libs.platform.errors import Conflict, ValidationFailed

from .balance_rules import (
    DEFAULT_THRESHOLDS,
    GRANT_KINDS,
    MAX_THRESHOLDS,
    NEVER,
    ZERO,
    Grant,
    IdFactory,
    Rollover,
    allocate,
    checked_thresholds,
    crossed_thresholds,
    drawdown_order,
    next_period_end,
    refund_value,
    used_percent,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "GRANT_KINDS",
    "MAX_THRESHOLDS",
    "ZERO",
    "Balance",
    "BalanceChanged",
    "Exhausted",
    "Figures",
    "Grant",
    "IdFactory",
    "Refunded",
    "RefundedGrant",
    "Rollover",
    "ThresholdCrossed",
    "Transaction",
    "allocate",
    "checked_thresholds",
    "crossed_thresholds",
    "drawdown_order",
    "next_period_end",
    "refund_value",
]

# --- the balance --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transaction:
    """One movement of a balance (`grant_id`: the grant consumed, or where a rollover came from)."""

    id: str
    balance_id: str
    account_id: str
    kind: Kind
    quantity: Decimal
    on: date
    created_at: datetime
    unit_price: Decimal | None = None
    grant_id: str | None = None
    expires_on: date | None = None
    reference: str | None = None
    amount: Decimal | None = None
    """Money value (refunds only)."""


@dataclass(frozen=True)
class BalanceChanged:
    """The balance changed: the transactions of one top-up, drawdown, expiry or rollover."""

    change: BalanceChange
    on: date
    transactions: tuple[Transaction, ...]


@dataclass(frozen=True)
class ThresholdCrossed:
    """A drawdown reached `threshold` percent of the grant cycle used."""

    threshold: Decimal
    used_percent: Decimal
    remaining: Decimal


@dataclass(frozen=True)
class Exhausted:
    """A drawdown used the last of what was usable."""

    on: date


@dataclass(frozen=True)
class RefundedGrant:
    """The unused part of one grant, given back, and its value."""

    transaction: Transaction
    unit_price: Decimal | None
    amount: Decimal


@dataclass(frozen=True)
class Refunded:
    """The balance closed on the cancellation of its subscription; its unused part was given back."""

    on: date
    cancellation_event_id: str
    lines: tuple[RefundedGrant, ...]


@dataclass(frozen=True)
class Figures:
    """A balance's totals on a date: granted = used + remaining + expired + refunded."""

    granted: Decimal
    used: Decimal
    remaining: Decimal
    expired: Decimal
    refunded: Decimal
    rolled_over: Decimal


@dataclass
class Balance:
    """A prepaid balance of an account (or of one of its subscriptions) and its open grants.

    Changes record their transactions in `new_transactions`, the grants whose open quantity
    changed in `touched`, and their domain events in `events`, for the repository and handler.
    """

    id: str
    account_id: str
    subscription_id: str | None
    kind: BalanceKind
    currency: str
    meter: str | None
    unit_label: str | None
    rollover: Rollover
    thresholds: tuple[Decimal, ...]
    expires_on: date | None
    period_start: date
    """First day of the current period (the next period end to book follows it)."""
    created_at: datetime
    updated_at: datetime
    granted: Decimal = ZERO
    used: Decimal = ZERO
    expired: Decimal = ZERO
    refunded: Decimal = ZERO
    rolled_over: Decimal = ZERO
    cycle_base: Decimal = ZERO
    cycle_used: Decimal = ZERO
    crossed: tuple[Decimal, ...] = ()
    closed_on: date | None = None
    closing_on: date | None = None
    """Set when its subscription was cancelled from a later date: the refund is booked then."""
    closing_event_id: str | None = None
    due_on: date | None = None
    """The next date something is to be booked (a period end or a grant's expiry); never later."""
    grants: list[Grant] = field(default_factory=list)
    """The open grants (loaded for a change or a view)."""
    new_transactions: list[Transaction] = field(default_factory=list, repr=False)
    touched: dict[str, Grant] = field(default_factory=dict, repr=False)
    events: list[BalanceChanged | ThresholdCrossed | Exhausted | Refunded] = field(
        default_factory=list, repr=False
    )

    # -- reading --

    @property
    def remaining(self) -> Decimal:
        """Everything still open, expired or not (what the books hold)."""
        return sum((g.open_quantity for g in self.grants), ZERO)

    def usable(self, on: date) -> Decimal:
        """What can be drawn on `on`."""
        return sum((g.open_quantity for g in self.grants if g.usable_on(on)), ZERO)

    def figures(self, on: date) -> Figures:
        """Totals on `on`; grants past their date count as expired even before the job books them."""
        lapsed = sum((g.open_quantity for g in self.grants if g.expired_on(on)), ZERO)
        return Figures(
            granted=self.granted,
            used=self.used,
            remaining=self.remaining - lapsed,
            expired=self.expired + lapsed,
            refunded=self.refunded,
            rolled_over=self.rolled_over,
        )

    def state(self, on: date) -> BalanceState:
        """Closed (refunded), expired (past its own date), exhausted (nothing usable) or active."""
        if self.closed_on is not None:
            return BalanceState.CLOSED
        if self.expires_on is not None and self.expires_on <= on:
            return BalanceState.EXPIRED
        if self.usable(on) <= 0:
            return BalanceState.EXHAUSTED
        return BalanceState.ACTIVE

    def used_percent(self) -> Decimal:
        """Share of the current grant cycle used, in percent."""
        return used_percent(self.cycle_base, self.cycle_used)

    # -- changing --

    def grant(
        self,
        *,
        transaction_id: str,
        kind: Kind,
        quantity: Decimal,
        unit_price: Decimal | None,
        expires_on: date | None,
        on: date,
        at: datetime,
        field_prefix: str = "",
    ) -> Transaction:
        """Add a grant (initial or top-up) usable from `on`; a new grant cycle starts."""
        self._refuse_if_closed()
        if self.closing_on is not None:
            raise Conflict(f"balance {self.id} closes on {self.closing_on}: its subscription was cancelled")
        if self.expires_on is not None and self.expires_on <= on:
            raise Conflict(f"balance {self.id} expired on {self.expires_on}; open a new balance")
        if quantity <= 0:
            raise ValidationFailed.single(f"{field_prefix}quantity", "must be more than 0")
        if self.kind is BalanceKind.UNITS and unit_price is None:
            raise ValidationFailed.single(
                f"{field_prefix}unit_price", "a units grant states the price paid per unit", "missing"
            )
        if self.kind is BalanceKind.MONEY and unit_price is not None:
            raise ValidationFailed.single(
                f"{field_prefix}unit_price", "a money balance has no price per unit", "wrong_kind"
            )
        if expires_on is not None and expires_on <= on:
            raise ValidationFailed.single(f"{field_prefix}expires_on", f"must be after {on.isoformat()}")
        effective = min((d for d in (expires_on, self.expires_on) if d is not None), default=None)
        grant = Grant(transaction_id, self.id, kind, quantity, quantity, unit_price, effective, on)
        self.grants.append(grant)
        if effective is not None and (self.due_on is None or effective < self.due_on):
            self.due_on = effective
        self.granted += quantity
        self.cycle_base, self.cycle_used, self.crossed = self.usable(on), ZERO, ()
        record = self._record(
            kind, quantity, on, at, transaction_id=transaction_id, unit_price=unit_price, expires_on=effective
        )
        self.events.append(BalanceChanged(BalanceChange.TOP_UP, on, (record,)))
        return record

    def draw(
        self,
        allocations: Sequence[tuple[Grant, Decimal]],
        *,
        on: date,
        at: datetime,
        reference: str,
        new_id: IdFactory,
    ) -> Decimal:
        """Draw the allocated quantities from this balance's grants; thresholds and exhaustion warn."""
        self._refuse_if_closed()
        usable_before = self.usable(on)
        records = []
        drawn = ZERO
        for grant, quantity in allocations:
            assert grant.balance_id == self.id and ZERO < quantity <= grant.open_quantity
            records.append(self._consume(grant, Kind.DRAWDOWN, quantity, on, at, new_id(), reference))
            drawn += quantity
        if not records:
            return ZERO
        self.used += drawn
        before, self.cycle_used = self.cycle_used, self.cycle_used + drawn
        self.events.append(BalanceChanged(BalanceChange.DRAWDOWN, on, tuple(records)))
        remaining = self.usable(on)
        for threshold in crossed_thresholds(
            self.cycle_base, before, self.cycle_used, self.thresholds, self.crossed
        ):
            self.crossed = (*self.crossed, threshold)
            self.events.append(ThresholdCrossed(threshold, self.used_percent(), remaining))
        if usable_before > 0 and remaining <= 0:
            self.events.append(Exhausted(on))
        return drawn

    def mark_drawdown(self, *, on: date, at: datetime, reference: str, transaction_id: str) -> Transaction:
        """Record that a drawdown with `reference` took nothing (so that a repeat takes nothing either)."""
        return self._record(Kind.DRAWDOWN, ZERO, on, at, transaction_id=transaction_id, reference=reference)

    def settle(self, as_of: date, bill_cycle_day: int, new_id: IdFactory, at: datetime) -> None:
        """Book what is due by `as_of`: each ended period's rollover, and grants past their date.

        Each period end is booked once (the balance moves to the next period); a grant that
        expires on or before a period end expires rather than rolls over.
        """
        if self.closed_on is not None:
            return
        through = as_of if self.closing_on is None else min(as_of, self.closing_on)
        while (end := next_period_end(self.period_start, bill_cycle_day)) <= through:
            self._expire_through(end, new_id, at)
            self._roll_over(end, new_id, at)
            self.period_start = end
        self._expire_through(through, new_id, at)
        if self.closing_on is not None and self.closing_on <= as_of:
            assert self.closing_event_id is not None
            self.refund(on=self.closing_on, at=at, cancellation_event_id=self.closing_event_id, new_id=new_id)
        else:
            self.schedule(bill_cycle_day)

    def schedule(self, bill_cycle_day: int) -> None:
        """Set `due_on`: the current period's end, the first expiry of an open grant or the closing day."""
        expiries = [g.expires_on for g in self.grants if g.open_quantity > 0 and g.expires_on is not None]
        closing = [self.closing_on] if self.closing_on is not None else []
        self.due_on = min([next_period_end(self.period_start, bill_cycle_day), *expiries, *closing])

    def close_on_cancellation(self, *, on: date, cancellation_event_id: str) -> None:
        """Its subscription ends on `on`: refund and close then (`settle` books it once due)."""
        self._refuse_if_closed()
        self.closing_on, self.closing_event_id = on, cancellation_event_id
        self.due_on = on if self.due_on is None else min(self.due_on, on)

    def refund(
        self, *, on: date, at: datetime, cancellation_event_id: str, new_id: IdFactory
    ) -> list[RefundedGrant]:
        """Close the balance and give back what is usable on `on`, each grant at the price paid."""
        self._refuse_if_closed()
        refunded = []
        reference = f"cancellation:{cancellation_event_id}"
        for grant in drawdown_order(self.grants, on):
            value = refund_value(self.kind, grant.open_quantity, grant.unit_price, self.currency)
            quantity = grant.open_quantity
            record = self._consume(grant, Kind.REFUND, quantity, on, at, new_id(), reference, amount=value)
            self.refunded += quantity
            refunded.append(RefundedGrant(record, grant.unit_price, value))
        self.closed_on = on
        self.closing_on, self.closing_event_id = on, cancellation_event_id
        self.events.append(Refunded(on, cancellation_event_id, tuple(refunded)))
        return refunded

    # -- internals --

    def _refuse_if_closed(self) -> None:
        if self.closed_on is not None:
            raise Conflict(f"balance {self.id} was closed on {self.closed_on} (subscription cancelled)")

    def _expire_through(self, on: date, new_id: IdFactory, at: datetime) -> None:
        records = [
            self._consume(g, Kind.EXPIRY, g.open_quantity, g.expires_on or on, at, new_id(), "expiry")
            for g in sorted(self.grants, key=lambda g: (g.expires_on or NEVER, g.id))
            if g.open_quantity > 0 and g.expired_on(on)
        ]
        if records:
            self.expired += sum((r.quantity for r in records), ZERO)
            self.events.append(BalanceChanged(BalanceChange.EXPIRY, on, tuple(records)))

    def _roll_over(self, end: date, new_id: IdFactory, at: datetime) -> None:
        reference = f"period:{end.isoformat()}"
        unused = drawdown_order(self.grants, end)
        carried, _ = self.rollover.split(sum((g.open_quantity for g in unused), ZERO))
        records = []
        for grant in unused:
            quantity = grant.open_quantity
            keep = min(quantity, carried)
            carried -= keep
            if keep > 0:
                records.append(self._consume(grant, Kind.ROLLOVER_OUT, keep, end, at, new_id(), reference))
                into = Grant(
                    new_id(), self.id, Kind.ROLLOVER_IN, keep, keep, grant.unit_price, grant.expires_on, end
                )
                self.grants.append(into)
                self.rolled_over += keep
                records.append(
                    self._record(
                        Kind.ROLLOVER_IN,
                        keep,
                        end,
                        at,
                        transaction_id=into.id,
                        unit_price=into.unit_price,
                        expires_on=into.expires_on,
                        grant_id=grant.id,
                        reference=reference,
                    )
                )
            if quantity - keep > 0:
                records.append(
                    self._consume(grant, Kind.EXPIRY, quantity - keep, end, at, new_id(), reference)
                )
                self.expired += quantity - keep
        if records:
            self.events.append(BalanceChanged(BalanceChange.ROLLOVER, end, tuple(records)))

    def _consume(
        self,
        grant: Grant,
        kind: Kind,
        quantity: Decimal,
        on: date,
        at: datetime,
        transaction_id: str,
        reference: str | None,
        amount: Decimal | None = None,
    ) -> Transaction:
        grant.open_quantity -= quantity
        self.touched[grant.id] = grant
        return self._record(
            kind,
            quantity,
            on,
            at,
            transaction_id=transaction_id,
            unit_price=grant.unit_price,
            grant_id=grant.id,
            reference=reference,
            amount=amount,
        )

    def _record(
        self,
        kind: Kind,
        quantity: Decimal,
        on: date,
        at: datetime,
        *,
        transaction_id: str,
        unit_price: Decimal | None = None,
        expires_on: date | None = None,
        grant_id: str | None = None,
        reference: str | None = None,
        amount: Decimal | None = None,
    ) -> Transaction:
        record = Transaction(
            id=transaction_id,
            balance_id=self.id,
            account_id=self.account_id,
            kind=kind,
            quantity=quantity,
            on=on,
            created_at=at,
            unit_price=unit_price,
            grant_id=grant_id,
            expires_on=expires_on,
            reference=reference,
            amount=amount,
        )
        self.new_transactions.append(record)
        self.updated_at = at
        return record
