"""What every catalog aggregate shares: recorded events and PATCH semantics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from libs.platform.errors import FieldErrors


class Aggregate(Protocol):
    """An entity the unit of work tracks: an id and the domain events it recorded."""

    id: str
    events: list[Any]


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
