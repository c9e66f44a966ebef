"""The port every service's handlers see: an abstract unit of work (cosmicpython's pattern).

A service's own port (`<service>/handlers/unit_of_work.py`) subclasses it and adds one abstract
repository per finance concept; `libs.platform.unit_of_work.UnitOfWork` is the SQL side of
the same contract, and each service's tests give handlers an in-memory fake of it. Nothing here
touches a database, so handlers may import it.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from datetime import date
from types import TracebackType
from typing import Any, Self, TypeVar

from libs.contracts.envelope import Envelope, EventPayload
from libs.platform.clock import SYSTEM_CLOCK, Clock, business_date

Record = TypeVar("Record")
Outgoing = tuple[EventPayload, str]
"""An event payload and its partition key, as the services' `events/` modules build them."""


class UnitOfWorkPort(abc.ABC):
    """One transaction of a use case: its changes, audit records and events, all or nothing."""

    actor: str
    clock: Clock = SYSTEM_CLOCK
    """Where the use case reads "now" (tests give a fixed clock)."""

    def business_date(self, time_zone: str) -> date:
        """Today in the IANA zone `time_zone`, by this unit of work's clock (DESIGN §6 "Time")."""
        return business_date(time_zone, now=self.clock.now())

    @abc.abstractmethod
    async def __aenter__(self) -> Self: ...

    @abc.abstractmethod
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    @abc.abstractmethod
    def audit(self, action: str, entity_type: str, entity_id: str, changes: dict[str, Any]) -> None:
        """Record who changed what, in this unit of work."""

    async def audit_many(self, records: Sequence[tuple[str, str, str, dict[str, Any]]]) -> None:
        """Record many changes at once — (action, entity type, entity id, changes) each — as `audit`
        would one by one (the SQL unit of work inserts them with one statement)."""
        for action, entity_type, entity_id, changes in records:
            self.audit(action, entity_type, entity_id, changes)

    @abc.abstractmethod
    def emit(self, payload: EventPayload, *, key: str, causation_id: str | None = None) -> Envelope:
        """Record an event to publish when (and only if) this unit of work commits."""

    def emit_serialized(
        self, payload_type: type[EventPayload], payload: dict[str, Any], *, key: str
    ) -> Envelope:
        """Record an event whose payload is already in its JSON form (`payload_type`'s
        `model_dump(mode="json")`, built by a producer's fast serializer on a hot path).

        This default validates it against the contract and emits it as `emit` does; the SQL unit
        of work takes it as it is (the producer's tests decode what it serializes with the
        contract), skipping a pydantic model per event.
        """
        return self.emit(payload_type.model_validate(payload), key=key)

    def emit_outgoing(self, outgoing: Outgoing) -> Envelope:
        """`emit` of a (payload, partition key) pair."""
        payload, key = outgoing
        return self.emit(payload, key=key)

    def emit_recorded(self, records: list[Record], outgoing_of: Callable[[Record], Outgoing]) -> None:
        """Emit, in order, every event an aggregate recorded (`outgoing_of` maps each to its contract
        and key), and empty its list so that none is emitted twice."""
        for record in records:
            self.emit_outgoing(outgoing_of(record))
        records.clear()

    @abc.abstractmethod
    async def commit(self) -> None:
        """Commit the staged changes, audit records and events together."""
