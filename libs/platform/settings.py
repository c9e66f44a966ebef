"""One settings model for every service (pydantic-settings, read from the environment).

Outside development a missing or default API key refuses to start (DESIGN §5). In production a
key is refused when it is short, looks like a default (`changeme`, `REPLACE-with-…`), or is
any value shipped in this repository (`deploy/env.example`, `docker-compose.yml`): copying the
example file without editing it must not give a running service with public keys.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from libs.platform.db import SQLITE_HEAP_LIMIT_BYTES


class Role(StrEnum):
    """API-key roles (DESIGN §6)."""

    ADMIN = "admin"
    CRM = "crm"
    ERP = "erp"
    FINANCE = "finance"
    OPS = "ops"


DEFAULT_KEY_MARKERS = ("changeme", "change-me", "default", "secret", "dev-", "replace", "example")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Files of this repository that show keys and passwords as examples. The image does not ship
# them, so the markers above (which cover every value in them) refuse them there too.
SHIPPED_EXAMPLE_FILES = ("deploy/env.example", "docker-compose.yml")
MIN_KEY_LENGTH = 24


def shipped_example_values(root: Path = PROJECT_ROOT) -> set[str]:
    """Every `NAME=value` / `NAME: value` value (and `role:key` item) in the shipped example files."""
    values: set[str] = set()
    for name in SHIPPED_EXAMPLE_FILES:
        path = root / name
        if not path.is_file():
            continue
        for match in re.finditer(r"^\s*[A-Z_]+\s*[=:]\s*(\S+)", path.read_text(), re.MULTILINE):
            for item in match.group(1).strip("\"'").split(","):
                values.add(item.strip())
                values.add(item.partition(":")[2].strip())
    values.discard("")
    return values


def weak_key_reason(key: str, shipped: set[str]) -> str | None:
    """Why `key` must not guard a production service, or None when it may."""
    if key in shipped:
        return "is an example value shipped in deploy/env.example or docker-compose.yml"
    lowered = key.lower()
    marker = next((m for m in DEFAULT_KEY_MARKERS if m in lowered), None)
    if marker is not None:
        return f"looks like a placeholder or default (contains {marker!r})"
    if len(key) < MIN_KEY_LENGTH:
        return _SHORT
    return None


_SHORT = f"is shorter than {MIN_KEY_LENGTH} characters"


def _password_of(database_url: str) -> str | None:
    try:
        password = make_url(database_url).password if database_url else None
    except Exception:  # a malformed URL fails where it is used, with the driver's message
        return None
    return None if password is None else str(password)


class ServiceSettings(BaseSettings):
    """Settings shared by every service; each service subclasses it to set its defaults."""

    # Errors never echo their input: it holds the API keys and the database password.
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, hide_input_in_errors=True
    )

    service_name: str = "service"
    environment: str = Field(default="development", description="development | test | production")
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = ""
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_partitions: int = Field(default=6, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    # JSON object {"<key>": "<role>"} or comma list "role:key,role:key".
    api_keys: str = ""
    api_keys_file: str = ""
    bus_enabled: bool = True
    broker_wait_s: float = Field(default=60.0, ge=0)
    relay_batch_size: int = Field(default=500, ge=1)
    relay_poll_interval_s: float = Field(default=0.2, gt=0)
    outbox_retention_hours: int = Field(default=24 * 7, ge=1)
    consumer_batch_size: int = Field(default=500, ge=1)
    # The most a consumer's fetch brings back at once, all its partitions together (aiokafka's
    # `fetch_max_bytes`; its default is 50 MiB). A lagging group holds a fetched response until
    # its records are polled (libs/platform/inbox.py).
    consumer_fetch_max_kib: int = Field(default=50 * 1024, ge=1024)
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1_000)
    consumer_rebalance_timeout_ms: int = Field(default=5_000, ge=500)
    # Edge limits (libs/platform/edge.py): a route may declare a larger `max_body_size`.
    max_body_bytes: int = Field(default=1024 * 1024, ge=0)
    max_json_members: int = Field(default=10_000, ge=1)
    # Idempotency-Key (libs/platform/idempotency.py): how long a key answers with its first
    # response, and how long an unfinished request holds its key before a retry may take it.
    idempotency_window_hours: float = Field(default=24, gt=0)
    idempotency_lease_s: float = Field(default=60, gt=0)
    # /metrics without an ops or admin key: open by default except in production.
    metrics_public: bool | None = None
    # An event that fails is tried this many times in all (with doubling back-off from
    # consumer_retry_backoff_s) before it is parked as a dead letter.
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_retry_backoff_s: float = Field(default=0.5, gt=0)
    # A consumer task that ended is restarted after this back-off, doubling up to 30 s.
    consumer_restart_backoff_s: float = Field(default=1.0, gt=0)
    log_json: bool | None = None
    # uvicorn's line per request ("POST /v1/... 200"): off by default. `/metrics` counts every
    # request by route and status already, and the line is a blocking write to stderr on the
    # event loop's thread (about 30 µs of CPU a request, and a stall whenever the log's file or
    # pipe is slow), which at an entitlement check's 1,000 requests/s costs more than the check.
    access_log: bool = False
    # Above 0: log `loop.stalled` with the loop thread's stack when the event loop has not
    # answered for this many milliseconds (libs/platform/stall_watch.py). A diagnosis tool.
    loop_stall_log_ms: float = Field(default=0, ge=0)
    # Allocations between two collections of the youngest generation (Python's default: 700).
    # Every request in flight when one runs is promoted to an older generation, and a full
    # collection (the whole heap built since start-up) comes once enough has been promoted; a
    # larger young generation lets request objects die young. 0 keeps Python's default.
    gc_young_threshold: int = Field(default=50_000, ge=0)
    # SQLite's memory in the whole process, page caches of every connection together (its soft
    # heap limit, libs/platform/db.py). A service writing a growing database grows with it up
    # to this; 0 sets no limit.
    sqlite_heap_limit_mib: int = Field(default=SQLITE_HEAP_LIMIT_BYTES // 2**20, ge=0)
    log_level: str = "INFO"
    migrate_on_start: bool = True

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value not in {"development", "test", "production"}:
            raise ValueError("environment must be development, test or production")
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> ServiceSettings:
        if self.environment == "production":
            keys = self.api_key_roles()
            if not keys:
                raise ValueError("API_KEYS (or API_KEYS_FILE) must be set outside development")
            shipped = shipped_example_values()
            weak = [(role, reason) for k, role in keys.items() if (reason := weak_key_reason(k, shipped))]
            if weak:
                which = "; ".join(f"the {role.value} key {reason}" for role, reason in weak)
                raise ValueError(
                    f"refusing to start with ENVIRONMENT=production: {which}. API keys must be at "
                    f"least {MIN_KEY_LENGTH} characters and not a default value: set API_KEYS to your "
                    "own random keys (`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
                )
            password = _password_of(self.database_url)
            if password is not None and weak_key_reason(password, shipped) not in {None, _SHORT}:
                raise ValueError(
                    "refusing to start with ENVIRONMENT=production: the DATABASE_URL password is an "
                    "example or default value; set POSTGRES_PASSWORD (compose) to your own"
                )
        return self

    def metrics_are_public(self) -> bool:
        """Whether `/metrics` answers without an ops or admin key (default: not in production)."""
        if self.metrics_public is not None:
            return self.metrics_public
        return self.environment != "production"

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file per service under var/."""
        if self.database_url:
            return self.database_url
        path = PROJECT_ROOT / "var" / f"{self.service_name}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{path}"

    def api_key_roles(self) -> dict[str, Role]:
        """Map of API key → role, from API_KEYS and/or API_KEYS_FILE."""
        raw = self.api_keys.strip()
        if not raw and self.api_keys_file:
            path = Path(self.api_keys_file)
            raw = path.read_text().strip() if path.exists() else ""
        if not raw:
            return {}
        if raw.startswith("{"):
            return {key: Role(role) for key, role in json.loads(raw).items()}
        pairs: dict[str, Role] = {}
        for item in raw.split(","):
            role, _, key = item.strip().partition(":")
            if key:
                pairs[key] = Role(role)
        return pairs
