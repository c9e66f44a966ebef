"""Support-contract templates and the fields each kind needs (EXAMPLES §5)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from libs.platform.errors import FieldErrors


class ContractKind(StrEnum):
    """How a support contract is bounded."""

    SUBSCRIPTION = "subscription"  # a period
    TIME_LIMITED = "time_limited"  # a period or N hours, whichever ends first
    SUPPORT_HOURS = "support_hours"  # N hours
    PER_INCIDENT = "per_incident"  # one incident at a time


class ExpiryOption(StrEnum):
    """What happens to hours asked for beyond an expired contract."""

    ROLLOVER = "rollover"  # applied to the next valid contract
    IGNORE = "ignore"  # not covered by any contract


# (needs a period, needs hours) per kind; a field a kind does not use must be absent.
BOUNDS_BY_KIND: dict[ContractKind, tuple[bool, bool]] = {
    ContractKind.SUBSCRIPTION: (True, False),
    ContractKind.TIME_LIMITED: (True, True),
    ContractKind.SUPPORT_HOURS: (False, True),
    ContractKind.PER_INCIDENT: (False, False),
}


@dataclass(frozen=True)
class ContractTerms:
    """The bounds of a support contract template."""

    kind: ContractKind
    period_months: int | None
    hours: Decimal | None
    on_expiry: ExpiryOption


def validate_contract_terms(terms: ContractTerms) -> None:
    """Each kind has exactly the bounds it needs: e.g. time_limited needs both a period and hours."""
    errors = FieldErrors()
    needs_period, needs_hours = BOUNDS_BY_KIND[terms.kind]
    kind = terms.kind.value
    if needs_period and terms.period_months is None:
        errors.add("period_months", f"is required for a {kind} contract", "required")
    if not needs_period and terms.period_months is not None:
        errors.add("period_months", f"is not used by a {kind} contract", "not_allowed")
    if needs_hours and terms.hours is None:
        errors.add("hours", f"is required for a {kind} contract", "required")
    if not needs_hours and terms.hours is not None:
        errors.add("hours", f"is not used by a {kind} contract", "not_allowed")
    if terms.period_months is not None and terms.period_months < 1:
        errors.add("period_months", "must be at least 1")
    if terms.hours is not None and terms.hours <= 0:
        errors.add("hours", "must be greater than 0")
    if terms.kind in (ContractKind.SUBSCRIPTION, ContractKind.PER_INCIDENT) and (
        terms.on_expiry == ExpiryOption.ROLLOVER
    ):
        # Only hour-bounded contracts leave hours over to roll into the next contract.
        errors.add("on_expiry", f"a {kind} contract has no hours to roll over; use ignore")
    errors.raise_if_any("The contract template is invalid")
