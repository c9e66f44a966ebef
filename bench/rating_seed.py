"""What the rating benchmarks seed: the catalog's usage prices, the accounts and subscriptions, the meters.

The read model is seeded the way production fills it: the bench publishes the events the
catalog and provisioning would publish (`catalog.product_changed`, `catalog.price_published`,
`account.opened`, `subscription.activated`, in their contracts and envelopes, keyed as those
services key them) and the service's own consumers apply them. So the bench never writes the
service's tables, runs the same code a deployment runs, and keeps working when those tables
change; it waits for the outcome by polling the read-model tables with a deadline. The meters
are created through `POST /v1/meters`, as an operator would.

The prices follow seed 001's "10 ringtones free, then 0.50 each": the subscriptions are to the
API product, priced per call with 10 included; SMS are priced per message by the SMS product's
usage price. `bench_warmup` counts the events the bench sends before timing anything (on the
API product), and is left out of every count.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Final

import httpx

from bench.rating_stack import StoreProbe
from bench.usage_workload import METERS, account_id, subscription_id
from libs.contracts.catalog import PricePublished, ProductChanged
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.provisioning import AccountOpened, SubscriptionActivated, TaxInfo
from libs.contracts.registry import spec_of
from libs.contracts.vocabulary import (
    BillingFrequency,
    BillingTiming,
    ChargeType,
    LicenseType,
    PricingModel,
    ProductKind,
    RevenueRule,
)
from libs.platform.broker import KafkaPublisher

WARM_UP_METER: Final = "bench_warmup"
API_PRODUCT: Final = "prod_bench_api"
SMS_PRODUCT: Final = "prod_bench_sms"
API_PRICE: Final = "price_bench_api"
SMS_PRICE: Final = "price_bench_sms"
PRICE_IDS: Final = (API_PRICE, SMS_PRICE)
INCLUDED_CALLS: Final = Decimal(10)
CALL_PRICE: Final = Decimal("0.50")
SMS_PRICE_EACH: Final = Decimal("0.05")
PRICES_FROM: Final = date(2026, 1, 1)
TERM_START: Final = date(2026, 1, 1)
TERM_END: Final = date(2028, 1, 1)
SEED_TIMEOUT_S: Final = 300.0

METER_PRODUCTS: Final = {METERS[0]: API_PRODUCT, METERS[1]: SMS_PRODUCT, WARM_UP_METER: API_PRODUCT}


def _envelope(payload: EventPayload, *, producer: str, key: str) -> bytes:
    spec = spec_of(payload)
    return Envelope(
        event_id=uuid.uuid4(),
        type=spec.type,
        schema_version=spec.schema_version,
        occurred_at=datetime.now(UTC),
        producer=producer,
        key=key,
        payload=payload.model_dump(mode="json"),
    ).to_bytes()


def catalog_events() -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) of the two usage products and their prices, as the catalog publishes them."""
    events: list[tuple[str, bytes, bytes]] = []
    for product, sku, unit in ((API_PRODUCT, "BENCH-API", "call"), (SMS_PRODUCT, "BENCH-SMS", "message")):
        changed = ProductChanged(
            product_id=product,
            change="created",
            sku=sku,
            name=f"Bench {unit}s",
            kind=ProductKind.USAGE,
            unit_of_measure=unit,
            license_type=LicenseType.PAY_AS_YOU_GO,
            revenue_rule=RevenueRule.ON_INVOICE,
            tax_code="SW050000",
        )
        events.append(
            ("catalog.events", product.encode(), _envelope(changed, producer="catalog", key=product))
        )
    for price, product, unit_price, included in (
        (API_PRICE, API_PRODUCT, CALL_PRICE, INCLUDED_CALLS),
        (SMS_PRICE, SMS_PRODUCT, SMS_PRICE_EACH, Decimal(0)),
    ):
        published = PricePublished(
            price_id=price,
            version=1,
            product_id=product,
            currency="USD",
            charge_type=ChargeType.USAGE,
            billing_period=BillingFrequency.MONTHLY,
            timing=BillingTiming.IN_ARREARS,
            model=PricingModel.PER_UNIT,
            unit_price=unit_price,
            included_quantity=included,
            effective_from=PRICES_FROM,
        )
        events.append(
            ("catalog.events", product.encode(), _envelope(published, producer="catalog", key=product))
        )
    return events


