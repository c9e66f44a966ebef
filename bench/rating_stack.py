"""The rating service as the benchmarks run it: a real `python -m rating` process on a local broker.

`RatingProcess` starts one service process (its own port, log file and environment: the
database, the broker, the API keys), waits for `/readyz`, and reads its peak resident memory
(`VmHWM`) and CPU time from `/proc`. `fresh_database` hands out databases: a SQLite file in a
temporary directory, or a new PostgreSQL database on the server of `RATING_BENCH_DATABASE_URL`
(created for the run, dropped after); `copy_database` clones one (a file copy, or `CREATE
DATABASE … TEMPLATE`), so the read model is seeded once and every run starts from the same state.

`StoreProbe` reads the service's tables from outside, read-only: the benchmark polls it to see
when events are stored and checks counts and sums with it. On SQLite it opens its own read-only
`sqlite3` connection (the service's engine begins every transaction with `BEGIN IMMEDIATE`, which
would take the write lock); on PostgreSQL it uses asyncpg.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import httpx
from sqlalchemy.engine import make_url

from libs.platform.broker import free_port

ROOT: Final = Path(__file__).resolve().parents[1]
BENCH_API_KEY: Final = "bench-admin-key-0123456789abcdef"
POSTGRES_ENV: Final = "RATING_BENCH_DATABASE_URL"
START_TIMEOUT_S: Final = 90.0
# What a developer's shell may hold that would point the service elsewhere.
_FOREIGN_ENV: Final = ("API_KEYS", "KAFKA_", "DATABASE_", "CONSUMER_", "RELAY_", "USAGE_", "RATING_")


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
    return (int(fields[11]) + int(fields[12])) / _clock_ticks()


def process_peak_rss_mib(pid: int) -> float:
    """Peak resident set size (`VmHWM`) of a live process in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class RatingProcess:
    """One `python -m rating` process and where its output goes."""

    name: str
    database_url: str
    bootstrap_servers: str
    log: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _spent_cpu: float = field(default=0.0, repr=False)
    _earlier_peak_mib: float = field(default=0.0, repr=False)

    @property
    def url(self) -> str:
        """Base URL of its API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """Its process id."""
        assert self.process is not None, f"{self.name} was not started"
        return self.process.pid

    def environment(self) -> dict[str, str]:
        """The environment it runs with: ours minus anything that would point it elsewhere."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(_FOREIGN_ENV) and key not in {"PORT", "HOST", "ENVIRONMENT"}
        }
        env.update(
            {
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "ENVIRONMENT": "test",
                "DATABASE_URL": self.database_url,
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
                "API_KEYS": f"admin:{BENCH_API_KEY}",
                "CONSUMER_REBALANCE_TIMEOUT_MS": "1000",
                "CONSUMER_SESSION_TIMEOUT_MS": "6000",
                "LOG_JSON": "true",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> RatingProcess:
        """Spawn the process (its output appended to its log file)."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "rating"],
                cwd=ROOT,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    async def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Poll `/readyz` until it answers 200 (database, broker and consumers ok), with a deadline."""
        deadline = time.monotonic() + timeout_s
        last = "no answer"
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                    )
                try:
                    response = await client.get(f"{self.url}/readyz")
                    last = f"{response.status_code} {response.text}"
                    if response.status_code == 200:
                        return
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}"
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready within {timeout_s}s ({last}):\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """CPU seconds it has used so far (its earlier lives, before a kill or a stop, included)."""
        return self._spent_cpu + (process_cpu_seconds(self.pid) if self.alive() else 0.0)

    def peak_rss_mib(self) -> float:
        """Its peak resident memory so far (`VmHWM`, MiB; the highest of its lives)."""
        return max(self._earlier_peak_mib, process_peak_rss_mib(self.pid) if self.alive() else 0.0)

    def _remember_this_life(self) -> None:
        if self.alive():
            self._spent_cpu += process_cpu_seconds(self.pid)
            self._earlier_peak_mib = max(self._earlier_peak_mib, process_peak_rss_mib(self.pid))

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no commit; what the crash tests do."""
        if self.alive():
            assert self.process is not None
            self._remember_this_life()
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully); SIGKILL if it lingers."""
        if not self.alive():
            return
        assert self.process is not None
        self._remember_this_life()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 60) -> str:
        """The last lines it wrote."""
        if not self.log.exists():
            return "(no output)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


# --- databases ---------------------------------------------------------------------------------


def postgres_server_url() -> str | None:
    """The PostgreSQL server to run on (RATING_BENCH_DATABASE_URL), or None for SQLite."""
    return os.environ.get(POSTGRES_ENV) or None


