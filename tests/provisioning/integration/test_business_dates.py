"""Through the REST API, default business dates fall on the account's local date (DESIGN §6).

The service's clock is fixed through `create_app(clock=...)`: at 2026-11-30T12:00Z it is already
2026-12-01 in Pacific/Auckland; at 2026-12-01T03:00Z it is still 2026-11-30 in Los Angeles.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.platform.clock import FixedClock
from provisioning.app import create_app
from tests.provisioning.fakes import InMemoryCatalog
from tests.provisioning.integration.conftest import provisioning_settings
from tests.provisioning.integration.factories import (
    FINANCE,
    OPS,
    approved_order,
    complete_workflows,
    customer_with_account,
    line,
    ok,
    outbox_payloads,
)
from tests.support.services import running_app


@pytest.mark.parametrize(
    ("time_zone", "now", "local_day"),
    [
        pytest.param("Pacific/Auckland", datetime(2026, 11, 30, 12, tzinfo=UTC), "2026-12-01", id="auckland"),
        pytest.param(
            "America/Los_Angeles", datetime(2026, 12, 1, 3, tzinfo=UTC), "2026-11-30", id="los-angeles"
        ),
    ],
)
async def test_default_dates_are_the_accounts_local_date(
    sqlite_url: str, catalog: InMemoryCatalog, time_zone: str, now: datetime, local_day: str
) -> None:
    app = create_app(provisioning_settings(sqlite_url), catalog=catalog, clock=FixedClock(now))
    async with running_app(app) as client:
        _, account_id = await customer_with_account(client, time_zone=time_zone)
        order = await approved_order(
            client, account_id, [line("price_support", 10, term_months=12, effective_date="2026-11-01")]
        )
        (workflow,) = (await ok(await client.get(f"/v1/workflows?order_id={order['id']}", headers=OPS)))[
            "data"
        ]
        assert workflow["started_on"] == local_day  # the order's provisioning starts on the local date
        (workflow,) = await complete_workflows(client, order["id"])
        done = await ok(await client.get(f"/v1/workflows/{workflow['id']}", headers=OPS))
        assert [task["completed_on"] for task in done["tasks"]] == [local_day] * len(done["tasks"])

        sub_id = workflow["subscription_id"]
        suspended = await ok(
            await client.post(f"/v1/subscriptions/{sub_id}/suspend", json={}, headers=FINANCE)
        )
        assert suspended["state"] == "suspended"
        history = await ok(await client.get(f"/v1/subscriptions/{sub_id}/history", headers=OPS))
        assert history["data"][-1]["effective_date"] == local_day
        (payload,) = await outbox_payloads(app, "subscription.suspended")
        assert payload["effective_date"] == local_day
