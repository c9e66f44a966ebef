"""Settings of the rating service."""

from __future__ import annotations

from pydantic import Field

from libs.platform.settings import ServiceSettings


class RatingSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/rating.db."""

    service_name: str = "rating"
    port: int = 8003
    # Usage ingestion (docs/rating.md "Ingestion"): an event more than this far ahead of the
    # server's clock is refused; event rows (the dedup of both doors) are kept this many days
    # after their period ended and was rated, then `python -m rating.cli purge-usage` deletes them.
    usage_max_future_minutes: int = Field(default=60, ge=0)
    usage_retention_days: int = Field(default=100, ge=1)
