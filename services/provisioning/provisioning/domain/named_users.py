"""Named-user license pools: seats, programs per user, and yearly transfer allowances."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from libs.platform.errors import FieldErrors, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.periods import add_months

from .events import DomainEvent

DEFAULT_TRANSFER_PERCENT = Decimal(10)
# Named-user contracts allow transfers "in each subsequent year": never in the first one.
FIRST_TRANSFER_YEAR = 2


@dataclass(frozen=True)
class SeatTransfer:
    """A seat moved from one person to another within a contract year."""

    from_user: str
    to_user: str
    on_date: date
    contract_year: int
    by: str


@dataclass(frozen=True)
class NamedUserPoolCreated(DomainEvent):
    """A named-user pool was set up for an account's contract."""

    pool_id: str
    account_id: str


@dataclass(frozen=True)
class NamedUserAssigned(DomainEvent):
    """A user got access to programs; `seats_used` counts each user once."""

    pool_id: str
    user_id: str
    programs: frozenset[str]
    seats_used: int
    by: str


@dataclass(frozen=True)
class NamedUserTransferred(DomainEvent):
    """A seat moved from one person to another."""

    pool_id: str
    from_user: str
    to_user: str
    on_date: date
    contract_year: int
    transfers_remaining: int
    by: str
    programs: frozenset[str] = frozenset()


@dataclass
class NamedUserPool:
    """N named users, each in up to K of the contract's M programs (seed 003)."""

    id: str
    account_id: str
    size: int
    programs_per_user: int
    contract_programs: frozenset[str]
    contract_start: date
    transfer_percent: Decimal = DEFAULT_TRANSFER_PERCENT
    subscription_id: str | None = None
    assignments: dict[str, frozenset[str]] = field(default_factory=dict)
    transfers: list[SeatTransfer] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        *,
        account_id: str,
        size: int,
        programs_per_user: int,
        contract_programs: Iterable[str],
        contract_start: date,
        transfer_percent: Decimal = DEFAULT_TRANSFER_PERCENT,
        subscription_id: str | None = None,
    ) -> NamedUserPool:
        """A pool for a named-user contract, checked as a whole."""
        programs = frozenset(contract_programs)
        errors = FieldErrors()
        if size <= 0:
            errors.add("size", "must be positive")
        if not programs:
            errors.add("contract_programs", "a contract names at least one program", "required")
        if programs_per_user <= 0:
            errors.add("programs_per_user", "must be positive")
        elif programs and programs_per_user > len(programs):
            errors.add("programs_per_user", "must not exceed the number of contract programs")
        if not Decimal(0) <= transfer_percent <= Decimal(100):
            errors.add("transfer_percent", "must be between 0 and 100")
        errors.raise_if_any("The named-user pool has invalid fields")
        pool = cls(
            id=new_id("pool"),
            account_id=account_id,
            size=size,
            programs_per_user=programs_per_user,
            contract_programs=programs,
            contract_start=contract_start,
            transfer_percent=transfer_percent,
            subscription_id=subscription_id,
        )
        pool.events.append(NamedUserPoolCreated(pool.id, account_id))
        return pool

    @property
    def seats_used(self) -> int:
        """Distinct named users, however many programs each has."""
        return len(self.assignments)

    @property
    def seats_available(self) -> int:
        """Seats not yet given to anyone."""
        return self.size - self.seats_used

    @property
    def transfers_per_year(self) -> int:
        """floor(pool size x transfer percent / 100)."""
        allowance = Decimal(self.size) * self.transfer_percent / Decimal(100)
        return int(allowance.to_integral_value(rounding=ROUND_FLOOR))

    def contract_year(self, on_date: date) -> int:
        """1 for the first twelve months from the contract start, 2 for the next, …"""
        if on_date < self.contract_start:
            raise ValidationFailed.single("on_date", "is before the contract starts")
        year = 1
        while add_months(self.contract_start, 12 * year) <= on_date:
            year += 1
        return year

    def transfers_used(self, contract_year: int) -> int:
        """How many transfers were made in a contract year."""
        return sum(1 for t in self.transfers if t.contract_year == contract_year)

    def transfers_remaining(self, on_date: date) -> int:
        """Transfers still allowed in the contract year of `on_date` (0 in year 1)."""
        year = self.contract_year(on_date)
        if year < FIRST_TRANSFER_YEAR:
            return 0
        return self.transfers_per_year - self.transfers_used(year)

    def programs_of(self, user_id: str) -> frozenset[str]:
        """The programs a user may access (empty when unassigned)."""
        return self.assignments.get(user_id, frozenset())

    def assign(self, user_id: str, programs: Iterable[str], *, by: str) -> bool:
        """Give a user access to programs; a new user takes one seat, whatever the count.

        False (and no event) when the user already holds every program asked for: assigning
        again is a no-op, so a retried request changes nothing.
        """
        requested = list(programs)
        errors = FieldErrors()
        if not user_id.strip():
            errors.add("user_id", "is required", "required")
        if not requested:
            errors.add("programs", "name at least one program", "required")
        for index, program in enumerate(requested):
            if program not in self.contract_programs:
                errors.add(f"programs.{index}", f"{program!r} is not in the contract", "not_in_contract")
        is_new_user = user_id not in self.assignments
        if is_new_user and self.seats_available <= 0:
            errors.add("user_id", f"all {self.size} named-user seats are taken", "pool_full")
        combined = self.programs_of(user_id) | frozenset(requested)
        if len(combined) > self.programs_per_user:
            errors.add(
                "programs",
                f"a user may access at most {self.programs_per_user} programs",
                "too_many_programs",
            )
        errors.raise_if_any("The named user cannot be assigned")
        if not is_new_user and combined == self.programs_of(user_id):
            return False
        self.assignments[user_id] = combined
        self.events.append(NamedUserAssigned(self.id, user_id, combined, self.seats_used, by))
        return True

    def transfer(self, from_user: str, to_user: str, *, on_date: date, by: str) -> None:
        """Move a seat and its programs to another person, within the yearly allowance."""
        errors = FieldErrors()
        if from_user not in self.assignments:
            errors.add("from_user", "is not a named user of this pool", "not_assigned")
        if to_user in self.assignments:
            errors.add("to_user", "already holds a seat in this pool", "already_assigned")
        if from_user == to_user:
            errors.add("to_user", "must be another person")
        if on_date < self.contract_start:
            errors.add("on_date", "is before the contract starts")
            errors.raise_if_any("The seat cannot be transferred")
        year = self.contract_year(on_date)
        if year < FIRST_TRANSFER_YEAR:
            errors.add(
                "on_date",
                "seats can be transferred from the second contract year",
                "transfer_not_allowed_yet",
            )
        elif self.transfers_remaining(on_date) <= 0:
            errors.add(
                "on_date",
                f"the {self.transfers_per_year} transfers of contract year {year} are used",
                "transfer_allowance_exhausted",
            )
        errors.raise_if_any("The seat cannot be transferred")
        self.assignments[to_user] = self.assignments.pop(from_user)
        self.transfers.append(SeatTransfer(from_user, to_user, on_date, year, by))
        self.events.append(
            NamedUserTransferred(
                self.id,
                from_user,
                to_user,
                on_date,
                year,
                self.transfers_remaining(on_date),
                by,
                self.assignments[to_user],
            )
        )
