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

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import date, datetime
from operator import attrgetter
from typing import Any, Final, cast

from sqlalchemy import Table, select, text
from sqlalchemy.engine import Dialect
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.vocabulary import BillingFrequency
from libs.platform.value_sets import in_set, set_param
from rating.domain.usage import (
    AccountTerms,
    AggregateKey,
    AggregateState,
    SubscriptionTerms,
    UsageEvent,
)
from rating.handlers.usage import AggregateChange, StoredAggregate, UsageRepository
from rating.models import RatedAccount, RatedSubscription
from rating.repository.usage_reports import SqlUsageReports
from rating.repository.usage_sql import (
    AGGREGATE_COLUMNS,
    AGGREGATES,
    BUMPED_GENERATION,
    EVENT_COLUMNS,
    EVENT_ID,
    EVENTS,
    QUIET_GENERATION,
    SQLITE_AGGREGATE_UPDATE_BY_ROWID,
    SQLITE_AGGREGATES,
    SQLITE_LAST_AGGREGATE_ROWID,
    STAMP_GENERATION,
    as_json,
    column_arrays,
    event_values,
    generation_select,
    keys_in,
    keys_param,
    sqlite_aggregate_update,
    sqlite_aggregate_writes,
    sqlite_event_rows,
    sqlite_insert,
    storage_forms,
    stored_decimal,
    stored_form,
    stored_time,
    unnest_select,
)

ACCOUNTS: Final[Table] = RatedAccount.__table__  # type: ignore[attr-defined]
SUBSCRIPTIONS: Final[Table] = RatedSubscription.__table__  # type: ignore[attr-defined]
_INCOMING: Final = "usage_events_incoming"
_SQLITE_INSERT_NEW: Final = (
    sqlite_insert(EVENTS, EVENT_COLUMNS).removesuffix(";") + " ON CONFLICT (event_id) DO NOTHING"
)
_CHANGE_KEY: Final = attrgetter("key")
_SQLITE_LAST_ROWID: Final = "SELECT max(rowid) FROM usage_events"
_SQLITE_WRITTEN_SINCE: Final = "SELECT event_id FROM usage_events WHERE rowid > ?"
"""The temporary table a PostgreSQL batch is copied into (per connection)."""


