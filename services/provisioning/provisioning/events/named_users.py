"""Named-user pool events → `libs.contracts.provisioning` payloads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from libs.contracts import provisioning as wire
from libs.contracts.envelope import EventPayload
from libs.platform.money import percent_out
from provisioning.domain import named_users as nu
from provisioning.events.common import Outgoing, taken
from provisioning.handlers.records import StoredPool


def contracts_of(stored: StoredPool) -> list[Outgoing]:
    """The contracts of what a pool recorded, keyed by its account."""
    pool = stored.pool
    return [(payload, pool.account_id) for payload in pool_payloads(pool, taken(pool))]


def pool_payloads(pool: nu.NamedUserPool, events: Iterable[object]) -> Iterator[EventPayload]:
    """The wire events of a named-user pool's recorded events."""
    for event in events:
        if isinstance(event, nu.NamedUserPoolCreated):
            yield wire.NamedUserPoolCreated(
                pool_id=pool.id,
                account_id=pool.account_id,
                subscription_id=pool.subscription_id,
                size=pool.size,
                programs_per_user=pool.programs_per_user,
                contract_programs=sorted(pool.contract_programs),
                contract_start=pool.contract_start,
                transfer_percent=percent_out(pool.transfer_percent),
                transfers_per_year=pool.transfers_per_year,
            )
        elif isinstance(event, nu.NamedUserAssigned):
            yield wire.NamedUserAssigned(
                pool_id=event.pool_id,
                account_id=pool.account_id,
                user_id=event.user_id,
                programs=sorted(event.programs),
                seats_used=event.seats_used,
                seats_available=pool.size - event.seats_used,
            )
        elif isinstance(event, nu.NamedUserTransferred):
            yield wire.NamedUserTransferred(
                pool_id=event.pool_id,
                account_id=pool.account_id,
                from_user=event.from_user,
                to_user=event.to_user,
                programs=sorted(event.programs),
                on_date=event.on_date,
                contract_year=event.contract_year,
                transfers_remaining=event.transfers_remaining,
            )
