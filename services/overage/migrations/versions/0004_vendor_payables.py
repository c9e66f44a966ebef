"""Vendor payables (issue 11): the payables read model (products, prices, cost books,
subscriptions, billed customer lines), vendor commitments with their expected annual invoices,
and received vendor invoices.

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


def upgrade() -> None:
    op.create_table(
        "payables_products",
        sa.Column("product_id", sa.String(64), primary_key=True),
        sa.Column("vendor_id", sa.String(64), nullable=True),
        sa.Column("event_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "payables_prices",
        sa.Column("price_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(24), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("billing_period", sa.String(16), nullable=True),
        sa.Column("cost_book_id", sa.String(64), nullable=True),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("effective_to", sa.Date, nullable=True),
    )
    op.create_index("ix_payables_prices_cost_book", "payables_prices", ["cost_book_id"])
    op.create_table(
        "payables_cost_books",
        sa.Column("cost_book_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("tier_period", sa.String(16), nullable=False),
        sa.Column("markup_percent", ExactDecimal(), nullable=False),
        sa.Column("tiers", sa.Text, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("effective_to", sa.Date, nullable=True),
    )
    op.create_index("ix_payables_cost_books_vendor", "payables_cost_books", ["vendor_id"])
    op.create_table(
        "payables_subscriptions",
        sa.Column("subscription_id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("price_id", sa.String(64), nullable=False),
        sa.Column("price_version", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("commitment_quantity", ExactDecimal(), nullable=False),
        sa.Column("term_start", sa.Date, nullable=False),
        sa.Column("term_end", sa.Date, nullable=False),
        sa.Column("billing_period", sa.String(16), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("event_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_payables_subscriptions_product", "payables_subscriptions", ["product_id"])
    op.create_index("ix_payables_subscriptions_price", "payables_subscriptions", ["price_id"])
    op.create_index("ix_payables_subscriptions_account", "payables_subscriptions", ["account_id"])
    op.create_table(
        "payables_billed_lines",
        sa.Column("invoice_id", sa.String(64), primary_key=True),
        sa.Column("charge_key", sa.String(200), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("invoice_date", sa.Date, nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("void", sa.Boolean, nullable=False),
    )
    op.create_index(
        "ix_payables_billed_lines_period", "payables_billed_lines", ["period_start", "account_id"]
    )
    op.create_table(
        "vendor_commitments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=True),
        sa.Column("cost_book_id", sa.String(64), nullable=False),
        sa.Column("cost_book_version", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("seats", ExactDecimal(), nullable=False),
        sa.Column("term_start", sa.Date, nullable=False),
        sa.Column("term_end", sa.Date, nullable=False),
        sa.Column("unit_cost", ExactDecimal(), nullable=False),
        sa.Column("book_period", sa.String(16), nullable=False),
        sa.Column("annual_amount", ExactDecimal(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("subscription_id", name="uq_vendor_commitments_subscription"),
    )
    op.create_index("ix_vendor_commitments_account", "vendor_commitments", ["account_id"])
    op.create_table(
        "expected_vendor_invoices",
        sa.Column("id", sa.String(48), primary_key=True),
        sa.Column("commitment_id", sa.String(40), sa.ForeignKey("vendor_commitments.id"), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.UniqueConstraint("commitment_id", "sequence", name="uq_expected_vendor_invoices_sequence"),
    )
    op.create_index(
        "ix_expected_vendor_invoices_match",
        "expected_vendor_invoices",
        ["vendor_id", "period_start", "subscription_id"],
    )
    op.create_table(
        "vendor_invoices",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=True),
        sa.Column("overage_case_id", sa.String(64), nullable=True),
        sa.Column("expected_invoice_id", sa.String(48), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("expected_amount", ExactDecimal(), nullable=True),
        sa.Column("match", sa.String(16), nullable=False),
        sa.Column("invoice_date", sa.Date, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("received_by", sa.String(120), nullable=False),
        sa.Column("approved_at", UtcDateTime(), nullable=True),
        sa.Column("approved_by", sa.String(120), nullable=True),
        sa.Column("approval_note", sa.String(2000), nullable=True),
        sa.Column("paid_at", UtcDateTime(), nullable=True),
        sa.Column("paid_by", sa.String(120), nullable=True),
        sa.Column("payment_reference", sa.String(120), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("vendor_id", "number", name="uq_vendor_invoices_vendor_number"),
        sa.UniqueConstraint("expected_invoice_id", name="uq_vendor_invoices_expected"),
    )
    op.create_index("ix_vendor_invoices_account_period", "vendor_invoices", ["account_id", "period_start"])


def downgrade() -> None:
    op.drop_index("ix_vendor_invoices_account_period", table_name="vendor_invoices")
    op.drop_table("vendor_invoices")
    op.drop_index("ix_expected_vendor_invoices_match", table_name="expected_vendor_invoices")
    op.drop_table("expected_vendor_invoices")
    op.drop_index("ix_vendor_commitments_account", table_name="vendor_commitments")
    op.drop_table("vendor_commitments")
    op.drop_index("ix_payables_billed_lines_period", table_name="payables_billed_lines")
    op.drop_table("payables_billed_lines")
    op.drop_index("ix_payables_subscriptions_account", table_name="payables_subscriptions")
    op.drop_index("ix_payables_subscriptions_price", table_name="payables_subscriptions")
    op.drop_index("ix_payables_subscriptions_product", table_name="payables_subscriptions")
    op.drop_table("payables_subscriptions")
    op.drop_index("ix_payables_cost_books_vendor", table_name="payables_cost_books")
    op.drop_table("payables_cost_books")
    op.drop_index("ix_payables_prices_cost_book", table_name="payables_prices")
    op.drop_table("payables_prices")
    op.drop_table("payables_products")
