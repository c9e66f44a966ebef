"""The operator's command: `python -m libs.platform.cli dead-letters list|replay SERVICE`, run
against a real service's database and through its own consumer handlers."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from libs.contracts.collections import SuspendRequested
from libs.platform.cli import main, migrate
from libs.platform.db import Database, utcnow
from libs.platform.dead_letters import DeadLetter
from libs.platform.inbox import InboxEntry
from libs.platform.outbox import build_envelope
from tests.conftest import run_sync

GROUP = "provisioning.collections"


def _report(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The command's own lines (log lines may share the captured streams in-process)."""
    captured = capsys.readouterr().out
    return [line for line in captured.splitlines() if line.startswith(("dead letter", "provisioning:"))]


async def _park(url: str, body: str, event_id: str) -> None:
    db = Database(url)
    try:
        async with db.session() as session:
            session.add(
                DeadLetter(
                    consumer_group=GROUP,
                    topic="invoicing.events",
                    partition=1,
                    offset=17,
                    event_id=event_id,
                    event_type="collections.suspend_requested",
                    error="NotFound: account 'acct_gone' does not exist",
                    attempts=5,
                    body=body,
                    created_at=utcnow(),
                )
            )
            await session.commit()
    finally:
        await db.dispose()


async def _state(url: str, event_id: str) -> tuple[int, list[bool]]:
    db = Database(url)
    try:
        async with db.session() as session:
            inbox = (
                await session.exec(
                    select(InboxEntry).where(
                        col(InboxEntry.consumer_group) == GROUP, col(InboxEntry.event_id) == event_id
                    )
                )
            ).all()
            letters = (await session.exec(select(DeadLetter))).all()
        return len(inbox), [letter.replayed_at is not None for letter in letters]
    finally:
        await db.dispose()


def test_a_dead_letter_is_listed_and_replayed_once_by_the_command(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    migrate(["provisioning"])
    capsys.readouterr()
    envelope = build_envelope(
        SuspendRequested(account_id="acct_gone", reason="61 days past due", requested_at=utcnow()),
        producer="invoicing",
        key="acct_gone",
    )
    event_id = str(envelope.event_id)
    run_sync(_park(database_url, envelope.model_dump_json(), event_id))

    assert main(["dead-letters", "list", "provisioning"]) == 0
    listing = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("id ", "1 "))]
    assert listing[0].split()[:8] == ["id", "group", "topic", "event", "type", "event", "id", "attempts"]
    assert listing[1].split()[:6] == [
        "1",
        GROUP,
        "invoicing.events[1]@17",
        "collections.suspend_requested",
        event_id,
        "5",
    ]

    assert main(["dead-letters", "replay", "provisioning", "--all"]) == 0
    assert _report(capsys) == ["dead letter 1: replayed"]
    assert run_sync(_state(database_url, event_id)) == (1, [True])

    # Again: nothing changes.
    assert main(["dead-letters", "replay", "provisioning", "--all"]) == 0
    assert _report(capsys) == ["provisioning: nothing to replay"]
    assert main(["dead-letters", "replay", "provisioning", "--id", "1"]) == 0
    assert _report(capsys) == ["dead letter 1: already replayed, nothing done"]
    assert run_sync(_state(database_url, event_id)) == (1, [True])
    assert main(["dead-letters", "list", "provisioning", "--pending"]) == 0
    assert _report(capsys) == ["provisioning: no dead letters"]

    assert main(["dead-letters", "replay", "provisioning", "--id", "99"]) == 1
    assert _report(capsys) == ["dead letter 99: not found"]
