"""Usage in SQL: events, aggregates and distinct values, written in sets (the ingestion's hot path).

Every method is one statement for the whole batch, whatever its size: a set of ids or keys
travels as ONE parameter — arrays on PostgreSQL (`unnest`, `= ANY`), a JSON list on SQLite
(`json_each`) — so there is no limit on bound variables and no per-row SQL rendering; inserts
of many rows go straight to the driver (PostgreSQL: one `INSERT ... SELECT FROM unnest`,
SQLite: one `executemany`) with values already in the column's stored form, never an ORM
object per event.

Concurrency: on SQLite every write transaction holds the database's write lock from its first
statement (BEGIN IMMEDIATE), so a read followed by a write in one transaction is never raced.
On PostgreSQL the event insert is `ON CONFLICT DO NOTHING` (the primary key decides between
two batches carrying one event), the aggregates read for a batch are locked (`FOR UPDATE`), and
an aggregate row another batch created after the read is reported back to the handler to be
folded again (`write_aggregates`). Rows are always written in key order, so two batches lock
them in the same order.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from typing import Any, Final

import orjson
from sqlalchemy import Table, select, text
from sqlalchemy.engine import Dialect
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.vocabulary import BillingFrequency
from rating.domain.usage import (
    AccountTerms,
    AggregateKey,
    AggregateState,
    SubscriptionTerms,
    UsageEvent,
)
from rating.handlers.usage import AggregateChange, StoredAggregate, UsageRepository
from rating.models import RatedAccount, RatedSubscription, UsageAggregate, UsageEventRow, UsageUniqueValue
from rating.repository.usage_reports import SqlUsageReports

EVENTS: Final[Table] = UsageEventRow.__table__  # type: ignore[attr-defined]
AGGREGATES: Final[Table] = UsageAggregate.__table__  # type: ignore[attr-defined]
UNIQUE_VALUES: Final[Table] = UsageUniqueValue.__table__  # type: ignore[attr-defined]
ACCOUNTS: Final[Table] = RatedAccount.__table__  # type: ignore[attr-defined]
SUBSCRIPTIONS: Final[Table] = RatedSubscription.__table__  # type: ignore[attr-defined]

EVENT_COLUMNS: Final = (
    "event_id",
    "meter",
    "subscription_id",
    "account_id",
    "quantity",
    "occurred_at",
    "usage_date",
    "period_start",
    "status",
    "properties",
    "source",
    "load_id",
    "received_at",
    "review_reason",
)
AGGREGATE_COLUMNS: Final = (
    "subscription_id",
    "meter",
    "period_start",
    "period_end",
    "account_id",
    "quantity",
    "event_count",
    "late_quantity",
    "late_count",
    "latest_at",
    "updated_at",
)
_SQL_TYPES: Final = {
    "quantity": "numeric",
    "late_quantity": "numeric",
    "occurred_at": "timestamptz",
    "received_at": "timestamptz",
    "latest_at": "timestamptz",
    "updated_at": "timestamptz",
    "usage_date": "date",
    "period_start": "date",
    "period_end": "date",
    "event_count": "integer",
    "late_count": "integer",
}


def in_set(column: str, param: str, dialect: str) -> str:
    """SQL for `column IN <the set bound as param>` (an array, or a JSON list on SQLite)."""
    if dialect == "postgresql":
        return f"{column} = ANY(:{param})"
    return f"{column} IN (SELECT value FROM json_each(:{param}))"


def set_param(values: Collection[Any], dialect: str) -> Any:
    """A set of scalar values as one parameter of `in_set`."""
    return list(values) if dialect == "postgresql" else json.dumps(list(values))


def keys_in(dialect: str) -> str:
    """SQL for `(subscription_id, meter, period_start) IN <the keys bound as :keys / :subs ...>`."""
    columns = "(subscription_id, meter, period_start)"
    if dialect == "postgresql":
        return (
            f"{columns} IN (SELECT * FROM unnest(CAST(:subs AS text[]), CAST(:meters AS text[]),"
            " CAST(:starts AS date[])))"
        )
    return (
        f"{columns} IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),"
        " json_extract(value, '$[2]') FROM json_each(:keys))"
    )


def keys_param(keys: Collection[AggregateKey], dialect: str) -> dict[str, Any]:
    """The parameters of `keys_in`."""
    ordered = sorted(keys)
    if dialect == "postgresql":
        return {
            "subs": [k[0] for k in ordered],
            "meters": [k[1] for k in ordered],
            "starts": [k[2] for k in ordered],
        }
    return {"keys": json.dumps([[k[0], k[1], k[2].isoformat()] for k in ordered])}


def storage_forms(table: Table, columns: Sequence[str], dialect: Dialect) -> list[Callable[[Any], Any]]:
    """Per column, the function giving a Python value's stored form (the type's bind processing)."""
    forms: list[Callable[[Any], Any]] = []
    for name in columns:
        # The dialect's own type: on SQLite its processor writes the text the ORM writes.
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        forms.append(processor if processor is not None else _same)
    return forms


def _same(value: Any) -> Any:
    return value


def unnest_select(columns: Sequence[str], *, defaults: dict[str, str] | None = None) -> str:
    """`SELECT ... FROM unnest(...)` of PostgreSQL arrays bound as one parameter per column."""
    defaults = defaults or {}
    arrays = ", ".join(
        f"CAST(:{name} AS {_SQL_TYPES.get(name, 'text')}[])" for name in columns if name not in defaults
    )
    picked = ", ".join(defaults.get(name, f"v.{name}") for name in columns)
    named = ", ".join(name for name in columns if name not in defaults)
    return f"SELECT {picked} FROM unnest({arrays}) AS v({named})"


class SqlUsageRepository(SqlUsageReports, UsageRepository):
    """Usage events, aggregates and distinct values, and the read model, over one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _dialect(self) -> Dialect:
        return (await self.session.connection()).dialect

    async def _rows(self, statement: Any, params: dict[str, Any]) -> list[Any]:
        connection = await self.session.connection()
        return list((await connection.execute(statement, params)).all())

    # --- read model -----------------------------------------------------------------------

    async def accounts(self, account_ids: Collection[str]) -> dict[str, AccountTerms]:
        """The accounts of these ids that rating knows, by id."""
        dialect = (await self._dialect()).name
        c = ACCOUNTS.c
        statement = select(c.account_id, c.time_zone, c.bill_cycle_day).where(
            text(in_set("account_id", "ids", dialect))
        )
        rows = await self._rows(statement, {"ids": set_param(account_ids, dialect)})
        return {row[0]: AccountTerms(row[0], row[1], row[2]) for row in rows}

    async def subscriptions(self, subscription_ids: Collection[str]) -> dict[str, SubscriptionTerms]:
        """The subscriptions of these ids that rating knows, by id."""
        dialect = (await self._dialect()).name
        where = text(in_set("subscription_id", "ids", dialect))
        rows = await self._rows(
            _subscription_select().where(where), {"ids": set_param(subscription_ids, dialect)}
        )
        return {row[0]: _subscription_terms(row) for row in rows}

    async def account_subscriptions(
        self, account_ids: Collection[str], product_ids: Collection[str]
    ) -> list[SubscriptionTerms]:
        """The subscriptions of these accounts to these products."""
        dialect = (await self._dialect()).name
        statement = _subscription_select().where(
            text(in_set("account_id", "accounts", dialect)), text(in_set("product_id", "products", dialect))
        )
        params = {"accounts": set_param(account_ids, dialect), "products": set_param(product_ids, dialect)}
        return [_subscription_terms(row) for row in await self._rows(statement, params)]

    # --- aggregates -----------------------------------------------------------------------

    async def aggregates(
        self, keys: Collection[AggregateKey], *, lock: bool
    ) -> dict[AggregateKey, StoredAggregate]:
        """The aggregate rows of these keys that exist (locked on PostgreSQL when `lock`)."""
        if not keys:
            return {}
        dialect = (await self._dialect()).name
        c = AGGREGATES.c
        statement = (
            select(
                c.subscription_id,
                c.meter,
                c.period_start,
                c.period_end,
                c.quantity,
                c.event_count,
                c.late_quantity,
                c.late_count,
                c.latest_at,
                c.rated_at,
            )
            .where(text(keys_in(dialect)))
            .order_by(c.subscription_id, c.meter, c.period_start)
        )
        if lock:
            statement = statement.with_for_update()  # ignored on SQLite, which locked the database
        found: dict[AggregateKey, StoredAggregate] = {}
        for row in await self._rows(statement, keys_param(keys, dialect)):
            state = AggregateState(
                row.quantity, row.event_count, row.late_quantity, row.late_count, row.latest_at
            )
            found[(row.subscription_id, row.meter, row.period_start)] = StoredAggregate(
                state, row.period_end, row.rated_at is not None
            )
        return found

    async def write_aggregates(
        self, changes: Sequence[AggregateChange], *, now: datetime
    ) -> set[AggregateKey]:
        """Update the rows that existed, insert the others; the keys another batch inserted first."""
        connection = await self.session.connection()
        dialect = connection.dialect
        ordered = sorted(changes, key=lambda change: change.key)
        values = {
            change.key: (
                *change.key,
                change.period_end,
                change.account_id,
                change.state.quantity,
                change.state.event_count,
                change.state.late_quantity,
                change.state.late_count,
                change.state.latest_at,
                now,
            )
            for change in ordered
        }
        updates = [values[c.key] for c in ordered if c.existed]
        inserts = [values[c.key] for c in ordered if not c.existed]
        if dialect.name == "postgresql":
            return await self._write_aggregates_postgresql(updates, inserts)
        forms = storage_forms(AGGREGATES, AGGREGATE_COLUMNS, dialect)
        if updates:
            await connection.exec_driver_sql(
                _sqlite_aggregate_update(), [_stored(row, forms, update=True) for row in updates]
            )
        if inserts:
            await connection.exec_driver_sql(
                _sqlite_insert(AGGREGATES, AGGREGATE_COLUMNS), [_stored(row, forms) for row in inserts]
            )
        return set()

    async def _write_aggregates_postgresql(
        self, updates: list[tuple[Any, ...]], inserts: list[tuple[Any, ...]]
    ) -> set[AggregateKey]:
        if updates:
            assignments = ", ".join(f"{name} = v.{name}" for name in AGGREGATE_COLUMNS[3:])
            source = unnest_select(AGGREGATE_COLUMNS)
            statement = text(
                f"UPDATE usage_aggregates AS a SET {assignments} FROM ({source}) AS v"
                " WHERE a.subscription_id = v.subscription_id AND a.meter = v.meter"
                " AND a.period_start = v.period_start"
            )
            await (await self.session.connection()).execute(statement, _arrays(AGGREGATE_COLUMNS, updates))
        if not inserts:
            return set()
        columns, source = ", ".join(AGGREGATE_COLUMNS), unnest_select(AGGREGATE_COLUMNS)
        statement = text(
            f"INSERT INTO usage_aggregates ({columns}) {source}"
            " ON CONFLICT (subscription_id, meter, period_start) DO NOTHING"
            " RETURNING subscription_id, meter, period_start"
        )
        written = {tuple(row) for row in await self._rows(statement, _arrays(AGGREGATE_COLUMNS, inserts))}
        return {row[:3] for row in inserts if row[:3] not in written}

    async def add_distinct_values(
        self, values: Collection[tuple[AggregateKey, str]]
    ) -> Counter[AggregateKey]:
        """Record distinct values per aggregate (one statement); how many were new, per aggregate."""
        dialect = (await self._dialect()).name
        ordered = sorted(values)
        returning = " ON CONFLICT DO NOTHING RETURNING subscription_id, meter, period_start"
        columns = "subscription_id, meter, period_start, value"
        if dialect == "postgresql":
            statement = text(
                f"INSERT INTO usage_unique_values ({columns}) SELECT * FROM unnest(CAST(:subs AS text[]),"
                " CAST(:meters AS text[]), CAST(:starts AS date[]), CAST(:vals AS text[])) " + returning
            )
            params: dict[str, Any] = {
                "subs": [k[0] for k, _ in ordered],
                "meters": [k[1] for k, _ in ordered],
                "starts": [k[2] for k, _ in ordered],
                "vals": [v for _, v in ordered],
            }
        else:
            statement = text(
                f"INSERT INTO usage_unique_values ({columns}) SELECT json_extract(value, '$[0]'),"
                " json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]')"
                " FROM json_each(:rows) WHERE true" + returning
            )
            params = {"rows": json.dumps([[k[0], k[1], k[2].isoformat(), v] for k, v in ordered])}
        new: Counter[AggregateKey] = Counter()
        for sub, meter, start in await self._rows(statement, params):
            new[(sub, meter, start if isinstance(start, date) else date.fromisoformat(start))] += 1
        return new

    # --- events ---------------------------------------------------------------------------

    async def insert_events(self, events: Sequence[UsageEvent], *, received_at: datetime) -> set[str]:
        """Store the events whose id is new (one statement); the ids stored."""
        if not events:
            return set()
        connection = await self.session.connection()
        dialect = connection.dialect
        ordered = sorted(events, key=_EVENT_ID)
        if dialect.name == "postgresql":
            # What the batch's events share travels once, not as an array of copies.
            shared = {
                "source": "CAST(:source AS text)",
                "load_id": "CAST(:load_id AS text)",
                "received_at": "CAST(:received_at AS timestamptz)",
            }
            varying = [name for name in EVENT_COLUMNS if name not in shared]
            rows = [_event_values(event, received_at) for event in ordered]
            params: dict[str, Any] = {
                name: [row[i] for row in rows] for i, name in enumerate(EVENT_COLUMNS) if name in varying
            }
            params.update(source=ordered[0].source.value, load_id=ordered[0].load_id, received_at=received_at)
            statement = text(
                f"INSERT INTO usage_events ({', '.join(EVENT_COLUMNS)})"
                f" {unnest_select(EVENT_COLUMNS, defaults=shared)}"
                " ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
            )
            return {row[0] for row in await self._rows(statement, params)}
        ids = [event.event_id for event in ordered]
        existing = await self._rows(
            text(f"SELECT event_id FROM usage_events WHERE {in_set('event_id', 'ids', 'sqlite')}"),
            {"ids": json.dumps(ids)},
        )
        known = {row[0] for row in existing}
        fresh = sqlite_event_rows([e for e in ordered if e.event_id not in known], received_at)
        if fresh:
            await connection.exec_driver_sql(_sqlite_insert(EVENTS, EVENT_COLUMNS), fresh)
        return set(ids) - known

    async def mark_guided(self, events: Sequence[UsageEvent]) -> set[str]:
        """Give stored unmatched events their new placement; the ids that were still unmatched."""
        if not events:
            return set()
        connection = await self.session.connection()
        dialect = connection.dialect
        columns = (
            "event_id",
            "subscription_id",
            "account_id",
            "usage_date",
            "period_start",
            "status",
            "review_reason",
        )
        rows = [
            (
                e.event_id,
                e.subscription_id,
                e.account_id,
                e.usage_date,
                e.period.start if e.period is not None else None,
                e.status.value,
                e.review_reason,
            )
            for e in sorted(events, key=lambda event: event.event_id)
        ]
        assignments = ", ".join(f"{name} = v.{name}" for name in columns[1:])
        if dialect.name == "postgresql":
            statement = text(
                f"UPDATE usage_events AS e SET {assignments} FROM ({unnest_select(columns)}) AS v"
                " WHERE e.event_id = v.event_id AND e.status = 'unmatched' RETURNING e.event_id"
            )
            return {row[0] for row in await self._rows(statement, _arrays(columns, rows))}
        still = await self._rows(
            text(
                "SELECT event_id FROM usage_events WHERE status = 'unmatched' AND "
                + in_set("event_id", "ids", "sqlite")
            ),
            {"ids": json.dumps([row[0] for row in rows])},
        )
        unmatched = {row[0] for row in still}
        forms = storage_forms(EVENTS, columns, dialect)
        sets = ", ".join(f"{name} = ?" for name in columns[1:])
        changed = [(*_stored(row, forms)[1:], row[0]) for row in rows if row[0] in unmatched]
        if changed:
            await connection.exec_driver_sql(f"UPDATE usage_events SET {sets} WHERE event_id = ?", changed)
        return unmatched


