"""Settings of the catalog service."""

from __future__ import annotations

from libs.platform.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/catalog.db."""

    service_name: str = "catalog"
    port: int = 8001
