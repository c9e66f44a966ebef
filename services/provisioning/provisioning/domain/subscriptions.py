"""Subscriptions (service instances): term, quantity, pinned price and their state machine."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypedDict

from libs.contracts.vocabulary import LicenseType
from libs.platform.errors import Conflict, FieldErrors, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.periods import add_months

from .events import DomainEvent


class SubscriptionState(StrEnum):
    """Where a subscription is in its life."""

    TRIAL = "trial"
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ChangeKind(StrEnum):
    """What a history entry changed."""

    ACTIVATE = "activate"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    QUANTITY_CHANGE = "quantity_change"
    TERM_CHANGE = "term_change"
    SUSPEND = "suspend"
    RESUME = "resume"
    CANCEL = "cancel"
    EXPIRE = "expire"
    RENEWAL = "renewal"


class RenewalKind(StrEnum):
    """What happens at the end of the term."""

    AUTO_RENEW = "auto_renew"
    EXPIRE = "expire"


@dataclass(frozen=True)
class RenewalPolicy:
    """Auto-renew for N months at term end, or expire."""

    kind: RenewalKind
    months: int | None = None

    @classmethod
    def auto_renew(cls, months: int) -> RenewalPolicy:
        """Renew for `months` each time the term ends."""
        if months <= 0:
            raise ValidationFailed.single("renewal.months", "must be positive")
        return cls(RenewalKind.AUTO_RENEW, months)

    @classmethod
    def expire(cls) -> RenewalPolicy:
        """Expire when the term ends."""
        return cls(RenewalKind.EXPIRE)


@dataclass(frozen=True)
class SubscriptionSnapshot:
    """The billing-relevant facts of a subscription at one moment (history before/after)."""

    state: SubscriptionState
    quantity: Decimal
    term_start: date
    term_end: date
    price_id: str
    price_version: int


@dataclass(frozen=True)
class SubscriptionChange:
    """One entry of the append-only change history."""

    kind: ChangeKind
    effective_date: date
    before: SubscriptionSnapshot
    after: SubscriptionSnapshot
    by: str
    reason: str | None = None


@dataclass(frozen=True)
class SubscriptionEvent(DomainEvent):
    """What billing needs to know about a subscription after any change."""

    subscription_id: str
    account_id: str
    product_id: str
    price_id: str
    price_version: int
    quantity: Decimal
    license_type: LicenseType
    term_start: date
    term_end: date
    commitment_quantity: Decimal
    effective_date: date
    by: str


@dataclass(frozen=True)
class SubscriptionActivated(SubscriptionEvent):
    """The subscription started; billing starts charging from `effective_date`."""


@dataclass(frozen=True)
class SubscriptionChanged(SubscriptionEvent):
    """Quantity or term changed; `previous_quantity` lets billing prorate the difference."""

    change: ChangeKind = ChangeKind.QUANTITY_CHANGE
    previous_quantity: Decimal = Decimal(0)
    previous_term_end: date | None = None


@dataclass(frozen=True)
class SubscriptionSuspended(SubscriptionEvent):
    """Service is suspended (e.g. by dunning)."""

    reason: str | None = None


@dataclass(frozen=True)
class SubscriptionResumed(SubscriptionEvent):
    """Service is back after a suspension."""


@dataclass(frozen=True)
class TerminationFee:
    """The one-time charge for ending a committed term early, as the catalog priced it."""

    price_id: str
    price_version: int
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class SubscriptionCancelled(SubscriptionEvent):
    """The subscription ends on `effective_date`; an early end may carry a termination fee."""

    reason: str | None = None
    ended_before_term: bool = False
    termination_fee: TerminationFee | None = None


@dataclass(frozen=True)
class SubscriptionExpired(SubscriptionEvent):
    """The term ended without renewal."""


@dataclass(frozen=True)
class SubscriptionRenewed(SubscriptionEvent):
    """The term ended and auto-renewed: `term_end` moved on from `previous_term_end`."""

    previous_term_end: date = date.min


class TermOutcome(StrEnum):
    """What reaching the end of its term did to a subscription."""

    RENEWED = "renewed"
    EXPIRED = "expired"


class _EventFields(TypedDict):
    subscription_id: str
    account_id: str
    product_id: str
    price_id: str
    price_version: int
    quantity: Decimal
    license_type: LicenseType
    term_start: date
    term_end: date
    commitment_quantity: Decimal
    effective_date: date
    by: str


@dataclass
class Subscription:
    """A customer's instance of a product, billed at a pinned price version."""

    id: str
    account_id: str
    product_id: str
    price_id: str
    price_version: int
    quantity: Decimal
    license_type: LicenseType
    term_start: date
    term_end: date
    commitment_quantity: Decimal
    renewal: RenewalPolicy
    state: SubscriptionState = SubscriptionState.PENDING
    order_id: str | None = None
    # The catalog price of the fee for ending a committed term early, and the fee once charged.
    termination_fee_price_id: str | None = None
    termination_fee: TerminationFee | None = None
    history: list[SubscriptionChange] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        *,
        account_id: str,
        product_id: str,
        price_id: str,
        price_version: int,
        quantity: Decimal,
        license_type: LicenseType,
        term_start: date,
        term_end: date,
        renewal: RenewalPolicy,
        commitment_quantity: Decimal = Decimal(0),
        order_id: str | None = None,
        termination_fee_price_id: str | None = None,
        trial: bool = False,
    ) -> Subscription:
        """A pending (or trial) subscription, waiting for its provisioning to finish."""
        errors = FieldErrors()
        if quantity <= 0:
            errors.add("quantity", "must be positive")
        if commitment_quantity < 0:
            errors.add("commitment_quantity", "must not be negative")
        elif commitment_quantity > quantity:
            errors.add("commitment_quantity", "must not exceed the quantity")
        if term_end <= term_start:
            errors.add("term_end", "must be after term_start")
        if price_version < 1:
            errors.add("price_version", "must be 1 or more")
        if renewal.kind is RenewalKind.AUTO_RENEW and not (renewal.months or 0) > 0:
            errors.add("renewal.months", "must be positive")
        errors.raise_if_any("The subscription has invalid fields")
        return cls(
            id=new_id("sub"),
            account_id=account_id,
            product_id=product_id,
            price_id=price_id,
            price_version=price_version,
            quantity=quantity,
            license_type=license_type,
            term_start=term_start,
            term_end=term_end,
            commitment_quantity=commitment_quantity,
            renewal=renewal,
            state=SubscriptionState.TRIAL if trial else SubscriptionState.PENDING,
            order_id=order_id,
            termination_fee_price_id=termination_fee_price_id,
        )

    def snapshot(self) -> SubscriptionSnapshot:
        """The billing-relevant facts as they are now."""
        return SubscriptionSnapshot(
            self.state,
            self.quantity,
            self.term_start,
            self.term_end,
            self.price_id,
            self.price_version,
        )

    def activate(self, *, effective: date, by: str) -> None:
        """pending (or trial) → active; billing starts on `effective`."""
        self._require_state("activate", SubscriptionState.PENDING, SubscriptionState.TRIAL)
        self._require_in_term(effective)
        before = self.snapshot()
        self.state = SubscriptionState.ACTIVE
        self._record(ChangeKind.ACTIVATE, effective, before, by)
        self.events.append(SubscriptionActivated(**self._event_fields(effective, by)))

    def suspend(self, *, effective: date, by: str, reason: str | None = None) -> None:
        """active → suspended."""
        self._require_state("suspend", SubscriptionState.ACTIVE)
        before = self.snapshot()
        self.state = SubscriptionState.SUSPENDED
        self._record(ChangeKind.SUSPEND, effective, before, by, reason)
        self.events.append(SubscriptionSuspended(**self._event_fields(effective, by), reason=reason))

    def resume(self, *, effective: date, by: str) -> None:
        """suspended → active."""
        self._require_state("resume", SubscriptionState.SUSPENDED)
        before = self.snapshot()
        self.state = SubscriptionState.ACTIVE
        self._record(ChangeKind.RESUME, effective, before, by)
        self.events.append(SubscriptionResumed(**self._event_fields(effective, by)))

    def termination_fee_due(self, effective: date) -> bool:
        """True when cancelling from `effective` ends a committed term early and a fee is agreed."""
        return (
            self.state in {SubscriptionState.ACTIVE, SubscriptionState.SUSPENDED}
            and effective < self.term_end
            and self.commitment_quantity > 0
            and self.termination_fee_price_id is not None
        )

    def cancel(
        self,
        *,
        effective: date,
        by: str,
        reason: str | None = None,
        termination_fee: TerminationFee | None = None,
    ) -> None:
        """active or suspended → cancelled from `effective`, with the fee when one is due."""
        self._require_state("cancel", SubscriptionState.ACTIVE, SubscriptionState.SUSPENDED)
        if (termination_fee is not None) != self.termination_fee_due(effective):
            raise Conflict("A termination fee is charged exactly when a committed term with a fee ends early")
        before = self.snapshot()
        self.state = SubscriptionState.CANCELLED
        self.termination_fee = termination_fee
        self._record(ChangeKind.CANCEL, effective, before, by, reason)
        self.events.append(
            SubscriptionCancelled(
                **self._event_fields(effective, by),
                reason=reason,
                ended_before_term=effective < self.term_end,
                termination_fee=termination_fee,
            )
        )

    def expire(self, *, by: str) -> None:
        """active → expired at the end of the term."""
        self._require_state("expire", SubscriptionState.ACTIVE)
        before = self.snapshot()
        self.state = SubscriptionState.EXPIRED
        self._record(ChangeKind.EXPIRE, self.term_end, before, by)
        self.events.append(SubscriptionExpired(**self._event_fields(self.term_end, by)))

    def renew(self, *, by: str) -> None:
        """Auto-renew: the term goes on for the policy's months from the old term end."""
        self._require_state("renew", SubscriptionState.ACTIVE)
        if self.renewal.kind is not RenewalKind.AUTO_RENEW or not self.renewal.months:
            raise Conflict("Cannot renew a subscription whose policy is to expire")
        before = self.snapshot()
        # Recomputed from the start's day, so a term from the 31st that once ended on Feb 28
        # ends on the 31st again afterwards (DESIGN §7: anchors are not shifted by short months).
        self.term_end = add_months(before.term_end, self.renewal.months, self.term_start.day)
        self._record(ChangeKind.RENEWAL, before.term_end, before, by)
        self.events.append(
            SubscriptionRenewed(**self._event_fields(before.term_end, by), previous_term_end=before.term_end)
        )

    def reach_term_end(self, *, by: str) -> None:
        """Apply the renewal policy at the end of the term: renew N months, or expire."""
        if self.renewal.kind is RenewalKind.EXPIRE or not self.renewal.months:
            self.expire(by=by)
        else:
            self.renew(by=by)

    def process_term_ends(self, *, as_of: date, by: str) -> TermOutcome | None:
        """Apply the renewal policy to every term of an active subscription ended by `as_of`.

        Renews as often as needed to reach a term that is still running on `as_of`, so a second
        run for the same date finds nothing to do. None when no term ended.
        """
        if self.state is not SubscriptionState.ACTIVE or self.term_end > as_of:
            return None
        while self.state is SubscriptionState.ACTIVE and self.term_end <= as_of:
            self.reach_term_end(by=by)
        return TermOutcome.RENEWED if self.state is SubscriptionState.ACTIVE else TermOutcome.EXPIRED

    def change_quantity(self, new_quantity: Decimal, *, effective: date, by: str) -> None:
        """Set a new quantity from `effective`: an upgrade or downgrade once active."""
        self._require_state("change quantity", SubscriptionState.PENDING, SubscriptionState.ACTIVE)
        errors = FieldErrors()
        if new_quantity <= 0:
            errors.add("quantity", "must be positive")
        elif new_quantity == self.quantity:
            errors.add("quantity", "is already the subscription's quantity", "unchanged")
        elif new_quantity < self.commitment_quantity:
            errors.add(
                "quantity",
                f"must not go below the committed quantity {self.commitment_quantity}",
                "below_commitment",
            )
        self._collect_term_errors(effective, errors)
        errors.raise_if_any("The quantity cannot change")
        if self.state is SubscriptionState.PENDING:
            # Nothing has been billed yet, so the change is a correction, not an up/downgrade.
            kind = ChangeKind.QUANTITY_CHANGE
        elif new_quantity > self.quantity:
            kind = ChangeKind.UPGRADE
        else:
            kind = ChangeKind.DOWNGRADE
        before = self.snapshot()
        self.quantity = new_quantity
        self._record(kind, effective, before, by)
        self.events.append(
            SubscriptionChanged(
                **self._event_fields(effective, by),
                change=kind,
                previous_quantity=before.quantity,
                previous_term_end=before.term_end,
            )
        )

    def change_term(self, *, new_term_end: date, effective: date, by: str) -> None:
        """Move the end of the term (an amendment or a renewal)."""
        self._require_state("change term", SubscriptionState.PENDING, SubscriptionState.ACTIVE)
        errors = FieldErrors()
        if new_term_end <= self.term_start:
            errors.add("term_end", "must be after term_start")
        elif new_term_end == self.term_end:
            errors.add("term_end", "is already the subscription's term end", "unchanged")
        if effective < self.term_start:
            errors.add("effective_date", "must not be before the term starts")
        errors.raise_if_any("The term cannot change")
        before = self.snapshot()
        self.term_end = new_term_end
        self._record(ChangeKind.TERM_CHANGE, effective, before, by)
        self.events.append(
            SubscriptionChanged(
                **self._event_fields(effective, by),
                change=ChangeKind.TERM_CHANGE,
                previous_quantity=before.quantity,
                previous_term_end=before.term_end,
            )
        )

    def _require_state(self, action: str, *allowed: SubscriptionState) -> None:
        if self.state not in allowed:
            raise Conflict(f"Cannot {action} a subscription that is {self.state.value}")

    def _require_in_term(self, effective: date) -> None:
        errors = FieldErrors()
        self._collect_term_errors(effective, errors)
        errors.raise_if_any("The effective date is outside the term")

    def _collect_term_errors(self, effective: date, errors: FieldErrors) -> None:
        if not self.term_start <= effective < self.term_end:
            errors.add(
                "effective_date",
                f"must fall in the term [{self.term_start}, {self.term_end})",
            )

    def _record(
        self,
        kind: ChangeKind,
        effective: date,
        before: SubscriptionSnapshot,
        by: str,
        reason: str | None = None,
    ) -> None:
        self.history.append(SubscriptionChange(kind, effective, before, replace(self.snapshot()), by, reason))

    def _event_fields(self, effective: date, by: str) -> _EventFields:
        return {
            "subscription_id": self.id,
            "account_id": self.account_id,
            "product_id": self.product_id,
            "price_id": self.price_id,
            "price_version": self.price_version,
            "quantity": self.quantity,
            "license_type": self.license_type,
            "term_start": self.term_start,
            "term_end": self.term_end,
            "commitment_quantity": self.commitment_quantity,
            "effective_date": effective,
            "by": by,
        }
