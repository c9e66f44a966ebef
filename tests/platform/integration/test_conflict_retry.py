"""A transaction PostgreSQL aborts for a concurrent one (a deadlock victim) is recognised and run
again by `retrying_conflicts`; other errors are not retried."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from libs.platform.db import Database, is_retryable_conflict, retrying_conflicts


async def _crossing_updates(db: Database) -> list[BaseException | None]:
    """Two transactions that update rows a and b in opposite orders: one is the deadlock victim."""
    both_hold_one = asyncio.Barrier(2)

    async def update(first: str, second: str) -> None:
        async with db.session() as session:
            await session.execute(text("UPDATE ledger SET n = n + 1 WHERE k = :k"), {"k": first})
            await both_hold_one.wait()
            await session.execute(text("UPDATE ledger SET n = n + 1 WHERE k = :k"), {"k": second})
            await session.commit()

    return list(await asyncio.gather(update("a", "b"), update("b", "a"), return_exceptions=True))


async def test_a_deadlock_victim_is_recognised_and_its_work_runs_again(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        async with db.session() as session:
            await session.execute(text("CREATE TABLE ledger (k text PRIMARY KEY, n int NOT NULL)"))
            await session.execute(text("INSERT INTO ledger VALUES ('a', 0), ('b', 0)"))
            await session.commit()

        outcomes = await _crossing_updates(db)
        (victim,) = [o for o in outcomes if o is not None]
        assert isinstance(victim, DBAPIError)
        assert is_retryable_conflict(victim)

        attempts = 0

        async def crossing_then_alone() -> int:
            nonlocal attempts
            attempts += 1
            if attempts == 1:
                raise victim
            return attempts

        assert await retrying_conflicts(crossing_then_alone, backoff_s=0.001) == 2
    finally:
        await db.dispose()


async def test_other_errors_are_not_run_again() -> None:
    attempts = 0

    async def failing() -> None:
        nonlocal attempts
        attempts += 1
        raise ValueError("not a conflict")

    with pytest.raises(ValueError):
        await retrying_conflicts(failing, backoff_s=0.001)
    assert attempts == 1
    assert not is_retryable_conflict(ValueError("x"))
