"""Order lines carry the terms of the subscription they create: renewal policy and commitment.

Null columns mean the default terms (expire; the whole quantity of a committed license), so
lines drafted before this revision keep their meaning.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renewal_kind", sa.String(20), nullable=True))
        batch_op.add_column(sa.Column("renewal_months", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("commitment_quantity", ExactDecimal(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("commitment_quantity")
        batch_op.drop_column("renewal_months")
        batch_op.drop_column("renewal_kind")
