"""The provisioning service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.service import create_service_app
from provisioning.api import customers, deals, fulfillments, named_users, orders, subscriptions, workflows
from provisioning.bootstrap import bootstrap
from provisioning.catalog_client import CatalogClient
from provisioning.config import ProvisioningSettings

DESCRIPTION = (
    "Partners and deal registrations, customers and accounts, sales orders, provisioning "
    "workflows, subscriptions, license fulfillment and named users."
)
ROUTERS = (customers, deals, orders, workflows, subscriptions, fulfillments, named_users)


def create_app(
    settings: ProvisioningSettings | None = None,
    *,
    catalog: CatalogClient | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> FastAPI:
    """Build the app (real adapters unless a catalog client is given; the system clock unless fixed)."""
    return create_service_app(
        runtime=bootstrap(settings, catalog=catalog, clock=clock),
        title="Provisioning service",
        description=DESCRIPTION,
        routers=[module.router for module in ROUTERS],
    )
