"""Wires the rating service: settings, database, outbox relay, consumers, and the unit of work handlers get.

`bootstrap` is the seam: the app gets units of work on the SQL repositories; give it another
factory (an in-memory fake, say) and the routes run the same handlers on that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from libs.platform.auth import Principal
from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.service import ServiceRuntime
from rating.config import RatingSettings
from rating.consumers import consumer_specs
from rating.handlers.unit_of_work import RatingUnitOfWork
from rating.jobs import periodic_jobs, run_periodically
from rating.repository.unit_of_work import SqlRatingUnitOfWork

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

UnitOfWorkFactory = Callable[[Principal | None], RatingUnitOfWork]
"""A new unit of work acting for a caller (or the system)."""


@dataclass
class RatingRuntime(ServiceRuntime):
    """The shared runtime plus the factory of the rating service's units of work."""

    unit_of_work_factory: UnitOfWorkFactory | None = None

    def rating_unit_of_work(self, principal: Principal | None = None) -> RatingUnitOfWork:
        """A unit of work for `principal`: the given factory's, or one on the service's database."""
        if self.unit_of_work_factory is not None:
            return self.unit_of_work_factory(principal)
        base = self.unit_of_work(principal)
        return SqlRatingUnitOfWork(
            base.db, producer=base.producer, actor=base.actor, on_commit=base.on_commit, clock=base.clock
        )

    async def start(self) -> None:
        """Start what every service runs, then the rating service's periodic jobs (`rating.jobs`)."""
        await super().start()
        for job in periodic_jobs(self):
            self._tasks.append(asyncio.create_task(run_periodically(job, self._stop), name=f"job-{job.name}"))


def bootstrap(
    settings: RatingSettings | None = None,
    *,
    unit_of_work: UnitOfWorkFactory | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> RatingRuntime:
    """Build the runtime of the rating service (SQL units of work unless a factory is given)."""
    runtime = RatingRuntime(
        settings=settings or RatingSettings(),
        migrations_dir=MIGRATIONS_DIR,
        clock=clock,
        unit_of_work_factory=unit_of_work,
    )
    runtime.consumer_specs = consumer_specs(runtime)
    return runtime
