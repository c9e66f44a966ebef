"""Wires the invoicing service: settings, database, outbox relay and consumers."""

from __future__ import annotations

from pathlib import Path

from invoicing.config import InvoicingSettings
from invoicing.consumers import consumer_specs
from libs.platform.service import ServiceRuntime

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def bootstrap(settings: InvoicingSettings | None = None) -> ServiceRuntime:
    """Build the runtime of the invoicing service."""
    runtime = ServiceRuntime(settings=settings or InvoicingSettings(), migrations_dir=MIGRATIONS_DIR)
    runtime.consumer_specs = consumer_specs(runtime)
    return runtime
