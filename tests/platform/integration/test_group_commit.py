"""The group commit on a real database (SQLite and PostgreSQL): concurrent appends written in
shared transactions, each answered only once its entry is committed; a failing group written
again one by one; duplicates inside one group; callers told when the writer stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy import CheckConstraint, Column, Integer, MetaData, String, Table, func, insert, select

from libs.platform.db import Database
from libs.platform.group_commit import GroupCommit, GroupCommitClosed

METADATA = MetaData()
RECEIPTS = Table(
    "gc_receipts",
    METADATA,
    Column("ref", String(40), primary_key=True),
    Column("amount", Integer, CheckConstraint("amount >= 0", name="ck_gc_receipts_amount"), nullable=False),
)


@dataclass(frozen=True)
class Receipt:
    """A caller's entry: a reference (unique) and a non-negative amount."""

    ref: str
    amount: int


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A database holding the receipts table."""
    database = Database(database_url)
    async with database.engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    yield database
    await database.dispose()


def writer_of(db: Database, transactions: list[int]) -> GroupCommit[Receipt, str]:
    """A group commit storing receipts: the first of a reference wins (in the group or before)."""

    async def write(entries: Sequence[Receipt]) -> list[str]:
        async with db.engine.begin() as conn:
            refs = {e.ref for e in entries}
            known = set(
                (await conn.execute(select(RECEIPTS.c.ref).where(RECEIPTS.c.ref.in_(refs)))).scalars()
            )
            outcomes, new = [], []
            for entry in entries:
                if entry.ref in known:
                    outcomes.append("duplicate")
                    continue
                known.add(entry.ref)
                new.append({"ref": entry.ref, "amount": entry.amount})
                outcomes.append("stored")
            if new:
                await conn.execute(insert(RECEIPTS), new)
        transactions.append(len(entries))
        return outcomes

    return GroupCommit("receipts", write)


async def stored_refs(db: Database) -> set[str]:
    """The references committed (read on a connection of its own)."""
    async with db.engine.connect() as conn:
        return set((await conn.execute(select(RECEIPTS.c.ref))).scalars())


async def test_concurrent_appends_share_transactions_and_each_is_answered_after_its_commit(
    db: Database,
) -> None:
    transactions: list[int] = []
    intake = writer_of(db, transactions)
    seen_committed: list[bool] = []

    async def append(i: int) -> str:
        outcome = await intake.append(Receipt(f"r-{i}", i))
        # Answered: the row must already be readable by anyone else.
        async with db.engine.connect() as conn:
            found = (await conn.execute(select(RECEIPTS.c.ref).where(RECEIPTS.c.ref == f"r-{i}"))).first()
        seen_committed.append(found is not None)
        return outcome

    outcomes = await asyncio.gather(*(append(i) for i in range(200)))
    await intake.close()

    assert outcomes == ["stored"] * 200
    assert all(seen_committed)
    assert await stored_refs(db) == {f"r-{i}" for i in range(200)}
    assert sum(transactions) == 200
    assert len(transactions) < 200 / 4, "concurrent appends were not grouped"
    assert intake.stats.entries == 200 and intake.stats.groups == len(transactions)


async def test_a_failing_entry_fails_alone_and_the_rest_of_its_group_is_stored(db: Database) -> None:
    transactions: list[int] = []
    intake = writer_of(db, transactions)
    entries = [Receipt(f"r-{i}", -1 if i == 7 else i) for i in range(20)]

    results = await asyncio.gather(*(intake.append(e) for e in entries), return_exceptions=True)
    await intake.close()

    failed = [i for i, r in enumerate(results) if isinstance(r, Exception)]
    assert failed == [7]
    assert [r for r in results if not isinstance(r, Exception)] == ["stored"] * 19
    assert await stored_refs(db) == {f"r-{i}" for i in range(20) if i != 7}
    assert intake.stats.failed_groups >= 1 and intake.stats.failed_entries == 1


async def test_the_same_reference_twice_in_one_group_is_stored_once(db: Database) -> None:
    transactions: list[int] = []
    intake = writer_of(db, transactions)
    entries = [Receipt("same", 1), Receipt("other", 2), Receipt("same", 3), Receipt("same", 4)]

    outcomes = await asyncio.gather(*(intake.append(e) for e in entries))
    again = await intake.append(Receipt("same", 5))
    await intake.close()

    assert transactions[0] == 4, "the four appends of one tick form one group"
    assert outcomes == ["stored", "stored", "duplicate", "duplicate"]
    assert again == "duplicate"
    async with db.engine.connect() as conn:
        amount = (await conn.execute(select(RECEIPTS.c.amount).where(RECEIPTS.c.ref == "same"))).scalar()
        count = (await conn.execute(select(func.count()).select_from(RECEIPTS))).scalar()
    assert (amount, count) == (1, 2)


async def test_a_writer_stopped_mid_write_acknowledges_nothing_it_did_not_commit(db: Database) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow_write(entries: Sequence[Receipt]) -> list[str]:
        async with db.engine.begin() as conn:
            await conn.execute(insert(RECEIPTS), [{"ref": e.ref, "amount": e.amount} for e in entries])
            started.set()
            await release.wait()  # the process "dies" here: the transaction never commits
        return ["stored"] * len(entries)

    intake: GroupCommit[Receipt, str] = GroupCommit("receipts", slow_write)
    calls = [asyncio.create_task(intake.append(Receipt(f"r-{i}", i))) for i in range(5)]
    await started.wait()
    assert intake._writer is not None
    intake._writer.cancel()
    results = await asyncio.gather(*calls, return_exceptions=True)

    assert all(isinstance(r, GroupCommitClosed) for r in results)
    assert await stored_refs(db) == set()
    await intake.close()
    with pytest.raises(GroupCommitClosed):
        await intake.append(Receipt("late", 1))


async def test_close_writes_what_is_queued_before_it_stops(db: Database) -> None:
    transactions: list[int] = []
    intake = writer_of(db, transactions)
    calls = [asyncio.create_task(intake.append(Receipt(f"r-{i}", i))) for i in range(30)]
    await asyncio.sleep(0)
    await intake.close()

    assert [await c for c in calls] == ["stored"] * 30
    assert len(await stored_refs(db)) == 30
