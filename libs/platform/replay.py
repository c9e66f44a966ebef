"""Replaying dead letters through a consumer group's own handlers, each exactly once.

A parked event has no inbox row (`libs.platform.inbox`), so once its cause is fixed — the data
it needed arrived, a newer consumer was deployed, a bug was fixed — an operator replays it
(`python -m libs.platform.cli dead-letters replay SERVICE`). Each replay is one transaction:
the handler's effect, the event's inbox row and the dead letter's `replayed_at`. The dead
letter is kept, not deleted. An event applied meanwhile (republished and consumed) is only
marked replayed; one that fails again stays pending with its new error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlmodel import col

from libs.contracts.envelope import Envelope
from libs.platform.db import utcnow
from libs.platform.dead_letters import DeadLetter, list_dead_letters
from libs.platform.deliveries import MalformedMessage, describe, envelopes_of, version_problem
from libs.platform.inbox import IdempotentConsumer, InboxEntry
from libs.platform.logging import get_logger

log = get_logger("replay")


@dataclass
class ReplayOutcome:
    """What a replay of dead letters did, by dead-letter id."""

    replayed: list[int] = field(default_factory=list)
    already_replayed: list[int] = field(default_factory=list)
    already_applied: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


async def replay_dead_letters(
    consumer: IdempotentConsumer, ids: Sequence[int] | None = None
) -> ReplayOutcome:
    """Apply the group's parked events again — every pending one, or those `ids` — each once."""
    outcome = ReplayOutcome()
    letters = await list_dead_letters(consumer.db, group=consumer.group_id, ids=ids, pending_only=ids is None)
    for letter in letters:
        assert letter.id is not None
        if letter.replayed_at is not None:
            outcome.already_replayed.append(letter.id)
            continue
        try:
            (envelope,) = envelopes_of(letter.body.encode())  # a dead letter holds one event
        except (MalformedMessage, ValueError) as exc:
            outcome.failed[letter.id] = str(exc)
            continue
        too_new = version_problem(envelope) if envelope.type in consumer.handlers else None
        if too_new is not None:
            outcome.failed[letter.id] = too_new
            continue
        await _replay_one(consumer, letter.id, envelope, outcome)
    return outcome


async def _replay_one(
    consumer: IdempotentConsumer, letter_id: int, envelope: Envelope, outcome: ReplayOutcome
) -> None:
    event_id = str(envelope.event_id)
    handler = consumer.handlers.get(envelope.type)
    this_letter = update(DeadLetter).where(col(DeadLetter.id) == letter_id)
    async with consumer.db.session() as session:
        done = await session.get(InboxEntry, (consumer.group_id, event_id))
        if done is None and handler is not None:
            failure = await consumer.apply_isolated(session, handler, envelope)
            if failure is not None:
                error = describe(failure)
                await session.exec(this_letter.values(error=error, attempts=col(DeadLetter.attempts) + 1))
                await session.commit()
                outcome.failed[letter_id] = error
                return
        if done is None:
            session.add(
                InboxEntry(
                    consumer_group=consumer.group_id,
                    event_id=event_id,
                    event_type=envelope.type,
                    processed_at=utcnow(),
                )
            )
        await session.exec(this_letter.values(replayed_at=utcnow()))
        # The inbox's primary key refuses a second application by a concurrent replay or consumer.
        await session.commit()
    if done is None:
        outcome.replayed.append(letter_id)
        consumer.applied_total += 1
    else:
        outcome.already_applied.append(letter_id)
    log.info(
        "consumer.dead_letter_replayed", group=consumer.group_id, dead_letter=letter_id, event_id=event_id
    )