class SqlUsageRepository(SqlUsageReports, UsageRepository):
    """Usage events, aggregates and distinct values, and the read model, over one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._incoming_used = False

    async def _dialect(self) -> Dialect:
        return (await self.session.connection()).dialect

    async def _rows(self, statement: Any, params: dict[str, Any]) -> list[Any]:
        connection = await self.session.connection()
        return list((await connection.execute(statement, params)).all())

    # --- read model -----------------------------------------------------------------------

    async def read_model_generation(self) -> int | None:
        """The counter migration 0010's triggers bump on any change of accounts or subscriptions."""
        connection = await self.session.connection()
        result = await connection.exec_driver_sql("SELECT generation FROM rating_read_model_generation")
        row = result.first()
        return int(row[0]) if row is not None else None

    async def aggregate_generation(self, *, lock: bool) -> int | None:
        """The row migration 0011's triggers bump and batches stamp (locked on PostgreSQL when
        `lock`: SQLite locked the whole database at BEGIN)."""
        connection = await self.session.connection()
        statement = generation_select(connection.dialect.name, lock=lock)
        row = (await connection.exec_driver_sql(statement)).first()
        return int(row[0]) if row is not None else None

    async def stamp_aggregate_generation(self, token: int) -> None:
        """Set the aggregates' generation to a batch's token."""
        connection = await self.session.connection()
        await connection.execute(text(STAMP_GENERATION), {"token": token})

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
        if dialect == "sqlite":
            return await self._sqlite_aggregates(keys)
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
            statement = statement.with_for_update()  # SQLite locked the whole database at BEGIN
        found: dict[AggregateKey, StoredAggregate] = {}
        rows = await self._rows(statement, keys_param(keys, dialect))
        for sub, meter, start, end, quantity, count, late_quantity, late_count, latest, rated in rows:
            state = AggregateState(quantity, count, late_quantity, late_count, latest)
            found[(sub, meter, start)] = StoredAggregate(state, end, rated is not None)
        return found

    async def _sqlite_aggregates(self, keys: Collection[AggregateKey]) -> dict[AggregateKey, StoredAggregate]:
        """`aggregates` on SQLite: the stored text read straight from the driver, converted here
        as the column types would (10,000 rows a batch: their per-value processing was most of it)."""
        connection = await self.session.connection()
        result = await connection.exec_driver_sql(SQLITE_AGGREGATES, (keys_param(keys, "sqlite")["keys"],))
        found: dict[AggregateKey, StoredAggregate] = {}
        days: dict[str, date] = {}
        rows = cast("list[tuple[Any, ...]]", result.all())  # the driver's rows, as tuples
        for sub, meter, start, end, quantity, count, late_quantity, late_count, latest, rated, rowid in rows:
            state = AggregateState(
                stored_decimal(quantity),
                count,
                stored_decimal(late_quantity),
                late_count,
                stored_time(latest),
            )
            start_day = days.get(start) or days.setdefault(start, date.fromisoformat(start))
            end_day = days.get(end) or days.setdefault(end, date.fromisoformat(end))
            found[(sub, meter, start_day)] = StoredAggregate(state, end_day, rated is not None, rowid)
        return found

    async def write_aggregates(
        self, changes: Sequence[AggregateChange], *, now: datetime
    ) -> set[AggregateKey]:
        """Update the rows that existed, insert the others; the keys another batch inserted first."""
        connection = await self.session.connection()
        ordered = sorted(changes, key=_CHANGE_KEY)
        if connection.dialect.name == "postgresql":
            values = [
                (
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
            ]
            updates = [row for row, change in zip(values, ordered, strict=True) if change.existed]
            inserts = [row for row, change in zip(values, ordered, strict=True) if not change.existed]
            return await self._write_aggregates_postgresql(updates, inserts)
        # SQLite: the rows in their stored text forms, built in one pass (no row per change in
        # between: 10,000 aggregates a batch).
        by_rowid, by_key, inserts = sqlite_aggregate_writes(ordered, now)
        # Migration 0012's row triggers skip the batch's own rows while the generation is
        # negative; it ends one higher than it was: one bump for the batch, not one a row. No
        # other writer sees the mark (one writer at a time; a rollback takes it back).
        await connection.exec_driver_sql(QUIET_GENERATION)
        try:
            if by_rowid:
                result = await connection.exec_driver_sql(SQLITE_AGGREGATE_UPDATE_BY_ROWID, by_rowid)
                if result.rowcount != len(by_rowid):
                    # A rowid named another row (renumbered): all of them again by key (the
                    # values are absolute, so a row updated twice ends the same).
                    by_key += [(*row[:-4], *row[-3:]) for row in by_rowid]
            if by_key:
                await connection.exec_driver_sql(sqlite_aggregate_update(), by_key)
            if inserts:
                await self._sqlite_insert_aggregates(
                    inserts, [change for change in ordered if not change.existed]
                )
        finally:
            await connection.exec_driver_sql(BUMPED_GENERATION)
        return set()

    async def _sqlite_insert_aggregates(
        self, rows: list[tuple[Any, ...]], changes: Sequence[AggregateChange]
    ) -> None:
        """Insert new aggregate rows; their rowids set on `changes` when SQLite numbered them in
        a row after the table's last (its usual choice: one higher than the largest rowid)."""
        connection = await self.session.connection()
        before = (await connection.exec_driver_sql(SQLITE_LAST_AGGREGATE_ROWID)).scalar() or 0
        await connection.exec_driver_sql(sqlite_insert(AGGREGATES, AGGREGATE_COLUMNS), rows)
        after = (await connection.exec_driver_sql(SQLITE_LAST_AGGREGATE_ROWID)).scalar()
        if after == before + len(rows):
            for offset, change in enumerate(changes, start=1):
                change.rowid = before + offset

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
            await (await self.session.connection()).execute(
                statement, column_arrays(AGGREGATE_COLUMNS, updates)
            )
        if not inserts:
            return set()
        columns, source = ", ".join(AGGREGATE_COLUMNS), unnest_select(AGGREGATE_COLUMNS)
        statement = text(
            f"INSERT INTO usage_aggregates ({columns}) {source}"
            " ON CONFLICT (subscription_id, meter, period_start) DO NOTHING"
            " RETURNING subscription_id, meter, period_start"
        )
        written = {
            tuple(row) for row in await self._rows(statement, column_arrays(AGGREGATE_COLUMNS, inserts))
        }
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
            params = {"rows": as_json([[k[0], k[1], k[2], v] for k, v in ordered])}
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
        ordered = sorted(events, key=EVENT_ID)
        if dialect.name == "postgresql":
            return await self._insert_events_postgresql(ordered, received_at)
        # No look-up of the ids first: the primary key decides (ON CONFLICT DO NOTHING), and the
        # count of rows written tells whether every event was new (the usual case). When some
        # were not, the rows this statement wrote are those past the table's last rowid before
        # it: the transaction holds SQLite's write lock, so no other writer interleaves.
        before = (await connection.exec_driver_sql(_SQLITE_LAST_ROWID)).scalar()
        result = await connection.exec_driver_sql(_SQLITE_INSERT_NEW, sqlite_event_rows(ordered, received_at))
        if result.rowcount == len(ordered):
            return {event.event_id for event in ordered}
        written = await connection.exec_driver_sql(_SQLITE_WRITTEN_SINCE, (before or 0,))
        return {row[0] for row in written}

    async def _insert_events_postgresql(
        self, ordered: Sequence[UsageEvent], received_at: datetime
    ) -> set[str]:
        """COPY the batch into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING.

        COPY's binary rows cost a third less than the same values bound as arrays for `unnest`.
        The temporary table lives per connection and is emptied at commit (or vanishes with a
        rollback); rows are inserted in event_id order, so two batches lock ids in one order.
        """
        connection = await self.session.connection()
        await connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_INCOMING} (LIKE usage_events) ON COMMIT DELETE ROWS"
        )
        if self._incoming_used:
            # A consumer records several chunks in one transaction: the last one's rows go first.
            await connection.exec_driver_sql(f"DELETE FROM {_INCOMING}")
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection  # asyncpg's, inside this transaction
        await driver.copy_records_to_table(
            _INCOMING, records=[event_values(event, received_at) for event in ordered], columns=EVENT_COLUMNS
        )
        columns = ", ".join(EVENT_COLUMNS)
        statement = text(
            f"INSERT INTO usage_events ({columns}) SELECT {columns} FROM {_INCOMING} ORDER BY event_id"
            " ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
        )
        self._incoming_used = True
        return {row[0] for row in await self._rows(statement, {})}

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
            return {row[0] for row in await self._rows(statement, column_arrays(columns, rows))}
        still = await self._rows(
            text(
                "SELECT event_id FROM usage_events WHERE status = 'unmatched' AND "
                + in_set("event_id", "ids", "sqlite")
            ),
            {"ids": set_param([row[0] for row in rows], "sqlite")},
        )
        unmatched = {row[0] for row in still}
        forms = storage_forms(EVENTS, columns, dialect)
        sets = ", ".join(f"{name} = ?" for name in columns[1:])
        changed = [(*stored_form(row, forms)[1:], row[0]) for row in rows if row[0] in unmatched]
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
