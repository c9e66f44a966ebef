"""Dunning policies: what collections does, and when, to an account whose invoices are past due.

A policy is data: ordered steps, each "after N days past due, and when the past-due amount is
above a threshold in its currency, take an action" — a reminder (an event for the notification
system), an escalation to the account's CRM owner, a suspension request (provisioning suspends
the account's subscriptions) or a write-off of what remains past due. Steps are ordered by their
days (never decreasing); a currency with no threshold on a step has threshold zero (any amount
past due). A policy some case has taken a step of is in use and never changes again: a case's
history must keep meaning what it meant; a new policy replaces it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from libs.platform.errors import Conflict, FieldErrors
from libs.platform.money import is_known_currency, minor_units_problem

MAX_STEPS = 20
MAX_DAYS_PAST_DUE = 3650


class DunningAction(StrEnum):
    """What a step does."""

    REMINDER = "reminder"
    ESCALATE = "escalate"
    SUSPEND = "suspend"
    WRITE_OFF = "write_off"


class PolicyInUse(Conflict):
    """The policy has been used by a case: it is never changed nor deleted (409)."""


@dataclass(frozen=True, slots=True)
class DunningStep:
    """After `days_past_due` days, above `min_amounts[currency]` past due, take `action`."""

    days_past_due: int
    action: DunningAction
    min_amounts: Mapping[str, Decimal] = field(default_factory=dict)

    def threshold(self, currency: str) -> Decimal:
        """The amount past due must be above, in `currency` (zero when the step names none)."""
        return self.min_amounts.get(currency, Decimal(0))

    def applies(self, *, days: int, amount: Decimal, currency: str) -> bool:
        """True when an account `days` past due with `amount` past due has reached this step."""
        return days >= self.days_past_due and amount > self.threshold(currency)


def check_steps(steps: Iterable[DunningStep]) -> tuple[DunningStep, ...]:
    """The steps when they make a policy: 1 to 20 of them, days from 1 up and never decreasing,
    thresholds in known currencies, not negative, in minor units; a write-off only last. 422 otherwise."""
    ordered = tuple(steps)
    errors = FieldErrors()
    if not ordered:
        errors.add("steps", "a policy has at least one step")
    if len(ordered) > MAX_STEPS:
        errors.add("steps", f"a policy has at most {MAX_STEPS} steps")
    previous = 0
    for index, step in enumerate(ordered):
        where = f"steps.{index}"
        if step.days_past_due < 1 or step.days_past_due > MAX_DAYS_PAST_DUE:
            errors.add(f"{where}.days_past_due", f"days past due run from 1 to {MAX_DAYS_PAST_DUE}")
        elif step.days_past_due < previous:
            errors.add(
                f"{where}.days_past_due",
                f"steps are in order of days past due: {step.days_past_due} comes after {previous}",
            )
        previous = max(previous, step.days_past_due)
        if step.action is DunningAction.WRITE_OFF and index != len(ordered) - 1:
            errors.add(f"{where}.action", "a write-off closes the case: it is the last step")
        for currency, amount in step.min_amounts.items():
            if not is_known_currency(currency):
                errors.add(f"{where}.min_amounts.{currency}", f"{currency!r} is not an ISO 4217 currency")
                continue
            problem = minor_units_problem(amount, currency)
            if amount < 0 or problem is not None:
                errors.add(f"{where}.min_amounts.{currency}", problem or "a threshold is not negative")
    errors.raise_if_any("The dunning policy is not valid")
    return ordered


@dataclass
class DunningPolicy:
    """A named, ordered list of steps; the default one applies to accounts with none of their own."""

    id: str
    name: str
    steps: tuple[DunningStep, ...]
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    is_default: bool = False
    in_use: bool = False
    version: int = 0

    @classmethod
    def create(cls, *, steps: Iterable[DunningStep], **fields: object) -> DunningPolicy:
        """A new policy, its steps checked."""
        return cls(steps=check_steps(steps), **fields)  # type: ignore[arg-type]

    def revise(
        self, *, name: str, description: str | None, steps: Iterable[DunningStep], at: datetime
    ) -> None:
        """Replace the name, description and steps of a policy no case has used (409 otherwise)."""
        self.require_unused("changed")
        self.steps = check_steps(steps)
        self.name = name
        self.description = description
        self.updated_at = at

    def require_unused(self, verb: str) -> None:
        """Refuse (409) to change a policy a case has taken a step of."""
        if self.in_use:
            raise PolicyInUse(
                f"dunning policy {self.id} is in use by collections cases and cannot be {verb}; "
                "create a new policy and assign it instead"
            )

    def steps_due(
        self, *, days: int, amount: Decimal, currency: str, taken: Collection[int]
    ) -> list[tuple[int, DunningStep]]:
        """The steps (numbered from 1) reached at `days` past due with `amount` past due, not taken yet."""
        return [
            (number, step)
            for number, step in enumerate(self.steps, start=1)
            if number not in taken and step.applies(days=days, amount=amount, currency=currency)
        ]
