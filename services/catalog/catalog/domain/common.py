"""What every catalog aggregate shares: recorded events, PATCH semantics, exact decimals as stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from libs.platform.errors import FieldErrors


class Aggregate(Protocol):
    """An entity the unit of work tracks: an id and the domain events it recorded."""

    id: str
    events: list[Any]


def plain(value: Decimal) -> Decimal:
    """The shortest exact form of a decimal (12.00 → 12), as the database gives it back."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return Decimal(format(value.normalize(), "f"))


def plain_or_none(value: Decimal | None) -> Decimal | None:
    """`plain` of a value that may be absent."""
    return None if value is None else plain(value)


def apply_patch(
    entity: Any, changes: Mapping[str, Any], *, nullable: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """Apply a PATCH to an entity; returns {field: {"before", "after"}} of what changed.

    A null clears only the fields in `nullable`; on any other field it is refused, because
    leaving a field out is how a client keeps its value.
    """
    errors = FieldErrors()
    for name, value in changes.items():
        if value is None and name not in nullable:
            errors.add(name, "may not be null; leave it out to keep the current value")
    errors.raise_if_any("The update is invalid")
    diff: dict[str, dict[str, Any]] = {}
    for name, value in changes.items():
        before = getattr(entity, name)
        if before != value:
            diff[name] = {"before": before, "after": value}
            setattr(entity, name, value)
    return diff
