"""Schemathesis against rating's OpenAPI with mediation files in it (`/v1/usage/files`), every
check: the document and the server agree, no request yields a 5xx. SQLite and PostgreSQL.

Seeded with a meter, a subscription and a loaded file (with a rejected row), so that the load and
its rejections have rows to show; the service's worker loads what the fuzzer uploads meanwhile.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from libs.platform.db import Database
from rating.app import create_app
from tests.conftest import run_sync
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import meter_body, rated_account, rated_subscription
from tests.rating.integration.fuzz_files_rules import FILE_RULES_BEYOND_SCHEMA
from tests.rating.integration.test_balances_fuzz import RULES_BEYOND_SCHEMA as BALANCE_RULES
from tests.rating.integration.test_openapi_fuzz_rating import RULES_BEYOND_SCHEMA as RATING_RULES
from tests.rating.integration.test_openapi_fuzz_usage import RULES_BEYOND_SCHEMA as USAGE_RULES
from tests.rating.integration.test_support_fuzz import RULES_BEYOND_SCHEMA as SUPPORT_RULES
from tests.support.fuzz import examples_per_operation, fuzz_every_operation, seed_client

EXAMPLES_PER_OPERATION = examples_per_operation(10)

# The whole document is fuzzed: every rating operation's allowances, stated beside its own test.
RULES_BEYOND_SCHEMA = {
    **USAGE_RULES,
    **RATING_RULES,
    **BALANCE_RULES,
    **SUPPORT_RULES,
    **FILE_RULES_BEYOND_SCHEMA,
}


async def _read_model(database_url: str) -> str:
    db = Database(database_url)
    try:
        account = await rated_account(db, account_id="acct_fuzz")
        return await rated_subscription(db, account_id=account, product_id="prod_api")
    finally:
        await db.dispose()


def _seeder(database_url: str) -> Any:
    def seed(app: Any) -> dict[str, str]:
        with seed_client(app) as client:
            client.post("/v1/meters", json=meter_body(code="api_calls"))
            sub = run_sync(_read_model(database_url))
            body = (
                "event_id,subscription_id,meter,quantity,timestamp\n"
                f"fz-1,{sub},api_calls,1,2026-07-01T09:30:00Z\n"
                f"fz-2,{sub},api_calls,-1,2026-07-01T09:30:00Z\n"
            )
            uploaded = client.post(
                "/v1/usage/files", data=body.encode(), headers={"content-type": "text/csv"}
            )
            assert uploaded.status_code == 202, uploaded.text
            load_id = uploaded.json()["id"]
            deadline = time.monotonic() + 20
            while client.get(f"/v1/usage/files/{load_id}").json()["state"] != "completed":
                assert time.monotonic() < deadline, "the seeded file was not loaded"
                time.sleep(0.05)
        return {"load_id": load_id, "subscription_id": sub}

    return seed


def test_no_request_yields_a_server_error_or_breaks_the_schema(database_url: str, tmp_path: Path) -> None:
    settings = rating_settings(database_url, usage_load_dir=str(tmp_path / "loads"), usage_load_poll_s=0.05)
    fuzz_every_operation(
        create_app(settings),
        seed=_seeder(database_url),
        examples=EXAMPLES_PER_OPERATION,
        min_operations=8,
        rules_beyond_schema=RULES_BEYOND_SCHEMA,
    )
