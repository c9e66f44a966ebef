"""The catalog of event types: which topic each travels on and which payload model it has.

Payload models register themselves with `@event_type(...)`; the docs page of topics and
events (`make contracts-docs`) is generated from this registry, never written by hand.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from libs.contracts.envelope import EventPayload

P = TypeVar("P", bound=type[EventPayload])


@dataclass(frozen=True)
class EventSpec:
    """One event type: name, topic, payload model and schema version.

    `batchable` types are high-volume ones (usage-like) whose events may travel many to a Kafka
    message (DESIGN §4, `libs.contracts.batch`); the others always travel one per message.
    """

    type: str
    topic: str
    model: builtins.type[EventPayload]
    schema_version: int
    summary: str
    batchable: bool = False


EVENT_TYPES: dict[str, EventSpec] = {}


def event_type(
    name: str, *, topic: str, schema_version: int = 1, batchable: bool = False
) -> Callable[[P], P]:
    """Register a payload model as the payload of event type `name` on `topic`.

    `batchable=True` lets the outbox relay pack consecutive events of this type and key into one
    batch message; only for high-volume types whose consumers read batches.
    """

    def register(model: P) -> P:
        if name in EVENT_TYPES and EVENT_TYPES[name].model is not model:
            raise ValueError(f"event type {name} registered twice")
        summary = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
        EVENT_TYPES[name] = EventSpec(name, topic, model, schema_version, summary, batchable)
        model.__event_type__ = name  # type: ignore[attr-defined]
        return model

    return register


def spec_of(payload: EventPayload | type[EventPayload]) -> EventSpec:
    """The registered spec of a payload (instance or class)."""
    model = payload if isinstance(payload, type) else type(payload)
    name = getattr(model, "__event_type__", None)
    if name is None:
        raise LookupError(f"{model.__name__} is not a registered event payload")
    return EVENT_TYPES[name]


def is_batchable(event_type_name: str) -> bool:
    """True when events of this type may travel packed in batch messages (unknown types: no)."""
    spec = EVENT_TYPES.get(event_type_name)
    return spec is not None and spec.batchable


def unsupported_version(type_name: str, schema_version: int) -> str | None:
    """Why this code must not read an event of `type_name` at `schema_version` (None when it may).

    `schema_version` is the payload's major version: a higher one than registered here is a
    breaking change this code predates, so its handler would misread it. A type this code has
    not registered is not judged here (nothing consumes it).
    """
    spec = EVENT_TYPES.get(type_name)
    if spec is None or schema_version <= spec.schema_version:
        return None
    return (
        f"schema_version {schema_version} of {type_name} is newer than this consumer knows "
        f"(it knows up to {spec.schema_version})"
    )
