"""Invoicing running in-process on a real database (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

from typing import Any

from invoicing.config import InvoicingSettings
from tests.support.services import service_settings


def invoicing_settings(database_url: str, broker: str | None = None, **extra: object) -> Any:
    """Settings for invoicing under test (bus off when no broker is given); no scheduled runs, runs
    picked up at once, chunks of 100 accounts unless said otherwise."""
    extra.setdefault("bill_run_schedule_enabled", False)
    extra.setdefault("bill_run_poll_s", 0.05)
    extra.setdefault("bill_run_chunk_accounts", 100)
    return service_settings(InvoicingSettings, database_url=database_url, bootstrap=broker, **extra)
