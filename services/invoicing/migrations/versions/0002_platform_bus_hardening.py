"""Platform tables, second revision: dead letters that can be retried and replayed, outbox rows
the broker refused for good, idempotency keys that expire and replay headers (issue 6).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

from libs.platform.migrations import downgrade_platform_tables_v2, upgrade_platform_tables_v2

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_platform_tables_v2(op)


def downgrade() -> None:
    downgrade_platform_tables_v2(op)
