"""Schemathesis against provisioning's own OpenAPI, every check: the document and the server agree.

All phases and all checks (tests/support/fuzz.py), with the admin key, on SQLite and PostgreSQL
with the in-memory catalog; the service is seeded first (a converted deal, an approved order with its
workflow and subscription, a fulfillment, a pool) so that look-ups and actions reach handlers.
Sync on purpose: schemathesis runs the ASGI app (and its lifespan) on its own event-loop thread.
"""

from __future__ import annotations

from typing import Any

from provisioning.app import create_app
from tests.provisioning.fakes import InMemoryCatalog
from tests.provisioning.integration.conftest import provisioning_settings
from tests.provisioning.integration.factories import billing_profile, line
from tests.support.fuzz import (
    assert_links_follow_creation,
    examples_per_operation,
    fuzz_every_operation,
    seed_client,
)

EXAMPLES_PER_OPERATION = examples_per_operation(10)
# OpenAPI links from creating operations (create -> read -> update for stateful fuzzing).
LINKS = 26

# Rules JSON Schema cannot state; a schema-valid request may be refused (422) for these fields
# only. Each depends on stored data or on another field's value.
RULES_BEYOND_SCHEMA = {
    "POST /v1/accounts": {
        "billing_profile.time_zone": "a canonical IANA zone (the zone list is data, not a pattern)",
        "billing_profile.tax_address.country": "an ISO 3166 alpha-2 code (the list is data)",
        "billing_profile.tax_status": "an exempt account needs its certificate (treatment, another field)",
        "bills_to_parent": "only an account with a parent bills to it (parent_account_id, another field)",
    },
    "PATCH /v1/accounts/{account_id}": {
        "body": "a change that changes nothing is refused (stored profile)",
        "billing_profile.tax_address.country": "an ISO 3166 alpha-2 code (the list is data)",
        "bills_to_parent": "only an account with a parent bills to it (the stored parent)",
        "billing_profile.time_zone": "a canonical IANA zone (the zone list is data, not a pattern)",
        "billing_profile.tax_status": "an exempt account needs its certificate (treatment, another field)",
    },
    "PATCH /v1/fulfillments/{fulfillment_id}": {
        "lines": "each line must be one of this fulfillment's (stored)"
    },
    "POST /v1/fulfillments": {
        "lines": "each line names a line of this order (stored); such an error names the line by its id",
        "lines.order_line_id": "each order line at most once (no JSON Schema uniqueness by key)",
        "lines.quantity": "at most what the order line has left to fulfil (stored)",
        "completed_on": "not before the order was placed (stored)",
    },
    "POST /v1/deal-registrations/{deal_id}/convert": {
        "opportunity_details": "the stored deal must be complete before it converts",
        "customer_company_name": "the stored deal must be complete before it converts",
        "project_description": "the stored deal must be complete before it converts",
        "agreement_contact": "the stored deal must be complete before it converts",
        "licensing": "the stored deal must be complete before it converts",
    },
    "POST /v1/named-users/pools": {
        "programs_per_user": "at most the number of contract_programs (another field)"
    },
    "POST /v1/named-users/pools/{pool_id}/assignments": {
        "programs": "each program must be in the pool's stored contract",
    },
    "POST /v1/named-users/pools/{pool_id}/transfers": {
        "from_user": "must be a stored named user of the pool",
        "to_user": "must not already hold a seat (stored)",
        "on_date": "not before the pool's stored contract start",
    },
    "POST /v1/orders": {
        "lines.subscription_id": "an amendment's lines name their subscription (kind, another field)",
        "lines.effective_date": "an amendment's lines say from when (kind, another field)",
        "lines.price_id": "a new sale's lines name their price (kind, another field)",
        "lines.commitment_quantity": "at most the line's quantity (another field)",
        "lines.termination_fee_price_id": "a stored one-time fee price in force on the order's date",
    },
    "POST /v1/tasks/{task_id}/complete": {
        "completed_on": "not before the stored workflow started, before the stored subscription's term ends"
    },
    "POST /v1/subscriptions/{subscription_id}/change": {
        "effective_date": "within the stored subscription's term",
        "quantity": "differs from the stored quantity",
        "term_end": "after the effective date and the stored term start",
    },
}


def _seed(app: Any) -> dict[str, str]:
    """Create one of everything; returns the ids by path-parameter name."""
    with seed_client(app) as client:

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
    fuzz_every_operation(
        app,
        seed=_seed,
        examples=EXAMPLES_PER_OPERATION,
        min_operations=40,
        rules_beyond_schema=RULES_BEYOND_SCHEMA,
    )


def test_created_resources_link_to_what_can_be_done_with_them(sqlite_url: str) -> None:
    document = create_app(provisioning_settings(sqlite_url), catalog=_catalog()).openapi()
    assert assert_links_follow_creation(document) == LINKS
