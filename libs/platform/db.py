"""Async database access shared by every service: engine, sessions and exact column types.

SQLite (aiosqlite) by default, PostgreSQL (asyncpg) by configuration. SQLite connections get
WAL and a busy timeout because the outbox relay and the API write at the same time.

Money in SQL: `ExactDecimal` is NUMERIC on PostgreSQL (exact) and TEXT on SQLite, whose
NUMERIC is a float. So that SQL aggregates over money are exact on both, `SUM`, `MIN` and
`MAX` of an `ExactDecimal` column compile on SQLite to Decimal aggregates registered on every
connection (`decimal_sum`, also a window function, `decimal_min`, `decimal_max`); NULLs are
ignored and an empty set gives NULL, as in SQL. `AVG` over money is refused on both backends
(a CompileError): divide an exact SUM by COUNT where the rounding is decided. Aggregate the
money column itself; SQLite arithmetic or comparisons on it in SQL are not exact.
"""

from __future__ import annotations

import asyncio
import functools
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any, Final, TypeVar

from sqlalchemy import Dialect, String, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import functions
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import DateTime, Numeric, TypeDecorator
from sqlmodel.ext.asyncio.session import AsyncSession


def async_url(url: str) -> str:
    """Normalise a database URL to its async driver (sqlite+aiosqlite, postgresql+asyncpg)."""
    parsed = make_url(url)
    if parsed.drivername in {"sqlite", "sqlite+pysqlite"}:
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in {
        "postgresql",
        "postgres",
        "postgresql+psycopg2",
        "postgresql+psycopg",
    }:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    """True for a SQLite URL."""
    return make_url(url).get_backend_name() == "sqlite"


READ_ONLY: Final = "billing_read_only"
"""The execution option of a read-only session's connections (`Database.read_only_sessions`)."""


SQLITE_CACHE_KIB: Final = 65_536
"""Each SQLite connection's page cache (SQLite's default is 2 MiB; see `create_engine`)."""
SQLITE_HEAP_LIMIT_BYTES: Final = 96 * 2**20
"""SQLite's memory in the whole process (its soft heap limit): the page caches of every
connection together stay near it, whatever the number of connections and the database's size."""


def _bound_null(value: None) -> None:
    return value


