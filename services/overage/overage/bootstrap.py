"""Wires the overage service: settings, database, outbox relay and consumers."""

from __future__ import annotations

from pathlib import Path

from libs.platform.service import ServiceRuntime
from overage.config import OverageSettings

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def bootstrap(settings: OverageSettings | None = None) -> ServiceRuntime:
    """Build the runtime of the overage service."""
    return ServiceRuntime(settings=settings or OverageSettings(), migrations_dir=MIGRATIONS_DIR)
