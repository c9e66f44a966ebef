"""Wires the provisioning service: settings, database, outbox relay, consumers and the catalog.

`bootstrap` is the seam tests use: give it a catalog client (an in-memory fake, or an httpx
client bound to the real catalog app in-process) and everything else stays real.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from libs.platform.auth import Principal
from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.service import ServiceRuntime
from provisioning.catalog_client import CatalogClient, HttpCatalogClient
from provisioning.config import ProvisioningSettings
from provisioning.consumers import consumer_specs
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork
from provisioning.repository.unit_of_work import SqlProvisioningUnitOfWork

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


@dataclass
class ProvisioningRuntime(ServiceRuntime):
    """The shared runtime plus the catalog this service prices orders with."""

    catalog: CatalogClient = field(default=None)  # type: ignore[assignment]

    def provisioning_unit_of_work(self, principal: Principal | None = None) -> ProvisioningUnitOfWork:
        """A unit of work on the service's database acting for `principal` (or the system)."""
        base = self.unit_of_work(principal)
        return SqlProvisioningUnitOfWork(
            base.db, producer=base.producer, actor=base.actor, on_commit=base.on_commit, clock=base.clock
        )

    async def stop(self) -> None:
        """Stop the platform parts, then close the catalog's connections."""
        await super().stop()
        close = getattr(self.catalog, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


def bootstrap(
    settings: ProvisioningSettings | None = None,
    *,
    catalog: CatalogClient | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> ProvisioningRuntime:
    """Build the runtime of the provisioning service (real catalog client unless one is given).

    `clock` is where every unit of work reads "now" (its accounts' business dates); tests fix it.
    """
    settings = settings or ProvisioningSettings()
    runtime = ProvisioningRuntime(
        settings=settings,
        migrations_dir=MIGRATIONS_DIR,
        clock=clock,
        catalog=catalog
        or HttpCatalogClient(
            settings.catalog_url, settings.catalog_api_key, timeout_s=settings.catalog_timeout_s
        ),
    )
    runtime.consumer_specs = consumer_specs(runtime)
    return runtime
