"""Settings refuse default secrets outside development and read keys in both forms."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from libs.platform.settings import Role, ServiceSettings, shipped_example_values, weak_key_reason


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
    path = Path(str(tmp_path)) / "keys"
    path.write_text("ops:ops-key-abcdefghijklmnopqrstu\n")
    assert ServiceSettings(api_keys_file=str(path)).api_key_roles() == {
        "ops-key-abcdefghijklmnopqrstu": Role.OPS
    }


ROOT = Path(__file__).resolve().parents[3]


def _example_api_keys() -> str:
    lines = (ROOT / "deploy/env.example").read_text().splitlines()
    return next(line.partition("=")[2] for line in lines if line.startswith("API_KEYS="))


def test_production_refuses_the_example_keys_of_deploy_env_example() -> None:
    with pytest.raises(ValidationError, match="refusing to start with ENVIRONMENT=production") as refused:
        ServiceSettings(environment="production", api_keys=_example_api_keys())
    message = str(refused.value)
    assert "admin key" in message and "REPLACE-with" not in message  # names the role, never the key


def test_production_refuses_any_value_shipped_in_the_example_files_even_without_a_marker() -> None:
    shipped = shipped_example_values()
    assert "REPLACE-with-24+-random-chars-a" in shipped
    assert weak_key_reason("REPLACE-with-24+-random-chars-a", set()) is not None  # image: no files
    assert weak_key_reason("Zq4v8N1pL7xR2mW9sT5yB3cK", {"Zq4v8N1pL7xR2mW9sT5yB3cK"}) is not None
    assert weak_key_reason("Zq4v8N1pL7xR2mW9sT5yB3cK", shipped) is None


def test_production_refuses_a_placeholder_or_default_database_password() -> None:
    strong = "admin:Zq4v8N1pL7xR2mW9sT5yB3cK"
    for password in ("REPLACE-with-a-database-password", "billing"):
        with pytest.raises(ValidationError, match="DATABASE_URL password"):
            ServiceSettings(
                environment="production",
                api_keys=strong,
                database_url=f"postgresql://billing:{password}@postgres:5432/catalog",
            )
    ServiceSettings(
        environment="production",
        api_keys=strong,
        database_url="postgresql://billing:kV3n9Qx2LmP8rT5w@postgres:5432/catalog",
    )


def test_a_service_started_in_production_with_the_example_keys_exits_with_a_clear_message(
    tmp_path: Path,
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"API_KEYS_FILE", "DATABASE_URL"}},
        "ENVIRONMENT": "production",
        "API_KEYS": _example_api_keys(),
        "BUS_ENABLED": "false",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/catalog.db",
        "PORT": "1",
    }
    started = subprocess.run(
        [sys.executable, "-m", "catalog"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert started.returncode != 0
    assert "refusing to start with ENVIRONMENT=production" in started.stderr
    assert "the admin key is an example value shipped in deploy/env.example" in started.stderr
    assert "REPLACE-with" not in started.stderr  # the keys themselves are never printed


def test_metrics_are_closed_by_default_only_in_production() -> None:
    strong = "admin:Zq4v8N1pL7xR2mW9sT5yB3cK"
    assert ServiceSettings(environment="development").metrics_are_public()
    assert not ServiceSettings(environment="production", api_keys=strong).metrics_are_public()
    assert ServiceSettings(
        environment="production", api_keys=strong, metrics_public=True
    ).metrics_are_public()
