"""Support contracts (seed 004, EXAMPLES §5): templates, the contracts made from them, their state
and the drawdown of their hours.

A contract is held by a subscription (the seed's item) or an account — the customer of its own
subscriptions and the org unit of its child accounts' subscriptions (DESIGN §7 "Accounts"). Its
period is a half-open range of the holder's local dates `[starts_on, ends_on)`; a time-limited
contract ends with its period or its hours, whichever comes first. A per-incident contract
covers one request from its opening to its closing, whatever the time spent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from libs.contracts.vocabulary import ContractKind, ExpiryOption
from libs.platform.errors import Conflict, FieldErrors, ValidationFailed
from libs.platform.periods import add_months, local_date

ZERO = Decimal(0)
MAX_PERIOD_MONTHS = 120


class HolderType(StrEnum):
    """Who holds a contract: a subscription (the item) or an account (customer or org unit)."""

    SUBSCRIPTION = "subscription"
    ACCOUNT = "account"


class ContractState(StrEnum):
    """Where a contract stands at an instant."""

    PENDING = "pending"  # starts later
    ACTIVE = "active"  # valid now
    EXPIRED = "expired"  # period over, hours used up, or its per-incident request closed
    CANCELLED = "cancelled"


class ContractChange(StrEnum):
    """What happened to a contract (the `change` of its event)."""

    OPENED = "opened"
    HOURS_DRAWN = "hours_drawn"
    ENDED = "ended"
    CANCELLED = "cancelled"


@dataclass
class SupportContractTemplate:
    """The local copy of a catalog support-contract template (from `catalog.contract_template_changed`)."""

    id: str
    name: str
    kind: ContractKind
    period_months: int | None
    hours: Decimal | None
    on_expiry: ExpiryOption
    product_id: str | None
    event_at: datetime
    """`occurred_at` of the catalog event last applied."""

    def is_superseded_by(self, occurred_at: datetime) -> bool:
        """True when an event of `occurred_at` is not older than the one applied (so it applies)."""
        return occurred_at >= self.event_at


@dataclass(frozen=True)
class AccountHolder:
    """An account as contracts see it (from the read model): its parent (the org unit) and time zone."""

    account_id: str
    parent_account_id: str | None
    time_zone: str


@dataclass(frozen=True)
class SubscriptionHolder:
    """A subscription (the seed's item) as contracts see it: its account and currency."""

    subscription_id: str
    account_id: str
    currency: str
    account: AccountHolder | None
    """None while the account's own event has not arrived yet."""

    @property
    def time_zone(self) -> str:
        """Its account's time zone (UTC until the account is known)."""
        return self.account.time_zone if self.account is not None else "UTC"

    @property
    def parent_account_id(self) -> str | None:
        """Its account's parent: the org unit."""
        return self.account.parent_account_id if self.account is not None else None


@dataclass(frozen=True)
class ContractTerms:
    """The bounds of one contract: its template's, with the overrides its kind allows."""

    kind: ContractKind
    period_months: int | None
    hours: Decimal | None
    on_expiry: ExpiryOption


def contract_terms(
    template: SupportContractTemplate, *, period_months: int | None = None, hours: Decimal | None = None
) -> ContractTerms:
    """The template's terms with the overrides given; a kind without a period or hours refuses that one."""
    errors = FieldErrors()
    kind = template.kind
    if kind is ContractKind.PER_INCIDENT:
        errors.add(
            "template_id",
            "a per-incident contract is opened by the support request it covers, not sold ahead",
            "per_incident",
        )
    if period_months is not None and not kind.has_period:
        errors.add("period_months", f"a {kind.value} contract has no period", "not_allowed")
    if hours is not None and not kind.has_hours:
        errors.add("hours", f"a {kind.value} contract is not bounded by hours", "not_allowed")
    if hours is not None and hours <= 0:
        errors.add("hours", "must be greater than 0")
    if period_months is not None and not 1 <= period_months <= MAX_PERIOD_MONTHS:
        errors.add("period_months", f"must be from 1 to {MAX_PERIOD_MONTHS}")
    errors.raise_if_any("The support contract cannot be made from this template")
    terms = ContractTerms(
        kind=kind,
        period_months=period_months if period_months is not None else template.period_months,
        hours=hours if hours is not None else template.hours,
        on_expiry=template.on_expiry,
    )
    if (kind.has_period and terms.period_months is None) or (kind.has_hours and terms.hours is None):
        # The catalog refuses such a template; one that reached us anyway is not sellable.
        raise ValidationFailed.single(
            "template_id", f"the template lacks the period or hours a {kind.value} contract needs"
        )
    return terms


def incident_terms(template: SupportContractTemplate) -> ContractTerms:
    """The terms of a per-incident contract opened for a request (the template must bill a product)."""
    if template.kind is not ContractKind.PER_INCIDENT:
        raise ValidationFailed.single(
            "per_incident_template_id", f"template {template.id!r} is a {template.kind.value} template"
        )
    if template.product_id is None:
        raise Conflict(
            f"per-incident template {template.id!r} names no product, so the incident could not be billed"
        )
    return ContractTerms(ContractKind.PER_INCIDENT, None, None, template.on_expiry)


@dataclass
class SupportContract:
    """A support contract of one holder; records `SupportContractChanged` events."""

    id: str
    template_id: str
    kind: ContractKind
    holder_type: HolderType
    holder_id: str
    account_id: str
    """The holder's account (the holder itself when an account holds it)."""
    time_zone: str
    """The zone of the holder's account: its dates are that zone's local dates."""
    starts_on: date
    ends_on: date | None
    """Exclusive end of the period; None when the kind has no period."""
    hours_granted: Decimal | None
    """None when the kind is not bounded by hours."""
    hours_used: Decimal
    on_expiry: ExpiryOption
    product_id: str | None
    request_id: str | None
    """The request a per-incident contract covers (None for every other kind)."""
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None
    """When its hours ran out or its per-incident request closed."""
    cancelled_at: datetime | None = None
    version: int = 0
    """Bumped on every save: a concurrent change to the same contract is refused."""
    events: list[Any] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def open(
        cls,
        *,
        id: str,
        template: SupportContractTemplate,
        terms: ContractTerms,
        holder_type: HolderType,
        holder_id: str,
        account_id: str,
        time_zone: str,
        starts_on: date,
        now: datetime,
        request_id: str | None = None,
    ) -> SupportContract:
        """A new contract from a template: the period runs `period_months` from `starts_on`."""
        ends_on = None if terms.period_months is None else add_months(starts_on, terms.period_months)
        contract = cls(
            id=id,
            template_id=template.id,
            kind=terms.kind,
            holder_type=holder_type,
            holder_id=holder_id,
            account_id=account_id,
            time_zone=time_zone,
            starts_on=starts_on,
            ends_on=ends_on,
            hours_granted=terms.hours,
            hours_used=ZERO,
            on_expiry=terms.on_expiry,
            product_id=template.product_id,
            request_id=request_id,
            created_at=now,
            updated_at=now,
        )
        contract._record(ContractChange.OPENED, now)
        return contract

    @property
    def hours_remaining(self) -> Decimal | None:
        """Hours left to draw; None when the contract is not bounded by hours."""
        if self.hours_granted is None:
            return None
        return max(self.hours_granted - self.hours_used, ZERO)

    @property
    def is_used_up(self) -> bool:
        """True once its hours are spent or its per-incident request closed."""
        return self.ended_at is not None or (self.hours_remaining is not None and self.hours_remaining == 0)

    def state_on(self, day: date) -> ContractState:
        """The state on a local date of the holder: cancelled, used up, outside or inside its period."""
        if self.cancelled_at is not None:
            return ContractState.CANCELLED
        if self.is_used_up or (self.ends_on is not None and day >= self.ends_on):
            return ContractState.EXPIRED
        if day < self.starts_on:
            return ContractState.PENDING
        return ContractState.ACTIVE

    def state_at(self, at: datetime) -> ContractState:
        """The state at an instant, read on the holder's local date."""
        return self.state_on(local_date(at, self.time_zone))

    def can_cover(self, at: datetime) -> bool:
        """True when time spent at `at` may be drawn from it (active, or pending: bought ahead)."""
        return self.state_at(at) in (ContractState.ACTIVE, ContractState.PENDING)

    def draw(self, hours: Decimal, *, at: datetime, now: datetime) -> Decimal:
        """Draw up to `hours` spent at `at` (what is left of a bounded contract); returns the hours drawn."""
        if hours <= 0 or not self.can_cover(at):
            return ZERO
        remaining = self.hours_remaining
        drawn = hours if remaining is None else min(hours, remaining)
        self.hours_used += drawn
        if self.hours_remaining == 0:
            self.ended_at = at
        self._record(ContractChange.HOURS_DRAWN, now)
        return drawn

    def end(self, *, at: datetime, now: datetime) -> None:
        """A per-incident contract ends when the request it covers closes (at `at`)."""
        if self.ended_at is None:
            self.ended_at = at
            self._record(ContractChange.ENDED, now)

    def cancel(self, *, now: datetime) -> None:
        """Cancel the contract; it covers nothing from now on (409 when already cancelled)."""
        if self.cancelled_at is not None:
            raise Conflict(f"support contract {self.id!r} is already cancelled")
        if self.request_id is not None:
            raise Conflict("a per-incident contract ends when its request closes; close the request")
        self.cancelled_at = now
        self._record(ContractChange.CANCELLED, now)

    def _record(self, change: ContractChange, now: datetime) -> None:
        self.updated_at = now
        self.events.append(SupportContractChanged(replace(self, events=[]), change, now))


@dataclass(frozen=True)
class SupportContractChanged:
    """A contract was opened, drew hours, ended or was cancelled (its state after the change)."""

    contract: SupportContract
    change: ContractChange
    at: datetime
    """When the change was made (the clock's now)."""
