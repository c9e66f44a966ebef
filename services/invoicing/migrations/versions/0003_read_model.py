"""Invoicing's read model of billing inputs, kept from other services' events (issue 9): accounts,
subscription versions, rated usage, fulfillment lines, one-time charges, approved order lines,
catalog price terms and products.

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


def _exact(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, ExactDecimal(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "billing_accounts",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("bill_cycle_day", sa.Integer, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("payment_terms_days", sa.Integer, nullable=False),
        sa.Column("parent_account_id", sa.String(64), nullable=True),
        sa.Column("bills_to_parent", sa.Boolean, nullable=False),
        sa.Column("tax_treatment", sa.String(20), nullable=False),
        sa.Column("tax_certificate_number", sa.String(100), nullable=True),
        sa.Column("tax_certificate_expiry", sa.Date, nullable=True),
        sa.Column("tax_country", sa.String(2), nullable=True),
        sa.Column("tax_region", sa.String(100), nullable=True),
        sa.Column("tax_postal_code", sa.String(20), nullable=True),
        sa.Column("billing_email", sa.String(320), nullable=True),
        sa.Column("event_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_billing_accounts_parent", "billing_accounts", ["parent_account_id"])
    op.create_table(
        "billing_subscription_versions",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_at", UtcDateTime(), nullable=False),
        sa.Column("event_kind", sa.String(40), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charge_type", sa.String(20), nullable=True),
        sa.Column("billing_period", sa.String(20), nullable=True),
        sa.Column("billing_timing", sa.String(20), nullable=True),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        _exact("quantity"),
        _exact("unit_price"),
        _exact("discount_percent"),
        sa.Column("price_id", sa.String(64), nullable=False),
        sa.Column("price_version", sa.Integer, nullable=False),
        sa.Column("term_start", sa.Date, nullable=False),
        sa.Column("term_end", sa.Date, nullable=False),
    )
    op.create_index(
        "ix_billing_subscription_versions_account", "billing_subscription_versions", ["account_id"]
    )
    op.create_index(
        "ix_billing_subscription_versions_subscription", "billing_subscription_versions", ["subscription_id"]
    )
    op.create_table(
        "billing_rated_usage",
        sa.Column("rated_usage_id", sa.String(64), primary_key=True),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("meter", sa.String(64), nullable=False),
        sa.Column("unit_of_measure", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        _exact("quantity"),
        _exact("billable_quantity"),
        _exact("late_quantity"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("price_id", sa.String(64), nullable=False),
        sa.Column("price_version", sa.Integer, nullable=False),
        _exact("charge_amount"),
        _exact("minimum_shortfall"),
        _exact("prepaid_amount"),
        _exact("amount"),
        sa.Column("rated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_billing_rated_usage_account", "billing_rated_usage", ["account_id"])
    op.create_table(
        "billing_fulfillment_lines",
        sa.Column("fulfillment_id", sa.String(64), primary_key=True),
        sa.Column("order_line_id", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("completed_on", sa.Date, nullable=False),
        _exact("billable_quantity"),
        _exact("unit_price"),
        _exact("discount_percent"),
        sa.Column("associated_project_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_billing_fulfillment_lines_account", "billing_fulfillment_lines", ["account_id"])
    op.create_table(
        "billing_one_time_charges",
        sa.Column("charge_id", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charge_date", sa.Date, nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        _exact("quantity"),
        _exact("unit_price"),
        _exact("amount"),
        sa.Column("subscription_id", sa.String(64), nullable=True),
        sa.Column("product_id", sa.String(64), nullable=True),
        sa.Column("price_id", sa.String(64), nullable=True),
        sa.Column("price_version", sa.Integer, nullable=True),
        sa.Column("source_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_billing_one_time_charges_account", "billing_one_time_charges", ["account_id"])
    op.create_table(
        "billing_order_lines",
        sa.Column("order_line_id", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("approved_at", UtcDateTime(), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("price_id", sa.String(64), nullable=False),
        sa.Column("price_version", sa.Integer, nullable=False),
        _exact("quantity"),
        _exact("unit_price"),
        _exact("discount_percent"),
        sa.Column("license_type", sa.String(20), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_billing_order_lines_account", "billing_order_lines", ["account_id"])
    op.create_table(
        "billing_prices",
        sa.Column("price_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charge_type", sa.String(20), nullable=False),
        sa.Column("billing_period", sa.String(20), nullable=True),
        sa.Column("timing", sa.String(20), nullable=False),
    )
    op.create_table(
        "billing_products",
        sa.Column("product_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("tax_code", sa.String(64), nullable=False),
        sa.Column("event_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("billing_products")
    op.drop_table("billing_prices")
    op.drop_index("ix_billing_order_lines_account", table_name="billing_order_lines")
    op.drop_table("billing_order_lines")
    op.drop_index("ix_billing_one_time_charges_account", table_name="billing_one_time_charges")
    op.drop_table("billing_one_time_charges")
    op.drop_index("ix_billing_fulfillment_lines_account", table_name="billing_fulfillment_lines")
    op.drop_table("billing_fulfillment_lines")
    op.drop_index("ix_billing_rated_usage_account", table_name="billing_rated_usage")
    op.drop_table("billing_rated_usage")
    op.drop_index("ix_billing_subscription_versions_subscription", table_name="billing_subscription_versions")
    op.drop_index("ix_billing_subscription_versions_account", table_name="billing_subscription_versions")
    op.drop_table("billing_subscription_versions")
    op.drop_index("ix_billing_accounts_parent", table_name="billing_accounts")
    op.drop_table("billing_accounts")
