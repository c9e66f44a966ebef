"""Effective-dated versions (prices, cost books): which one is in force, and what a new one closes.

A version is in force on the half-open range [effective_from, effective_to); publishing a new
version ends the latest one on the new version's effective_from, so versions never overlap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from libs.platform.errors import FieldErrors, NotFound, ValidationFailed


class EffectiveDated(Protocol):
    """Anything with a version number and an effective range."""

    @property
    def version(self) -> int: ...

    @property
    def effective_from(self) -> date: ...

    @property
    def effective_to(self) -> date | None: ...


V = TypeVar("V", bound=EffectiveDated)


class NoVersionInForce(NotFound):
    """Nothing of an entity is in force on the asked date (404)."""

    def __init__(self, entity: str, entity_id: str, as_of: date) -> None:
        super().__init__(entity, entity_id)
        self.detail = f"{entity} {entity_id!r} has no version in force on {as_of.isoformat()}"
        self.args = (self.detail,)


@dataclass(frozen=True)
class VersionWindow:
    """The number and effective range of a version to publish."""

    version: int
    effective_from: date
    effective_to: date | None


def is_in_force(version: EffectiveDated, as_of: date) -> bool:
    """True when `as_of` falls in the version's [effective_from, effective_to)."""
    return version.effective_from <= as_of and (version.effective_to is None or as_of < version.effective_to)


def version_in_force(versions: Iterable[V], as_of: date, *, entity: str, entity_id: str) -> V:
    """The version in force on `as_of`, or NoVersionInForce (404)."""
    for version in versions:
        if is_in_force(version, as_of):
            return version
    raise NoVersionInForce(entity, entity_id, as_of)


def first_window(effective_from: date, effective_to: date | None) -> VersionWindow:
    """Version 1's window; refuses an end that is not after the start."""
    check_range(effective_from, effective_to)
    return VersionWindow(1, effective_from, effective_to)


def next_window(latest: EffectiveDated, effective_from: date, effective_to: date | None) -> VersionWindow:
    """The window of the version after `latest`; it must start after `latest` starts."""
    errors = FieldErrors()
    if effective_from <= latest.effective_from:
        errors.add(
            "effective_from",
            f"must be after the current version's effective_from ({latest.effective_from.isoformat()})",
        )
    if effective_to is not None and effective_to <= effective_from:
        errors.add("effective_to", "must be after effective_from")
    errors.raise_if_any("The new version's dates are invalid")
    return VersionWindow(latest.version + 1, effective_from, effective_to)


def check_range(effective_from: date, effective_to: date | None, *, to_field: str = "effective_to") -> None:
    """Refuse a half-open range whose end is not after its start."""
    if effective_to is not None and effective_to <= effective_from:
        raise ValidationFailed.single(to_field, "must be after the start of the range")


class Superseded(Protocol):
    """A published version whose end its successor sets."""

    effective_to: date | None


def supersede(latest: Superseded | None, successor: EffectiveDated) -> date | None:
    """End `latest` where `successor` starts; returns that end (None when there was no latest)."""
    if latest is None:
        return None
    # The one change a published version ever gets: its end, set by its successor.
    latest.effective_to = successor.effective_from
    return successor.effective_from