def create_engine(
    url: str, *, sqlite_heap_limit: int = SQLITE_HEAP_LIMIT_BYTES, **kwargs: Any
) -> AsyncEngine:
    """An async engine with the pragmas every SQLite connection needs.

    SQLite's memory: a connection keeps the pages it read or wrote, up to `SQLITE_CACHE_KIB`
    each, so a process writing a growing database grew with it — a bill run by ~2 MiB a chunk of
    250 accounts (`bench.billrun_profile`, SQLite's own counter) until a cache was full, and a
    pool holds several. The soft heap limit (`sqlite_heap_limit` bytes; SQLite's, one for the
    process, set again by each connection) bounds them all together: near it, a connection
    recycles its own least recent pages instead of taking more memory. The rating usage bench
    grew +190 MiB from 1M to 5M events this way: connections taking turns to write each held a
    stale copy of the hot index pages (SQLite drops a connection's cache when another one wrote).
    A file database's pool therefore hands out the connection returned last (`pool_use_lifo`),
    whose cache is still valid.
    """
    url = async_url(url)
    if is_sqlite(url):
        # None is bound as NULL either way; without an adapter of its own the driver first asks
        # the adaptation protocol, which raises and clears an AttributeError per None value
        # (~3,000 instructions: a tenth of inserting a usage event with two NULL columns).
        # With one, it finds it in its registry and binds NULL as before.
        sqlite3.register_adapter(type(None), _bound_null)
        # The factory registers the exact money aggregates on each connection, in the thread
        # that owns it (aiosqlite opens connections in a worker thread of their own).
        connect_args = {"timeout": 30, "factory": ExactMoneyConnection}
        # The most recently returned connection is handed out first: a process's writes keep
        # landing on one connection, whose page cache stays valid (SQLite drops a connection's
        # whole cache when another connection wrote since its last transaction), and the other
        # pooled connections keep small caches instead of each holding a stale copy of the hot pages.
        if make_url(url).database not in (None, "", ":memory:"):  # a memory database has one connection
            kwargs.setdefault("pool_use_lifo", True)
        engine = create_async_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # The driver's own implicit BEGIN breaks SAVEPOINTs; we emit BEGIN ourselves.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # 64 MiB of page cache per connection (SQLite's default is 2 MiB): a table written at
            # high rate (usage events, the inbox) keeps its indexes' hot pages in memory, so an
            # insert of 10,000 rows stays ~85 ms at 120,000 rows instead of growing past 150 ms.
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cursor.execute(f"PRAGMA soft_heap_limit={int(sqlite_heap_limit)}")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front: a deferred transaction that reads and
            # then writes fails at once with SQLITE_BUSY when another writer got in between.
            # A read-only session never writes: its deferred BEGIN reads beside the writer (WAL).
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """The engine and session factory of one service's own database."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = async_url(url)
        self.engine = create_engine(self.url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self.read_only_sessions = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), class_=AsyncSession, expire_on_commit=False
        )
        """Sessions that only read: on SQLite they never take the write lock (so never wait for a
        writer); the caller must not write through them."""
        self._write_turns = asyncio.Lock() if is_sqlite(self.url) else None

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that rolls back on error; the caller commits."""
        async with self.sessions() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def write_turn(self) -> AsyncIterator[None]:
        """Hold this process's turn to write (SQLite; on PostgreSQL it waits for nothing).

        SQLite has one writer at a time and every transaction here takes the write lock at its
        start (BEGIN IMMEDIATE). A writer that finds it taken waits in SQLite's busy handler,
        which sleeps and retries in growing steps (1 ms up to 100 ms): behind a loop of short
        transactions (a background worker) a waiting writer can sleep through many of them. Hot
        writers of one process that take their turn here instead queue first come, first served
        and start the moment the previous one ends.
        """
        if self._write_turns is None:
            yield
            return
        async with self._write_turns:
            yield

    async def ping(self) -> None:
        """Raise if the database cannot answer `SELECT 1`."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


class ExactDecimal(TypeDecorator[Decimal]):
    """Money and quantities stored exactly: NUMERIC on PostgreSQL, TEXT on SQLite.

    SQLite's NUMERIC affinity is a float, so a Decimal there must travel as text.
    """

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(38, 12, asdecimal=True))
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if type(value) is not Decimal:
            value = Decimal(value)
        if dialect.name == "postgresql":
            return value
        return format(value, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, str):
            return _decimal_of_text(value)
        return _shortest(Decimal(str(value)) if not isinstance(value, Decimal) else value)

    # On SQLite, whose String has no processor of its own, a value goes straight to the conversion
    # below rather than through TypeDecorator's two calls a value (a bill run's chunk binds and reads
    # some ten thousand amounts); the results of the same few texts are memoized.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if self.impl_instance.bind_processor(dialect) is not None or dialect.name == "postgresql":
            return super().bind_processor(dialect)
        return _text_bind

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if self.impl_instance.result_processor(dialect, coltype) is not None or dialect.name == "postgresql":
            return super().result_processor(dialect, coltype)
        return _text_result


def _shortest(result: Decimal) -> Decimal:
    # NUMERIC(38,12) pads zeros; normalise to the shortest exact form without exponent.
    if result == result.to_integral_value():
        return result.quantize(Decimal(1))
    return Decimal(format(result.normalize(), "f"))


@functools.lru_cache(maxsize=4096)
def _decimal_of_text(text: str) -> Decimal:
    """A stored text as its Decimal (memoized: a Decimal is immutable, and the same few amounts and
    quantities are read over and over; an invalid text raises and is not kept)."""
    return _shortest(Decimal(text))


def _text_bind(value: Any) -> str | None:
    """`ExactDecimal.process_bind_param` on SQLite."""
    if value is None:
        return None
    return format(value if type(value) is Decimal else Decimal(value), "f")


def _text_result(value: Any) -> Decimal | None:
    """`ExactDecimal.process_result_value` on SQLite."""
    if value is None:
        return None
    if isinstance(value, str):
        return _decimal_of_text(value)
    return _shortest(Decimal(str(value)) if not isinstance(value, Decimal) else value)


# Wide enough that a sum of 18-digit amounts with 12 decimals never rounds.
_SUM_CONTEXT: Final = Context(prec=80)


class _DecimalSum:
    """SQLite SUM of decimal texts, exact; a window function too (running totals)."""

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: Any) -> None:
        if value is not None:
            self.total = _SUM_CONTEXT.add(self.total or Decimal(0), Decimal(str(value)))

    def inverse(self, value: Any) -> None:
        if value is not None and self.total is not None:
            self.total = _SUM_CONTEXT.subtract(self.total, Decimal(str(value)))

    def value(self) -> str | None:
        return None if self.total is None else format(self.total, "f")

    def finalize(self) -> str | None:
        return self.value()


class _DecimalExtreme:
    """SQLite MIN or MAX of decimal texts by value; answers the original text."""

    def __init__(self, pick_larger: bool) -> None:
        self.pick_larger = pick_larger
        self.best: tuple[Decimal, Any] | None = None

    def step(self, value: Any) -> None:
        if value is None:
            return
        number = Decimal(str(value))
        if self.best is None or (number > self.best[0] if self.pick_larger else number < self.best[0]):
            self.best = (number, value)

    def finalize(self) -> Any:
        return None if self.best is None else self.best[1]


class _DecimalMax(_DecimalExtreme):
    def __init__(self) -> None:
        super().__init__(pick_larger=True)


class _DecimalMin(_DecimalExtreme):
    def __init__(self) -> None:
        super().__init__(pick_larger=False)


def register_money_aggregates(connection: sqlite3.Connection) -> None:
    """Give a SQLite connection the exact aggregates that SUM/MIN/MAX over money compile to."""
    connection.create_window_function("decimal_sum", 1, _DecimalSum)
    connection.create_aggregate("decimal_max", 1, _DecimalMax)
    connection.create_aggregate("decimal_min", 1, _DecimalMin)


class ExactMoneyConnection(sqlite3.Connection):
    """A SQLite connection with the exact money aggregates registered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        register_money_aggregates(self)


