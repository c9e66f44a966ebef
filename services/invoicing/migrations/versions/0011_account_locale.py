"""The locale of an account's billing profile (`account.opened` / `account.changed` `locale`): its
invoices and statements are written in it. Existing accounts read en_US.

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add `billing_accounts.locale` (en_US for the accounts already there)."""
    with op.batch_alter_table("billing_accounts") as batch:
        batch.add_column(sa.Column("locale", sa.String(16), nullable=False, server_default="en_US"))


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("billing_accounts") as batch:
        batch.drop_column("locale")
