"""Schemathesis against rating's own OpenAPI (meters and usage), every check: the document and the
server agree, and no request yields a 500. On SQLite and PostgreSQL, seeded with a meter, an
account and a subscription so that look-ups and usage have rows to find."""

from __future__ import annotations

from typing import Any

from libs.platform.db import Database
from rating.app import create_app
from tests.conftest import run_sync
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import meter_body, rated_account, rated_subscription, usage_event
from tests.support.fuzz import (
    assert_links_follow_creation,
    examples_per_operation,
    fuzz_every_operation,
    seed_client,
)

EXAMPLES_PER_OPERATION = examples_per_operation(10)

RULES_BEYOND_SCHEMA = {
    "GET /v1/usage/summary": {"to": "after `from` (another parameter)"},
}


async def _read_model(database_url: str) -> str:
    """An account and its subscription, written with a connection of this loop's own."""
    db = Database(database_url)
    try:
        account = await rated_account(db, account_id="acct_fuzz")
        return await rated_subscription(db, account_id=account, product_id="prod_api")
    finally:
        await db.dispose()


def _seeder(database_url: str) -> Any:
    def seed(app: Any) -> dict[str, str]:
        with seed_client(app) as client:
            meter = client.post("/v1/meters", json=meter_body(code="api_calls")).json()
            sub = run_sync(_read_model(database_url))
            response = client.post(
                "/v1/usage", json={"events": [usage_event("api_calls", subscription_id=sub)]}
            )
            assert response.status_code == 200, response.text
        return {"meter_id": meter["id"], "subscription_id": sub}

    return seed


def test_no_request_yields_a_server_error_or_breaks_the_schema(database_url: str) -> None:
    app = create_app(rating_settings(database_url))
    fuzz_every_operation(
        app,
        seed=_seeder(database_url),
        examples=EXAMPLES_PER_OPERATION,
        min_operations=8,
        rules_beyond_schema=RULES_BEYOND_SCHEMA,
    )


def test_created_meters_link_to_what_can_be_done_with_them(sqlite_url: str) -> None:
    assert assert_links_follow_creation(create_app(rating_settings(sqlite_url)).openapi()) == 2
