"""Schemathesis against the catalog's own OpenAPI: no request yields a 5xx or an off-schema response.

Stateless, positive examples for every operation, with the admin key, on SQLite and PostgreSQL; the catalog is
seeded first so that lists and look-ups have rows to show. Sync on purpose: schemathesis runs
the ASGI app (and its lifespan) on its own event-loop thread.
"""

from __future__ import annotations

import os
import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance

from catalog.app import create_app
from catalog.config import CatalogSettings
from tests.catalog.integration import factories as f
from tests.support.services import auth, service_settings

# Bounded to keep the suite fast; FUZZ_EXAMPLES raises it for a deeper run.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "30"))


def _seed(app: Any) -> dict[str, str]:
    """Create one of everything; returns the ids by path-parameter name."""
    with get_client(app) as client:
        client.headers.update(auth())

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
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = [not_a_server_error, response_schema_conformance]
    headers = auth()
    try:
        seeded = _seed(app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 20
        for operation in operations:
            names = re.findall(r"\{(\w+)\}", operation.path)
            strategy = operation.as_strategy(headers=headers)
            if names:
                # Half on ids that exist, so changes and versions reach the handlers, not only 404s.
                known = {name: seeded[name] for name in names}
                strategy = strategy | operation.as_strategy(headers=headers, path_parameters=known)

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def check(case: Any) -> None:
                response = case.call(headers=headers)
                case.validate_response(response, checks=checks, headers=headers)

            check()
    finally:
        shutdown_lifespans()
