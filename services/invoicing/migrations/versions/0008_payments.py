"""Payments (issue 10): payment methods and their earlier tokens, payments with their allocations,
gateway attempts and refunds; lockbox files and their lines.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal, UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _money(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "payment_methods",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("token", sa.String(200), nullable=True),
        sa.Column("brand", sa.String(32), nullable=True),
        sa.Column("last_four", sa.String(4), nullable=True),
        sa.Column("exp_month", sa.Integer, nullable=True),
        sa.Column("exp_year", sa.Integer, nullable=True),
        sa.Column("token_version", sa.Integer, nullable=False),
        sa.Column("mandate_id", sa.String(100), nullable=True),
        sa.Column("bank_last_four", sa.String(4), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_payment_methods_account", "payment_methods", ["account_id"])
    op.create_table(
        "payment_method_tokens",
        sa.Column("payment_method_id", sa.String(40), sa.ForeignKey("payment_methods.id"), primary_key=True),
        sa.Column("token_version", sa.Integer, primary_key=True),
        sa.Column("token", sa.String(200), nullable=False),
        sa.Column("brand", sa.String(32), nullable=False),
        sa.Column("last_four", sa.String(4), nullable=False),
        sa.Column("exp_month", sa.Integer, nullable=False),
        sa.Column("exp_year", sa.Integer, nullable=False),
        sa.Column("replaced_at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("amount"),
        sa.Column("method_kind", sa.String(8), nullable=False),
        sa.Column("payment_method_id", sa.String(40), nullable=True),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("requested_invoice_ids", sa.Text, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("received_on", sa.Date, nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=True),
        _money("unapplied"),
        _money("refunded"),
        sa.Column("next_retry_on", sa.Date, nullable=True),
        sa.Column("reversal_reason", sa.Text, nullable=True),
        sa.Column("lockbox_line", sa.String(60), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_payments_account_credit", "payments", ["account_id", "currency", "state"])
    op.create_index("ix_payments_retry", "payments", ["state", "next_retry_on"])
    op.create_table(
        "payment_allocations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("payment_id", sa.String(40), sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("invoice_id", sa.String(40), nullable=False),
        sa.Column("invoice_number", sa.String(24), nullable=False),
        _money("amount"),
        _money("returned"),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("applied_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("payment_id", "position", name="uq_payment_allocations_position"),
    )
    op.create_index("ix_payment_allocations_invoice", "payment_allocations", ["invoice_id"])
    op.create_table(
        "payment_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("payment_id", sa.String(40), sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("attempted_on", sa.Date, nullable=False),
        sa.Column("attempted_at", UtcDateTime(), nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("token", sa.String(200), nullable=False),
        sa.Column("decline_code", sa.String(64), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("gateway_reference", sa.String(200), nullable=True),
        sa.Column("enhanced_data", sa.Text, nullable=False),
        sa.UniqueConstraint("payment_id", "number", name="uq_payment_attempts_number"),
    )
    op.create_table(
        "payment_refunds",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("payment_id", sa.String(40), sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        _money("amount"),
        _money("account_credit_used"),
        sa.Column("taken_back", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("gateway_reference", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_payment_refunds_account", "payment_refunds", ["account_id", "currency"])
    op.create_table(
        "lockbox_files",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200), nullable=True),
        sa.Column("imported_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("content_hash", name="uq_lockbox_files_content_hash"),
    )
    op.create_table(
        "lockbox_lines",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("file_id", sa.String(40), sa.ForeignKey("lockbox_files.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("check_number", sa.String(64), nullable=False),
        _money("amount", nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("invoice_number", sa.String(200), nullable=True),
        sa.Column("account_id", sa.String(200), nullable=True),
        sa.Column("deposit_date", sa.Date, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("payment_id", sa.String(40), nullable=True),
        sa.UniqueConstraint("file_id", "number", name="uq_lockbox_lines_number"),
    )


def downgrade() -> None:
    op.drop_table("lockbox_lines")
    op.drop_table("lockbox_files")
    op.drop_index("ix_payment_refunds_account", table_name="payment_refunds")
    op.drop_table("payment_refunds")
    op.drop_table("payment_attempts")
    op.drop_index("ix_payment_allocations_invoice", table_name="payment_allocations")
    op.drop_table("payment_allocations")
    op.drop_index("ix_payments_retry", table_name="payments")
    op.drop_index("ix_payments_account_credit", table_name="payments")
    op.drop_table("payments")
    op.drop_table("payment_method_tokens")
    op.drop_index("ix_payment_methods_account", table_name="payment_methods")
    op.drop_table("payment_methods")
