"""Settings of the provisioning service."""

from __future__ import annotations

from libs.platform.settings import ServiceSettings


class ProvisioningSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/provisioning.db."""

    service_name: str = "provisioning"
    port: int = 8002
