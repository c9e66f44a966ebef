"""Support requests (seed 004, EXAMPLES §5): the contract validation order, time logged on a request
and what happens to time spent once its contract has expired.

Validation order for a request on a subscription (the item) of an account (the customer) whose
parent is the org unit: the item's valid contract, the customer's, the org unit's, then pending
ones in the same order; when none is found a per-incident contract is opened for the request.
Time logged draws the covering contract's hours; what its contract cannot cover (its hours ran
out, or its period ended before the time was spent) follows the contract's expiry option:
rollover applies it to the next contract found by the same order, ignore leaves it uncovered.
No hour is made or lost: logged = covered + rolled over + uncovered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from libs.contracts.vocabulary import ExpiryOption
from libs.platform.errors import Conflict, ValidationFailed
from rating.domain.support_contracts import ZERO, ContractState, HolderType, SupportContract


class Level(StrEnum):
    """Whose contract: the item's, the customer's or the org unit's."""

    ITEM = "item"
    CUSTOMER = "customer"
    ORG_UNIT = "org_unit"


class CoverageStep(StrEnum):
    """A step of the seed's validation order; `PER_INCIDENT` when no contract was found."""

    ITEM_VALID = "item_valid"
    CUSTOMER_VALID = "customer_valid"
    ORG_UNIT_VALID = "org_unit_valid"
    ITEM_PENDING = "item_pending"
    CUSTOMER_PENDING = "customer_pending"
    ORG_UNIT_PENDING = "org_unit_pending"
    PER_INCIDENT = "per_incident"


# The seed's order, each step with the holder level and contract state it looks for.
VALIDATION_ORDER: tuple[tuple[CoverageStep, Level, ContractState], ...] = (
    (CoverageStep.ITEM_VALID, Level.ITEM, ContractState.ACTIVE),
    (CoverageStep.CUSTOMER_VALID, Level.CUSTOMER, ContractState.ACTIVE),
    (CoverageStep.ORG_UNIT_VALID, Level.ORG_UNIT, ContractState.ACTIVE),
    (CoverageStep.ITEM_PENDING, Level.ITEM, ContractState.PENDING),
    (CoverageStep.CUSTOMER_PENDING, Level.CUSTOMER, ContractState.PENDING),
    (CoverageStep.ORG_UNIT_PENDING, Level.ORG_UNIT, ContractState.PENDING),
)

STEP_REASONS: dict[CoverageStep, str] = {
    CoverageStep.ITEM_VALID: "the item (subscription) has a valid contract",
    CoverageStep.CUSTOMER_VALID: "the item has none; the customer (account) has a valid contract",
    CoverageStep.ORG_UNIT_VALID: "neither item nor customer has one; the org unit (parent account) has one",
    CoverageStep.ITEM_PENDING: "no valid contract anywhere; the item has a pending contract",
    CoverageStep.CUSTOMER_PENDING: "none valid nor pending on the item; the customer has a pending one",
    CoverageStep.ORG_UNIT_PENDING: "none valid, none pending on item or customer; the org unit has one",
    CoverageStep.PER_INCIDENT: "no contract found: a per-incident contract was opened for this request",
}
"""Why each step covers a request, as the API explains it."""


def step_number(step: CoverageStep) -> int:
    """The step's place in the validation order, from 1 (item valid) to 7 (per incident)."""
    return list(CoverageStep).index(step) + 1


@dataclass(frozen=True)
class RequestHolders:
    """Who may hold a contract covering a request: its item, customer and org unit."""

    subscription_id: str
    account_id: str
    parent_account_id: str | None

    def level_of(self, contract: SupportContract) -> Level | None:
        """The level at which `contract` may cover this request's item (None: it may not)."""
        if contract.request_id is not None:
            return None  # a per-incident contract covers its own request only
        if contract.holder_type is HolderType.SUBSCRIPTION:
            return Level.ITEM if contract.holder_id == self.subscription_id else None
        if contract.holder_id == self.account_id:
            return Level.CUSTOMER
        if self.parent_account_id is not None and contract.holder_id == self.parent_account_id:
            return Level.ORG_UNIT
        return None


