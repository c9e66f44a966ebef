"""Early-cancellation fees: the fee price agreed on an order line and kept on its subscription,
and the fee charged when the subscription was cancelled before its term end.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("termination_fee_price_id", sa.String(60), nullable=True))
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("termination_fee_price_id", sa.String(60), nullable=True))
        batch_op.add_column(sa.Column("termination_fee_price_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("termination_fee_amount", ExactDecimal(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("termination_fee_amount")
        batch_op.drop_column("termination_fee_price_version")
        batch_op.drop_column("termination_fee_price_id")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("termination_fee_price_id")
