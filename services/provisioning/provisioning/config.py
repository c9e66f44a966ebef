"""Settings of the provisioning service."""

from __future__ import annotations

from pydantic import Field

from libs.platform.settings import ServiceSettings


class ProvisioningSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/provisioning.db."""

    service_name: str = "provisioning"
    port: int = 8002
    catalog_url: str = Field(
        default="http://127.0.0.1:8001", description="Where the catalog answers (CATALOG_URL)."
    )
    catalog_api_key: str = Field(
        default="", description="API key provisioning presents to the catalog (CATALOG_API_KEY)."
    )
    catalog_timeout_s: float = Field(
        default=5.0, gt=0, description="Per-request timeout towards the catalog."
    )
