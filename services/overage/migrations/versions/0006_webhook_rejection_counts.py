"""Refused webhook calls counted, not stored one by one (issue 11): identical refusals within the
window are counted on one record (`count`, `last_seen_at`; `received_at` is when the first came).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "overage_webhook_rejections"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("count", sa.Integer, nullable=False, server_default="1"))
    op.add_column(TABLE, sa.Column("last_seen_at", UtcDateTime(), nullable=True))
    op.create_index(
        "ix_overage_webhook_rejections_same", TABLE, ["vendor", "reason", "body_sha256", "received_at"]
    )
    op.create_index("ix_overage_webhook_rejections_reason", TABLE, ["reason", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_overage_webhook_rejections_reason", table_name=TABLE)
    op.drop_index("ix_overage_webhook_rejections_same", table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("last_seen_at")
        batch.drop_column("count")
