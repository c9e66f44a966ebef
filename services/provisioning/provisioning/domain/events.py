"""The base of every event the provisioning aggregates record.

Aggregates append events to `self.events`; the unit of work collects them after the change is
committed and writes them to the outbox, so domain code never talks to the bus itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened in provisioning, named in the past tense."""
