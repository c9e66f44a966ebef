"""Wires the overage service: settings, database, outbox relay and consumers."""

from __future__ import annotations

from pathlib import Path

from libs.platform.service import ServiceRuntime
from overage.config import OverageSettings
from overage.consumers import consumer_specs

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def bootstrap(settings: OverageSettings | None = None) -> ServiceRuntime:
    """Build the runtime of the overage service."""
    runtime = ServiceRuntime(settings=settings or OverageSettings(), migrations_dir=MIGRATIONS_DIR)
    runtime.consumer_specs = consumer_specs(runtime)
    return runtime
