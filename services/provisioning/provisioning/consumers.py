"""What provisioning consumes.

- `provisioning.collections` (`invoicing.events`): collections' requests to suspend or resume an
  account's subscriptions (`provisioning.handlers.collections`).
- `provisioning.overage` (`overage.events`): `overage.licenses_kept`, a customer's decision to keep
  the extra licenses of a vendor overage: the subscription's quantity rises to them
  (`provisioning.handlers.overage_amendments`).

Each handler runs in the consumer's transaction: its effects, the inbox entry and the outbox rows
of the events it causes commit together, so a redelivered request changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.collections import ResumeRequested, SuspendRequested
from libs.contracts.envelope import Envelope
from libs.contracts.overage import OverageLicensesKept
from libs.contracts.topics import INVOICING_EVENTS, OVERAGE_EVENTS
from libs.platform.event_routes import EventRoutes
from libs.platform.service import ConsumerSpec
from provisioning.handlers import collections
from provisioning.handlers.overage_amendments import OVERAGE_ACTOR, apply_licenses_kept
from provisioning.repository.unit_of_work import SqlProvisioningUnitOfWork

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

COLLECTIONS_GROUP = "provisioning.collections"
OVERAGE_GROUP = "provisioning.overage"


def consumer_specs(runtime: ServiceRuntime) -> list[ConsumerSpec]:
    """The consumer groups of the service, bound to its database."""

    def units_of_work(actor: str) -> Callable[[AsyncSession], SqlProvisioningUnitOfWork]:
        def unit_of_work(session: AsyncSession) -> SqlProvisioningUnitOfWork:
            return SqlProvisioningUnitOfWork(
                runtime.db,
                producer=runtime.settings.service_name,
                actor=actor,
                session=session,
                clock=runtime.clock,
            )

        return unit_of_work

    async def on_suspend(uow: SqlProvisioningUnitOfWork, request: SuspendRequested, _: Envelope) -> None:
        await collections.apply_collections_request(uow=uow, request=request, suspend=True)

    async def on_resume(uow: SqlProvisioningUnitOfWork, request: ResumeRequested, _: Envelope) -> None:
        await collections.apply_collections_request(uow=uow, request=request, suspend=False)

    async def on_licenses_kept(
        uow: SqlProvisioningUnitOfWork, decision: OverageLicensesKept, _: Envelope
    ) -> None:
        await apply_licenses_kept(uow=uow, decision=decision)

    collections_routes = EventRoutes(units_of_work("collections"))
    collections_routes.on(SuspendRequested, on_suspend)
    collections_routes.on(ResumeRequested, on_resume)
    overage_routes = EventRoutes(units_of_work(OVERAGE_ACTOR))
    overage_routes.on(OverageLicensesKept, on_licenses_kept)
    return [
        ConsumerSpec(
            group_id=COLLECTIONS_GROUP, topics=[INVOICING_EVENTS], handlers=collections_routes.handlers
        ),
        ConsumerSpec(group_id=OVERAGE_GROUP, topics=[OVERAGE_EVENTS], handlers=overage_routes.handlers),
    ]
