"""Usage-aggregate generation: a stamp any change of `usage_aggregates` moves (issue 8).

Usage ingestion keeps the aggregates it wrote in memory (`rating.handlers.usage_aggregates`)
instead of reading 10,000 rows a batch. Its memory holds while nobody else changed the table:
each batch that writes aggregates sets this row to a random token of its own, in the same
transaction, and a later batch whose token is still there knows that no other writer (another
rating process, the period close, an operator, a batch that rolled back) has touched the table
since. Triggers bump the row on any INSERT, UPDATE or DELETE of `usage_aggregates` (and a
TRUNCATE on PostgreSQL), whoever writes, so a writer that does not stamp a token of its own
still spoils every process's memory.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BUMP = "UPDATE rating_usage_generation SET generation = generation + 1"


def upgrade() -> None:
    op.create_table(
        "rating_usage_generation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO rating_usage_generation (id, generation) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION rating_bump_usage_generation() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {_BUMP}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER usage_aggregates_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            " ON usage_aggregates FOR EACH STATEMENT EXECUTE FUNCTION rating_bump_usage_generation()"
        )
        return
    # SQLite has row triggers only: one small update per changed row.
    for change in ("INSERT", "UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER usage_aggregates_generation_{change.lower()} AFTER {change} ON usage_aggregates"
            f" BEGIN {_BUMP}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS usage_aggregates_generation ON usage_aggregates")
        op.execute("DROP FUNCTION IF EXISTS rating_bump_usage_generation()")
    else:
        for change in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS usage_aggregates_generation_{change}")
    op.drop_table("rating_usage_generation")
