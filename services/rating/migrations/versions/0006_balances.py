"""Prepaid balances and their transactions (issue 8).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal, UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "balances",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("meter", sa.String(64), nullable=True),
        sa.Column("unit_label", sa.String(40), nullable=True),
        sa.Column("rollover_policy", sa.String(10), nullable=False),
        sa.Column("rollover_limit", ExactDecimal(), nullable=True),
        sa.Column("thresholds", sa.Text, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=True),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("granted", ExactDecimal(), nullable=False),
        sa.Column("used", ExactDecimal(), nullable=False),
        sa.Column("expired", ExactDecimal(), nullable=False),
        sa.Column("refunded", ExactDecimal(), nullable=False),
        sa.Column("rolled_over", ExactDecimal(), nullable=False),
        sa.Column("cycle_base", ExactDecimal(), nullable=False),
        sa.Column("cycle_used", ExactDecimal(), nullable=False),
        sa.Column("thresholds_crossed", sa.Text, nullable=False),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column("closing_on", sa.Date, nullable=True),
        sa.Column("closing_event_id", sa.String(64), nullable=True),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_balances_owner", "balances", ["account_id", "subscription_id"])
    op.create_index("ix_balances_due", "balances", ["due_on"])
    op.create_table(
        "balance_transactions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("balance_id", sa.String(40), sa.ForeignKey("balances.id"), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("unit_price", ExactDecimal(), nullable=True),
        sa.Column("amount", ExactDecimal(), nullable=True),
        sa.Column("grant_id", sa.String(40), nullable=True),
        sa.Column("open_quantity", ExactDecimal(), nullable=True),
        sa.Column("expires_on", sa.Date, nullable=True),
        sa.Column("reference", sa.String(128), nullable=True),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint(
            "balance_id", "kind", "reference", "grant_id", name="uq_balance_transactions_once"
        ),
    )
    op.create_index("ix_balance_transactions_balance", "balance_transactions", ["balance_id", "id"])
    op.create_index("ix_balance_transactions_reference", "balance_transactions", ["account_id", "reference"])
    op.create_index(
        "ix_balance_transactions_open",
        "balance_transactions",
        ["balance_id"],
        sqlite_where=sa.text("open_quantity IS NOT NULL"),
        postgresql_where=sa.text("open_quantity IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_balance_transactions_open", table_name="balance_transactions")
    op.drop_index("ix_balance_transactions_reference", table_name="balance_transactions")
    op.drop_index("ix_balance_transactions_balance", table_name="balance_transactions")
    op.drop_table("balance_transactions")
    op.drop_index("ix_balances_due", table_name="balances")
    op.drop_index("ix_balances_owner", table_name="balances")
    op.drop_table("balances")
