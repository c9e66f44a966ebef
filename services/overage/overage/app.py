"""The overage service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.service import create_service_app
from overage.api import cases, margins, notices, vendor_commitments, vendor_invoices, vendors, webhooks
from overage.bootstrap import bootstrap
from overage.config import OverageSettings

DESCRIPTION = (
    "Vendors and their signed webhooks, overage notices and cases, vendor commitments and payables, margins."
)


def create_app(settings: OverageSettings | None = None, *, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    """Build the app (real adapters unless `settings` says otherwise; tests fix the `clock`)."""
    app = create_service_app(
        runtime=bootstrap(settings, clock=clock),
        title="Overage service",
        description=DESCRIPTION,
        routers=[
            vendors.router,
            webhooks.router,
            notices.router,
            cases.router,
            vendor_commitments.router,
            vendor_invoices.router,
            margins.router,
        ],
        extra_public_paths=[webhooks.WEBHOOK_PATH],
    )
    app.add_middleware(webhooks.RejectionRecorder)
    return app
