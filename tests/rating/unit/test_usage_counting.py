"""`count_events` folds a batch into its aggregates exactly as `fold` does, key by key.

The ingestion folds each event into its key's running state in one pass over the batch (the hot
path); `fold` states the rules. For any batch — several keys, meters of each aggregation, late
events, equal timestamps (the `latest` tie rule), rows that existed or not — the state written
for each key is `fold` of the state read and that key's events in batch order.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from libs.platform.periods import BillingPeriod
from rating.domain.meters import Aggregation, Meter
from rating.domain.usage import AggregateKey, AggregateState, UsageEvent, UsageStatus, fold
from rating.handlers.usage_aggregates import AggregateChange, AggregateReads, StoredAggregate, count_events

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
PERIOD = BillingPeriod(date(2026, 7, 1), date(2026, 8, 1))
AGGREGATIONS = (Aggregation.SUM, Aggregation.COUNT, Aggregation.MAX, Aggregation.LATEST)
METERS = {
    aggregation.value: Meter.create(
        id=f"mtr_{aggregation.value}",
        code=aggregation.value,
        name=aggregation.value,
        unit_of_measure="unit",
        aggregation=aggregation,
        property=None,
        filter=None,
        product_id="prod",
        now=NOW,
    )
    for aggregation in AGGREGATIONS
}


@dataclass
class _Clock:
    def now(self) -> datetime:
        return NOW


@dataclass
class _Usage:
    written: list[AggregateChange] = field(default_factory=list)

    async def add_distinct_values(
        self, values: Collection[tuple[AggregateKey, str]]
    ) -> Counter[AggregateKey]:
        return Counter()

    async def write_aggregates(
        self, changes: Sequence[AggregateChange], *, now: datetime
    ) -> set[AggregateKey]:
        self.written.extend(changes)
        return set()


@dataclass
class _Uow:
    usage: _Usage = field(default_factory=_Usage)
    clock: _Clock = field(default_factory=_Clock)


_event = st.tuples(
    st.sampled_from(["sub_a", "sub_b"]),
    st.sampled_from([a.value for a in AGGREGATIONS]),
    st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=3),  # minutes: equal timestamps are frequent
    st.booleans(),  # late
)
_existing = st.dictionaries(
    st.tuples(st.sampled_from(["sub_a", "sub_b"]), st.sampled_from([a.value for a in AGGREGATIONS])),
    st.tuples(
        st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False),
        st.integers(min_value=1, max_value=5),
        st.integers(min_value=0, max_value=5),
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_event, min_size=1, max_size=30), _existing)
def test_each_key_is_written_as_fold_gives_it(raw: list[Any], existing: Mapping[Any, Any]) -> None:
    events = []
    for n, (sub, meter, quantity, minute, late) in enumerate(raw):
        event = UsageEvent(f"e{n}", meter, quantity, NOW + timedelta(minutes=minute), {}, sub, "acct")
        event.status = UsageStatus.LATE if late else UsageStatus.COUNTED
        event.period = PERIOD
        events.append(event)
    stored = {
        (sub, meter, PERIOD.start): StoredAggregate(
            AggregateState(quantity, count, Decimal(0), 0, NOW + timedelta(minutes=minute)), PERIOD.end, False
        )
        for (sub, meter), (quantity, count, minute) in existing.items()
    }
    uow: Any = _Uow()
    reads = AggregateReads(uow, None)
    asyncio.run(count_events(uow, events, METERS, dict(stored), reads))

    written = {change.key: change for change in uow.usage.written}
    keys = {(e.subscription_id, e.meter, PERIOD.start) for e in events}
    assert written.keys() == keys
    for key in keys:
        found = stored.get(key)
        group = [e for e in events if (e.subscription_id, e.meter, PERIOD.start) == key]
        expected = fold(
            found.state if found is not None else AggregateState.empty(),
            METERS[key[1]].aggregation,
            ((e.quantity, e.occurred_at, e.status is UsageStatus.LATE) for e in group),
        )
        change = written[key]
        assert change.state == expected
        assert change.existed is (found is not None)
        assert (change.period_end, change.account_id) == (PERIOD.end, "acct")
