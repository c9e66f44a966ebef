"""The invoicing service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from invoicing.api import (
    adjustments,
    bill_runs,
    collections,
    credit_notes,
    disputes,
    dunning,
    invoices,
    ledger,
    lockbox,
    metrics,
    payment_methods,
    payments,
    receivables,
    revenue,
    statements,
    tax_rates,
)
from invoicing.bootstrap import InvoicingRuntime, bootstrap
from invoicing.config import InvoicingSettings
from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.service import create_service_app

DESCRIPTION = (
    "Bill runs, invoices, statements, tax, credit notes, payments, A/R aging, dunning, "
    "revenue schedules and the general ledger."
)


def create_app(
    settings: InvoicingSettings | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
    runtime: InvoicingRuntime | None = None,
) -> FastAPI:
    """Build the app (real adapters unless `settings` says otherwise, or on a runtime given whole;
    tests fix the `clock`)."""
    return create_service_app(
        runtime=runtime or bootstrap(settings, clock=clock),
        title="Invoicing service",
        description=DESCRIPTION,
        routers=[
            bill_runs.router,
            invoices.router,
            credit_notes.router,
            adjustments.router,
            disputes.router,
            statements.router,
            tax_rates.router,
            revenue.router,
            ledger.router,
            metrics.router,
            payment_methods.router,
            payments.router,
            lockbox.router,
            receivables.router,
            dunning.router,
            collections.router,
        ],
    )
