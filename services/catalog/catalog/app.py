"""The catalog service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from catalog.api import bundles, contract_templates, cost_books, discounts, prices, products, quotes
from catalog.bootstrap import bootstrap
from catalog.config import CatalogSettings
from libs.platform.service import create_service_app

DESCRIPTION = (
    "Products, versioned prices, vendor cost books, bundles, discounts, support-contract templates "
    "and quotes."
)


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    """Build the app (real adapters unless `settings` says otherwise)."""
    return create_service_app(
        runtime=bootstrap(settings),
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
