"""The reads of an entitlement check, straight on the driver: one statement a check.

A check reads the read model's generation, the open aggregate of the subscription's meter and
whether the account has an open prepaid balance, in one statement (and, the first time a
subscription is asked about in a generation, the subscription with its account in another).
The statements are built with SQLAlchemy Core and compiled once; rows come back through the
columns' own result processors, so values are the ones the ORM would give (dates, exact
decimals).

On SQLite they run on a read-only connection of the driver (`sqlite3`) in the event loop's
thread: an indexed point read in WAL mode takes some tens of microseconds and never waits for a
writer (a reader sees the last committed state), far less than handing each statement to
aiosqlite's worker thread and back (about a millisecond of CPU and four thread switches a
check, measured with `python -m bench.entitlement_check`) or taking the write lock that every
session's `BEGIN IMMEDIATE` takes. On PostgreSQL they run on a connection of their own small
asyncpg pool (one round trip a read), or the engine's with another driver.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Final

from sqlalchemy import Date, Select, TypeDecorator, and_, bindparam, exists, literal_column, or_, select
from sqlalchemy.engine import Dialect, make_url

from libs.platform.db import Database
from rating.domain.subscriptions import Account, Subscription
from rating.handlers.entitlements import OpenUsage
from rating.models import BalanceRow, RatedAccount, RatedSubscription, ReadModelGeneration, UsageAggregate

_GENERATION = ReadModelGeneration.__table__  # type: ignore[attr-defined]
_AGGREGATES = UsageAggregate.__table__  # type: ignore[attr-defined]
_BALANCES = BalanceRow.__table__  # type: ignore[attr-defined]
_SUBSCRIPTIONS = RatedSubscription.__table__  # type: ignore[attr-defined]
_ACCOUNTS = RatedAccount.__table__  # type: ignore[attr-defined]
_SUBSCRIPTION_FIELDS: Final = (
    "subscription_id",
    "account_id",
    "product_id",
    "price_id",
    "price_version",
    "currency",
    "charge_type",
    "billing_period",
    "state",
    "quantity",
    "term_start",
    "term_end",
    "effective_date",
    "event_at",
    "event_kind",
)
_ACCOUNT_FIELDS: Final = (
    "account_id",
    "customer_id",
    "parent_account_id",
    "currency",
    "bill_cycle_day",
    "time_zone",
    "event_at",
)
CHECK_POOL_SIZE: Final = 4
"""PostgreSQL connections the checks of one process read on (their own pool)."""
READ_TIMEOUT_S: Final = 1.0
"""How long a read on the loop waits for a lock (a WAL reader waits only while a checkpoint
resets the log, a few milliseconds at most)."""


def _open_usage_statement() -> Select[Any]:
    """Generation, open balance or not, and the unrated aggregates whose period holds `on`."""
    balances: Select[Any] = (
        select(literal_column("1"))
        .select_from(_BALANCES)
        .where(
            _BALANCES.c.account_id == literal_bind("account_id"),
            _BALANCES.c.closed_on.is_(None),
            or_(
                _BALANCES.c.subscription_id == literal_bind("subscription_id"),
                _BALANCES.c.subscription_id.is_(None),
            ),
        )
    )
    return (
        select(
            _GENERATION.c.generation,
            exists(balances).label("has_balances"),
            _AGGREGATES.c.period_start,
            _AGGREGATES.c.period_end,
            _AGGREGATES.c.quantity,
        )
        .select_from(
            _GENERATION.outerjoin(
                _AGGREGATES,
                and_(
                    _AGGREGATES.c.subscription_id == literal_bind("subscription_id"),
                    _AGGREGATES.c.meter == literal_bind("meter"),
                    _AGGREGATES.c.rated_at.is_(None),
                    _AGGREGATES.c.period_start <= literal_bind("on", date),
                    _AGGREGATES.c.period_end > literal_bind("on", date),
                ),
            )
        )
        .where(_GENERATION.c.id == literal_column("1"))
        .order_by(_AGGREGATES.c.period_start)
    )


def _subscription_statement() -> Select[Any]:
    """Generation, then the subscription and its account (NULLs when unknown)."""
    return (
        select(
            _GENERATION.c.generation,
            *(_SUBSCRIPTIONS.c[name] for name in _SUBSCRIPTION_FIELDS),
            *(_ACCOUNTS.c[name] for name in _ACCOUNT_FIELDS),
        )
        .select_from(
            _GENERATION.outerjoin(
                _SUBSCRIPTIONS, _SUBSCRIPTIONS.c.subscription_id == literal_bind("subscription_id")
            ).outerjoin(_ACCOUNTS, _ACCOUNTS.c.account_id == _SUBSCRIPTIONS.c.account_id)
        )
        .where(_GENERATION.c.id == literal_column("1"))
    )


def literal_bind(name: str, type_: type | None = None) -> Any:
    """A named parameter (typed when its bind processor matters, as a date's does on SQLite)."""
    return bindparam(name, type_=Date()) if type_ is date else bindparam(name)


class _Compiled:
    """A statement compiled for one dialect: its SQL, parameter order and value converters."""

    def __init__(self, statement: Select[Any], dialect: Dialect | None) -> None:
        self.statement = statement
        self.sql = ""
        self.params: list[tuple[str, Callable[[Any], Any] | None]] = []
        self.results: list[Callable[[Any], Any] | None] = []
        if dialect is None:
            return  # run through SQLAlchemy
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        names: Sequence[str] = compiled.positiontup or []
        self.params = [(name, compiled.binds[name].type._cached_bind_processor(dialect)) for name in names]
        self.results = [_result_processor(column.type, dialect) for column in statement.selected_columns]

    def arguments(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            values[name] if convert is None else convert(values[name]) for name, convert in self.params
        )

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            v if convert is None else convert(v) for v, convert in zip(raw, self.results, strict=True)
        )


