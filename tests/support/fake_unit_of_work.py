"""The audit-and-outbox half of every service's in-memory unit of work (unit tests' fakes).

A service's fake (`tests/<service>/unit/fakes.py`) mixes this in before its own port and adds
its fake repositories; the port's `stage_recorded_events` turns the aggregates' recorded events
into envelopes, which count only once committed — as in the SQL unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from libs.contracts.envelope import Envelope, EventPayload
from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.outbox import build_envelope


@dataclass(frozen=True)
class AuditEntry:
    """An audit record a handler staged."""

    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, Any]


class FakeUnitOfWorkBase:
    """Audit records and events staged in memory and kept once committed; `commits` counts."""

    producer: str
    actor: str
    # Provided by the service's port, after this class in the method resolution order.
    stage_recorded_events: Callable[[], None]

    def start_fake(self, actor: str, clock: Clock = SYSTEM_CLOCK) -> None:
        """Empty books for a new fake acting for `actor`, reading "now" from `clock`."""
        self.actor = actor
        self.clock = clock
        self.commits = 0
        self.audits: list[AuditEntry] = []
        self.envelopes: list[Envelope] = []
        self._staged_audits: list[AuditEntry] = []
        self._staged_envelopes: list[Envelope] = []
        self._after_commit: list[Callable[[], None]] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._staged_audits, self._staged_envelopes, self._after_commit = [], [], []
        self.drop_uncommitted()

    def drop_uncommitted(self) -> None:
        """Forget what the aggregates recorded but nobody committed (a service may add to it)."""

    def audit(self, action: str, entity_type: str, entity_id: str, changes: dict[str, Any]) -> None:
        """Stage an audit record."""
        self._staged_audits.append(AuditEntry(action, entity_type, entity_id, changes))

    def emit(self, payload: EventPayload, *, key: str, causation_id: str | None = None) -> Envelope:
        """Stage an event."""
        envelope = build_envelope(payload, producer=self.producer, key=key, causation_id=causation_id)
        self._staged_envelopes.append(envelope)
        return envelope

    async def commit(self) -> None:
        """Keep what was staged, the aggregates' recorded events included."""
        self.stage_recorded_events()
        self.commits += 1
        self.audits += self._staged_audits
        self.envelopes += self._staged_envelopes
        self._staged_audits, self._staged_envelopes = [], []
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this unit of work commits (never if it does not)."""
        self._after_commit.append(callback)

    @property
    def event_types(self) -> list[str]:
        """Types of the committed events, oldest first."""
        return [envelope.type for envelope in self.envelopes]
