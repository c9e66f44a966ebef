"""What the invoicing service consumes.

- `invoicing.bill_runs` (`invoicing.events`): `bill_run.chunk_requested`, the chunks of accounts
  a bill run fans out; each is billed once on the consumer's transaction, together with its
  inbox row and the chunk's counts (`invoicing.handlers.bill_run_chunks.apply_chunk`). Every
  invoicing replica joins the group, so a run's chunks are shared by all of them. A chunk that
  arrives before this process has account billing wired is retried, then parked as a dead
  letter (replay it once wired).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.handlers.bill_run_chunks import apply_chunk
from invoicing.repository.unit_of_work import SqlInvoicingUnitOfWork
from libs.contracts.bill_runs import BillRunChunkRequested
from libs.contracts.envelope import Envelope
from libs.contracts.registry import spec_of
from libs.contracts.topics import INVOICING_EVENTS
from libs.platform.errors import RetryableError
from libs.platform.service import ConsumerSpec

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

BILL_RUNS_GROUP = "invoicing.bill_runs"


def consumer_specs(runtime: ServiceRuntime) -> list[ConsumerSpec]:
    """The consumer groups of the invoicing service, bound to its runtime."""
    return [bill_runs_consumer(runtime)]


def bill_runs_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`invoicing.bill_runs`: bills each chunk of a run once (see the module)."""

    async def on_chunk(session: AsyncSession, envelope: Envelope) -> None:
        billing = getattr(runtime, "account_billing", None)
        if billing is None:
            raise RetryableError("no account billing is wired in this process")
        uow = SqlInvoicingUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor=BILL_RUNS_GROUP,
            session=session,
            clock=runtime.clock,
        )
        await apply_chunk(uow, billing=billing, request=envelope.payload_as(BillRunChunkRequested))

    return ConsumerSpec(
        group_id=BILL_RUNS_GROUP,
        topics=[INVOICING_EVENTS],
        handlers={spec_of(BillRunChunkRequested).type: on_chunk},
    )
