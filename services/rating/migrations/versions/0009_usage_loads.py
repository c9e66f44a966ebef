"""Usage loads: mediation files and the rejected rows kept for each (issue 8).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import UtcDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = ("bytes_done", "lines_done", "rows_read", "accepted", "counted", "late", "unmatched", "filtered")


def upgrade() -> None:
    op.create_table(
        "usage_loads",
        sa.Column("load_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("same_content_as", sa.String(40), nullable=True),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("failure_reason", sa.String(500), nullable=True),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in _COUNTS),
        sa.Column("duplicates", sa.BigInteger, nullable=False),
        sa.Column("rejected", sa.BigInteger, nullable=False),
        sa.Column("rejections_kept", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_usage_loads_state", "usage_loads", ["state"])
    op.create_index("ix_usage_loads_sha256", "usage_loads", ["sha256"])
    op.create_table(
        "usage_load_rejections",
        sa.Column("load_id", sa.String(40), primary_key=True),
        sa.Column("line", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(128), nullable=True),
        sa.Column("errors", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("usage_load_rejections")
    op.drop_index("ix_usage_loads_sha256", table_name="usage_loads")
    op.drop_index("ix_usage_loads_state", table_name="usage_loads")
    op.drop_table("usage_loads")
