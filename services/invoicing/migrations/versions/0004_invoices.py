"""Invoices, their lines and the counters of their number series (issue 9).

The unique keys that make a bill run exactly once are explained in `invoicing/models/invoices.py`.
Revises 0002: the read model's 0003 is written alongside; the merge puts this one after it.

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

_NOT_VOID = sa.text("state <> 'void'")
_LINE_NOT_VOID = sa.text("NOT voided")


def _money(name: str) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("run_kind", sa.String(12), nullable=False),
        sa.Column("run_source_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("bill_to_name", sa.String(200), nullable=False),
        sa.Column("bill_to_email", sa.String(254), nullable=True),
        sa.Column("bill_to_country", sa.String(64), nullable=True),
        sa.Column("bill_to_region", sa.String(64), nullable=True),
        sa.Column("bill_to_postal_code", sa.String(32), nullable=True),
        sa.Column("tax_certificate", sa.String(64), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("payment_terms_days", sa.Integer, nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("tax_exemption_note", sa.Text, nullable=True),
        sa.Column("memo", sa.Text, nullable=True),
        sa.Column("series", sa.String(16), nullable=True),
        sa.Column("sequence_number", sa.Integer, nullable=True),
        sa.Column("number", sa.String(24), nullable=True),
        sa.Column("invoice_date", sa.Date, nullable=True),
        sa.Column("due_date", sa.Date, nullable=True),
        _money("subtotal"),
        _money("discount_total"),
        _money("tax_total"),
        _money("total"),
        _money("amount_paid"),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("finalized_at", UtcDateTime(), nullable=True),
        sa.Column("voided_at", UtcDateTime(), nullable=True),
        sa.Column("void_reason", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("series", "sequence_number", name="uq_invoices_series_number"),
    )
    op.create_index(
        "uq_invoices_billing_period",
        "invoices",
        ["account_id", "currency", "period_start", "period_end", "run_kind", "run_source_id"],
        unique=True,
        sqlite_where=_NOT_VOID,
        postgresql_where=_NOT_VOID,
    )
    op.create_index("ix_invoices_account_state", "invoices", ["account_id", "state"])
    op.create_table(
        "invoice_lines",
        sa.Column("invoice_id", sa.String(40), sa.ForeignKey("invoices.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("charge_key", sa.String(200), nullable=False),
        sa.Column("billed_after", sa.String(40), nullable=False),
        sa.Column("voided", sa.Boolean, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=True),
        sa.Column("product_id", sa.String(64), nullable=True),
        sa.Column("price_id", sa.String(64), nullable=True),
        sa.Column("price_version", sa.Integer, nullable=True),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        _money("quantity"),
        sa.Column("unit_price", ExactDecimal(), nullable=True),
        _money("list_amount"),
        _money("discount_amount"),
        _money("amount"),
        sa.Column("tax_code", sa.String(64), nullable=True),
        _money("tax_rate"),
        _money("tax_amount"),
        sa.Column("tax_jurisdiction", sa.String(128), nullable=True),
        sa.Column("source_kind", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.UniqueConstraint("invoice_id", "charge_key", name="uq_invoice_lines_invoice_charge"),
    )
    op.create_index(
        "uq_invoice_lines_charge_billed",
        "invoice_lines",
        ["account_id", "charge_key", "billed_after"],
        unique=True,
        sqlite_where=_LINE_NOT_VOID,
        postgresql_where=_LINE_NOT_VOID,
    )
    op.create_table(
        "invoice_number_series",
        sa.Column("series", sa.String(16), primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("invoice_number_series")
    op.drop_index("uq_invoice_lines_charge_billed", table_name="invoice_lines")
    op.drop_table("invoice_lines")
    op.drop_index("ix_invoices_account_state", table_name="invoices")
    op.drop_index("uq_invoices_billing_period", table_name="invoices")
    op.drop_table("invoices")