def _over_money(element: functions.FunctionElement[Any]) -> bool:
    clauses = list(element.clauses)
    return len(clauses) == 1 and isinstance(clauses[0].type, ExactDecimal)


def _exact_on_sqlite(name: str) -> Any:
    def compile_aggregate(element: functions.FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
        if _over_money(element):
            return f"{name}({compiler.process(element.clauses, **kw)})"
        return compiler.visit_function(element, **kw)  # type: ignore[arg-type]

    return compile_aggregate


compiles(functions.sum, "sqlite")(_exact_on_sqlite("decimal_sum"))
compiles(functions.max, "sqlite")(_exact_on_sqlite("decimal_max"))
compiles(functions.min, "sqlite")(_exact_on_sqlite("decimal_min"))


# Lower case like SQLAlchemy's own `sum`: the class name is the SQL function's name.
class avg(functions.GenericFunction[Any]):
    """SQL AVG, known to SQLAlchemy so that AVG over money can be refused."""

    inherit_cache = True


@compiles(avg)
def _refuse_avg_over_money(element: avg, compiler: SQLCompiler, **kw: Any) -> str:
    if _over_money(element):
        raise CompileError(
            "AVG over money is refused: it is not exact on SQLite and its rounding is not a "
            "money rule; divide an exact SUM by COUNT and round where the rule says"
        )
    return compiler.visit_function(element, **kw)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite forgets the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: timestamps are timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        process = super().bind_processor(dialect)
        if process is None or dialect.name != "sqlite":
            return process
        # SQLite stores the UTC moment as text formatted in Python; the moments bound repeat (a
        # chunk's invoices, events and audit records are all written at one moment), so each
        # moment's text is kept. Equal aware datetimes are one instant, hence one UTC text; a
        # naive one raises (and is not kept).
        memoized = functools.lru_cache(maxsize=256)(process)

        def bind(value: Any) -> Any:
            return memoized(value) if type(value) is datetime else process(value)

        return bind


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


T = TypeVar("T")

# PostgreSQL's "deadlock detected" and "could not serialize access": the server rolled the
# transaction back to let a concurrent one finish, and the same work may simply run again.
RETRYABLE_SQLSTATES: Final = frozenset({"40P01", "40001"})


def is_retryable_conflict(exc: BaseException) -> bool:
    """True when `exc` is a transaction the database aborted for a concurrent one (deadlock
    victim, serialization failure): running the same work again is the answer."""
    orig = getattr(exc, "orig", None)
    for candidate in (exc, orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code in RETRYABLE_SQLSTATES:
            return True
    return False


async def retrying_conflicts(
    attempt: Callable[[], Awaitable[T]], *, attempts: int = 5, backoff_s: float = 0.02
) -> T:
    """Run `attempt` (one whole transaction, idempotent) again when the database aborted it for a
    concurrent one, with a short jittered back-off; any other error, or the last one, is raised."""
    for tried in range(1, attempts + 1):
        try:
            return await attempt()
        except Exception as exc:
            if tried == attempts or not is_retryable_conflict(exc):
                raise
            await asyncio.sleep(backoff_s * 2**tried * (1 + random.random()))
    raise AssertionError("unreachable")
