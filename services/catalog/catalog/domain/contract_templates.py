"""Support-contract templates and the fields each kind needs (EXAMPLES §5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from libs.contracts.vocabulary import ContractKind, ExpiryOption
from libs.platform.errors import FieldErrors

from .common import apply_patch

# (needs a period, needs hours) per kind; a field a kind does not use must be absent.
BOUNDS_BY_KIND: dict[ContractKind, tuple[bool, bool]] = {
    kind: (kind.has_period, kind.has_hours) for kind in ContractKind
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


@dataclass
class ContractTemplate:
    """How a support contract of some kind is sold; records `ContractTemplateChanged`."""

    id: str
    name: str
    kind: ContractKind
    period_months: int | None
    hours: Decimal | None
    on_expiry: ExpiryOption
    product_id: str | None
    created_at: datetime
    updated_at: datetime
    events: list[Any] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(cls, *, id: str, now: datetime, **fields: Any) -> ContractTemplate:
        """A new template with exactly the bounds its kind needs."""
        template = cls(id=id, created_at=now, updated_at=now, **fields)
        validate_contract_terms(template.terms())
        template.events.append(ContractTemplateChanged(replace(template, events=[]), "created"))
        return template

    def terms(self) -> ContractTerms:
        """The bounds of contracts sold on this template."""
        return ContractTerms(self.kind, self.period_months, self.hours, self.on_expiry)

    def update(self, changes: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
        """Change name, period, hours or expiry option; the result must still suit its kind."""
        diff = apply_patch(self, changes, nullable=("period_months", "hours"))
        validate_contract_terms(self.terms())
        if diff:
            self.updated_at = now
            self.events.append(ContractTemplateChanged(replace(self, events=[]), "updated"))
        return diff


@dataclass(frozen=True)
class ContractTemplateChanged:
    """A contract template was created or changed (`change`)."""

    template: ContractTemplate
    change: str
