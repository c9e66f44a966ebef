"""Schemathesis against rating's OpenAPI (rated usage, running charges, entitlement checks), every
check: the document and the server agree, no request yields a 5xx. SQLite and PostgreSQL.

The service is seeded first (the read model, a meter, usage aggregates, a closed period) so that
look-ups and checks reach the handlers. Sync on purpose: schemathesis runs the app's lifespan on
its own event-loop thread.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from libs.platform.clock import FixedClock
from libs.platform.db import Database
from rating.app import create_app
from tests.conftest import run_sync
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories_rating import (
    account_row,
    aggregate_row,
    meter_row,
    price_row,
    subscription_row,
)
from tests.support.fuzz import examples_per_operation, fuzz_every_operation, seed_client

EXAMPLES_PER_OPERATION = examples_per_operation(10)
AUGUST_2 = FixedClock(datetime(2026, 8, 2, 12, tzinfo=UTC))

RULES_BEYOND_SCHEMA = {
    "POST /v1/rated-usage/close": {"as_of": "a day some time zone has reached (the clock, not a pattern)"},
}


async def _insert(url: str) -> None:
    db = Database(url)
    try:
        async with db.session() as session:
            for row in (
                account_row(),
                subscription_row(
                    "sub_ring", product_id="prod_ringtones", price_id="price_ringtones", charge_type="usage"
                ),
                meter_row("ringtones", "prod_ringtones", "ringtone"),
                price_row("price_ringtones", product_id="prod_ringtones", unit_price="0.50", included="10"),
                aggregate_row("25", subscription_id="sub_ring", meter="ringtones"),
                aggregate_row(
                    "10",
                    subscription_id="sub_ring",
                    meter="ringtones",
                    start=date(2026, 8, 1),
                    end=date(2026, 9, 1),
                ),
            ):
                session.add(row)
            await session.commit()
    finally:
        await db.dispose()


def test_no_request_yields_a_server_error_or_breaks_the_schema(database_url: str) -> None:
    app = create_app(rating_settings(database_url, period_close_interval_s=0), clock=AUGUST_2)

    def seed(application: Any) -> dict[str, str]:
        with seed_client(application) as client:
            run_sync(_insert(database_url))
            closed = client.post("/v1/rated-usage/close", json={})
            assert closed.status_code == 200 and closed.json()["rated"] == 1, closed.text
        return {"subscription_id": "sub_ring", "rated_usage_id": closed.json()["rated_usage_ids"][0]}

    fuzz_every_operation(
        app,
        seed=seed,
        examples=EXAMPLES_PER_OPERATION,
        min_operations=5,
        rules_beyond_schema=RULES_BEYOND_SCHEMA,
    )
