"""The topic door on the real broker: `usage.recorded` batch messages on `usage.raw` count like a
REST batch, the same events through both doors count once, a redelivered or regrouped message
changes nothing, and a refused event is parked with its reasons while the others count."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from libs.contracts.batch import BATCH_HEADERS, encode_batch
from libs.contracts.envelope import Envelope
from libs.contracts.topics import USAGE_RAW
from libs.contracts.usage import UsageRecorded
from libs.platform.clock import FixedClock
from libs.platform.db import Database
from libs.platform.dead_letters import list_dead_letters
from libs.platform.inbox import InboxEntry
from libs.platform.outbox import build_envelope
from rating.app import create_app
from rating.consumers import USAGE_GROUP
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import (
    create_meter,
    period_usage,
    post_usage,
    rated_account,
    rated_subscription,
    usage_event,
)
from tests.support.polling import eventually
from tests.support.services import running_app

pytestmark = pytest.mark.broker

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@dataclass
class Service:
    client: httpx.AsyncClient
    db: Database
    broker: str

    async def july(self, subscription_id: str, meter: str) -> tuple[str, int]:
        """(quantity, event count) of the subscription's July period."""
        return await period_usage(self.client, subscription_id, meter)

    async def send(self, envelopes: Sequence[Envelope], *, key: str) -> None:
        """One batch message on usage.raw, as a mediation system publishes it."""
        value = encode_batch(
            [e.to_bytes() for e in envelopes], event_ids=[str(e.event_id) for e in envelopes]
        )
        producer = AIOKafkaProducer(bootstrap_servers=self.broker)
        await producer.start()
        try:
            await producer.send_and_wait(
                USAGE_RAW, value=value, key=key.encode(), headers=list(BATCH_HEADERS)
            )
        finally:
            await producer.stop()

    async def inbox_rows(self) -> int:
        async with self.db.session() as session:
            connection = await session.connection()
            statement = (
                select(func.count()).select_from(InboxEntry).where(InboxEntry.consumer_group == USAGE_GROUP)
            )  # type: ignore[arg-type]
            return int((await connection.execute(statement)).scalar_one())


@pytest.fixture
async def service(broker: str, database_url: str) -> AsyncIterator[Service]:
    app = create_app(rating_settings(database_url, broker), clock=FixedClock(NOW))
    async with running_app(app) as client:
        yield Service(client, app.state.runtime.db, broker)


def _envelopes(events: Sequence[dict[str, Any]], key: str) -> list[Envelope]:
    return [build_envelope(UsageRecorded.model_validate(e), producer="mediation", key=key) for e in events]


async def _customer(service: Service) -> tuple[str, str, str]:
    meter = (await create_meter(service.client))["code"]
    account = await rated_account(service.db)
    sub = await rated_subscription(service.db, account_id=account, product_id="prod_api")
    return meter, account, sub


async def test_usage_on_the_topic_counts_like_a_rest_batch_and_a_redelivery_changes_nothing(
    service: Service,
) -> None:
    meter, account, sub = await _customer(service)
    events = [usage_event(meter, account_id=account, quantity=q) for q in ("1.5", 2, 3)]
    message = _envelopes(events, account)
    await service.send(message, key=account)
    assert await eventually(lambda: service.july(sub, meter), until=lambda found: found == ("6.5", 3))

    await service.send(message, key=account)  # the same message again (same batch id)
    regrouped = _envelopes(events[1:], account)  # a republish grouping the same events anew
    regrouped.append(_envelopes([usage_event(meter, account_id=account, quantity=4)], account)[0])
    await service.send(regrouped, key=account)
    assert await eventually(lambda: service.july(sub, meter), until=lambda found: found == ("10.5", 4))
    # One inbox row per message taken whole, none per event: the usage table deduplicates.
    assert await service.inbox_rows() == 2


async def test_the_same_events_through_rest_and_the_topic_count_once(service: Service) -> None:
    meter, account, sub = await _customer(service)
    via_rest = [usage_event(meter, subscription_id=sub, quantity=q) for q in (1, 2)]
    via_topic = [usage_event(meter, subscription_id=sub, quantity=q) for q in (10, 20)]
    assert (await post_usage(service.client, via_rest))["counted"] == 2
    await service.send(_envelopes([*via_rest, *via_topic], account), key=account)
    assert await eventually(lambda: service.july(sub, meter), until=lambda found: found == ("33", 4))
    receipt = await post_usage(service.client, [*via_rest, *via_topic])
    assert (receipt["accepted"], receipt["duplicates"]) == (0, 4)
    assert await service.july(sub, meter) == ("33", 4)


async def test_a_refused_event_on_the_topic_is_parked_with_its_reasons_and_the_others_count(
    service: Service,
) -> None:
    meter, account, sub = await _customer(service)
    good = [usage_event(meter, subscription_id=sub, quantity=q) for q in (5, 7)]
    unknown = usage_event("no_such_meter", subscription_id=sub)
    await service.send(_envelopes([good[0], unknown, good[1]], account), key=account)
    assert await eventually(lambda: service.july(sub, meter), until=lambda found: found == ("12", 2))
    letters = await eventually(
        lambda: list_dead_letters(service.db, group=USAGE_GROUP), until=lambda found: len(found) == 1
    )
    parked = Envelope.model_validate_json(letters[0].body)
    assert parked.payload["event_id"] == unknown["event_id"]
    assert "no meter has the code 'no_such_meter'" in letters[0].error
