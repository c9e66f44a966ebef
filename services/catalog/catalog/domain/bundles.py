"""Bundles: several products sold together, each a quantity per bundle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from libs.platform.errors import FieldErrors

from .common import apply_patch


@dataclass(frozen=True)
class BundleComponent:
    """One product in a bundle and how many of it one bundle holds."""

    product_id: str
    quantity: Decimal


def validate_components(components: Sequence[BundleComponent]) -> None:
    """A bundle has at least one component, each product once, each with a quantity above zero."""
    errors = FieldErrors()
    if not components:
        errors.add("components", "a bundle needs at least one component", "required")
    seen: set[str] = set()
    for index, component in enumerate(components):
        if component.quantity <= 0:
            errors.add(f"components.{index}.quantity", "must be greater than 0")
        if component.product_id in seen:
            errors.add(f"components.{index}.product_id", "is already a component of this bundle")
        seen.add(component.product_id)
    errors.raise_if_any("The bundle is invalid")


def expand(components: Sequence[BundleComponent], bundles: Decimal) -> list[BundleComponent]:
    """The component quantities for `bundles` bundles."""
    return [BundleComponent(c.product_id, c.quantity * bundles) for c in components]


@dataclass
class Bundle:
    """Products sold together; records `BundleChanged` when it is created or changed."""

    id: str
    name: str
    description: str | None
    components: tuple[BundleComponent, ...]
    active: bool
    created_at: datetime
    updated_at: datetime
    events: list[Any] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        *,
        id: str,
        name: str,
        description: str | None,
        components: Sequence[BundleComponent],
        now: datetime,
    ) -> Bundle:
        """A new, active bundle of valid components."""
        validate_components(components)
        bundle = cls(id, name, description, tuple(components), True, now, now)
        bundle.events.append(BundleChanged(replace(bundle, events=[]), "created"))
        return bundle

    def update(self, changes: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
        """Change name, description, components or activity; returns the audit diff."""
        if changes.get("components") is not None:
            validate_components(changes["components"])
        diff = apply_patch(self, changes, nullable=("description",))
        if diff:
            self.updated_at = now
            self.events.append(BundleChanged(replace(self, events=[]), "updated"))
        return diff


@dataclass(frozen=True)
class BundleChanged:
    """A bundle was created or changed (`change`)."""

    bundle: Bundle
    change: str
