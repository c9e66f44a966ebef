"""The accounts' billing watermarks (`billing_watermarks`): the date through which nothing is due
for an account, so that a rerun of a bill run reads no account (issue 9). Every account already
in the read model gets a row with no mark (due).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `billing_watermarks`, one unmarked row per known account."""
    op.create_table(
        "billing_watermarks",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("billed_through", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_billing_watermarks_billed_through", "billing_watermarks", ["billed_through"])
    op.execute(
        "INSERT INTO billing_watermarks (account_id, billed_through, version) "
        "SELECT account_id, NULL, 0 FROM billing_accounts"
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_billing_watermarks_billed_through", table_name="billing_watermarks")
    op.drop_table("billing_watermarks")
