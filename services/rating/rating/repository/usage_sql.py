"""The SQL building blocks of the usage repository: keys as one parameter, PostgreSQL `unnest`
selects, and rows in the stored forms SQLite keeps (see `rating.repository.usage`). A set of
scalar values is bound as `libs.platform.value_sets` binds every set (`in_set`, `set_param`)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final

import orjson
from sqlalchemy import Table
from sqlalchemy.engine import Dialect

from rating.domain.usage import AggregateKey, UsageEvent
from rating.models import UsageAggregate, UsageEventRow

if TYPE_CHECKING:
    from rating.handlers.usage_aggregates import AggregateChange

EVENTS: Final[Table] = UsageEventRow.__table__  # type: ignore[attr-defined]
AGGREGATES: Final[Table] = UsageAggregate.__table__  # type: ignore[attr-defined]

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


def as_json(value: Any) -> str:
    """JSON text of a parameter (orjson: dates as "YYYY-MM-DD", as SQLite stores them)."""
    return orjson.dumps(value).decode()


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
    return {"keys": as_json([[k[0], k[1], k[2]] for k in ordered])}


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


EVENT_ID: Final = attrgetter("event_id")


def _propertiesas_json(properties: Mapping[str, Any]) -> str:
    """An event's properties as stored: compact JSON text (orjson: the hot path of every event)."""
    return orjson.dumps(properties).decode()


_ZERO: Final = timedelta(0)
_ONE: Final = Decimal(1)


def event_values(event: UsageEvent, received_at: datetime) -> tuple[Any, ...]:
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
        _propertiesas_json(event.properties) if event.properties else None,
        event.source.value,
        event.load_id,
        received_at,
        event.review_reason,
    )


SQLITE_AGGREGATES: Final = (
    "SELECT subscription_id, meter, period_start, period_end, quantity, event_count, late_quantity,"
    " late_count, latest_at, rated_at, rowid FROM usage_aggregates"
    " WHERE (subscription_id, meter, period_start) IN"
    " (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]')"
    " FROM json_each(?))"
)
"""The aggregate rows of a set of keys on SQLite (the keys as one JSON list), as stored, and their rowids."""


def stored_decimal(text: str | int | float) -> Decimal:
    """A quantity as SQLite stores it, as `ExactDecimal` reads it back (the shortest exact form)."""
    value = Decimal(str(text))
    if value == value.to_integral_value():
        return value.quantize(_ONE)
    return Decimal(format(value.normalize(), "f"))


