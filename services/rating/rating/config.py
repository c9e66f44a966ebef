"""Settings of the rating service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from sqlalchemy.engine import make_url

from libs.platform.settings import PROJECT_ROOT, ServiceSettings


class RatingSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/rating.db."""

    service_name: str = "rating"
    port: int = 8003
    # Usage ingestion (docs/rating.md "Ingestion"): an event more than this far ahead of the
    # server's clock is refused; event rows (the dedup of both doors) are kept this many days
    # after their period ended and was rated, then `python -m rating.cli purge-usage` deletes them.
    usage_max_future_minutes: int = Field(default=60, ge=0)
    usage_retention_days: int = Field(default=100, ge=1)

    balance_settle_interval_s: float = Field(
        default=300, ge=0, description="How often balances' expiries and period ends are booked; 0: never."
    )
    balance_settle_delay_days: int = Field(
        default=1,
        ge=0,
        le=31,
        description="Book what was due this many days before the account's local today, so that rating's "
        "period close draws the usage of an ended period before its units roll over or expire.",
    )

    # Rating and period close (issue 8).
    period_close_interval_s: float = Field(default=300.0, ge=0)
    """Seconds between two runs of the period close (0: no timer; POST /v1/rated-usage/close still works)."""
    period_close_chunk_size: int = Field(default=1000, ge=1, le=5000)
    """Aggregates rated per transaction by the period close."""
    price_cache_ttl_s: float = Field(default=30.0, ge=0)
    """Seconds the process keeps a meter or a price version for entitlement checks and running charges."""

    # Mediation files (POST /v1/usage/files; docs/rating.md "Mediation files").
    usage_load_dir: str = ""
    """Where uploaded files wait to be loaded: one directory per database, shared by every replica
    (default: beside a SQLite database, var/rating-loads for var/rating.db; else
    var/rating-loads-<database>)."""
    usage_file_max_bytes: int = Field(default=1024**3, ge=1)
    """The largest file `POST /v1/usage/files` takes (413 beyond)."""
    usage_load_poll_s: float = Field(default=1.0, ge=0)
    """How often this process looks for files to load (0: it loads none; another replica does)."""
    usage_load_chunk_rows: int = Field(default=10_000, ge=1, le=10_000)
    """Lines of a file recorded per transaction (with the load's progress)."""
    usage_load_lease_s: float = Field(default=120.0, gt=0)
    """A load whose worker has not committed a chunk for this long is taken over by another."""

    def resolved_usage_load_dir(self) -> Path:
        """The spool directory of mediation files (USAGE_LOAD_DIR, else one per database)."""
        if self.usage_load_dir:
            return Path(self.usage_load_dir)
        url = make_url(self.resolved_database_url())
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            database = Path(url.database)
            return database.with_name(f"{database.stem}-loads")
        return PROJECT_ROOT / "var" / f"{self.service_name}-loads-{url.database or 'default'}"