def _subscription_select() -> Any:
    c = SUBSCRIPTIONS.c
    return select(
        c.subscription_id,
        c.account_id,
        c.product_id,
        c.billing_period,
        c.state,
        c.term_start,
        c.term_end,
        c.effective_date,
    )


def _subscription_terms(row: Any) -> SubscriptionTerms:
    try:
        frequency: BillingFrequency | None = BillingFrequency(row.billing_period)
    except ValueError:
        frequency = None  # no billing period (or one this code does not know): monthly
    return SubscriptionTerms(
        subscription_id=row.subscription_id,
        account_id=row.account_id,
        product_id=row.product_id,
        billing_period=frequency,
        state=row.state,
        term_start=row.term_start,
        term_end=row.term_end,
        effective_date=row.effective_date,
    )


_EVENT_ID: Final = attrgetter("event_id")


def _properties_json(properties: Mapping[str, Any]) -> str:
    """An event's properties as stored: compact JSON text (orjson: the hot path of every event)."""
    return orjson.dumps(properties).decode()


_ZERO: Final = timedelta(0)


def _event_values(event: UsageEvent, received_at: datetime) -> tuple[Any, ...]:
    return (
        event.event_id,
        event.meter,
        event.subscription_id,
        event.account_id,
        event.quantity,
        event.occurred_at,
        event.usage_date,
        event.period.start if event.period is not None else None,
        event.status.value,
        _properties_json(event.properties) if event.properties else None,
        event.source.value,
        event.load_id,
        received_at,
        event.review_reason,
    )


