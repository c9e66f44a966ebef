"""Fresh test databases already migrated to a service's head, cloned from a template.

Running a service's Alembic migrations takes 0.6 to 1.4 s on PostgreSQL (more under load) and was
paid by every test on a fresh database. Instead each service is migrated once into a template and
every test gets its own copy, fully migrated, so the app start-up's migration step finds the
database at head and does nothing:

- PostgreSQL: `CREATE DATABASE t_x TEMPLATE tpl_<service>_<digest>`. The digest covers the
  service's migration files and the platform code they use, so a changed migration builds a new
  template; a service keeps its newest few (other checkouts may be testing other migrations on
  the same server) and older ones are dropped. Templates are shared by the xdist workers
  and kept between sessions: a worker builds one under an advisory lock, under a temporary name
  renamed when complete, so nobody clones a half-migrated template and nobody holds a connection
  on it while others clone. A clone that finds its template dropped (as stale, by a session of
  another checkout) builds it again.
- SQLite: a copy of a template file migrated once per worker.

The migration tests themselves do not use this: they start from an empty database.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import re
import shutil
import uuid
import zlib
from pathlib import Path

import asyncpg

from libs.platform.migrations import upgrade

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_MIGRATION_CODE = (ROOT / "libs" / "platform" / "migrations.py", ROOT / "libs" / "platform" / "db.py")
CLONE_ATTEMPTS = 5
TEMPLATES_KEPT = 3
"""Templates kept per service, the current one included (one per checkout testing at once)."""


def migrations_dir(service: str) -> Path:
    """The Alembic folder of a service."""
    return ROOT / "services" / service / "migrations"


def migrations_digest(service: str) -> str:
    """12 hex digits that change whenever the service's migrations (or the code they use) change."""
    folder = migrations_dir(service)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    digest = hashlib.sha256()
    for path in [*files, *PLATFORM_MIGRATION_CODE]:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def template_name(service: str) -> str:
    """The PostgreSQL template database of a service's current migrations."""
    return f"tpl_{service}_{migrations_digest(service)}"


def _with_database(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def _lock_key(name: str) -> int:
    return zlib.crc32(f"test-template:{name}".encode()) & 0x7FFFFFFF


async def _databases(conn: asyncpg.Connection, pattern: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY oid DESC", pattern
    )
    return [row["datname"] for row in rows]


async def _drop_stale_templates(conn: asyncpg.Connection, service: str) -> None:
    """Drop the service's older templates but the newest few: other checkouts (branches with other
    migrations) testing on the same server keep theirs instead of rebuilding them at every test."""
    pattern = re.compile(rf"^tpl_{re.escape(service)}_[0-9a-f]{{12}}$")
    names = await _databases(conn, f"tpl\\_{service}\\_%")  # newest first
    for name in [n for n in names if pattern.match(n)][TEMPLATES_KEPT:]:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def ensure_postgres_template(admin_url: str, service: str) -> str:
    """Build the service's template unless it exists (once across workers); return its name."""
    template = template_name(service)
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _lock_key(template))
        try:
            if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", template):
                return template
            # Left over by a session killed while building this very template (we hold its lock).
            for name in await _databases(conn, f"{template}\\_b%"):
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            building = f"{template}_b{uuid.uuid4().hex[:8]}"
            await conn.execute(f'CREATE DATABASE "{building}"')
            try:
                await asyncio.to_thread(upgrade, migrations_dir(service), _with_database(admin_url, building))
                await conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
            except BaseException:
                await conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                raise
            await _drop_stale_templates(conn, service)
            return template
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _lock_key(template))
    finally:
        await conn.close()


async def create_postgres_database(admin_url: str, name: str, service: str | None) -> None:
    """Create database `name`: empty, or a copy of the service's migrated template."""
    conn = await asyncpg.connect(admin_url)
    try:
        if service is None:
            await conn.execute(f'CREATE DATABASE "{name}"')
            return
        for attempt in range(CLONE_ATTEMPTS):
            template = await ensure_postgres_template(admin_url, service)
            try:
                await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                return
            except (asyncpg.InvalidCatalogNameError, asyncpg.ObjectInUseError):
                # Dropped as stale by another checkout, or briefly in use: build or wait, then retry.
                if attempt == CLONE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))
    finally:
        await conn.close()


class SqliteTemplates:
    """SQLite files migrated once per service (per worker), copied for each test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.built: dict[str, Path] = {}

    def copy_to(self, path: Path, service: str | None) -> str:
        """The URL of a database file at `path`: none yet, or a copy of the service's template."""
        if service is not None:
            shutil.copyfile(self.template(service), path)
        return f"sqlite+aiosqlite:///{path}"

    def template(self, service: str) -> Path:
        """The service's migrated template file (built on first use)."""
        if service not in self.built:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{service}-{migrations_digest(service)}.db"
            building = path.with_suffix(".building")
            building.unlink(missing_ok=True)
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:  # out of any event loop
                pool.submit(upgrade, migrations_dir(service), f"sqlite+aiosqlite:///{building}").result()
            # The migrating engine is disposed: the file is complete, no journal or WAL beside it.
            assert not any(building.parent.glob(f"{building.name}-*")), "template left a journal"
            building.replace(path)
            self.built[service] = path
        return self.built[service]
