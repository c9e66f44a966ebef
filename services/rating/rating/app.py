"""The rating service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.service import create_service_app
from rating.api import (
    balances,
    entitlements,
    meters,
    rated_usage,
    support_contracts,
    support_requests,
    usage,
    usage_loads,
)
from rating.bootstrap import bootstrap
from rating.config import RatingSettings

DESCRIPTION = "Meters, usage ingestion and deduplication, rated usage, balances and entitlement checks."


def create_app(settings: RatingSettings | None = None, *, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    """Build the app (real adapters unless `settings` says otherwise; tests fix the `clock`)."""
    return create_service_app(
        runtime=bootstrap(settings, clock=clock),
        title="Rating service",
        description=DESCRIPTION,
        routers=[
            # The checks first: routing tries the routes in order, and a check is the hot path
            # (about twenty routes' patterns less to try, twice: the edge guard routes too).
            entitlements.router,
            meters.router,
            usage.router,
            rated_usage.router,
            balances.router,
            support_contracts.router,
            support_requests.router,
            usage_loads.router,
        ],
    )
