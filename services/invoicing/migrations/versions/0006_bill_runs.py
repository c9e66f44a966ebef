"""Bill runs: runs, their counted chunks with amounts per currency, and failed accounts (issue 9).

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

_CHUNK_COUNTS = (
    "accounts",
    "accounts_invoiced",
    "accounts_without_invoice",
    "invoices_created",
    "invoices_existing",
    "failures",
)


def upgrade() -> None:
    op.create_table(
        "bill_runs",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("bill_date", sa.Date, nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("account_ids", sa.Text, nullable=True),
        sa.Column("fulfillment_id", sa.String(64), nullable=True, unique=True),
        sa.Column("retry_of", sa.String(40), nullable=True),
        sa.Column("schedule_key", sa.String(40), nullable=True, unique=True),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("accounts_total", sa.BigInteger, nullable=False),
        sa.Column("chunks_total", sa.Integer, nullable=False),
        sa.Column("cursor", sa.String(64), nullable=True),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("failure_reason", sa.String(500), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("enumerated_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_bill_runs_state", "bill_runs", ["state"])
    op.create_table(
        "bill_run_chunks",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("chunk_id", sa.Integer, primary_key=True, autoincrement=False),
        *(sa.Column(name, sa.Integer, nullable=False) for name in _CHUNK_COUNTS),
        sa.Column("counted_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "bill_run_amounts",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("chunk_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("invoices", sa.Integer, nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
    )
    op.create_table(
        "bill_run_failures",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("chunk_id", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bill_run_failures")
    op.drop_table("bill_run_amounts")
    op.drop_table("bill_run_chunks")
    op.drop_index("ix_bill_runs_state", table_name="bill_runs")
    op.drop_table("bill_runs")
