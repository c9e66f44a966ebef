"""Settings refuse default secrets outside development and read keys in both forms."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from libs.platform.settings import Role, ServiceSettings


def test_production_without_api_keys_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="API_KEYS"):
        ServiceSettings(environment="production", api_keys="")


@pytest.mark.parametrize(
    "weak_key", ["short", "changeme-changeme-changeme-1", "dev-admin-0123456789abcdefghij"]
)
def test_production_refuses_short_or_default_keys(weak_key: str) -> None:
    with pytest.raises(ValidationError, match="at least 24 characters"):
        ServiceSettings(environment="production", api_keys=f"admin:{weak_key}")


def test_production_accepts_strong_keys_in_either_form() -> None:
    strong = "Zq4v8N1pL7xR2mW9sT5yB3cK"
    listed = ServiceSettings(environment="production", api_keys=f"admin:{strong},finance:{strong}X")
    assert listed.api_key_roles() == {strong: Role.ADMIN, f"{strong}X": Role.FINANCE}
    as_json = ServiceSettings(environment="production", api_keys=f'{{"{strong}": "crm"}}')
    assert as_json.api_key_roles() == {strong: Role.CRM}


def test_development_defaults_to_a_sqlite_file_per_service() -> None:
    settings = ServiceSettings(service_name="catalog", environment="development")
    assert settings.resolved_database_url().startswith("sqlite+aiosqlite:///")
    assert settings.resolved_database_url().endswith("/var/catalog.db")


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError):
        ServiceSettings(environment="staging-ish")


def test_keys_file_is_read(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "keys"
    path.write_text("ops:ops-key-abcdefghijklmnopqrstu\n")
    assert ServiceSettings(api_keys_file=str(path)).api_key_roles() == {
        "ops-key-abcdefghijklmnopqrstu": Role.OPS
    }
