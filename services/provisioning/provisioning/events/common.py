"""What every event mapper shares: what it returns, and taking an aggregate's recorded events."""

from __future__ import annotations

from typing import Any

from libs.contracts.envelope import EventPayload

Outgoing = tuple[EventPayload, str]
"""A contract payload and the partition key it is published under (the account, mostly)."""


def taken(aggregate: Any) -> list[Any]:
    """The domain events an aggregate recorded, removed from it so each leaves the service once."""
    events = list(aggregate.events)
    aggregate.events.clear()
    return events
