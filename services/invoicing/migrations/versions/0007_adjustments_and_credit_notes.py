"""Adjustments, credit notes, disputes, and the credited total of invoices (issue 9, credits).

Written in parallel with the bill runs' 0006: it revises 0005 here and is rechained to 0006 when
merged. `invoices.credited` is added in place (SQLite accepts ADD COLUMN with a constant default),
so the invoices' partial unique indexes are left untouched.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal, UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE_DISPUTE = sa.text("state IN ('open', 'under_review')")


def _money(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal(), nullable=nullable)


def upgrade() -> None:
    op.add_column("invoices", sa.Column("credited", ExactDecimal(), nullable=False, server_default="0"))
    op.create_table(
        "adjustments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _money("amount"),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=True),
        sa.Column("service_period_start", sa.Date, nullable=True),
        sa.Column("service_period_end", sa.Date, nullable=True),
        sa.Column("invoice_id", sa.String(40), nullable=True),
        sa.Column("dispute_id", sa.String(40), nullable=True),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("cancelled_at", UtcDateTime(), nullable=True),
        sa.Column("cancel_reason", sa.Text, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_adjustments_account_cancelled", "adjustments", ["account_id", "cancelled"])
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("invoice_id", sa.String(40), sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("invoice_number", sa.String(24), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("series", sa.String(16), nullable=False),
        sa.Column("sequence_number", sa.Integer, nullable=False),
        sa.Column("number", sa.String(24), nullable=False),
        sa.Column("note_date", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        _money("subtotal"),
        _money("tax_total"),
        _money("total"),
        _money("account_credit"),
        sa.Column("dispute_id", sa.String(40), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("series", "sequence_number", name="uq_credit_notes_series_number"),
    )
    op.create_index("ix_credit_notes_invoice", "credit_notes", ["invoice_id"])
    op.create_index("ix_credit_notes_account", "credit_notes", ["account_id"])
    op.create_table(
        "credit_note_lines",
        sa.Column("credit_note_id", sa.String(40), sa.ForeignKey("credit_notes.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("charge_key", sa.String(200), nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        _money("amount"),
        _money("tax_amount"),
        _money("tax_rate"),
        sa.Column("tax_code", sa.String(64), nullable=True),
        sa.Column("tax_jurisdiction", sa.String(128), nullable=True),
    )
    op.create_table(
        "disputes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("invoice_id", sa.String(40), sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("invoice_number", sa.String(24), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("line_key", sa.String(200), nullable=False),
        _money("disputed_amount", nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("resolution_note", sa.Text, nullable=True),
        _money("credited_amount", nullable=True),
        sa.Column("credit_note_id", sa.String(40), nullable=True),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index(
        "uq_disputes_open_line",
        "disputes",
        ["invoice_id", "line_key"],
        unique=True,
        sqlite_where=_ACTIVE_DISPUTE,
        postgresql_where=_ACTIVE_DISPUTE,
    )
    op.create_index("ix_disputes_account", "disputes", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_disputes_account", table_name="disputes")
    op.drop_index("uq_disputes_open_line", table_name="disputes")
    op.drop_table("disputes")
    op.drop_table("credit_note_lines")
    op.drop_index("ix_credit_notes_account", table_name="credit_notes")
    op.drop_index("ix_credit_notes_invoice", table_name="credit_notes")
    op.drop_table("credit_notes")
    op.drop_index("ix_adjustments_account_cancelled", table_name="adjustments")
    op.drop_table("adjustments")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("credited")
