"""The catalog service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from catalog.api import bundles, contract_templates, cost_books, discounts, prices, products, quotes
from catalog.bootstrap import bootstrap
from catalog.config import CatalogSettings
from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.service import create_service_app

DESCRIPTION = (
    "Products, versioned prices, vendor cost books, bundles, discounts, support-contract templates "
    "and quotes."
)


def create_app(settings: CatalogSettings | None = None, *, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    """Build the app (real adapters unless `settings` says otherwise; the system clock unless fixed)."""
    return create_service_app(
        runtime=bootstrap(settings, clock=clock),
        title="Catalog service",
        description=DESCRIPTION,
        routers=[
            products.router,
            prices.router,
            cost_books.router,
            bundles.router,
            discounts.router,
            contract_templates.router,
            quotes.router,
        ],
    )
