"""Wires the rating service: settings, database, outbox relay and consumers."""

from __future__ import annotations

from pathlib import Path

from libs.platform.service import ServiceRuntime
from rating.config import RatingSettings
from rating.consumers import consumer_specs

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def bootstrap(settings: RatingSettings | None = None) -> ServiceRuntime:
    """Build the runtime of the rating service."""
    runtime = ServiceRuntime(settings=settings or RatingSettings(), migrations_dir=MIGRATIONS_DIR)
    runtime.consumer_specs = consumer_specs(runtime)
    return runtime
