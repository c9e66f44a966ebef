"""Event routes: the one way a consumer group maps event types to a service's handlers.

Every consumer does the same three things per event: open the service's unit of work on the
consumer's transaction (so the effect, the inbox row and any outbox rows commit together),
parse the payload into the exact contract of its type, and call a handler. `EventRoutes`
does them once for all:

    routes = EventRoutes(unit_of_work)             # session -> the service's unit of work
    routes.on(ACCOUNT_PROFILE_EVENTS, apply_account)   # apply(uow, payload, envelope)
    routes.on_batch(UsageRated, apply_usage)           # apply(uow, payloads): one call per message
    ConsumerSpec(group_id=..., topics=[...], handlers=routes.handlers)

A batch route is registered idempotent (one inbox row per message, none per item): its handler
must apply each item at most once by a key of its own (`libs.platform.batch_handlers`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Generic, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import spec_of
from libs.platform.batch_handlers import BatchEventHandler
from libs.platform.inbox import EventHandler

UnitOfWorkT = TypeVar("UnitOfWorkT")
PayloadT = TypeVar("PayloadT", bound=EventPayload)

__all__ = ["EventRoutes"]


class EventRoutes(Generic[UnitOfWorkT]):
    """Event type → handler, each handler given a unit of work and the parsed contract."""

    def __init__(self, unit_of_work: Callable[[AsyncSession], UnitOfWorkT]) -> None:
        self._unit_of_work = unit_of_work
        self.handlers: dict[str, EventHandler] = {}

    def on(
        self,
        models: type[PayloadT] | Iterable[type[PayloadT]],
        apply: Callable[[UnitOfWorkT, PayloadT, Envelope], Awaitable[object]],
    ) -> None:
        """Route each of `models` (one contract, or several sharing a handler) to `apply`."""
        for model in (models,) if isinstance(models, type) else tuple(models):
            self._route(model, apply)

    def on_batch(
        self, model: type[PayloadT], apply: Callable[[UnitOfWorkT, list[PayloadT]], Awaitable[object]]
    ) -> None:
        """Route `model` to `apply`, called once with every item of a batch message."""
        unit_of_work = self._unit_of_work

        async def handle(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
            await apply(unit_of_work(session), [envelope.payload_as(model) for envelope in envelopes])

        self.handlers[spec_of(model).type] = BatchEventHandler(handle, idempotent=True)

    def _route(
        self, model: type[PayloadT], apply: Callable[[UnitOfWorkT, PayloadT, Envelope], Awaitable[object]]
    ) -> None:
        unit_of_work = self._unit_of_work

        async def handle(session: AsyncSession, envelope: Envelope) -> None:
            await apply(unit_of_work(session), envelope.payload_as(model), envelope)

        self.handlers[spec_of(model).type] = handle
