"""Schemathesis against overage's whole OpenAPI (vendors and secrets, tenants, the signed webhook,
notices and the review queue, refused calls, cases and their actions, vendor commitments, vendor
invoices, margins), every check (tests/support/fuzz.py): the document and the server agree, no
request yields a 5xx. On SQLite and PostgreSQL.

Seeded first with a vendor, the read model, a mapped tenant and a worked notice (an open case),
and the payables read model (seed 000's cost book, resold product, price and an active 3-year
subscription, its commitment made by the consumer's own handlers) with a vendor invoice received
against it, so look-ups and actions reach the handlers. The webhook answers 401 to every generated call (no
generated request carries a valid signature): that is its point.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from libs.platform.clock import FixedClock
from overage.app import create_app
from overage.bootstrap import bootstrap
from tests.conftest import run_sync
from tests.overage.integration.conftest import overage_settings
from tests.overage.integration.factories import (
    cost_book_published,
    notice_body,
    signed_headers,
    subscription_activated,
)
from tests.overage.integration.payables_fuzz_seed import PAYABLES_RULES, seed_payables
from tests.support.fuzz import (
    assert_links_follow_creation,
    examples_per_operation,
    fuzz_every_operation,
    seed_client,
)

EXAMPLES_PER_OPERATION = examples_per_operation(10)
AUGUST_2 = FixedClock(datetime(2026, 8, 2, 12, tzinfo=UTC))
MIN_LINKS = 3 + 1 + 3
"""A vendor: get it, rotate its secret; a tenant: get it; vendor commitments: get; vendor invoices:
get, approve, pay."""

RULES_BEYOND_SCHEMA = {
    "POST /v1/vendor-tenants": {
        "vendor_id": "a stored vendor",
        "subscription_id": "the subscription's account, as provisioning told us (stored)",
    },
    "POST /v1/overage-cases/{case_id}/actions": {"decision": "with record_decision only (another field)"},
    **PAYABLES_RULES,
}


async def _read_model(database_url: str) -> None:
    from overage.handlers import read_model

    runtime = bootstrap(overage_settings(database_url), clock=AUGUST_2)
    try:
        at = datetime(2026, 7, 1, tzinfo=UTC)
        async with runtime.overage_unit_of_work() as uow:
            await read_model.apply_subscription_event(
                uow=uow, event=subscription_activated("sub_1", "acct_1"), occurred_at=at
            )
        async with runtime.overage_unit_of_work() as uow:
            await read_model.apply_cost_book_published(uow=uow, event=cost_book_published(), occurred_at=at)
        await runtime.work_notices()
    finally:
        await runtime.db.dispose()


def _seeder(database_url: str) -> Any:
    def seed(app: Any) -> dict[str, str]:
        with seed_client(app) as client:  # runs the lifespan: the tables exist

            def post(path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
                response = client.post(path, json=body)
                assert response.status_code == status, response.text
                return dict(response.json())

            vendor = post("/v1/vendors", {"name": "WFM vendor", "cost_book_id": "cb_wfm"})
            post(
                "/v1/vendor-tenants",
                {
                    "vendor_id": vendor["id"],
                    "tenant_id": "t-1",
                    "account_id": "acct_1",
                    "subscription_id": "sub_1",
                },
            )
            body = notice_body("n-1", tenant="t-1")
            headers = signed_headers(vendor["webhook_secret"]["secret"], body, AUGUST_2.now())
            stored = client.post(f"/v1/webhooks/vendors/{vendor['id']}/overage", data=body, headers=headers)
            assert stored.status_code == 202, stored.text
            run_sync(_read_model(database_url))
            payables_ids = seed_payables(client, database_url)
        return {"vendor_id": vendor["id"], **payables_ids}

    return seed


def test_no_request_yields_a_server_error_or_breaks_the_schema(database_url: str) -> None:
    app = create_app(overage_settings(database_url), clock=AUGUST_2)
    every_operation = sum(
        method in ("get", "post", "put", "patch", "delete")
        for item in app.openapi()["paths"].values()
        for method in item
    )
    fuzz_every_operation(
        app,
        seed=_seeder(database_url),
        examples=EXAMPLES_PER_OPERATION,
        min_operations=every_operation,
        rules_beyond_schema=RULES_BEYOND_SCHEMA,
    )


def test_created_resources_link_to_what_can_be_done_with_them(sqlite_url: str) -> None:
    document = create_app(overage_settings(sqlite_url)).openapi()
    assert assert_links_follow_creation(document) >= MIN_LINKS
