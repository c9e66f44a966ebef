"""Usage-aggregate generation on SQLite: a usage batch's own aggregate writes no longer fire
migration 0011's row triggers (issue 8).

SQLite has row triggers only: a batch writing 6,300 aggregate rows ran 6,300 updates of the
generation row (~10,000 instructions each), only to stamp its own token over them at the end.
The triggers now skip while the generation is negative. A usage batch makes it negative right
before its aggregate writes and positive again (one higher than before) right after, in the
same statements' method and transaction (`rating.repository.usage`, `write_aggregates`): no
other writer ever sees a negative generation (SQLite has one writer at a time, and a rollback
takes the mark back), so any other change of `usage_aggregates` — the period close, an
operator, another rating process's batch — still bumps it, row by row, as before.

PostgreSQL keeps its statement triggers (one bump a statement already).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BUMP = "UPDATE rating_usage_generation SET generation = generation + 1"
_CHANGES = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for change in _CHANGES:
        name = f"usage_aggregates_generation_{change.lower()}"
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(
            f"CREATE TRIGGER {name} AFTER {change} ON usage_aggregates"
            " WHEN (SELECT generation FROM rating_usage_generation) >= 0"
            f" BEGIN {_BUMP}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for change in _CHANGES:
        name = f"usage_aggregates_generation_{change.lower()}"
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"CREATE TRIGGER {name} AFTER {change} ON usage_aggregates BEGIN {_BUMP}; END")
