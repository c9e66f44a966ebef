"""The invoicing service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from invoicing.api import bill_runs
from invoicing.bootstrap import InvoicingRuntime, bootstrap
from invoicing.config import InvoicingSettings
from libs.platform.service import create_service_app

DESCRIPTION = (
    "Bill runs, invoices, statements, tax, credit notes, payments, A/R aging, dunning and revenue schedules."
)


def create_app(
    settings: InvoicingSettings | None = None, *, runtime: InvoicingRuntime | None = None
) -> FastAPI:
    """Build the app (real adapters unless `settings` says otherwise, or on a runtime given whole)."""
    return create_service_app(
        runtime=runtime or bootstrap(settings),
        title="Invoicing service",
        description=DESCRIPTION,
        routers=[bill_runs.router],
    )