@dataclass(frozen=True)
class Coverage:
    """The contract found for a request and the step of the order that found it."""

    contract: SupportContract
    step: CoverageStep


def _preference(contract: SupportContract, state: ContractState) -> tuple[date, date, str]:
    # Among several valid contracts of one holder, draw first on the one that ends first (then
    # the oldest); among pending ones, the one that starts first.
    ends = contract.ends_on or date.max
    if state is ContractState.PENDING:
        return (contract.starts_on, ends, contract.id)
    return (ends, contract.starts_on, contract.id)


def find_coverage(
    holders: RequestHolders,
    contracts: Iterable[SupportContract],
    at: datetime,
    *,
    excluding: Iterable[str] = (),
) -> Coverage | None:
    """The first contract of the seed's validation order at instant `at`, or None (then per incident)."""
    skip = set(excluding)
    by_step: dict[tuple[Level, ContractState], list[SupportContract]] = {}
    for contract in contracts:
        level = holders.level_of(contract)
        if level is None or contract.id in skip:
            continue
        by_step.setdefault((level, contract.state_at(at)), []).append(contract)
    for step, level, state in VALIDATION_ORDER:
        found = by_step.get((level, state))
        if found:
            return Coverage(min(found, key=lambda c: _preference(c, state)), step)
    return None


class AllocationRule(StrEnum):
    """Why hours were drawn from a contract."""

    COVERING = "covering"  # the request's covering contract
    ROLLOVER = "rollover"  # the next valid contract, after the covering one expired


@dataclass(frozen=True)
class Allocation:
    """Hours of one time entry drawn from one contract."""

    contract_id: str
    hours: Decimal
    rule: AllocationRule


@dataclass(frozen=True)
class TimeSplit:
    """How logged hours were covered: by the covering contract, rolled over, or not at all."""

    allocations: tuple[Allocation, ...]
    uncovered: Decimal
    expired_contract_ids: tuple[str, ...]
    """Contracts that had expired or ran out of hours while this time was drawn."""
    covering_contract_id: str
    """The contract covering the request afterwards (the one the time rolled over to, if any)."""

    @property
    def covered(self) -> Decimal:
        """Hours drawn from the request's covering contract."""
        return sum((a.hours for a in self.allocations if a.rule is AllocationRule.COVERING), ZERO)

    @property
    def rolled_over(self) -> Decimal:
        """Hours applied to later contracts after the covering one expired."""
        return sum((a.hours for a in self.allocations if a.rule is AllocationRule.ROLLOVER), ZERO)


def split_time(
    hours: Decimal,
    *,
    at: datetime,
    now: datetime,
    covering: SupportContract,
    holders: RequestHolders,
    candidates: Iterable[SupportContract],
) -> TimeSplit:
    """Draw `hours` spent at `at` from the covering contract; what it cannot take follows its expiry option.

    Rollover applies the rest to the next contract of the validation order (valid, then pending),
    and on from there while contracts run out; ignore leaves it uncovered. Contracts are changed
    in place (their hours drawn); the split says where every hour went.
    """
    pool = list(candidates)
    allocations: list[Allocation] = []
    expired: list[str] = []
    visited = {covering.id}
    current, rule, rest = covering, AllocationRule.COVERING, hours
    while True:
        drawn = current.draw(rest, at=at, now=now)
        if drawn > 0:
            allocations.append(Allocation(current.id, drawn, rule))
            rest -= drawn
        if rest == 0:
            break
        expired.append(current.id)
        if current.on_expiry is ExpiryOption.IGNORE:
            break
        following = find_coverage(holders, pool, at, excluding=visited)
        if following is None:
            break
        current, rule = following.contract, AllocationRule.ROLLOVER
        visited.add(current.id)
    return TimeSplit(tuple(allocations), rest, tuple(expired), current.id)


