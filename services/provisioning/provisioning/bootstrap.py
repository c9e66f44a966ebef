"""Wires the provisioning service: settings, database, outbox relay and consumers."""

from __future__ import annotations

from pathlib import Path

from libs.platform.service import ServiceRuntime
from provisioning.config import ProvisioningSettings

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def bootstrap(settings: ProvisioningSettings | None = None) -> ServiceRuntime:
    """Build the runtime of the provisioning service."""
    return ServiceRuntime(settings=settings or ProvisioningSettings(), migrations_dir=MIGRATIONS_DIR)
