"""Wires the rating service: settings, database, outbox relay, consumers, and the unit of work handlers get.

`bootstrap` is the seam: the app gets units of work on the SQL repositories; give it another
factory (an in-memory fake, say) and the routes run the same handlers on that.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from libs.platform.auth import Principal
from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.service import ServiceRuntime
from rating.config import RatingSettings
from rating.consumers import consumer_specs
from rating.domain.usage_loads import UsageLoad
from rating.handlers import rated_usage, usage_loads
from rating.handlers.entitlements import SubscriptionMemory
from rating.handlers.price_cache import PriceCache
from rating.handlers.unit_of_work import RatingUnitOfWork
from rating.handlers.usage import IngestionRules
from rating.handlers.usage_aggregates import AggregateMemory
from rating.handlers.usage_guides import GuideMemory
from rating.handlers.usage_loads_port import UsageFileStore
from rating.jobs import periodic_jobs
from rating.repository.entitlements import SqlEntitlementReads
from rating.repository.unit_of_work import SqlRatingUnitOfWork, SqlReadOnlyRatingUnitOfWork
from rating.repository.usage_files import SpoolDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

UnitOfWorkFactory = Callable[[Principal | None], RatingUnitOfWork]
"""A new unit of work acting for a caller (or the system)."""


@dataclass
class RatingRuntime(ServiceRuntime):
    """The shared runtime plus the factory of the rating service's units of work."""

    unit_of_work_factory: UnitOfWorkFactory | None = None
    price_cache: PriceCache = field(default_factory=PriceCache)
    """Meters and prices kept in memory for entitlement checks (shared by this process's units of work)."""
    guide_memory: GuideMemory = field(default_factory=GuideMemory)
    """The usage guide of the read model's current generation (shared by this process's batches)."""
    check_memory: SubscriptionMemory = field(default_factory=SubscriptionMemory)
    """The subscriptions entitlement checks were asked about, of the read model's current generation."""
    aggregate_memory: AggregateMemory = field(default_factory=AggregateMemory)
    """The aggregates this process's usage batches wrote, while no other writer touched them."""
    usage_files: UsageFileStore | None = None
    """Where uploaded mediation files wait to be loaded (USAGE_LOAD_DIR)."""
    worker_name: str = field(default_factory=lambda: _worker_name())
    """Names this process as the worker of the usage loads it takes."""

    _entitlement_reads: SqlEntitlementReads | None = field(default=None, init=False, repr=False)

    def entitlement_reads(self) -> SqlEntitlementReads:
        """The statements entitlement checks read with (one read-only connection on SQLite)."""
        if self._entitlement_reads is None:
            self._entitlement_reads = SqlEntitlementReads(self.db)
        return self._entitlement_reads

    async def stop(self) -> None:
        """Stop the service's tasks, then close the checks' read-only connection."""
        await super().stop()
        if self._entitlement_reads is not None:
            await self._entitlement_reads.close()

    def usage_write_turn(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """Wait for this process's turn to write a usage batch: on SQLite one at a time, queued
        here rather than in SQLite's busy handler (which sleeps between tries and gives up after
        its timeout with "database is locked" — a 500 for a batch that only had to wait), and
        behind the batches of the other processes on the same file (`ServiceRuntime.write_turn`)."""
        return self.write_turn("usage")

    def rating_unit_of_work(self, principal: Principal | None = None) -> RatingUnitOfWork:
        """A unit of work for `principal`: the given factory's, or one on the service's database."""
        return self._unit_of_work(SqlRatingUnitOfWork, principal)

    def rating_read_unit_of_work(self, principal: Principal | None = None) -> RatingUnitOfWork:
        """A read-only unit of work (entitlement checks): no session unless a repository is used."""
        return self._unit_of_work(SqlReadOnlyRatingUnitOfWork, principal)

    def _unit_of_work(self, kind: type[SqlRatingUnitOfWork], principal: Principal | None) -> RatingUnitOfWork:
        if self.unit_of_work_factory is not None:
            return self.unit_of_work_factory(principal)
        base = self.unit_of_work(principal)
        return kind(
            base.db,
            producer=base.producer,
            actor=base.actor,
            on_commit=base.on_commit,
            clock=base.clock,
            price_cache=self.price_cache,
            guide_memory=self.guide_memory,
            entitlement_reads=self.entitlement_reads(),
            check_memory=self.check_memory,
            aggregate_memory=self.aggregate_memory,
        )

    async def close_periods(self) -> rated_usage.CloseReport:
        """Rate every ended period (the period close's timer runs this)."""
        settings = self.settings
        assert isinstance(settings, RatingSettings)
        return await rated_usage.close_periods(
            units_of_work=self.rating_unit_of_work, chunk_size=settings.period_close_chunk_size
        )

    def usage_file_store(self) -> UsageFileStore:
        """The spool of mediation files."""
        if self.usage_files is None:
            settings = self.settings
            assert isinstance(settings, RatingSettings)
            self.usage_files = SpoolDirectory(settings.resolved_usage_load_dir())
        return self.usage_files

    def usage_load_settings(self) -> usage_loads.LoadSettings:
        """How this process loads mediation files."""
        settings = self.settings
        assert isinstance(settings, RatingSettings)
        return usage_loads.LoadSettings(
            chunk_rows=settings.usage_load_chunk_rows,
            lease=timedelta(seconds=settings.usage_load_lease_s),
            rules=IngestionRules(max_future=timedelta(minutes=settings.usage_max_future_minutes)),
        )

    async def load_usage_files(self) -> list[UsageLoad]:
        """Load every mediation file waiting (the usage-load job runs this)."""
        return await usage_loads.load_pending_files(
            units_of_work=self.rating_unit_of_work,
            files=self.usage_file_store(),
            worker=self.worker_name,
            settings=self.usage_load_settings(),
        )


def _worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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
    runtime.periodic_jobs = periodic_jobs(runtime)
    return runtime
