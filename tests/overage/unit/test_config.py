"""The webhook master key: required and strong in production, a development key otherwise."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from overage.config import DEVELOPMENT_WEBHOOK_SECRET_KEY, OverageSettings

KEYS = "admin:prod-admin-key-0123456789abcdefghij"


def test_production_refuses_a_missing_short_or_shipped_master_key() -> None:
    for key in ("", "too-short", "REPLACE-with-32+-random-chars-for-webhook-secrets"):
        with pytest.raises(ValidationError, match="WEBHOOK_SECRET_KEY"):
            OverageSettings(environment="production", api_keys=KEYS, webhook_secret_key=key)
    strong = "q7Z2mX9vL4kP8wN3rT6yB1cF5hJ0sD2gA"
    assert (
        OverageSettings(
            environment="production", api_keys=KEYS, webhook_secret_key=strong
        ).resolved_webhook_secret_key()
        == strong
    )


def test_development_uses_its_own_key() -> None:
    assert OverageSettings(environment="test").resolved_webhook_secret_key() == DEVELOPMENT_WEBHOOK_SECRET_KEY