class RequestState(StrEnum):
    """Whether time may still be logged on a request."""

    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class TimeEntry:
    """Time logged on a request and where it went."""

    id: str
    request_id: str
    hours: Decimal
    logged_at: datetime
    split: TimeSplit
    created_at: datetime


@dataclass
class SupportRequest:
    """A service request on a subscription, covered by one contract; records its events."""

    id: str
    subscription_id: str
    account_id: str
    summary: str
    opened_at: datetime
    contract_id: str
    """The contract covering it now (another one once time rolled over to it)."""
    coverage_contract_id: str
    """The contract the validation order found when it was opened."""
    coverage_step: CoverageStep
    """The step of the validation order that found it."""
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    hours_logged: Decimal = ZERO
    hours_covered: Decimal = ZERO
    hours_rolled_over: Decimal = ZERO
    hours_uncovered: Decimal = ZERO
    version: int = 0
    events: list[Any] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def open(
        cls,
        *,
        id: str,
        holders: RequestHolders,
        summary: str,
        opened_at: datetime,
        coverage: Coverage,
        now: datetime,
    ) -> SupportRequest:
        """A new request under the contract the validation order found."""
        request = cls(
            id=id,
            subscription_id=holders.subscription_id,
            account_id=holders.account_id,
            summary=summary,
            opened_at=opened_at,
            contract_id=coverage.contract.id,
            coverage_contract_id=coverage.contract.id,
            coverage_step=coverage.step,
            created_at=now,
            updated_at=now,
        )
        request.events.append(SupportRequestOpened(replace(request, events=[])))
        return request

    @property
    def state(self) -> RequestState:
        """Open until closed."""
        return RequestState.OPEN if self.closed_at is None else RequestState.CLOSED

    def charge_incident(self, contract: SupportContract, *, currency: str, charged_on: date) -> None:
        """Record the one-time charge of the per-incident contract opened for this request."""
        self.events.append(SupportIncidentCharged(contract, replace(self, events=[]), currency, charged_on))

    def check_loggable(self, logged_at: datetime) -> None:
        """Time is logged on an open request, not before it was opened."""
        if self.closed_at is not None:
            raise Conflict(f"support request {self.id!r} is closed; no more time can be logged on it")
        if logged_at < self.opened_at:
            raise ValidationFailed.single(
                "logged_at", f"must not be before the request was opened ({self.opened_at.isoformat()})"
            )

    def record_time(self, entry: TimeEntry, *, now: datetime) -> None:
        """Add a time entry's hours to the request's totals and follow its covering contract."""
        self.hours_logged += entry.hours
        self.hours_covered += entry.split.covered
        self.hours_rolled_over += entry.split.rolled_over
        self.hours_uncovered += entry.split.uncovered
        self.contract_id = entry.split.covering_contract_id
        self.updated_at = now
        self.events.append(SupportTimeLogged(replace(self, events=[]), entry))

    def close(self, *, at: datetime, now: datetime) -> None:
        """Close the request (409 if closed already; 422 before its opening)."""
        if self.closed_at is not None:
            raise Conflict(f"support request {self.id!r} is already closed")
        if at < self.opened_at:
            raise ValidationFailed.single(
                "closed_at", f"must not be before the request was opened ({self.opened_at.isoformat()})"
            )
        self.closed_at = at
        self.updated_at = now
        self.events.append(SupportRequestClosed(replace(self, events=[])))


@dataclass(frozen=True)
class SupportRequestOpened:
    """A request was opened under its contract."""

    request: SupportRequest


@dataclass(frozen=True)
class SupportTimeLogged:
    """Time was logged on a request."""

    request: SupportRequest
    entry: TimeEntry


@dataclass(frozen=True)
class SupportRequestClosed:
    """A request was closed."""

    request: SupportRequest


@dataclass(frozen=True)
class SupportIncidentCharged:
    """A per-incident contract was opened for a request no contract covered: bill it once."""

    contract: SupportContract
    request: SupportRequest
    currency: str
    charged_on: date
