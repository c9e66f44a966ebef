"""Schemathesis against rating's whole OpenAPI (meters, usage, rated usage and the usage view,
entitlement checks, balances, support contracts and requests, mediation files), every check
(tests/support/fuzz.py): the document and the server agree, no request yields a 5xx. On SQLite
and PostgreSQL.

One run for the one service: it is seeded with one of everything first (the read model, meters,
usage and its aggregates, a closed period, balances of each kind, the catalog's support
templates, a contract and a request, a loaded mediation file) so that look-ups and checks reach
the handlers. Sync on purpose: schemathesis runs the app's lifespan on its own event-loop thread.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from libs.platform.clock import FixedClock
from rating.app import create_app
from rating.bootstrap import bootstrap
from tests.conftest import run_sync
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import (
    account_row,
    add_rows,
    aggregate_row,
    meter_body,
    meter_row,
    price_row,
    subscription_row,
    usage_event,
)
from tests.rating.integration.factories_support import deliver, template_event
from tests.rating.integration.fuzz_files_rules import FILE_RULES_BEYOND_SCHEMA
from tests.support.fuzz import (
    assert_links_follow_creation,
    examples_per_operation,
    fuzz_every_operation,
    seed_client,
)

EXAMPLES_PER_OPERATION = examples_per_operation(10)
AUGUST_2 = FixedClock(datetime(2026, 8, 2, 12, tzinfo=UTC))
MIN_LINKS = 14
"""Meters 2 (get, update); balances 4; support 6 (a contract: get, cancel; a request: get, time,
list time, close); mediation files 2 (the load, its rejections)."""

_STORED_KIND = "a money balance takes amount, a units balance quantity (the stored balance's kind)"
_KIND_FIELDS = {
    "amount": _STORED_KIND,
    "quantity": _STORED_KIND,
    "currency": "the stored balance's currency",
}
# Rules JSON Schema cannot state; a schema-valid request may be refused (422) for these fields only.
RULES_BEYOND_SCHEMA = {
    **FILE_RULES_BEYOND_SCHEMA,
    "GET /v1/usage/summary": {"to": "after `from` (another parameter)"},
    "POST /v1/rated-usage/close": {"as_of": "a day some time zone has reached (the clock, not a pattern)"},
    "POST /v1/balances": {
        "account_id": "an account rating knows (its read model of provisioning)",
        "subscription_id": "a known subscription of that account (stored)",
        "currency": "the subscription's or account's currency (stored)",
        "expires_on": "after the account's local today (the clock)",
        "initial_grant": "amount for money, quantity and unit_price for units (kind, another field)",
        "rollover": "up_to with the up_to policy only (another field)",
        "thresholds": "no threshold twice and none at 0 (no JSON Schema uniqueness by value)",
    },
    "POST /v1/balances/{balance_id}/top-ups": {
        **_KIND_FIELDS,
        "unit_price": "units balances only (the stored balance's kind)",
        "expires_on": "after the account's local today (the clock)",
    },
    "POST /v1/balances/{balance_id}/drawdowns": _KIND_FIELDS,
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
}


async def _read_model_and_templates(database_url: str) -> None:
    """The read model (an org unit, its child account, two subscriptions), a priced meter with an
    ended and an open period, and the catalog's support templates through their consumer."""
    runtime = bootstrap(rating_settings(database_url), clock=AUGUST_2)
    try:
        await add_rows(
            runtime,
            account_row("acct_org"),
            account_row("acct_1", parent_account_id="acct_org"),
            subscription_row(
                "sub_1", product_id="prod_ringtones", price_id="price_ringtones", charge_type="usage"
            ),
            subscription_row("sub_api", product_id="prod_api", price_id="price_api", charge_type="usage"),
            meter_row("ringtones", "prod_ringtones", "ringtone"),
            price_row("price_ringtones", product_id="prod_ringtones", unit_price="0.50", included="10"),
            aggregate_row("25", subscription_id="sub_1", meter="ringtones"),
            aggregate_row(
                "10", subscription_id="sub_1", meter="ringtones", start=date(2026, 8, 1), end=date(2026, 9, 1)
            ),
        )
        await deliver(
            runtime,
            template_event("ctpl_tl", "time_limited", period_months=12, hours=40, on_expiry="rollover"),
            template_event("ctpl_inc", "per_incident"),
        )
    finally:
        await runtime.db.dispose()


def _seeder(database_url: str) -> Any:
    def seed(app: Any) -> dict[str, str]:
        with seed_client(app) as client:  # runs the lifespan: the tables exist

            def post(path: str, body: dict[str, Any] | None, status: int = 201) -> dict[str, Any]:
                response = client.post(path, json=body)
                assert response.status_code == status, response.text
                return dict(response.json())

            run_sync(_read_model_and_templates(database_url))
            meter = post("/v1/meters", meter_body(code="api_calls"))
            post("/v1/usage", {"events": [usage_event("api_calls", subscription_id="sub_api")]}, 200)
            closed = post("/v1/rated-usage/close", {}, 200)
            assert closed["rated"] == 1, closed
            money = post(
                "/v1/balances",
                {
                    "account_id": "acct_1",
                    "subscription_id": "sub_1",
                    "kind": "money",
                    "initial_grant": {"amount": "100.00"},
                },
            )
            post(
                "/v1/balances",
                {
                    "account_id": "acct_1",
                    "kind": "units",
                    "meter": "support_hours",
                    "initial_grant": {"quantity": 40, "unit_price": "150"},
                },
            )
            contract = post(
                "/v1/support-contracts",
                {
                    "template_id": "ctpl_tl",
                    "holder_type": "subscription",
                    "holder_id": "sub_1",
                    "starts_on": "2026-01-01",
                },
            )
            request = post("/v1/support-requests", {"subscription_id": "sub_1", "summary": "Down"})
            load_id = _loaded_file(client)
        return {
            "meter_id": meter["id"],
            "subscription_id": "sub_1",
            "rated_usage_id": closed["rated_usage_ids"][0],
            "balance_id": money["id"],
            "account_id": "acct_1",
            "contract_id": contract["id"],
            "request_id": request["id"],
            "load_id": load_id,
        }

    return seed


def _loaded_file(client: Any) -> str:
    """A mediation file with a good and a refused row, uploaded and loaded."""
    body = (
        "event_id,subscription_id,meter,quantity,timestamp\n"
        "fz-1,sub_api,api_calls,1,2026-07-01T09:30:00Z\n"
        "fz-2,sub_api,api_calls,-1,2026-07-01T09:30:00Z\n"
    )
    uploaded = client.post("/v1/usage/files", data=body.encode(), headers={"content-type": "text/csv"})
    assert uploaded.status_code == 202, uploaded.text
    load_id = str(uploaded.json()["id"])
    deadline = time.monotonic() + 20
    while client.get(f"/v1/usage/files/{load_id}").json()["state"] != "completed":
        assert time.monotonic() < deadline, "the seeded file was not loaded"
        time.sleep(0.05)
    return load_id


def test_no_request_yields_a_server_error_or_breaks_the_schema(database_url: str, tmp_path: Path) -> None:
    settings = rating_settings(
        database_url,
        period_close_interval_s=0,
        balance_settle_interval_s=0,
        usage_load_dir=str(tmp_path / "loads"),
        usage_load_poll_s=0.05,
    )
    app = create_app(settings, clock=AUGUST_2)
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
    document = create_app(rating_settings(sqlite_url)).openapi()
    assert assert_links_follow_creation(document) >= MIN_LINKS