def stored_time(text: str | None) -> datetime | None:
    """A `UtcDateTime` as SQLite stores it ("YYYY-MM-DD HH:MM:SS[.ffffff]", UTC), aware."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def sqlite_time(moment: datetime) -> str:
    """An aware time as SQLite stores a `UtcDateTime`: UTC, "YYYY-MM-DD HH:MM:SS.ffffff"."""
    utc = moment if moment.utcoffset() == _ZERO else moment.astimezone(UTC)
    return utc.isoformat(" ", "microseconds")[:26]


def stored_quantity(value: Decimal) -> str:
    """A quantity as `ExactDecimal` stores it (`format(value, "f")`: never an exponent). `str`
    writes the same text whenever it writes no exponent (the usual case: an exponent only shows
    for a positive exponent or a number below 1e-6) and costs a third of `format`."""
    text = str(value)
    return text if "E" not in text else format(value, "f")


def sqlite_event_rows(events: Sequence[UsageEvent], received_at: datetime) -> list[tuple[Any, ...]]:
    """Event rows in the text forms SQLite stores (those SQLAlchemy's column types write), built
    without a per-value type call: dates are shared by many events, so each is formatted once."""
    # Dates and timestamps repeat within a batch (one placement per subscription and day;
    # mediation data is per second at best): each distinct one is formatted once, then looked up.
    days: dict[date | None, str | None] = {None: None}
    for value in {e.usage_date for e in events} | {e.period.start for e in events if e.period is not None}:
        if value is not None:
            days[value] = value.isoformat()
    received = sqlite_time(received_at)
    times = {moment: sqlite_time(moment) for moment in {e.occurred_at for e in events}}
    quantity_text, dumps = stored_quantity, orjson.dumps
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for e in events:
        period, properties = e.period, e.properties
        append(
            (
                e.event_id,
                e.meter,
                e.subscription_id,
                e.account_id,
                quantity_text(e.quantity),
                times[e.occurred_at],
                days[e.usage_date],
                days[period.start] if period is not None else None,
                e.status,  # a StrEnum is a str: bound as its value, without the enum's descriptor
                dumps(properties).decode() if properties else None,  # compact JSON text
                e.source,
                e.load_id,
                received,
                e.review_reason,
            )
        )
    return rows


def sqlite_aggregate_writes(
    changes: Iterable[AggregateChange], now: datetime
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows of new aggregate states in the text forms SQLite stores, as `sqlite_event_rows`
    builds events, straight from the changes: (updates by rowid, updates by key, inserts), each
    in the changes' order; an update binds AGGREGATE_COLUMNS[3:] then the key
    (`sqlite_aggregate_update`), an update by rowid the same with the rowid before the key
    (`SQLITE_AGGREGATE_UPDATE_BY_ROWID`), an insert AGGREGATE_COLUMNS."""
    by_rowid: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    inserts: list[tuple[Any, ...]] = []
    written = sqlite_time(now)
    quantity_text = stored_quantity
    # The latest times and days repeat within a batch: each distinct one is formatted once.
    times: dict[datetime | None, str | None] = {None: None}
    days: dict[date, str] = {}
    for change in changes:
        sub, meter, start = change.key
        state = change.state
        latest = state.latest_at
        latest_text = times.get(latest, _UNSEEN)
        if latest_text is _UNSEEN:
            assert latest is not None
            latest_text = times[latest] = sqlite_time(latest)
        end = change.period_end
        start_text = days.get(start) or days.setdefault(start, start.isoformat())
        end_text = days.get(end) or days.setdefault(end, end.isoformat())
        quantity = quantity_text(state.quantity)
        late_quantity = quantity_text(state.late_quantity)
        # Each row built as one tuple display (no tuple of the values in between).
        if not change.existed:
            inserts.append(
                (
                    sub,
                    meter,
                    start_text,
                    end_text,
                    change.account_id,
                    quantity,
                    state.event_count,
                    late_quantity,
                    state.late_count,
                    latest_text,
                    written,
                )
            )
        elif (rowid := change.rowid) is not None:
            by_rowid.append(
                (
                    end_text,
                    change.account_id,
                    quantity,
                    state.event_count,
                    late_quantity,
                    state.late_count,
                    latest_text,
                    written,
                    rowid,
                    sub,
                    meter,
                    start_text,
                )
            )
        else:
            updates.append(
                (
                    end_text,
                    change.account_id,
                    quantity,
                    state.event_count,
                    late_quantity,
                    state.late_count,
                    latest_text,
                    written,
                    sub,
                    meter,
                    start_text,
                )
            )
    return by_rowid, updates, inserts


_UNSEEN: Final[Any] = object()


def stored_form(
    row: tuple[Any, ...], forms: Sequence[Callable[[Any], Any]], *, update: bool = False
) -> tuple[Any, ...]:
    values = tuple(form(value) if value is not None else None for form, value in zip(forms, row, strict=True))
    # An UPDATE binds the key last (WHERE), the other columns first (SET).
    return (*values[3:], *values[:3]) if update else values


def column_arrays(columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """Rows as one array per column (the parameters of `unnest_select`)."""
    return {name: [row[i] for row in rows] for i, name in enumerate(columns)}


def sqlite_insert(table: Table, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


def sqlite_aggregate_update() -> str:
    sets = ", ".join(f"{name} = ?" for name in AGGREGATE_COLUMNS[3:])
    return f"UPDATE usage_aggregates SET {sets} WHERE subscription_id = ? AND meter = ? AND period_start = ?"


SQLITE_AGGREGATE_UPDATE_BY_ROWID: Final = sqlite_aggregate_update().replace(
    " WHERE ", " WHERE rowid = ? AND "
)
"""An aggregate's update found by its rowid (one b-tree search instead of the primary key's index
and then the table), the key checked on the row found: a rowid that names another row now (a
VACUUM renumbers them) updates nothing, and the caller updates by key instead."""
SQLITE_LAST_AGGREGATE_ROWID: Final = "SELECT max(rowid) FROM usage_aggregates"


QUIET_GENERATION: Final = "UPDATE rating_usage_generation SET generation = -2 - generation"
"""SQLite: the generation made negative (a generation g >= 0 becomes -2 - g): migration 0012's
row triggers skip the aggregate writes of the batch that set it, until `BUMPED_GENERATION`."""
BUMPED_GENERATION: Final = "UPDATE rating_usage_generation SET generation = -1 - generation"
"""SQLite: after `QUIET_GENERATION`, the generation one higher than before it (-2 - g becomes g + 1)."""

STAMP_GENERATION: Final = "UPDATE rating_usage_generation SET generation = :token"
"""A batch's token as the aggregates' generation (migration 0011)."""


def generation_select(dialect: str, *, lock: bool) -> str:
    """The aggregates' generation, locked on PostgreSQL when `lock` (before any aggregate row:
    every writer of the aggregates takes it first, so none waits for another crosswise)."""
    statement = "SELECT generation FROM rating_usage_generation"
    return statement + " FOR UPDATE" if lock and dialect == "postgresql" else statement
