"""The invoicing service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from invoicing.api import tax_rates
from invoicing.bootstrap import bootstrap
from invoicing.config import InvoicingSettings
from libs.platform.service import create_service_app

DESCRIPTION = (
    "Bill runs, invoices, statements, tax, credit notes, payments, A/R aging, dunning and revenue schedules."
)


def create_app(settings: InvoicingSettings | None = None) -> FastAPI:
    """Build the app (real adapters unless `settings` says otherwise)."""
    return create_service_app(
        runtime=bootstrap(settings),
        title="Invoicing service",
        description=DESCRIPTION,
        routers=[tax_rates.router],
    )
