"""What the rating service consumes: support-contract templates from the catalog (`rating.support`).

The file is here so every service has the same shape: its consumer groups go in
`consumer_specs`, each event parsed into its contract and handed to one handler with a unit of
work on the consumer's transaction (see provisioning's consumers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.catalog import ContractTemplateChanged
from libs.contracts.envelope import Envelope
from libs.contracts.registry import spec_of
from libs.contracts.topics import CATALOG_EVENTS
from libs.platform.service import ConsumerSpec
from rating.handlers import support_contracts
from rating.repository.unit_of_work import SqlRatingUnitOfWork

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

SUPPORT_GROUP = "rating.support"
"""Support-contract templates from the catalog (seed 004)."""


def consumer_specs(runtime: ServiceRuntime) -> list[ConsumerSpec]:
    """The consumer groups of the rating service, bound to its runtime."""
    return [
        support_consumer_spec(runtime),
    ]


def support_consumer_spec(runtime: ServiceRuntime) -> ConsumerSpec:
    """`rating.support`: keeps the catalog's support-contract templates, each as of its latest event."""

    async def on_template_changed(session: AsyncSession, envelope: Envelope) -> None:
        uow = SqlRatingUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor="catalog",
            session=session,
            clock=runtime.clock,
        )
        async with uow:
            await support_contracts.apply_contract_template(
                uow=uow,
                template=envelope.payload_as(ContractTemplateChanged),
                occurred_at=envelope.occurred_at,
            )

    return ConsumerSpec(
        group_id=SUPPORT_GROUP,
        topics=[CATALOG_EVENTS],
        handlers={spec_of(ContractTemplateChanged).type: on_template_changed},
    )
