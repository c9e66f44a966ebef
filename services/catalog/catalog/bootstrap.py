"""Wires the catalog service: settings, database, outbox relay and consumers."""

from __future__ import annotations

from pathlib import Path

from catalog.config import CatalogSettings
from libs.platform.service import ServiceRuntime

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def bootstrap(settings: CatalogSettings | None = None) -> ServiceRuntime:
    """Build the runtime of the catalog service."""
    return ServiceRuntime(settings=settings or CatalogSettings(), migrations_dir=MIGRATIONS_DIR)