def sqlite_time(moment: datetime) -> str:
    """An aware time as SQLite stores a `UtcDateTime`: UTC, "YYYY-MM-DD HH:MM:SS.ffffff"."""
    utc = moment if moment.utcoffset() == _ZERO else moment.astimezone(UTC)
    return utc.isoformat(" ", "microseconds")[:26]


def sqlite_event_rows(events: Sequence[UsageEvent], received_at: datetime) -> list[tuple[Any, ...]]:
    """Event rows in the text forms SQLite stores (those SQLAlchemy's column types write), built
    without a per-value type call: dates are shared by many events, so each is formatted once."""
    days: dict[date, str] = {}

    def day(value: date | None) -> str | None:
        if value is None:
            return None
        found = days.get(value)
        if found is None:
            found = days[value] = value.isoformat()
        return found

    received = sqlite_time(received_at)
    return [
        (
            e.event_id,
            e.meter,
            e.subscription_id,
            e.account_id,
            format(e.quantity, "f"),
            sqlite_time(e.occurred_at),
            day(e.usage_date),
            day(e.period.start if e.period is not None else None),
            e.status,  # a StrEnum is a str: bound as its value, without the enum's descriptor
            _properties_json(e.properties) if e.properties else None,
            e.source,
            e.load_id,
            received,
            e.review_reason,
        )
        for e in events
    ]


def _stored(
    row: tuple[Any, ...], forms: Sequence[Callable[[Any], Any]], *, update: bool = False
) -> tuple[Any, ...]:
    values = tuple(form(value) if value is not None else None for form, value in zip(forms, row, strict=True))
    # An UPDATE binds the key last (WHERE), the other columns first (SET).
    return (*values[3:], *values[:3]) if update else values


def _arrays(columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """Rows as one array per column (the parameters of `unnest_select`)."""
    return {name: [row[i] for row in rows] for i, name in enumerate(columns)}


def _sqlite_insert(table: Table, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


def _sqlite_aggregate_update() -> str:
    sets = ", ".join(f"{name} = ?" for name in AGGREGATE_COLUMNS[3:])
    return f"UPDATE usage_aggregates SET {sets} WHERE subscription_id = ? AND meter = ? AND period_start = ?"
