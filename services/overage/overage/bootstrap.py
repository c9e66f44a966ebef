"""Wires the overage service: settings, database, outbox relay, consumers, and the unit of work
handlers get.

`bootstrap` is the seam: the app gets units of work on the SQL repositories; give it another
factory (an in-memory fake, say) and the routes run the same handlers on that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from libs.platform.auth import Principal
from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.service import ServiceRuntime
from overage.config import OverageSettings
from overage.consumers import consumer_specs
from overage.handlers.unit_of_work import OverageUnitOfWork
from overage.repository.unit_of_work import SqlOverageUnitOfWork

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

UnitOfWorkFactory = Callable[[Principal | None], OverageUnitOfWork]
"""A new unit of work acting for a caller (or the system)."""


@dataclass
class OverageRuntime(ServiceRuntime):
    """The shared runtime plus the factory of the overage service's units of work."""

    unit_of_work_factory: UnitOfWorkFactory | None = None

    def overage_unit_of_work(self, principal: Principal | None = None) -> OverageUnitOfWork:
        """A unit of work for `principal`: the given factory's, or one on the service's database."""
        if self.unit_of_work_factory is not None:
            return self.unit_of_work_factory(principal)
        base = self.unit_of_work(principal)
        return SqlOverageUnitOfWork(
            base.db, producer=base.producer, actor=base.actor, on_commit=base.on_commit, clock=base.clock
        )


def bootstrap(
    settings: OverageSettings | None = None,
    *,
    unit_of_work: UnitOfWorkFactory | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> OverageRuntime:
    """Build the runtime of the overage service (SQL units of work unless a factory is given)."""
    runtime = OverageRuntime(
        settings=settings or OverageSettings(),
        migrations_dir=MIGRATIONS_DIR,
        clock=clock,
        unit_of_work_factory=unit_of_work,
    )
    runtime.consumer_specs = consumer_specs(runtime)
    return runtime
