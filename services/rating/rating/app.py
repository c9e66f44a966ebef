"""The rating service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.service import create_service_app
from rating.api import entitlements, meters, rated_usage, usage
from rating.bootstrap import bootstrap
from rating.config import RatingSettings

DESCRIPTION = "Meters, usage ingestion and deduplication, rated usage, balances and entitlement checks."


def create_app(settings: RatingSettings | None = None, *, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    """Build the app (real adapters unless `settings` says otherwise; the system clock unless fixed)."""
    return create_service_app(
        runtime=bootstrap(settings, clock=clock),
        title="Rating service",
        description=DESCRIPTION,
        routers=[meters.router, usage.router, rated_usage.router, entitlements.router],
    )
