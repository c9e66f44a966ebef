"""Schemathesis against provisioning's own OpenAPI: no request yields a 5xx or an off-schema response.

Stateless, generated examples for every operation, with the admin key, on SQLite and PostgreSQL
with the in-memory catalog; the service is seeded first (a converted deal, an approved order with its
workflow and subscription, a fulfillment, a pool) so that look-ups and actions reach handlers.
Sync on purpose: schemathesis runs the ASGI app (and its lifespan) on its own event-loop thread.
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

from provisioning.app import create_app
from tests.provisioning.fakes import InMemoryCatalog
from tests.provisioning.integration.conftest import provisioning_settings
from tests.provisioning.integration.factories import billing_profile, line
from tests.support.services import auth

# Bounded to keep the suite fast; FUZZ_EXAMPLES raises it for a deeper run.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "25"))


def _seed(app: Any) -> dict[str, str]:
    """Create one of everything; returns the ids by path-parameter name."""
    with get_client(app) as client:
        client.headers.update(auth())

        def post(path: str, body: dict[str, Any] | None = None, status: int = 201) -> dict[str, Any]:
            response = client.post(path, json=body)
            assert response.status_code == status, response.text
            return dict(response.json())

        partner = post("/v1/partners", {"name": "Acme"})
        deal = post("/v1/deal-registrations", {"partner_id": partner["id"], "opportunity_name": "Redfin"})
        customer = post("/v1/customers", {"name": "Redfin"})
        account = post(
            "/v1/accounts",
            {"customer_id": customer["id"], "name": "HQ", "billing_profile": billing_profile()},
        )
        lines = [line("price_support", 10, term_months=12), line("price_platform", 20)]
        order = post("/v1/orders", {"account_id": account["id"], "lines": lines})
        post(f"/v1/orders/{order['id']}/submit", status=200)
        workflow = client.get(f"/v1/workflows?order_id={order['id']}").json()["data"][0]
        fulfillment = post(
            "/v1/fulfillments",
            {"order_id": order["id"], "lines": [{"order_line_id": order["lines"][1]["id"], "quantity": 5}]},
        )
        pool = post(
            "/v1/named-users/pools",
            {
                "account_id": account["id"],
                "size": 5,
                "programs_per_user": 2,
                "contract_programs": ["a", "b", "c"],
                "contract_start": "2026-01-01",
            },
        )
    return {
        "partner_id": partner["id"],
        "deal_id": deal["id"],
        "customer_id": customer["id"],
        "account_id": account["id"],
        "order_id": order["id"],
        "line_id": order["lines"][0]["id"],
        "workflow_id": workflow["id"],
        "task_id": workflow["tasks"][0]["id"],
        "subscription_id": workflow["subscription_id"],
        "fulfillment_id": fulfillment["id"],
        "pool_id": pool["id"],
    }


def _catalog() -> InMemoryCatalog:
    catalog = InMemoryCatalog()
    catalog.add_product("prod_support", price_id="price_support", unit_price="300.00")
    catalog.add_product(
        "prod_platform",
        price_id="price_platform",
        unit_price="150.00",
        license_type="pay_as_you_go",
        charge_type="one_time",
        billing_period=None,
    )
    catalog.add_discount("disc_partner", percent="10", threshold="15")
    return catalog


def test_no_request_yields_a_server_error_or_breaks_the_schema(database_url: str) -> None:
    app = create_app(provisioning_settings(database_url), catalog=_catalog())
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = [not_a_server_error, response_schema_conformance]
    headers = auth()
    try:
        seeded = _seed(app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 40
        for operation in operations:
            names = re.findall(r"\{(\w+)\}", operation.path)
            strategy = operation.as_strategy(headers=headers)
            if names:
                # Half on ids that exist, so changes and transitions reach the handlers, not only 404s.
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
