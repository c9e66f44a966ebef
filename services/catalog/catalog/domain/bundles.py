"""Bundles: several products sold together, each a quantity per bundle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from libs.platform.errors import FieldErrors


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
