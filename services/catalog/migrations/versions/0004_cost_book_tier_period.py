"""Cost books state the period their tiers are priced for (issue 7 item 7, DESIGN §7 "Periods of
prices"): `cost_book_versions.tier_period`, monthly, quarterly or annual. Every existing book
is a vendor's list per unit per month, so existing rows become monthly.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode so that SQLite (which cannot alter a column in place) gets the same table.
    with op.batch_alter_table("cost_book_versions") as batch:
        batch.add_column(
            sa.Column("tier_period", sa.String(length=20), nullable=False, server_default="monthly")
        )


def downgrade() -> None:
    with op.batch_alter_table("cost_book_versions") as batch:
        batch.drop_column("tier_period")
