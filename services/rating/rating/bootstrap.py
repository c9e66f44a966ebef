"""Wires the rating service: settings, database, outbox relay, consumers, and the unit of work handlers get.

`bootstrap` is the seam: the app gets units of work on the SQL repositories; give it another
factory (an in-memory fake, say) and the routes run the same handlers on that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from libs.platform.auth import Principal
from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.service import PeriodicJob, ServiceRuntime
from rating.config import RatingSettings
from rating.consumers import consumer_specs
from rating.handlers import rated_usage
from rating.handlers.price_cache import PriceCache
from rating.handlers.unit_of_work import RatingUnitOfWork
from rating.repository.unit_of_work import SqlRatingUnitOfWork

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

UnitOfWorkFactory = Callable[[Principal | None], RatingUnitOfWork]
"""A new unit of work acting for a caller (or the system)."""


@dataclass
class RatingRuntime(ServiceRuntime):
    """The shared runtime plus the factory of the rating service's units of work."""

    unit_of_work_factory: UnitOfWorkFactory | None = None
    price_cache: PriceCache = field(default_factory=PriceCache)
    """Meters and prices kept in memory for entitlement checks (shared by this process's units of work)."""

    def rating_unit_of_work(self, principal: Principal | None = None) -> RatingUnitOfWork:
        """A unit of work for `principal`: the given factory's, or one on the service's database."""
        if self.unit_of_work_factory is not None:
            return self.unit_of_work_factory(principal)
        base = self.unit_of_work(principal)
        return SqlRatingUnitOfWork(
            base.db,
            producer=base.producer,
            actor=base.actor,
            on_commit=base.on_commit,
            clock=base.clock,
            price_cache=self.price_cache,
        )

    async def close_periods(self) -> rated_usage.CloseReport:
        """Rate every ended period (the period close's timer runs this)."""
        settings = self.settings
        assert isinstance(settings, RatingSettings)
        return await rated_usage.close_periods(
            units_of_work=self.rating_unit_of_work, chunk_size=settings.period_close_chunk_size
        )


def bootstrap(
    settings: RatingSettings | None = None,
    *,
    unit_of_work: UnitOfWorkFactory | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> RatingRuntime:
    """Build the runtime of the rating service (SQL units of work unless a factory is given)."""
    settings = settings or RatingSettings()
    runtime = RatingRuntime(
        settings=settings,
        migrations_dir=MIGRATIONS_DIR,
        clock=clock,
        unit_of_work_factory=unit_of_work,
        price_cache=PriceCache(ttl_s=settings.price_cache_ttl_s),
    )
    runtime.consumer_specs = consumer_specs(runtime)
    runtime.periodic_jobs = [
        PeriodicJob("period-close", settings.period_close_interval_s, runtime.close_periods),
    ]
    return runtime
