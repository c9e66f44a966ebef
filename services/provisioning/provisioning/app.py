"""The provisioning service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from libs.platform.service import create_service_app
from provisioning.bootstrap import bootstrap
from provisioning.config import ProvisioningSettings

DESCRIPTION = "Partners and deal registrations, customers and accounts, sales orders, provisioning workflows, subscriptions, license fulfillment and named users."


def create_app(settings: ProvisioningSettings | None = None) -> FastAPI:
    """Build the app (real adapters unless `settings` says otherwise)."""
    return create_service_app(
        runtime=bootstrap(settings),
        title="Provisioning service",
        description=DESCRIPTION,
        routers=[],
    )
