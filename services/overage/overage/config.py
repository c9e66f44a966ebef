"""Settings of the overage service."""

from __future__ import annotations

from libs.platform.settings import ServiceSettings


class OverageSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/overage.db."""

    service_name: str = "overage"
    port: int = 8005
