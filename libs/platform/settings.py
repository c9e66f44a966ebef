"""One settings model for every service (pydantic-settings, read from the environment).

Outside development a missing or default API key refuses to start (DESIGN §5).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Role(StrEnum):
    """API-key roles (DESIGN §6)."""

    ADMIN = "admin"
    CRM = "crm"
    ERP = "erp"
    FINANCE = "finance"
    OPS = "ops"


DEFAULT_KEY_MARKERS = ("changeme", "change-me", "default", "secret", "dev-")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ServiceSettings(BaseSettings):
    """Settings shared by every service; each service subclasses it to set its defaults."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

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
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1_000)
    consumer_rebalance_timeout_ms: int = Field(default=5_000, ge=500)
    # An event that fails is tried this many times in all (with doubling back-off from
    # consumer_retry_backoff_s) before it is parked as a dead letter.
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_retry_backoff_s: float = Field(default=0.5, gt=0)
    # A consumer task that ended is restarted after this back-off, doubling up to 30 s.
    consumer_restart_backoff_s: float = Field(default=1.0, gt=0)
    log_json: bool | None = None
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
            weak = [k for k in keys if len(k) < 24 or any(m in k.lower() for m in DEFAULT_KEY_MARKERS)]
            if weak:
                raise ValueError("API keys must be at least 24 characters and not a default value")
        return self

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
