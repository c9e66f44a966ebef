"""Schemathesis against the support endpoints of rating's OpenAPI, every check (tests/support/fuzz.py):
no request yields a 500 or a response outside the document, on SQLite and PostgreSQL. The read
model and the catalog's templates are seeded first so that look-ups reach the handlers."""

from __future__ import annotations

from typing import Any

from rating.app import create_app
from rating.bootstrap import bootstrap
from tests.conftest import run_sync
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories_support import account, deliver, subscription, template_event
from tests.rating.integration.fuzz_files_rules import FILE_RULES_BEYOND_SCHEMA
from tests.support.fuzz import (
    assert_links_follow_creation,
    examples_per_operation,
    fuzz_every_operation,
    seed_client,
)

EXAMPLES_PER_OPERATION = examples_per_operation(10)
SUPPORT_OPERATIONS = 9
SUPPORT_LINKS = 6  # POST contract -> get, cancel; POST request -> get, time, list time, close

# Rules JSON Schema cannot state; a schema-valid request may be refused (422) for these fields only.
RULES_BEYOND_SCHEMA = {
    "POST /v1/support-contracts": {
        "hours": "only a kind bounded by hours takes hours (the stored template's kind)",
        "period_months": "only a kind with a period takes a period (the stored template's kind)",
        "template_id": "a per-incident template is not sold ahead (the stored template's kind)",
    },
    "POST /v1/support-requests": {
        "per_incident_template_id": "a stored per-incident template; named when several exist (stored)",
    },
    "POST /v1/support-requests/{request_id}/time": {"logged_at": "not before the stored request was opened"},
    "POST /v1/support-requests/{request_id}/close": {"closed_at": "not before the stored request was opened"},
    **FILE_RULES_BEYOND_SCHEMA,
}


def _seeder(database_url: str) -> Any:
    def seed(app: Any) -> dict[str, str]:
        async def rows() -> None:
            runtime = bootstrap(rating_settings(database_url))
            try:
                await account(runtime, "acct_org")
                await account(runtime, "acct_1", parent="acct_org")
                await subscription(runtime, "sub_1", "acct_1")
                await deliver(
                    runtime,
                    template_event(
                        "ctpl_tl", "time_limited", period_months=12, hours=40, on_expiry="rollover"
                    ),
                    template_event("ctpl_inc", "per_incident"),
                )
            finally:
                await runtime.db.dispose()

        with seed_client(app) as client:  # runs the lifespan: the tables exist
            run_sync(rows())
            body = {
                "template_id": "ctpl_tl",
                "holder_type": "subscription",
                "holder_id": "sub_1",
                "starts_on": "2026-01-01",
            }
            contract = client.post("/v1/support-contracts", json=body)
            assert contract.status_code == 201, contract.text
            request = client.post(
                "/v1/support-requests", json={"subscription_id": "sub_1", "summary": "Down"}
            )
            assert request.status_code == 201, request.text
        return {"contract_id": contract.json()["id"], "request_id": request.json()["id"]}

    return seed


def test_no_support_request_yields_a_server_error_or_breaks_the_schema(database_url: str) -> None:
    fuzz_every_operation(
        create_app(rating_settings(database_url)),
        seed=_seeder(database_url),
        examples=EXAMPLES_PER_OPERATION,
        min_operations=SUPPORT_OPERATIONS,
        rules_beyond_schema=RULES_BEYOND_SCHEMA,
    )


def test_created_support_resources_link_to_what_can_be_done_with_them(sqlite_url: str) -> None:
    document = create_app(rating_settings(sqlite_url)).openapi()
    assert assert_links_follow_creation(document) >= SUPPORT_LINKS