def _result_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column's conversion of a driver value: SQLAlchemy's own for SQLite (text to dates and
    exact decimals); asyncpg hands over dates and decimals already, so only a type decorator's
    own step is left (NUMERIC's padding zeros trimmed, as the ORM would)."""
    if dialect.name == "sqlite":
        processor: Callable[[Any], Any] | None = type_._cached_result_processor(dialect, None)
        return processor
    if isinstance(type_, TypeDecorator) and type_._has_result_processor:
        return lambda value: type_.process_result_value(value, dialect)
    return None


class SqlEntitlementReads:
    """What a check reads, in one statement (two the first time a subscription is asked about)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._path = _sqlite_file(db.url) if db.dialect == "sqlite" else None
        self._asyncpg = db.engine.dialect.driver == "asyncpg"
        self._connection: sqlite3.Connection | None = None
        self._pool: Any = None
        self._compiled: tuple[_Compiled, _Compiled] | None = None

    def _statements(self) -> tuple[_Compiled, _Compiled]:
        """The open-usage and subscription statements, compiled when first used (for the driver
        where statements go to it directly: SQLite, asyncpg)."""
        if self._compiled is None:
            direct = self._path is not None or self._asyncpg
            dialect = self.db.engine.dialect if direct else None
            self._compiled = (
                _Compiled(_open_usage_statement(), dialect),
                _Compiled(_subscription_statement(), dialect),
            )
        return self._compiled

    async def subscription_and_account(
        self, subscription_id: str
    ) -> tuple[int | None, tuple[Subscription, Account | None] | None]:
        """The read model's generation, and the subscription with its account (None: unknown)."""
        rows = await self._rows(self._statements()[1], {"subscription_id": subscription_id})
        row = rows[0]
        generation = row[0]
        if row[1] is None:
            return generation, None
        fields = len(_SUBSCRIPTION_FIELDS)
        subscription = Subscription(**dict(zip(_SUBSCRIPTION_FIELDS, row[1 : 1 + fields], strict=True)))
        account_values = row[1 + fields :]
        account = (
            None
            if account_values[0] is None
            else Account(**dict(zip(_ACCOUNT_FIELDS, account_values, strict=True)))
        )
        return generation, (subscription, account)

    async def open_usage(self, *, subscription_id: str, account_id: str, meter: str, on: date) -> OpenUsage:
        """The generation, whether a prepaid balance may apply, and the open period's aggregate."""
        values = {"subscription_id": subscription_id, "account_id": account_id, "meter": meter, "on": on}
        rows = await self._rows(self._statements()[0], values)
        first = rows[0]
        return OpenUsage(
            generation=first[0],
            has_balances=bool(first[1]),
            series=tuple((r[2], r[3], r[4]) for r in rows if r[2] is not None),
        )

    async def close(self) -> None:
        """Close the read-only connection or pool (the runtime's stop)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _rows(self, compiled: _Compiled, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        if self._path is not None:
            cursor = self._sqlite().execute(compiled.sql, compiled.arguments(values))
            return [compiled.row(raw) for raw in cursor.fetchall()]
        if self._asyncpg:
            # A small pool of its own: one round trip a read (the engine's checkout pings first,
            # and its connection begins and rolls back a transaction around the statement).
            async with (await self._asyncpg_pool()).acquire() as connection:
                records = await connection.fetch(compiled.sql, *compiled.arguments(values))
            return [compiled.row(tuple(record)) for record in records]
        async with self.db.engine.connect() as connection:
            result = await connection.execute(compiled.statement, values)
            return [tuple(row) for row in result.all()]

    async def _asyncpg_pool(self) -> Any:
        if self._pool is None:
            import asyncpg

            dsn = make_url(self.db.url).set(drivername="postgresql").render_as_string(hide_password=False)
            self._pool = await asyncpg.create_pool(dsn, min_size=1, max_size=CHECK_POOL_SIZE)
        return self._pool

    def _sqlite(self) -> sqlite3.Connection:
        if self._connection is None:
            assert self._path is not None
            connection = sqlite3.connect(
                f"file:{self._path}?mode=ro", uri=True, timeout=READ_TIMEOUT_S, check_same_thread=False
            )
            connection.isolation_level = None  # each statement its own read transaction
            self._connection = connection
        return self._connection


def _sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL (None for an in-memory database, which only its engine sees)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database
