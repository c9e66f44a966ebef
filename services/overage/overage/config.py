"""Settings of the overage service."""

from __future__ import annotations

from pydantic import Field, model_validator

from libs.platform.settings import ServiceSettings, shipped_example_values, weak_key_reason
from overage.domain.cases import DEFAULT_DEADLINE_DAYS

DEVELOPMENT_WEBHOOK_SECRET_KEY = "development-only-overage-webhook-secret-key"


class OverageSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/overage.db."""

    service_name: str = "overage"
    port: int = 8005

    # Signed vendor webhooks (docs/overage.md "Webhook secrets").
    webhook_secret_key: str = Field(
        default="",
        description="Master key every vendor webhook secret is derived from (HMAC-SHA256 of the secret's "
        "id); required outside development, at least 32 characters. Changing it invalidates every secret.",
    )
    # Overage cases (issue 11).
    case_deadline_days: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_DEADLINE_DAYS),
        description="Days a case may wait in each state before it is overdue and escalated "
        '(JSON, e.g. {"notified": 2, "crm_owner_contacted": 5}).',
    )
    notice_worker_interval_s: float = Field(
        default=0.5, ge=0, description="How often stored notices are worked (0: never; a replica without it)."
    )
    escalation_interval_s: float = Field(default=300.0, ge=0, description="How often overdue cases escalate.")
    rejection_window_s: float = Field(
        default=300.0,
        gt=0,
        description="Identical refused webhook calls within this many seconds of the first are counted "
        "on one record (docs/overage.md).",
    )
    rejection_records_per_window: int = Field(
        default=100,
        ge=1,
        description="Records one refusal reason may start per window; past it refusals are counted on "
        "the reason's latest record.",
    )

    @model_validator(mode="after")
    def _refuse_missing_webhook_key(self) -> OverageSettings:
        if self.environment != "production":
            return self
        if len(self.webhook_secret_key) < 32:
            raise ValueError("WEBHOOK_SECRET_KEY must be set (32+ characters) in production")
        reason = weak_key_reason(self.webhook_secret_key, shipped_example_values())
        if reason is not None:
            raise ValueError(f"WEBHOOK_SECRET_KEY {reason}")
        return self

    def resolved_webhook_secret_key(self) -> str:
        """The master key of webhook secrets (a fixed development key unless configured)."""
        return self.webhook_secret_key or DEVELOPMENT_WEBHOOK_SECRET_KEY
