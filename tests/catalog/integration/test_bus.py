"""Catalog events over the real broker: written with the change, relayed, applied exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalog.app import create_app
from catalog.config import CatalogSettings
from libs.contracts.catalog import ProductChanged
from libs.contracts.envelope import Envelope
from libs.contracts.topics import CATALOG_EVENTS
from libs.platform.db import Database
from libs.platform.inbox import DeadLetter, IdempotentConsumer, InboxEntry
from libs.platform.service import ServiceRuntime
from tests.catalog.integration import factories as f
from tests.catalog.integration.conftest import CatalogClient
from tests.support.polling import eventually
from tests.support.services import GROUP_TIMEOUTS, running_app, service_settings


class KnownProduct(SQLModel, table=True):
    """A downstream read model: one row per product_changed event applied."""

    __tablename__ = "test_catalog_known_products"

    event_id: str = Field(sa_column=Column(String(36), primary_key=True))
    product_id: str
    sku: str


async def _remember_product(session: AsyncSession, envelope: Envelope) -> None:
    product = envelope.payload_as(ProductChanged)
    # A plain INSERT: applying the same event twice would break the primary key.
    session.add(KnownProduct(event_id=str(envelope.event_id), product_id=product.product_id, sku=product.sku))


@dataclass
class Downstream:
    """A consumer service's own database and a way to start its consumer in a group."""

    db: Database
    broker: str
    group: str

    def consumer(self) -> IdempotentConsumer:
        return IdempotentConsumer(
            self.db,
            group_id=self.group,
            topics=[CATALOG_EVENTS],
            handlers={"catalog.product_changed": _remember_product},
            bootstrap_servers=self.broker,
            batch_size=10,
            **GROUP_TIMEOUTS,
        )

    async def known(self, product_ids: set[str]) -> list[str]:
        """Applied events of these products (other tests share the topic)."""
        async with self.db.session() as session:
            rows = await session.exec(
                select(KnownProduct).where(col(KnownProduct.product_id).in_(product_ids))
            )
            return [row.product_id for row in rows.all()]


@pytest.fixture
async def catalog_on_bus(broker: str, sqlite_url: str) -> AsyncIterator[tuple[CatalogClient, ServiceRuntime]]:
    """The catalog with its outbox relay publishing to the real broker."""
    settings = service_settings(CatalogSettings, database_url=sqlite_url, bootstrap=broker)
    app = create_app(settings)
    async with running_app(app) as client:
        yield CatalogClient(client, app.state.runtime), app.state.runtime


@pytest.fixture
async def downstream(broker: str, tmp_path) -> AsyncIterator[Downstream]:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/downstream.db")
    tables = [t.__table__ for t in (InboxEntry, DeadLetter, KnownProduct)]  # type: ignore[attr-defined]
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=tables))
    yield Downstream(db, broker, f"catalog-readers-{uuid.uuid4().hex[:8]}")
    await db.dispose()


async def _run_until(consumer: IdempotentConsumer, condition) -> None:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await condition()
    finally:
        stop.set()
        await task
        await consumer.stop()


async def test_product_event_reaches_a_consumer_once_although_delivered_twice(
    catalog_on_bus: tuple[CatalogClient, ServiceRuntime], downstream: Downstream
) -> None:
    catalog, runtime = catalog_on_bus
    product = await catalog.created("/v1/products", f.product(sku="BUS-ONCE"))
    consumer = downstream.consumer()

    async def delivered_twice() -> None:
        await eventually(lambda: downstream.known({product["id"]}), until=lambda rows: len(rows) == 1)
        # The broker gets every retained event again, as after a broker restart.
        assert runtime.relay is not None
        assert await runtime.relay.republish() >= 1
        await eventually(lambda: asyncio.sleep(0, consumer.skipped_duplicates), until=lambda n: n >= 1)

    await _run_until(consumer, delivered_twice)

    assert await downstream.known({product["id"]}) == [product["id"]]


async def test_no_event_lost_when_the_consumer_restarts_mid_stream(
    catalog_on_bus: tuple[CatalogClient, ServiceRuntime], downstream: Downstream
) -> None:
    catalog, _ = catalog_on_bus
    ids = {(await catalog.created("/v1/products", f.product()))["id"] for _ in range(30)}

    first = downstream.consumer()

    async def some_applied() -> None:
        await eventually(lambda: downstream.known(ids), until=lambda rows: len(rows) > 0)

    await _run_until(first, some_applied)
    # More products while no consumer runs; the next member resumes from the committed offsets.
    ids |= {(await catalog.created("/v1/products", f.product()))["id"] for _ in range(20)}
    second = downstream.consumer()

    async def all_applied() -> None:
        await eventually(lambda: downstream.known(ids), until=lambda rows: len(rows) >= 50, timeout_s=60)

    await _run_until(second, all_applied)

    known = await downstream.known(ids)
    assert sorted(known) == sorted(ids)  # each product exactly once
