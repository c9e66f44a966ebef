"""Settings of the rating service."""

from __future__ import annotations

from libs.platform.settings import ServiceSettings


class RatingSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/rating.db."""

    service_name: str = "rating"
    port: int = 8003
