"""The overage charge key a billed customer line re-bills (`payables_billed_lines.rebill_key`), so
the margin report counts a re-bill in its notice's month (issue 11, margin per period).

Invoicing bills a re-bill as a one-time charge keyed `one_time:{our key}` with our key as the
line's source; lines kept before this revision are filled from their charge key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payables_billed_lines", sa.Column("rebill_key", sa.String(200), nullable=True))
    op.execute("UPDATE payables_billed_lines SET rebill_key = charge_key WHERE charge_key LIKE 'overage:%'")
    op.execute(
        "UPDATE payables_billed_lines SET rebill_key = substr(charge_key, 10)"
        " WHERE charge_key LIKE 'one_time:overage:%'"
    )
    op.create_index("ix_payables_billed_lines_rebill", "payables_billed_lines", ["rebill_key"])


def downgrade() -> None:
    op.drop_index("ix_payables_billed_lines_rebill", table_name="payables_billed_lines")
    with op.batch_alter_table("payables_billed_lines") as batch:
        batch.drop_column("rebill_key")
