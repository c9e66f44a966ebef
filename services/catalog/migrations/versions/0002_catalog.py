"""Catalog tables: products, versioned prices, versioned vendor cost books, bundles, discounts,
support-contract templates and quotes.

Drafted with autogenerate, then checked by hand: exact decimals (`ExactDecimal`: TEXT on
SQLite, NUMERIC on PostgreSQL), aware timestamps, plain strings, named unique constraints.
Only CREATE TABLE / CREATE INDEX, so it runs the same on SQLite and PostgreSQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal, UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamps(*names: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, UtcDateTime(), nullable=False) for name in names]


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("unit_of_measure", sa.String(40), nullable=False),
        sa.Column("license_type", sa.String(20), nullable=False),
        sa.Column("revenue_rule", sa.String(20), nullable=False),
        sa.Column("tax_code", sa.String(40), nullable=False),
        sa.Column("vendor_id", sa.String(60), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        *_stamps("created_at", "updated_at"),
        sa.UniqueConstraint("sku", name="uq_products_sku"),
    )
    op.create_table(
        "cost_books",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("vendor_id", sa.String(60), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("latest_version", sa.Integer, nullable=False),
        *_stamps("created_at"),
    )
    op.create_table(
        "cost_book_versions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("cost_book_id", sa.String(40), sa.ForeignKey("cost_books.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("vendor_id", sa.String(60), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("markup_percent", ExactDecimal(), nullable=False),
        sa.Column("tiers", sa.Text, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("effective_to", sa.Date, nullable=True),
        *_stamps("published_at"),
        sa.Column("published_by", sa.String(80), nullable=False),
        sa.UniqueConstraint("cost_book_id", "version", name="uq_cost_book_versions_book_version"),
    )
    op.create_index("ix_cost_book_versions_cost_book_id", "cost_book_versions", ["cost_book_id"])
    op.create_table(
        "prices",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("product_id", sa.String(40), sa.ForeignKey("products.id"), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("latest_version", sa.Integer, nullable=False),
        *_stamps("created_at"),
    )
    op.create_index("ix_prices_product_id", "prices", ["product_id"])
    op.create_table(
        "price_versions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("price_id", sa.String(40), sa.ForeignKey("prices.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("product_id", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charge_type", sa.String(20), nullable=False),
        sa.Column("billing_period", sa.String(20), nullable=True),
        sa.Column("timing", sa.String(20), nullable=False),
        sa.Column("model", sa.String(20), nullable=False),
        sa.Column("unit_price", ExactDecimal(), nullable=True),
        sa.Column("amount", ExactDecimal(), nullable=True),
        sa.Column("tiers", sa.Text, nullable=False),
        sa.Column("package_size", ExactDecimal(), nullable=True),
        sa.Column("included_quantity", ExactDecimal(), nullable=False),
        sa.Column("minimum_commitment", ExactDecimal(), nullable=True),
        sa.Column("cost_book_id", sa.String(40), nullable=True),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("effective_to", sa.Date, nullable=True),
        *_stamps("published_at"),
        sa.Column("published_by", sa.String(80), nullable=False),
        sa.UniqueConstraint("price_id", "version", name="uq_price_versions_price_version"),
    )
    op.create_index("ix_price_versions_price_id", "price_versions", ["price_id"])
    op.create_table(
        "bundles",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("components", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        *_stamps("created_at", "updated_at"),
    )
    op.create_table(
        "discounts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("duration_cycles", sa.Integer, nullable=True),
        sa.Column("product_ids", sa.Text, nullable=False),
        sa.Column("approval_threshold_percent", ExactDecimal(), nullable=True),
        sa.Column("promo_code", sa.String(40), nullable=True),
        sa.Column("valid_from", sa.Date, nullable=True),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        *_stamps("created_at", "updated_at"),
        sa.UniqueConstraint("promo_code", name="uq_discounts_promo_code"),
    )
    op.create_table(
        "contract_templates",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("period_months", sa.Integer, nullable=True),
        sa.Column("hours", ExactDecimal(), nullable=True),
        sa.Column("on_expiry", sa.String(20), nullable=False),
        sa.Column("product_id", sa.String(40), sa.ForeignKey("products.id"), nullable=True),
        *_stamps("created_at", "updated_at"),
    )
    op.create_table(
        "quotes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("subtotal", ExactDecimal(), nullable=False),
        sa.Column("discount_total", ExactDecimal(), nullable=False),
        sa.Column("total", ExactDecimal(), nullable=False),
        sa.Column("needs_approval", sa.Boolean, nullable=False),
        sa.Column("approval_reasons", sa.Text, nullable=False),
        sa.Column("lines", sa.Text, nullable=False),
        *_stamps("created_at"),
        sa.Column("created_by", sa.String(80), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "quotes",
        "contract_templates",
        "discounts",
        "bundles",
        "price_versions",
        "prices",
        "cost_book_versions",
        "cost_books",
        "products",
    ):
        op.drop_table(table)