async def _postgres_execute(server_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_plain_postgres(server_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _plain_postgres(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(server_url: str, name: str) -> str:
    return (
        make_url(server_url).set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    )


def _copy_sqlite(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")


@dataclass
class Databases:
    """Where a benchmark's databases live, and the clean-up of the PostgreSQL ones it made."""

    workdir: Path
    server_url: str | None = None
    created: list[str] = field(default_factory=list)

    @property
    def engine(self) -> str:
        """`sqlite` or `postgresql`."""
        return "postgresql" if self.server_url else "sqlite"

    async def fresh(self, label: str) -> str:
        """The URL of a new, empty database."""
        if self.server_url is None:
            return f"sqlite+aiosqlite:///{self.workdir / f'{label}.db'}"
        name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        await _postgres_execute(self.server_url, f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return _with_database(self.server_url, name)

    async def copy(self, source_url: str, label: str) -> str:
        """A new database holding what `source_url` holds (no process may be connected to it)."""
        if self.server_url is None:
            source = Path(make_url(source_url).database or "")
            target = self.workdir / f"{label}.db"
            await asyncio.to_thread(_copy_sqlite, source, target)
            return f"sqlite+aiosqlite:///{target}"
        name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        template = make_url(source_url).database
        await _postgres_execute(self.server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.created.append(name)
        return _with_database(self.server_url, name)

    async def drop_all(self) -> None:
        """Drop the PostgreSQL databases made for this benchmark."""
        if self.server_url is None:
            return
        for name in self.created:
            await _postgres_execute(self.server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


# --- reading the service's tables from outside ------------------------------------------------


class StoreProbe:
    """Read-only queries on the rating service's tables (never a write, never a write lock)."""

    def __init__(self, database_url: str) -> None:
        self.url = make_url(database_url)
        self._sqlite: sqlite3.Connection | None = None
        self._pg: Any = None

    @property
    def is_sqlite(self) -> bool:
        """True on SQLite."""
        return self.url.get_backend_name() == "sqlite"

    async def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """The rows of a query (`?` placeholders on SQLite, `$1` on PostgreSQL)."""
        if self.is_sqlite:
            return await asyncio.to_thread(self._sqlite_rows, sql, params)
        if self._pg is None:
            import asyncpg

            self._pg = await asyncpg.connect(_plain_postgres(self.url.render_as_string(hide_password=False)))
        return [tuple(record) for record in await self._pg.fetch(sql, *params)]

    def _sqlite_rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self._sqlite is None:
            path = self.url.database
            # Autocommit and only SELECTs: a WAL reader never holds the write lock.
            self._sqlite = sqlite3.connect(
                path or "", timeout=30, isolation_level=None, check_same_thread=False
            )
        return list(self._sqlite.execute(sql, tuple(params)).fetchall())

    def placeholders(self, count: int, start: int = 1) -> str:
        """`?, ?, ?` or `$1, $2, $3`."""
        if self.is_sqlite:
            return ", ".join("?" * count)
        return ", ".join(f"${i}" for i in range(start, start + count))

    async def scalar(self, sql: str, *params: Any) -> Any:
        """The first column of the first row."""
        found = await self.rows(sql, *params)
        return found[0][0] if found else None

    async def table_count(self, table: str) -> int | None:
        """Rows in a table, or None when the table does not exist (yet)."""
        try:
            return int(await self.scalar(f"SELECT COUNT(*) FROM {table}"))
        except Exception:  # no such table: sqlite3.OperationalError or asyncpg's UndefinedTableError
            return None

    async def counted_events(self, meters: Sequence[str]) -> int:
        """Events folded into the aggregates of these meters (one cheap query on ~20k rows)."""
        value = await self.scalar(
            f"SELECT COALESCE(SUM(event_count), 0) FROM usage_aggregates "
            f"WHERE meter IN ({self.placeholders(len(meters))})",
            *meters,
        )
        return int(value or 0)

    async def series(self, meters: Sequence[str]) -> dict[tuple[str, str], tuple[Decimal, int]]:
        """(subscription, meter) → (quantity, event count) summed over periods, from the aggregates."""
        found = await self.rows(
            f"SELECT subscription_id, meter, quantity, event_count FROM usage_aggregates "
            f"WHERE meter IN ({self.placeholders(len(meters))})",
            *meters,
        )
        totals: dict[tuple[str, str], tuple[Decimal, int]] = {}
        for subscription, meter, quantity, count in found:
            before = totals.get((subscription, meter), (Decimal(0), 0))
            totals[(subscription, meter)] = (before[0] + Decimal(str(quantity)), before[1] + int(count))
        return totals

    async def stored_events(self, meters: Sequence[str]) -> tuple[int, int]:
        """(rows, distinct event ids) in `usage_events` for these meters."""
        row = (
            await self.rows(
                f"SELECT COUNT(*), COUNT(DISTINCT event_id) FROM usage_events "
                f"WHERE meter IN ({self.placeholders(len(meters))})",
                *meters,
            )
        )[0]
        return int(row[0]), int(row[1])

    async def stored_event_ids(self, meters: Sequence[str]) -> set[str]:
        """Every stored event id of these meters."""
        found = await self.rows(
            f"SELECT event_id FROM usage_events WHERE meter IN ({self.placeholders(len(meters))})",
            *meters,
        )
        return {str(row[0]) for row in found}

    async def close(self) -> None:
        """Close the connection."""
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            await self._pg.close()
            self._pg = None
