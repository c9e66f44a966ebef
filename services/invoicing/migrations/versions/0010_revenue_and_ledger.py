"""Revenue schedules and the general ledger (issue 10): schedules per invoice line, their months and
credits, recognition postings, journal entries and lines; the products' revenue rule in the read
model (`billing_products.revenue_rule`, null for products kept before).

Written beside payments (p-payments) and collections: it revises 0007 here and is rechained when
merged.

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal, UtcDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _money(name: str) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal(), nullable=False)


def upgrade() -> None:
    op.add_column("billing_products", sa.Column("revenue_rule", sa.String(20), nullable=True))
    op.create_table(
        "revenue_schedules",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("invoice_id", sa.String(40), nullable=False),
        sa.Column("invoice_number", sa.String(24), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charge_key", sa.String(200), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=True),
        sa.Column("rule", sa.String(20), nullable=False),
        sa.Column("invoice_date", sa.Date, nullable=False),
        sa.Column("billed_month", sa.String(7), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        _money("amount"),
        _money("tax_amount"),
        _money("credited"),
        _money("tax_credited"),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("invoice_id", "charge_key", name="uq_revenue_schedules_invoice_line"),
    )
    op.create_index("ix_revenue_schedules_account", "revenue_schedules", ["account_id"])
    op.create_index("ix_revenue_schedules_product", "revenue_schedules", ["product_id"])
    op.create_table(
        "revenue_schedule_months",
        sa.Column("schedule_id", sa.String(40), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("recognize_on", sa.Date, nullable=False),
        _money("amount"),
        sa.Column("journal_entry_id", sa.String(40), nullable=True),
    )
    op.create_index("ix_revenue_schedule_months_month", "revenue_schedule_months", ["month", "currency"])
    op.create_table(
        "revenue_credits",
        sa.Column("schedule_id", sa.String(40), primary_key=True),
        sa.Column("credit_id", sa.String(40), primary_key=True),
        sa.Column("credit_date", sa.Date, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("recognized_share"),
        _money("deferred_share"),
        _money("tax_share"),
    )
    op.create_index("ix_revenue_credits_month", "revenue_credits", ["month", "currency"])
    op.create_table(
        "revenue_recognition_postings",
        sa.Column("journal_entry_id", sa.String(40), primary_key=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("amount"),
        sa.Column("schedule_months", sa.Integer, nullable=False),
        sa.Column("posted_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_revenue_recognition_postings_month", "revenue_recognition_postings", ["month"])
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("entry_date", sa.Date, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=True),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("kind", "source_id", "currency", name="uq_journal_entries_source"),
    )
    op.create_index("ix_journal_entries_date", "journal_entries", ["entry_date", "id"])
    op.create_table(
        "journal_lines",
        sa.Column("entry_id", sa.String(40), primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True),
        sa.Column("gl_account", sa.String(20), nullable=False),
        sa.Column("gl_account_name", sa.String(100), nullable=False),
        sa.Column("entry_date", sa.Date, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("debit"),
        _money("credit"),
    )
    op.create_index("ix_journal_lines_date", "journal_lines", ["entry_date", "gl_account"])


def downgrade() -> None:
    for table in (
        "journal_lines",
        "journal_entries",
        "revenue_recognition_postings",
        "revenue_credits",
        "revenue_schedule_months",
        "revenue_schedules",
    ):
        op.drop_table(table)
    with op.batch_alter_table("billing_products") as batch:
        batch.drop_column("revenue_rule")
