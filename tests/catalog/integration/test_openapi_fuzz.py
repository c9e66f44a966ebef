"""Schemathesis against the catalog's own OpenAPI, every check: the document and the server agree.

All phases and all checks (tests/support/fuzz.py), with the admin key, on SQLite and PostgreSQL; the
catalog is
seeded first so that lists and look-ups have rows to show. Sync on purpose: schemathesis runs
the ASGI app (and its lifespan) on its own event-loop thread.
"""

from __future__ import annotations

from typing import Any

from catalog.app import create_app
from catalog.config import CatalogSettings
from tests.catalog.integration import factories as f
from tests.support.fuzz import (
    assert_links_follow_creation,
    examples_per_operation,
    fuzz_every_operation,
    seed_client,
)
from tests.support.services import service_settings

EXAMPLES_PER_OPERATION = examples_per_operation(10)
# OpenAPI links from creating operations (create -> read -> update for stateful fuzzing).
LINKS = 21

_TIERS = "tiers ascend by up_to and only the last is open (an order across items)"
_AFTER_CURRENT = "starts after the stored current version's effective_from"
_WHOLE_PERIODS = "a cost_plus price's period is a whole number of its book's tier periods (stored book)"
_STORED_BOOK = "the cost book exists, is in the price's currency and in force (stored)"
# Rules JSON Schema cannot state; a schema-valid request may be refused (422) for these fields
# only. Each depends on stored data or on another field's value.
RULES_BEYOND_SCHEMA = {
    # What each kind needs of other fields is in the schema (oneOf per kind): a discount's currency,
    # a price's billing_period and timing, a contract's period_months, hours and on_expiry.
    "POST /v1/discounts": {
        "valid_to": "after valid_from (another field)",
        "value": "an amount has at most its currency's minor units (another field; ISO 4217 data)",
    },
    "PATCH /v1/discounts/{discount_id}": {"valid_to": "after the (stored or sent) valid_from"},
    "POST /v1/prices": {
        "tiers": _TIERS,
        "effective_to": "after effective_from (another field)",
        "billing_period": _WHOLE_PERIODS,
        "cost_book_id": _STORED_BOOK,
    },
    "POST /v1/prices/{price_id}/versions": {
        "effective_from": _AFTER_CURRENT,
        "effective_to": "after effective_from (another field)",
        "tiers": _TIERS,
        "billing_period": _WHOLE_PERIODS,
        "cost_book_id": _STORED_BOOK,
    },
    "POST /v1/vendor-cost-books": {"tiers": _TIERS, "effective_to": "after effective_from (another field)"},
    "POST /v1/vendor-cost-books/{cost_book_id}/versions": {
        "effective_from": _AFTER_CURRENT,
        "effective_to": "after effective_from (another field)",
        "tiers": _TIERS,
    },
    "POST /v1/bundles": {"components": "each product exists in the catalog (stored) and appears once"},
    "PATCH /v1/bundles/{bundle_id}": {
        "components": "each product exists in the catalog (stored) and appears once"
    },
    "POST /v1/contract-templates": {"hours": "greater than 0 (the quantity type allows 0)"},
    "PATCH /v1/contract-templates/{template_id}": {
        "hours": "used by an hours contract only (stored kind)",
        "period_months": "used by a period contract only (stored kind)",
        "on_expiry": "rollover only on an hours contract (stored kind)",
    },
    # price_id xor bundle_id is in the schema (oneOf): an item's one-of error is not allowed here.
    "POST /v1/quotes": {
        "items.price_id": "in force on as_of, in the quote's currency, its product active (stored)",
        "items.bundle_id": "the bundle is active and its components priced on as_of (stored)",
        "items.quantity": "a bundle's component quantities stay within bounds (stored components)",
        "items.discount_ids": "each discount applies to the item's product on as_of (stored)",
        "discount_ids": "each discount applies to every line on as_of (stored)",
        "promo_codes": "each code exists, is valid on as_of and covers a line (stored)",
        "items.term_months": "given for a cost_plus price billed per term (stored price)",
        "items.billing_period": _WHOLE_PERIODS,
    },
}


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
    fuzz_every_operation(
        app,
        seed=_seed,
        examples=EXAMPLES_PER_OPERATION,
        min_operations=20,
        rules_beyond_schema=RULES_BEYOND_SCHEMA,
    )


def test_created_resources_link_to_what_can_be_done_with_them(sqlite_url: str) -> None:
    document = create_app(
        service_settings(CatalogSettings, database_url=sqlite_url, bootstrap=None)
    ).openapi()
    assert assert_links_follow_creation(document) == LINKS
