"""Schemathesis against the catalog's own OpenAPI: no request yields a 5xx or an off-schema response.

Stateless, positive examples for every operation, with the admin key, on SQLite and PostgreSQL; the catalog is
seeded first so that lists and look-ups have rows to show. Sync on purpose: schemathesis runs
the ASGI app (and its lifespan) on its own event-loop thread.
"""

from __future__ import annotations

from typing import Any

from catalog.app import create_app
from catalog.config import CatalogSettings
from tests.catalog.integration import factories as f
from tests.support.fuzz import examples_per_operation, fuzz_every_operation, seed_client
from tests.support.services import service_settings

EXAMPLES_PER_OPERATION = examples_per_operation(30)


def _seed(app: Any) -> dict[str, str]:
    """Create one of everything; returns the ids by path-parameter name."""
    with seed_client(app) as client:

        def created(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = client.post(path, json=body)
            assert response.status_code == 201, response.text
            return dict(response.json())

        product = created("/v1/products", f.product())
        book = created("/v1/vendor-cost-books", f.cost_book())
        price = created("/v1/prices", f.cost_plus_price(product["id"], book["id"]))
        tiers = [f.tier("1000", "0.0100"), f.tier(None, "0.0075")]
        created(
            "/v1/prices", f.tiered_price(product["id"], "tiered_graduated", tiers, included_quantity="100")
        )
        discount = created("/v1/discounts", f.discount())
        bundle = created("/v1/bundles", f.bundle((product["id"], "2")))
        template = created("/v1/contract-templates", f.contract_template())
        quote = created("/v1/quotes", f.quote(f.quote_item(price["id"], 250, discount["id"])))
    return {
        "product_id": product["id"],
        "price_id": price["id"],
        "cost_book_id": book["id"],
        "discount_id": discount["id"],
        "bundle_id": bundle["id"],
        "template_id": template["id"],
        "quote_id": quote["id"],
    }


def test_no_request_yields_a_server_error_or_breaks_the_schema(database_url: str) -> None:
    app = create_app(service_settings(CatalogSettings, database_url=database_url, bootstrap=None))
    fuzz_every_operation(app, seed=_seed, examples=EXAMPLES_PER_OPERATION, min_operations=20)
