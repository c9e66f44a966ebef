"""Tax rates by jurisdiction and product tax code with effective dates (issue 9, tax).

Written in parallel with other invoicing revisions (0003, 0004): it revises 0002 here and is
rechained after the last of them when merged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal, UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tax_rates",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("region_key", sa.String(100), nullable=True),
        sa.Column("tax_code", sa.String(40), nullable=True),
        sa.Column("rate", ExactDecimal(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("effective_to", sa.Date, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_tax_rates_country_from", "tax_rates", ["country", "effective_from"])


def downgrade() -> None:
    op.drop_index("ix_tax_rates_country_from", table_name="tax_rates")
    op.drop_table("tax_rates")
