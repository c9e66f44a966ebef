"""Rating's read model of provisioning's accounts and subscriptions (issue 8).

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


def upgrade() -> None:
    op.create_table(
        "rating_accounts",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("parent_account_id", sa.String(64), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("bill_cycle_day", sa.Integer, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("event_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "rating_subscriptions",
        sa.Column("subscription_id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("price_id", sa.String(64), nullable=False),
        sa.Column("price_version", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charge_type", sa.String(20), nullable=True),
        sa.Column("billing_period", sa.String(20), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("term_start", sa.Date, nullable=False),
        sa.Column("term_end", sa.Date, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("event_at", UtcDateTime(), nullable=False),
        sa.Column("event_kind", sa.String(40), nullable=False),
    )
    op.create_index(
        "ix_rating_subscriptions_account_product", "rating_subscriptions", ["account_id", "product_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_rating_subscriptions_account_product", table_name="rating_subscriptions")
    op.drop_table("rating_subscriptions")
    op.drop_table("rating_accounts")
