"""Read-model generation: a counter every change of rating's accounts or subscriptions bumps (issue 8).

Usage ingestion keeps the accounts and subscriptions it guides events with in memory, per
generation (`rating.handlers.usage_guides`): a batch reads this one row, and when the counter
is the one its memory was loaded at, it guides without reading the read model again. Triggers
bump it on any INSERT, UPDATE or DELETE of `rating_accounts` or `rating_subscriptions` (and a
TRUNCATE on PostgreSQL), whoever writes — the read-model consumer, a migration, an operator.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("rating_accounts", "rating_subscriptions")
_BUMP = "UPDATE rating_read_model_generation SET generation = generation + 1"


def upgrade() -> None:
    op.create_table(
        "rating_read_model_generation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO rating_read_model_generation (id, generation) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION rating_bump_read_model_generation() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {_BUMP}; RETURN NULL; END $$"
        )
        for table in _TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION rating_bump_read_model_generation()"
            )
        return
    for table in _TABLES:
        for change in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_generation_{change.lower()} AFTER {change} ON {table}"
                f" BEGIN {_BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_generation ON {table}")
        op.execute("DROP FUNCTION IF EXISTS rating_bump_read_model_generation()")
    else:
        for table in _TABLES:
            for change in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_generation_{change}")
    op.drop_table("rating_read_model_generation")
