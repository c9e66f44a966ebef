"""Wires the overage service: settings, database, outbox relay, consumers, background work, and
the unit of work handlers get.

`bootstrap` is the seam: the app gets units of work on the SQL repositories; give it another
factory (an in-memory fake, say) and the routes run the same handlers on that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from libs.platform.auth import Principal
from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.group_commit import GroupCommit
from libs.platform.service import PeriodicJob, ServiceRuntime
from overage.config import OverageSettings
from overage.consumers import consumer_specs
from overage.domain.rejections import RejectionPolicy
from overage.handlers import cases, notices, webhook_calls
from overage.handlers.unit_of_work import OverageUnitOfWork
from overage.handlers.webhook_calls import CallOutcome, WebhookCall
from overage.repository.unit_of_work import SqlOverageUnitOfWork

VENDORS_REMEMBERED_S = 1.0
"""How long the webhook's writer remembers a vendor's secrets (`webhook_calls.VendorsRead`)."""
WEBHOOK_BUSY_S = 0.1
"""The webhook counts as busy while its last group was written this recently."""
VENDORS_REMEMBERED_S = 1.0
"""How long the webhook's writer remembers a vendor's secrets (`webhook_calls.VendorsRead`)."""
WEBHOOK_BUSY_S = 0.1
"""The webhook counts as busy while its last group was written this recently."""
WORKER_MAX_PAUSE_S = 1.0
"""The longest the notice worker waits between two chunks for the webhook to pause."""
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

UnitOfWorkFactory = Callable[[Principal | None], OverageUnitOfWork]
"""A new unit of work acting for a caller (or the system)."""


@dataclass
class OverageRuntime(ServiceRuntime):
    """The shared runtime plus the factory of the overage service's units of work."""

    unit_of_work_factory: UnitOfWorkFactory | None = None
    webhook_intake: GroupCommit[WebhookCall, CallOutcome] = field(init=False)
    """The webhook's calls, verified and stored in groups (one transaction for the calls that
    arrive together; `overage.handlers.webhook_calls`)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.webhook_vendors = webhook_calls.VendorsRead(ttl_s=VENDORS_REMEMBERED_S)
        self.webhook_intake = GroupCommit("overage-webhook", self._store_webhook_calls)
        self.group_commits = [self.webhook_intake]

    async def _store_webhook_calls(self, calls: Sequence[WebhookCall]) -> list[CallOutcome]:
        async with self.db.write_turn():
            return await webhook_calls.store_call_groups(
                calls,
                units_of_work=self.overage_unit_of_work,
                master_key=self.overage_settings.resolved_webhook_secret_key(),
                vendors=self.webhook_vendors,
                refusals=self.rejection_policy,
            )

    @property
    def rejection_policy(self) -> RejectionPolicy:
        """How refused webhook calls are counted (`REJECTION_WINDOW_S`, `REJECTION_RECORDS_PER_WINDOW`)."""
        settings = self.overage_settings
        return RejectionPolicy(settings.rejection_window_s, settings.rejection_records_per_window)

    @property
    def overage_settings(self) -> OverageSettings:
        """The service's own settings."""
        settings = self.settings
        assert isinstance(settings, OverageSettings)
        return settings

    def overage_unit_of_work(self, principal: Principal | None = None) -> OverageUnitOfWork:
        """A unit of work for `principal`: the given factory's, or one on the service's database."""
        if self.unit_of_work_factory is not None:
            return self.unit_of_work_factory(principal)
        base = self.unit_of_work(principal)
        return SqlOverageUnitOfWork(
            base.db, producer=base.producer, actor=base.actor, on_commit=base.on_commit, clock=base.clock
        )

    async def work_notices(self) -> int:
        """Work every stored notice not worked yet (the notice worker's timer runs this)."""
        return await notices.work_waiting_notices(batches=self.notice_batch, pace=self._give_way_to_webhook)

    async def _give_way_to_webhook(self, chunk_seconds: float) -> None:
        """While the webhook's calls keep coming, the worker gives way: after a chunk it waits
        until the calls pause, but never longer than `WORKER_MAX_PAUSE_S` (a flood that never
        stops still gets its notices worked, a chunk a pause). Acknowledging a notice (durable) is
        what the vendor waits for; working it can follow — a notice costs the worker several
        times what its acknowledgement costs, and on two cores the two would share the CPU."""
        del chunk_seconds
        deadline = time.monotonic() + WORKER_MAX_PAUSE_S
        while True:
            now = time.monotonic()
            quiet_in = self.webhook_intake.stats.last_group_at + WEBHOOK_BUSY_S - now
            if quiet_in <= 0 or now >= deadline:
                return
            await asyncio.sleep(min(quiet_in, deadline - now))

    @asynccontextmanager
    async def notice_batch(self) -> AsyncIterator[OverageUnitOfWork]:
        """One transaction for a chunk of the worker's notices, in this process's write turn (so
        the webhook's group commit waits behind one chunk at most, never in SQLite's busy handler)."""
        if self.unit_of_work_factory is not None:  # the seam: a fake's units of work commit themselves
            async with self.unit_of_work_factory(None) as given:
                yield given
            return
        async with self.db.write_turn(), self.db.sessions() as session:
            uow = SqlOverageUnitOfWork(
                self.db, producer=self.settings.service_name, session=session, clock=self.clock
            )
            try:
                yield uow
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        if self.relay is not None:
            self.relay.wakeup.set()

    async def escalate_overdue(self) -> int:
        """Escalate overdue cases (the escalation timer runs this)."""
        return await cases.escalate_overdue(
            units_of_work=self.overage_unit_of_work, deadline_days=self.overage_settings.case_deadline_days
        )


def bootstrap(
    settings: OverageSettings | None = None,
    *,
    unit_of_work: UnitOfWorkFactory | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> OverageRuntime:
    """Build the runtime of the overage service (SQL units of work unless a factory is given)."""
    settings = settings or OverageSettings()
    runtime = OverageRuntime(
        settings=settings, migrations_dir=MIGRATIONS_DIR, clock=clock, unit_of_work_factory=unit_of_work
    )
    runtime.consumer_specs = consumer_specs(runtime)
    runtime.periodic_jobs = [
        PeriodicJob(
            "overage-notices", settings.notice_worker_interval_s, runtime.work_notices, first_run_after_s=0.2
        ),
        PeriodicJob("overage-escalations", settings.escalation_interval_s, runtime.escalate_overdue),
    ]
    return runtime
