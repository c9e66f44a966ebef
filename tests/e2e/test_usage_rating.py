"""Usage across processes: a catalog usage price, an account and subscription from provisioning,
usage sent to rating over REST and on `usage.raw`, the period closed and rated (EXAMPLES §7)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from libs.contracts.batch import BATCH_HEADERS, EventBatch
from libs.contracts.envelope import Envelope
from libs.contracts.topics import USAGE_RAW
from libs.platform.settings import Role
from tests.catalog.integration import factories as catalog_factories
from tests.catalog.integration.factories import tier
from tests.e2e.conftest import Stack
from tests.e2e.journeys import ADMIN, created, customer_account, submit, walk_workflow, workflows_of
from tests.provisioning.integration.factories import CRM, line, ok
from tests.support.polling import eventually
from tests.support.services import auth

USAGE = auth(Role.ERP)
FINANCE = auth(Role.FINANCE)


async def _usage_price(catalog: httpx.AsyncClient) -> tuple[str, str]:
    """EXAMPLES §7: 1,000 included, 1,001-10,000 at 0.0100, above at 0.0075, monthly in arrears."""
    product = await created(
        catalog,
        "/v1/products",
        catalog_factories.product(
            sku=f"API-{uuid.uuid4().hex[:8]}", name="API calls", kind="usage", unit_of_measure="call"
        ),
        ADMIN,
    )
    price = await created(
        catalog,
        "/v1/prices",
        catalog_factories.tiered_price(
            product["id"],
            "tiered_graduated",
            [tier("10000", "0.0100"), tier(None, "0.0075")],
            included_quantity="1000",
            effective_from="2026-01-01",
        ),
        ADMIN,
    )
    return product["id"], price["id"]


def _event(event_id: str, subscription_id: str, quantity: int, at: datetime) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "subscription_id": subscription_id,
        "meter": "e2e_api_calls",
        "quantity": quantity,
        "timestamp": at.isoformat(),
    }


async def test_usage_sent_twice_by_both_doors_is_rated_once_at_the_period_close(
    stack: Stack, catalog: httpx.AsyncClient, provisioning: httpx.AsyncClient, rating: httpx.AsyncClient
) -> None:
    product_id, price_id = await _usage_price(catalog)
    account = await customer_account(provisioning)
    order = await created(
        provisioning,
        "/v1/orders",
        {
            "account_id": account.account_id,
            "lines": [line(price_id, 1, term_months=12, effective_date="2026-06-01")],
        },
        CRM,
    )
    await submit(provisioning, order["id"])
    (workflow,) = await workflows_of(provisioning, order["id"])
    await walk_workflow(provisioning, workflow["id"])
    found = await eventually(
        lambda: _subscription_of(provisioning, order["id"]), until=lambda s: s is not None
    )
    assert found is not None
    subscription_id = found

    meter = {
        "code": "e2e_api_calls",
        "name": "API calls",
        "unit_of_measure": "call",
        "aggregation": "sum",
        "product_id": product_id,
    }
    response = await rating.post("/v1/meters", json=meter, headers=ADMIN)
    assert response.status_code in (201, 409), response.text  # 409: an earlier run of the session

    # The read model learns the subscription from provisioning's events.
    await eventually(lambda: _known_to_rating(rating, subscription_id), until=bool)

    june = datetime(2026, 6, 1, 8, tzinfo=UTC)
    run = uuid.uuid4().hex[:8]
    # 12,345 calls in June: 123 events of 100 and one of 45, one per hour.
    events = [_event(f"{run}-{i}", subscription_id, 100, june + timedelta(hours=i)) for i in range(123)]
    events.append(_event(f"{run}-last", subscription_id, 45, june + timedelta(hours=200)))
    first_half, second_half = events[:60], events[60:]

    sent = await ok(await rating.post("/v1/usage", json={"events": first_half}, headers=USAGE))
    assert sent["accepted"] == 60
    again = await ok(await rating.post("/v1/usage", json={"events": first_half}, headers=USAGE))
    assert (again["accepted"], again["duplicates"]) == (0, 60)

    # The rest, and the first half once more, from a mediation system on usage.raw.
    await _publish_raw(stack, account.account_id, second_half + first_half)

    async def counted() -> dict[str, Any] | None:
        usage = await ok(await rating.get(f"/v1/subscriptions/{subscription_id}/usage", headers=FINANCE))
        june_usage = [p for p in usage["periods"] if p["period_start"] == "2026-06-01"]
        return june_usage[0] if june_usage and Decimal(june_usage[0]["quantity"]) == 12345 else None

    june_usage = await eventually(counted, until=lambda usage: usage is not None)
    assert june_usage is not None
    assert june_usage["event_count"] == 124

    closed = await ok(await rating.post("/v1/rated-usage/close", json={}, headers=FINANCE))
    assert closed["rated"] >= 1
    page = await ok(
        await rating.get("/v1/rated-usage", params={"subscription_id": subscription_id}, headers=FINANCE)
    )
    (rated,) = [r for r in page["data"] if r["period_start"] == "2026-06-01"]
    # 9,000 x 0.0100 + 2,345 x 0.0075 = 107.5875 -> 107.59 (EXAMPLES §7)
    assert (rated["quantity"], rated["amount"], rated["currency"]) == ("12345", "107.59", "USD")
    assert (rated["price_id"], rated["price_version"]) == (price_id, 1)

    # Closing again rates nothing twice.
    await ok(await rating.post("/v1/rated-usage/close", json={}, headers=FINANCE))
    page = await ok(
        await rating.get("/v1/rated-usage", params={"subscription_id": subscription_id}, headers=FINANCE)
    )
    assert len([r for r in page["data"] if r["period_start"] == "2026-06-01"]) == 1


async def _subscription_of(provisioning: httpx.AsyncClient, order_id: str) -> str | None:
    page = await ok(await provisioning.get("/v1/subscriptions", params={"order_id": order_id}, headers=CRM))
    active = [s for s in page["data"] if s["state"] == "active"]
    return str(active[0]["id"]) if active else None


async def _known_to_rating(rating: httpx.AsyncClient, subscription_id: str) -> bool:
    response = await rating.get(f"/v1/subscriptions/{subscription_id}/usage", headers=FINANCE)
    return response.status_code == 200


async def _publish_raw(stack: Stack, account_id: str, events: list[dict[str, Any]]) -> None:
    items = [
        Envelope(
            event_id=uuid.uuid4(),
            type="usage.recorded",
            occurred_at=datetime.now(UTC),
            producer="mediation",
            key=account_id,
            payload=event,
        )
        for event in events
    ]
    batch = EventBatch(
        batch_id=uuid.uuid4(),
        type="usage.recorded",
        schema_version=1,
        producer="mediation",
        key=account_id,
        items=items,
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            USAGE_RAW, batch.model_dump_json().encode(), key=account_id.encode(), headers=list(BATCH_HEADERS)
        )
    finally:
        await producer.stop()