def provisioning_events(subscriptions: int) -> Iterator[tuple[str, bytes, bytes]]:
    """(topic, key, value) of one account and one active API subscription per index."""
    for index in range(subscriptions):
        account = account_id(index)
        opened = AccountOpened(
            account_id=account,
            customer_id=f"cus_bench_{index:05d}",
            name=f"Bench account {index}",
            currency="USD",
            bill_cycle_day=1,
            time_zone="UTC",
            payment_terms_days=30,
            delivery="email",
            tax=TaxInfo(treatment="taxable", country="US"),
        )
        activated = SubscriptionActivated(
            subscription_id=subscription_id(index),
            account_id=account,
            product_id=API_PRODUCT,
            price_id=API_PRICE,
            price_version=1,
            currency="USD",
            unit_price=CALL_PRICE,
            discount_percent=Decimal(0),
            charge_type=ChargeType.USAGE,
            billing_period=BillingFrequency.MONTHLY,
            billing_timing=BillingTiming.IN_ARREARS,
            quantity=Decimal(1),
            commitment_quantity=Decimal(0),
            license_type=LicenseType.PAY_AS_YOU_GO,
            term_start=TERM_START,
            term_end=TERM_END,
            renewal="auto_renew",
            renewal_months=12,
            state="active",
            effective_date=TERM_START,
        )
        key = account.encode()
        yield "provisioning.events", key, _envelope(opened, producer="provisioning", key=account)
        yield "provisioning.events", key, _envelope(activated, producer="provisioning", key=account)


async def publish(bootstrap_servers: str, messages: Sequence[tuple[str, bytes, bytes]]) -> None:
    """Send every message and wait for every acknowledgement."""
    publisher = KafkaPublisher(bootstrap_servers, client_id="bench-seed")
    await publisher.start()
    try:
        futures = [
            await publisher.producer.send(topic, value=value, key=key) for topic, key, value in messages
        ]
        await asyncio.gather(*futures)
    finally:
        await publisher.stop()


async def create_meters(client: httpx.AsyncClient) -> None:
    """`POST /v1/meters` for the benchmark's meters (sum of quantities, each on its product)."""
    for code, product in METER_PRODUCTS.items():
        body = {
            "code": code,
            "name": f"Bench {code}",
            "unit_of_measure": "call" if product == API_PRODUCT else "message",
            "aggregation": "sum",
            "product_id": product,
        }
        response = await client.post("/v1/meters", json=body)
        if response.status_code not in {200, 201}:
            raise RuntimeError(f"POST /v1/meters answered {response.status_code}: {response.text}")


async def wait_for_read_model(
    probe: StoreProbe, subscriptions: int, timeout_s: float = SEED_TIMEOUT_S
) -> float:
    """Poll the read-model tables until every account and subscription is there; seconds it took."""
    started = time.monotonic()
    last: tuple[int | None, int | None] = (None, None)
    while time.monotonic() - started < timeout_s:
        last = (await probe.table_count("rating_accounts"), await probe.table_count("rating_subscriptions"))
        # The prices' table comes with the read model of catalog events; wait for it when it is there.
        prices = await probe.table_count("rating_prices")
        if last == (subscriptions, subscriptions) and (prices is None or prices >= len(PRICE_IDS)):
            return time.monotonic() - started
        await asyncio.sleep(0.25)
    raise TimeoutError(
        f"read model not seeded within {timeout_s}s: (accounts, subscriptions) = {last} of {subscriptions}"
    )
