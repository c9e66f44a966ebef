"""Settings of the rating service."""

from __future__ import annotations

from pydantic import Field

from libs.platform.settings import ServiceSettings


class RatingSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/rating.db."""

    service_name: str = "rating"
    port: int = 8003

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
