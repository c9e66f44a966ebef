"""Settings of the rating service."""

from __future__ import annotations

from pydantic import Field

from libs.platform.settings import ServiceSettings


class RatingSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/rating.db."""

    service_name: str = "rating"
    port: int = 8003

    # Rating and period close (issue 8).
    period_close_interval_s: float = Field(default=300.0, ge=0)
    """Seconds between two runs of the period close (0: no timer; POST /v1/rated-usage/close still works)."""
    period_close_chunk_size: int = Field(default=1000, ge=1, le=5000)
    """Aggregates rated per transaction by the period close."""
    price_cache_ttl_s: float = Field(default=30.0, ge=0)
    """Seconds the process keeps a meter or a price version for entitlement checks and running charges."""

    # Usage ingestion (docs/rating.md "Ingestion"): an event more than this far ahead of the
    # server's clock is refused; event rows (the dedup of both doors) are kept this many days
    # after their period ended and was rated, then `python -m rating.cli purge-usage` deletes them.
    usage_max_future_minutes: int = Field(default=60, ge=0)
    usage_retention_days: int = Field(default=100, ge=1)
