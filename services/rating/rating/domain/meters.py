"""Meters: what is counted and how — a code events name, an aggregation, a filter, a product.

A usage event names a meter by its code. The meter says how its events make one quantity per
subscription and billing period (`Aggregation`), which events count at all (`filter`: every
listed property must hold one of its allowed values) and which catalog product's usage price
rates the quantity. A meter's code and aggregation never change once events may have used it;
its name and filter may, and a meter can be deactivated (new events naming it are refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from libs.platform.errors import FieldErrors, ValidationFailed


class Aggregation(StrEnum):
    """How a meter's events in one period make its quantity."""

    SUM = "sum"
    """The sum of the events' quantities."""
    COUNT = "count"
    """The number of events (their quantities are not used)."""
    MAX = "max"
    """The largest quantity of an event."""
    UNIQUE_COUNT = "unique_count"
    """The number of distinct values of one property (`Meter.property`)."""
    LATEST = "latest"
    """The quantity of the event with the latest timestamp (a gauge: storage in use, seats)."""


PropertyValue = str | int | bool
MeterFilter = Mapping[str, frozenset[str]]
"""{property: allowed values}: an event counts only when every listed property holds one of them."""


def property_text(value: PropertyValue) -> str:
    """A property value as filters and distinct counts compare it: `true`/`false`, digits, or the text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return value


@dataclass
class Meter:
    """A meter; `events` holds what it recorded (audit only: meters publish nothing)."""

    id: str
    code: str
    name: str
    unit_of_measure: str
    aggregation: Aggregation
    property: str | None
    filter: MeterFilter | None
    product_id: str
    active: bool
    created_at: datetime
    updated_at: datetime
    events: list[Any] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        *,
        id: str,
        code: str,
        name: str,
        unit_of_measure: str,
        aggregation: Aggregation,
        property: str | None,
        filter: MeterFilter | None,
        product_id: str,
        now: datetime,
    ) -> Meter:
        """A new, active meter; a unique-count meter must name the property it counts."""
        check_meter_terms(aggregation, property)
        return cls(
            id=id,
            code=code,
            name=name,
            unit_of_measure=unit_of_measure,
            aggregation=aggregation,
            property=property,
            filter=filter or None,
            product_id=product_id,
            active=True,
            created_at=now,
            updated_at=now,
        )

    def update(self, changes: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
        """Change the name, filter or activity (code and aggregation stay); returns the audit diff."""
        errors = FieldErrors()
        for name, value in changes.items():
            if name not in {"name", "filter", "active"}:
                errors.add(name, "cannot be changed: create a new meter instead", "immutable")
            elif value is None and name != "filter":
                errors.add(name, "may not be null; leave it out to keep the current value")
        errors.raise_if_any("The update is invalid")
        diff: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "filter":
                value = value or None
            before = getattr(self, name)
            if before != value:
                diff[name] = {"before": _plain(before), "after": _plain(value)}
                setattr(self, name, value)
        if diff:
            self.updated_at = now
        return diff

    def admits(self, properties: Mapping[str, PropertyValue]) -> bool:
        """Tell whether an event with these properties passes the meter's filter (counts)."""
        if not self.filter:
            return True
        for name, allowed in self.filter.items():
            value = properties.get(name)
            if value is None or property_text(value) not in allowed:
                return False
        return True

    def distinct_value(self, properties: Mapping[str, PropertyValue]) -> str | None:
        """The value a unique-count meter counts in these properties (None if it is absent)."""
        if self.property is None:
            return None
        value = properties.get(self.property)
        return None if value is None else property_text(value)

    def snapshot(self) -> Meter:
        """A copy without recorded events (what an audit entry shows)."""
        return replace(self, events=[])


def check_meter_terms(aggregation: Aggregation, property: str | None) -> None:
    """Refuse a unique-count meter without a property, and a property on any other meter (422)."""
    if aggregation is Aggregation.UNIQUE_COUNT and not property:
        raise ValidationFailed.single(
            "property", "a unique_count meter counts distinct values of a property: name it", "required"
        )
    if aggregation is not Aggregation.UNIQUE_COUNT and property is not None:
        raise ValidationFailed.single(
            "property", f"only a unique_count meter names a property, not a {aggregation.value} meter"
        )


def _plain(value: Any) -> Any:
    # Audit diffs show filters as the API does: {property: sorted values}.
    if isinstance(value, Mapping):
        return {k: sorted(v) for k, v in value.items()}
    return value
