"""Rating's read model of catalog prices and cost books, and rated usage (issue 8).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal, UtcDateTime

revision: str = "0005"
# 0004 (usage tables): this migration indexes usage_aggregates.
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNRATED = sa.text("rated_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "rating_prices",
        sa.Column("price_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charge_type", sa.String(20), nullable=False),
        sa.Column("billing_period", sa.String(20), nullable=True),
        sa.Column("model", sa.String(20), nullable=False),
        sa.Column("terms", sa.Text, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("effective_to", sa.Date, nullable=True),
        sa.Column("event_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_rating_prices_product", "rating_prices", ["product_id", "currency", "charge_type"])
    op.create_table(
        "rating_cost_books",
        sa.Column("cost_book_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("tier_period", sa.String(20), nullable=False),
        sa.Column("markup_percent", ExactDecimal(), nullable=False),
        sa.Column("tiers", sa.Text, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("effective_to", sa.Date, nullable=True),
        sa.Column("event_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "rated_usage",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("meter", sa.String(64), nullable=False),
        sa.Column("unit_of_measure", sa.String(40), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("event_count", sa.Integer, nullable=False),
        sa.Column("late_quantity", ExactDecimal(), nullable=False),
        sa.Column("included_quantity", ExactDecimal(), nullable=False),
        sa.Column("prepaid_quantity", ExactDecimal(), nullable=False),
        sa.Column("billable_quantity", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("price_id", sa.String(64), nullable=False),
        sa.Column("price_version", sa.Integer, nullable=False),
        sa.Column("pricing_model", sa.String(20), nullable=False),
        sa.Column("tiers", sa.Text, nullable=False),
        sa.Column("charge_amount", ExactDecimal(), nullable=False),
        sa.Column("minimum_shortfall", ExactDecimal(), nullable=False),
        sa.Column("prepaid_amount", ExactDecimal(), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("rated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("subscription_id", "meter", "period_start", name="uq_rated_usage_series"),
    )
    op.create_index("ix_rated_usage_account", "rated_usage", ["account_id", "period_start"])
    op.create_index(
        "ix_usage_aggregates_unrated",
        "usage_aggregates",
        ["subscription_id", "meter", "period_start"],
        sqlite_where=_UNRATED,
        postgresql_where=_UNRATED,
    )


def downgrade() -> None:
    op.drop_index("ix_usage_aggregates_unrated", table_name="usage_aggregates")
    op.drop_index("ix_rated_usage_account", table_name="rated_usage")
    op.drop_table("rated_usage")
    op.drop_table("rating_cost_books")
    op.drop_index("ix_rating_prices_product", table_name="rating_prices")
    op.drop_table("rating_prices")
