"""Support contracts (seed 004): catalog templates, contracts, requests, time entries and allocations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal, UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_contract_templates",
        sa.Column("template_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("period_months", sa.Integer, nullable=True),
        sa.Column("hours", ExactDecimal(), nullable=True),
        sa.Column("on_expiry", sa.String(10), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=True),
        sa.Column("event_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "support_contracts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("holder_type", sa.String(12), nullable=False),
        sa.Column("holder_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(40), nullable=True),
        sa.Column("product_id", sa.String(64), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=True),
        sa.Column("hours_granted", ExactDecimal(), nullable=True),
        sa.Column("hours_used", ExactDecimal(), nullable=False),
        sa.Column("on_expiry", sa.String(10), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("cancelled_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_support_contracts_holder", "support_contracts", ["holder_id", "holder_type"])
    op.create_table(
        "support_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("contract_id", sa.String(40), nullable=False),
        sa.Column("coverage_contract_id", sa.String(40), nullable=False),
        sa.Column("coverage_step", sa.String(20), nullable=False),
        sa.Column("hours_logged", ExactDecimal(), nullable=False),
        sa.Column("hours_covered", ExactDecimal(), nullable=False),
        sa.Column("hours_rolled_over", ExactDecimal(), nullable=False),
        sa.Column("hours_uncovered", ExactDecimal(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_support_requests_subscription", "support_requests", ["subscription_id"])
    op.create_table(
        "support_time_entries",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("hours", ExactDecimal(), nullable=False),
        sa.Column("logged_at", UtcDateTime(), nullable=False),
        sa.Column("uncovered_hours", ExactDecimal(), nullable=False),
        sa.Column("expired_contract_ids", sa.Text, nullable=False),
        sa.Column("contract_id", sa.String(40), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_support_time_entries_request", "support_time_entries", ["request_id"])
    op.create_table(
        "support_time_allocations",
        sa.Column("entry_id", sa.String(40), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("contract_id", sa.String(40), nullable=False),
        sa.Column("hours", ExactDecimal(), nullable=False),
        sa.Column("rule", sa.String(10), nullable=False),
    )
    op.create_index("ix_support_time_allocations_contract", "support_time_allocations", ["contract_id"])


def downgrade() -> None:
    op.drop_index("ix_support_time_allocations_contract", table_name="support_time_allocations")
    op.drop_table("support_time_allocations")
    op.drop_index("ix_support_time_entries_request", table_name="support_time_entries")
    op.drop_table("support_time_entries")
    op.drop_index("ix_support_requests_subscription", table_name="support_requests")
    op.drop_table("support_requests")
    op.drop_index("ix_support_contracts_holder", table_name="support_contracts")
    op.drop_table("support_contracts")
    op.drop_table("support_contract_templates")
