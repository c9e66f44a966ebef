"""Usage: why an unmatched event found no subscription (issue 8).

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0005"  # re-chained in r-bench's local merge (r-rating's 0005 first)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both backends: a batch copy of the table on SQLite is not needed.
    op.add_column("usage_events", sa.Column("review_reason", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_events") as batch:
        batch.drop_column("review_reason")
