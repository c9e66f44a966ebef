"""Settings of the invoicing service."""

from __future__ import annotations

from libs.platform.settings import ServiceSettings


class InvoicingSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/invoicing.db."""

    service_name: str = "invoicing"
    port: int = 8004
