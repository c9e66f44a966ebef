"""What provisioning consumes: collections actions from invoicing (`invoicing.events`).

Each handler runs in the consumer's transaction: its effects, the inbox entry and the outbox
rows of the events it causes commit together, so a redelivered request changes nothing twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.collections import ResumeRequested, SuspendRequested
from libs.contracts.envelope import Envelope
from libs.contracts.registry import spec_of
from libs.contracts.topics import INVOICING_EVENTS
from libs.platform.service import ConsumerSpec
from provisioning.handlers import collections
from provisioning.repository.unit_of_work import SqlProvisioningUnitOfWork

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

COLLECTIONS_GROUP = "provisioning.collections"


def consumer_specs(runtime: ServiceRuntime) -> list[ConsumerSpec]:
    """The consumer groups of the service, bound to its database."""

    def unit_of_work(session: AsyncSession) -> SqlProvisioningUnitOfWork:
        return SqlProvisioningUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor="collections",
            session=session,
            clock=runtime.clock,
        )

    async def on_suspend(session: AsyncSession, envelope: Envelope) -> None:
        request = envelope.payload_as(SuspendRequested)
        await collections.apply_collections_request(uow=unit_of_work(session), request=request, suspend=True)

    async def on_resume(session: AsyncSession, envelope: Envelope) -> None:
        request = envelope.payload_as(ResumeRequested)
        await collections.apply_collections_request(uow=unit_of_work(session), request=request, suspend=False)

    return [
        ConsumerSpec(
            group_id=COLLECTIONS_GROUP,
            topics=[INVOICING_EVENTS],
            handlers={spec_of(SuspendRequested).type: on_suspend, spec_of(ResumeRequested).type: on_resume},
        )
    ]
