"""A/R, dunning and collections (issue 10): dunning policies and their assignment, collections
cases and their steps, what an invoice had written off, and the account's CRM owner in the read
model (from the `crm_owner` contact provisioning's account events carry).

Written in parallel with payments and the ledger: it revised 0007 and was rechained after 0011
when merged. Columns are added in place (SQLite accepts ADD COLUMN with a constant default).

Revision ID: 0009
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal, UtcDateTime

revision: str = "0009"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DEFAULT = sa.text("is_default")
_OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    op.add_column("invoices", sa.Column("written_off", ExactDecimal(), nullable=False, server_default="0"))
    op.add_column("invoices", sa.Column("written_off_at", UtcDateTime(), nullable=True))
    op.add_column("billing_accounts", sa.Column("crm_owner_name", sa.String(200), nullable=True))
    op.add_column("billing_accounts", sa.Column("crm_owner_email", sa.String(320), nullable=True))
    op.create_table(
        "dunning_policies",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("steps", sa.Text, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("in_use", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index(
        "uq_dunning_policies_default",
        "dunning_policies",
        ["is_default"],
        unique=True,
        sqlite_where=_DEFAULT,
        postgresql_where=_DEFAULT,
    )
    op.create_table(
        "dunning_policy_assignments",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("policy_id", sa.String(40), sa.ForeignKey("dunning_policies.id"), nullable=False),
        sa.Column("assigned_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_dunning_policy_assignments_policy", "dunning_policy_assignments", ["policy_id"])
    op.create_table(
        "collections_cases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("policy_id", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("last_run_on", sa.Date, nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("suspended", sa.Boolean, nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
        sa.Column("close_reason", sa.String(32), nullable=True),
        sa.Column("resume_requested", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index(
        "uq_collections_cases_open",
        "collections_cases",
        ["account_id", "currency"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_index("ix_collections_cases_state", "collections_cases", ["state", "account_id"])
    op.create_table(
        "collections_case_steps",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("case_id", sa.String(40), sa.ForeignKey("collections_cases.id"), nullable=False),
        sa.Column("step_number", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("run_on", sa.Date, nullable=False),
        sa.Column("days_past_due", sa.Integer, nullable=False),
        sa.Column("past_due_amount", ExactDecimal(), nullable=False),
        sa.Column("taken_at", UtcDateTime(), nullable=False),
        sa.Column("taken_by", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.UniqueConstraint("case_id", "step_number", name="uq_collections_case_steps_case_step"),
    )


def downgrade() -> None:
    op.drop_table("collections_case_steps")
    op.drop_index("ix_collections_cases_state", table_name="collections_cases")
    op.drop_index("uq_collections_cases_open", table_name="collections_cases")
    op.drop_table("collections_cases")
    op.drop_index("ix_dunning_policy_assignments_policy", table_name="dunning_policy_assignments")
    op.drop_table("dunning_policy_assignments")
    op.drop_index("uq_dunning_policies_default", table_name="dunning_policies")
    op.drop_table("dunning_policies")
    with op.batch_alter_table("billing_accounts") as batch:
        batch.drop_column("crm_owner_email")
        batch.drop_column("crm_owner_name")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("written_off_at")
        batch.drop_column("written_off")
