"""Invoicing running in-process on a real database (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

from invoicing.config import InvoicingSettings
from tests.support.services import service_settings


def invoicing_settings(database_url: str, broker: str | None = None, **extra: object) -> InvoicingSettings:
    """Settings for invoicing under test (bus off when no broker is given)."""
    return service_settings(InvoicingSettings, database_url=database_url, bootstrap=broker, **extra)
