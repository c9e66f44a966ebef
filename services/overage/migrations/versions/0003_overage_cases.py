"""Overage (issue 11): vendors, webhook secrets, tenants, the read model of subscriptions and cost
books, stored notices, refused webhook calls, cases with their steps and notices.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal, UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("state <> 'closed'")


def upgrade() -> None:
    op.create_table(
        "overage_vendors",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("cost_book_id", sa.String(64), nullable=False),
        sa.Column("contacts", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "overage_vendor_secrets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("vendor_id", sa.String(40), nullable=False),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_overage_vendor_secrets_vendor_id", "overage_vendor_secrets", ["vendor_id"])
    op.create_table(
        "overage_vendor_tenants",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("vendor_id", sa.String(40), nullable=False),
        sa.Column("tenant_ref", sa.String(100), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("vendor_id", "tenant_ref", name="uq_overage_vendor_tenants_ref"),
    )
    op.create_index(
        "ix_overage_vendor_tenants_subscription_id", "overage_vendor_tenants", ["subscription_id"]
    )
    op.create_table(
        "overage_subscriptions",
        sa.Column("subscription_id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("event_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "overage_cost_books",
        sa.Column("cost_book_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("markup_percent", ExactDecimal(), nullable=False),
        sa.Column("event_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "overage_notices",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("vendor_id", sa.String(40), nullable=False),
        sa.Column("notice_ref", sa.String(100), nullable=False),
        sa.Column("tenant_ref", sa.String(100), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("licensed_count", ExactDecimal(), nullable=False),
        sa.Column("actual_count", ExactDecimal(), nullable=False),
        sa.Column("overage_count", ExactDecimal(), nullable=False),
        sa.Column("vendor_unit_cost", ExactDecimal(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("review_reason", sa.String(40), nullable=True),
        sa.Column("case_id", sa.String(40), nullable=True),
        sa.UniqueConstraint("vendor_id", "notice_ref", name="uq_overage_notices_ref"),
    )
    op.create_index("ix_overage_notices_status", "overage_notices", ["status", "id"])
    op.create_table(
        "overage_webhook_rejections",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("vendor", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("body_bytes", sa.Integer, nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("detail", sa.String(300), nullable=False),
    )
    op.create_table(
        "overage_cases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("vendor_id", sa.String(40), nullable=False),
        sa.Column("tenant_ref", sa.String(100), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("decision", sa.String(10), nullable=True),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("state_entered_at", UtcDateTime(), nullable=False),
        sa.Column("paperwork_opened_at", UtcDateTime(), nullable=True),
        sa.Column("paperwork_signed_at", UtcDateTime(), nullable=True),
        sa.Column("removal_confirmed_at", UtcDateTime(), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("licensed_mismatch", sa.Boolean, nullable=False),
        sa.Column("last_actual_count", ExactDecimal(), nullable=False),
        sa.Column("escalated_state", sa.String(30), nullable=True),
    )
    # One open case per tenant, enforced by the database (two workers racing on one tenant).
    op.create_index(
        "uq_overage_cases_open_tenant",
        "overage_cases",
        ["vendor_id", "tenant_ref"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index("ix_overage_cases_state", "overage_cases", ["state", "id"])
    op.create_index("ix_overage_cases_account_id", "overage_cases", ["account_id"])
    op.create_table(
        "overage_case_steps",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
    )
    op.create_index("ix_overage_case_steps_case_id", "overage_case_steps", ["case_id"])
    op.create_table(
        "overage_case_notices",
        sa.Column("notice_id", sa.String(40), primary_key=True),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("notice_ref", sa.String(100), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("licensed_count", ExactDecimal(), nullable=False),
        sa.Column("actual_count", ExactDecimal(), nullable=False),
        sa.Column("overage_count", ExactDecimal(), nullable=False),
        sa.Column("our_licensed_quantity", ExactDecimal(), nullable=True),
        sa.Column("licensed_mismatch", sa.Boolean, nullable=False),
        sa.Column("vendor_unit_cost", ExactDecimal(), nullable=False),
        sa.Column("markup_percent", ExactDecimal(), nullable=False),
        sa.Column("unit_price", ExactDecimal(), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charge_key", sa.String(100), nullable=True),
    )
    op.create_index("ix_overage_case_notices_case_id", "overage_case_notices", ["case_id"])


def downgrade() -> None:
    for table in (
        "overage_case_notices",
        "overage_case_steps",
        "overage_cases",
        "overage_webhook_rejections",
        "overage_notices",
        "overage_cost_books",
        "overage_subscriptions",
        "overage_vendor_tenants",
        "overage_vendor_secrets",
        "overage_vendors",
    ):
        op.drop_table(table)
