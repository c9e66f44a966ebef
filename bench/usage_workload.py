"""The usage benchmark's workload: which events, in which order, in which batches, as which bytes.

Everything is derived from an event's index, so the expected outcome (how many distinct events,
how much per subscription and meter) is computed from the same rules that produce the events,
never read back from the service:

- distinct event `i` is used by subscription `i % subscriptions` on meter
  `meters[(i // subscriptions) % len(meters)]`, quantity `1 + (i * 7) % 9`, at
  `base_time - (i % 3600) s`, with one property (`region`);
- one event in `duplicate_every` (1 %) is sent twice: event `j` (every `j % 100 == 0`) again
  `duplicate_lag` sends later, so about half the duplicates land in their original's batch and
  half in the next one (both kinds of dedup are exercised), the last ones at the very end;
- the sends are cut into batches of `batch_size`: one `POST /v1/usage` body, or one
  `usage.recorded` batch message on `usage.raw` (items of one key: the batch's mediation
  source), so the two doors carry exactly the same batches.

Bodies and messages are built with string formatting rather than `json.dumps` of dicts: the
bench shares the machine with the service it measures, so it must cost as little as possible
(about 1 µs an event). `tests/bench` checks the bytes against the contracts they claim to be.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Final

from libs.contracts.batch import BATCH_HEADERS, encode_batch

DEFAULT_SUBSCRIPTIONS: Final = 10_000
DEFAULT_BATCH_SIZE: Final = 10_000
DUPLICATE_EVERY: Final = 100
METERS: Final = ("api_calls", "sms")
PRODUCER: Final = "mediation-bench"
REGIONS: Final = ("eu", "us", "apac")
SPREAD_S: Final = 3_600


def subscription_id(index: int) -> str:
    """The id of seeded subscription `index` (one per account)."""
    return f"sub_bench_{index:05d}"


def account_id(index: int) -> str:
    """The id of the account of seeded subscription `index`."""
    return f"acct_bench_{index:05d}"


@dataclass(frozen=True)
class Batch:
    """One batch of sends: its position and the event indexes it carries (duplicates included)."""

    number: int
    events: Sequence[int]


@dataclass(frozen=True)
class UsageWorkload:
    """`events` distinct usage events for `subscriptions` subscriptions, 1 % of them sent twice."""

    events: int
    run: str
    """Prefix of every event id, so that two workloads never share an id."""
    subscriptions: int = DEFAULT_SUBSCRIPTIONS
    batch_size: int = DEFAULT_BATCH_SIZE
    meters: tuple[str, ...] = METERS
    duplicate_every: int = DUPLICATE_EVERY
    base_time: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    @property
    def duplicate_lag(self) -> int:
        """How many sends after its original a duplicate is sent."""
        return max(1, self.batch_size // 2)

    @property
    def duplicates(self) -> int:
        """How many events are sent twice."""
        return len(range(0, self.events, self.duplicate_every))

    @property
    def sends(self) -> int:
        """Events sent in all (distinct events plus duplicates)."""
        return self.events + self.duplicates

    @property
    def batch_count(self) -> int:
        """How many batches the sends make."""
        return -(-self.sends // self.batch_size)

    def event_id(self, index: int) -> str:
        """The producer-chosen id of distinct event `index`."""
        return f"{self.run}-{index:09d}"

    def subscription_of(self, index: int) -> int:
        """The subscription index event `index` is used by."""
        return index % self.subscriptions

    def meter_of(self, index: int) -> str:
        """The meter event `index` counts on."""
        return self.meters[(index // self.subscriptions) % len(self.meters)]

    @staticmethod
    def quantity_of(index: int) -> int:
        """The quantity of event `index` (1 to 9)."""
        return 1 + (index * 7) % 9

    @cached_property
    def _timestamps(self) -> tuple[str, ...]:
        return tuple(
            (self.base_time - timedelta(seconds=s)).isoformat().replace("+00:00", "Z")
            for s in range(SPREAD_S)
        )

    def timestamp_of(self, index: int) -> str:
        """When event `index` was used (ISO 8601, UTC)."""
        return self._timestamps[index % SPREAD_S]

    def send_order(self) -> Iterator[int]:
        """Event indexes in the order they are sent, each duplicate `duplicate_lag` sends late."""
        lag, every = self.duplicate_lag, self.duplicate_every
        for index in range(self.events):
            yield index
            original = index - lag
            if original >= 0 and original % every == 0:
                yield original
        first_late = max(0, self.events - lag)
        yield from (j for j in range(first_late, self.events) if j % every == 0)

    def batches(self) -> Iterator[Batch]:
        """The sends cut into batches of `batch_size`, in order."""
        pending: list[int] = []
        number = 0
        for index in self.send_order():
            pending.append(index)
            if len(pending) == self.batch_size:
                yield Batch(number, pending)
                pending, number = [], number + 1
        if pending:
            yield Batch(number, pending)

    def expected_by_series(self) -> dict[tuple[str, str], tuple[Decimal, int]]:
        """(subscription id, meter) → (total quantity, distinct events): what must be stored."""
        totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for index in range(self.events):
            total = totals[(subscription_id(self.subscription_of(index)), self.meter_of(index))]
            total[0] += self.quantity_of(index)
            total[1] += 1
        return {series: (Decimal(q), n) for series, (q, n) in totals.items()}

    def expected_quantity(self) -> Decimal:
        """The total quantity of the distinct events."""
        return Decimal(sum(self.quantity_of(i) for i in range(self.events)))

    def record_json(self, index: int) -> str:
        """Event `index` as a `UsageRecord` JSON object."""
        return (
            f'{{"event_id":"{self.event_id(index)}",'
            f'"subscription_id":"{subscription_id(self.subscription_of(index))}",'
            f'"meter":"{self.meter_of(index)}","quantity":{self.quantity_of(index)},'
            f'"timestamp":"{self.timestamp_of(index)}",'
            f'"properties":{{"region":"{REGIONS[index % len(REGIONS)]}"}}}}'
        )

    def rest_body(self, batch: Batch) -> bytes:
        """`POST /v1/usage` body of a batch: `{"events": [...]}`."""
        return ('{"events":[' + ",".join(self.record_json(i) for i in batch.events) + "]}").encode()

    def ndjson_body(self, batch: Batch) -> bytes:
        """`POST /v1/usage` NDJSON body of a batch: one record a line."""
        return ("\n".join(self.record_json(i) for i in batch.events) + "\n").encode()

    def message_key(self, batch: Batch) -> str:
        """The key of a batch's message: the mediation source that sent it (one per batch)."""
        return f"mediation-{self.run}-{batch.number:05d}"

    def topic_message(self, batch: Batch) -> tuple[bytes, bytes, tuple[tuple[str, bytes], ...]]:
        """(key, value, headers) of a batch as one `usage.recorded` batch message.

        Each item is the envelope a mediation system would send; a duplicate gets an envelope
        id of its own (a producer re-sending an event wraps it again), so what catches it is the
        usage dedup on the record's `event_id`, not the consumer's inbox of envelope ids.
        """
        key = self.message_key(batch)
        occurred = self.base_time.isoformat().replace("+00:00", "Z")
        ids: list[str] = []
        items: list[bytes] = []
        for position, index in enumerate(batch.events):
            envelope_id = f"{self._run_hex}-{batch.number % 0x10000:04x}-4000-8000-{position:012x}"
            ids.append(envelope_id)
            items.append(
                (
                    f'{{"event_id":"{envelope_id}","type":"usage.recorded","schema_version":1,'
                    f'"occurred_at":"{occurred}","producer":"{PRODUCER}","key":"{key}",'
                    f'"payload":{self.record_json(index)}}}'
                ).encode()
            )
        return key.encode(), encode_batch(items, event_ids=ids), BATCH_HEADERS

    @cached_property
    def _run_hex(self) -> str:
        return f"{zlib.crc32(self.run.encode()):08x}"


def parse_summary(body: bytes) -> dict[str, object]:
    """A usage answer's JSON object (empty when the body is not one)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
