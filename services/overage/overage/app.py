"""The overage service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from libs.platform.service import create_service_app
from overage.bootstrap import bootstrap
from overage.config import OverageSettings

DESCRIPTION = (
    "Vendors and their signed webhooks, overage notices and cases, vendor commitments and payables, margins."
)


def create_app(settings: OverageSettings | None = None) -> FastAPI:
    """Build the app (real adapters unless `settings` says otherwise)."""
    return create_service_app(
        runtime=bootstrap(settings),
        title="Overage service",
        description=DESCRIPTION,
        routers=[],
    )
