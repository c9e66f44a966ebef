"""Meters, accepted usage events (the dedup of both doors) and their aggregates (issue 8).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal, UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNMATCHED = sa.text("status = 'unmatched'")


def upgrade() -> None:
    op.create_table(
        "meters",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit_of_measure", sa.String(40), nullable=False),
        sa.Column("aggregation", sa.String(20), nullable=False),
        sa.Column("property", sa.String(64), nullable=True),
        sa.Column("filter", sa.Text, nullable=True),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("code", name="uq_meters_code"),
    )
    op.create_table(
        "usage_events",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("meter", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=True),
        sa.Column("account_id", sa.String(64), nullable=True),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("usage_date", sa.Date, nullable=True),
        sa.Column("period_start", sa.Date, nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("properties", sa.Text, nullable=True),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("load_id", sa.String(40), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_usage_events_series", "usage_events", ["subscription_id", "meter", "period_start"])
    op.create_index(
        "ix_usage_events_review",
        "usage_events",
        ["received_at"],
        sqlite_where=_UNMATCHED,
        postgresql_where=_UNMATCHED,
    )
    op.create_table(
        "usage_aggregates",
        sa.Column("subscription_id", sa.String(64), primary_key=True),
        sa.Column("meter", sa.String(64), primary_key=True),
        sa.Column("period_start", sa.Date, primary_key=True),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("event_count", sa.Integer, nullable=False),
        sa.Column("late_quantity", ExactDecimal(), nullable=False),
        sa.Column("late_count", sa.Integer, nullable=False),
        sa.Column("latest_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("rated_at", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "usage_unique_values",
        sa.Column("subscription_id", sa.String(64), primary_key=True),
        sa.Column("meter", sa.String(64), primary_key=True),
        sa.Column("period_start", sa.Date, primary_key=True),
        sa.Column("value", sa.String(256), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("usage_unique_values")
    op.drop_table("usage_aggregates")
    op.drop_index("ix_usage_events_review", table_name="usage_events")
    op.drop_index("ix_usage_events_series", table_name="usage_events")
    op.drop_table("usage_events")
    op.drop_table("meters")
