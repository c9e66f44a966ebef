"""The unit of work: one database transaction holding a change, the events it causes (outbox)
and its audit records — committed together or not at all (STYLE §5).

Handlers call `uow.emit(...)` and `uow.audit(...)`; nothing is sent to the broker from business
code. Services subclass it and name their repositories once, in `bind_repositories`, which runs
whenever the unit of work gets its session: at `__aenter__`, or at once when it is built on a
consumer's session (the inbox, the effect and the outbox then share one transaction). Tests use
an in-memory fake.

Inside a request with an `Idempotency-Key`, `commit()` hands the transaction to the request
instead of committing it, so the stored response commits in the same transaction as the change
(libs/platform/idempotency.py explains why).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import Envelope, EventPayload
from libs.platform.audit import AuditChange, add_audit_records, new_audit_record
from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.db import Database
from libs.platform.idempotent_requests import current_idempotent_request
from libs.platform.logging import current_correlation_id
from libs.platform.outbox import add_to_outbox
from libs.platform.outbox_envelopes import build_envelope, build_serialized_envelope

SYSTEM_ACTOR = "system"


class UnitOfWork:
    """A transaction on the service's own database plus its outbox and audit rows."""

    def __init__(
        self,
        db: Database,
        *,
        producer: str,
        actor: str = SYSTEM_ACTOR,
        on_commit: Callable[[], None] | None = None,
        session: AsyncSession | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.db = db
        self.clock = clock
        self.producer = producer
        self.actor = actor
        self.on_commit = on_commit
        self._external_session = session
        self.session: AsyncSession = session  # type: ignore[assignment]
        self.envelopes: list[Envelope] = []
        if session is not None:
            self.bind_repositories()

    def bind_repositories(self) -> None:
        """Set the service's repositories on `self.session` (a service's unit of work overrides it)."""

    async def __aenter__(self) -> Self:
        if self._external_session is None:
            self.session = self.db.sessions()
            self.bind_repositories()
        self.envelopes = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        request = current_idempotent_request()
        if self._external_session is None and not (request is not None and request.owns(self.session)):
            await self.session.rollback()
            await self.session.close()

    def emit(self, payload: EventPayload, *, key: str, causation_id: str | None = None) -> Envelope:
        """Record an event to publish when (and only if) this unit of work commits."""
        envelope = build_envelope(payload, producer=self.producer, key=key, causation_id=causation_id)
        self.envelopes.append(envelope)
        return envelope

    def emit_serialized(
        self, payload_type: type[EventPayload], payload: dict[str, Any], *, key: str
    ) -> Envelope:
        """Record an event whose payload is already its contract's JSON form (not validated again:
        see `UnitOfWorkPort.emit_serialized`), to publish when this unit of work commits."""
        envelope = build_serialized_envelope(payload_type, payload, producer=self.producer, key=key)
        self.envelopes.append(envelope)
        return envelope

    def audit(self, action: str, entity_type: str, entity_id: str, changes: dict[str, Any]) -> None:
        """Record who changed what, in this transaction."""
        self.session.add(
            new_audit_record(
                actor=self.actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                changes=changes,
                correlation_id=current_correlation_id(),
            )
        )

    async def audit_many(self, records: Sequence[AuditChange]) -> None:
        """Record many changes at once, inserted now in this transaction with one statement (a
        savepoint rolled back takes them back too)."""
        await add_audit_records(
            self.session, records, actor=self.actor, correlation_id=current_correlation_id()
        )

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[object]:
        """A SAVEPOINT: what the block writes, and the events it emits, are undone alone when it
        raises (the outbox gets only what the committed transaction did)."""
        emitted = len(self.envelopes)
        try:
            async with self.session.begin_nested() as nested:
                yield nested
        except BaseException:
            del self.envelopes[emitted:]
            raise

    async def flush(self) -> None:
        """Send pending changes to the database without committing (to see constraint errors)."""
        await self.session.flush()

    async def commit(self) -> None:
        """Commit the change, its outbox rows and audit rows in one transaction."""
        await add_to_outbox(self.session, self.envelopes)
        request = current_idempotent_request()
        if self._external_session is None and request is not None:
            await request.adopt(self.session, self.on_commit)
            self.envelopes = []
            return  # committed by the request, together with its stored response
        if self._external_session is None:
            await self.session.commit()
        else:
            await self.session.flush()
        self.envelopes = []
        if self.on_commit is not None:
            self.on_commit()

    async def rollback(self) -> None:
        """Drop everything staged."""
        self.envelopes = []
        await self.session.rollback()
