"""Named-user pools, their assignments and their seat transfers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from libs.platform.ids import new_id
from provisioning.domain.named_users import NamedUserPool, SeatTransfer
from provisioning.models import (
    NamedUserAssignmentRow,
    NamedUserPoolRow,
    NamedUserTransferRow,
)
from provisioning.repository.common import _children, _row, _upsert


@dataclass
class StoredPool:
    """A named-user pool and how much of its history is already stored."""

    pool: NamedUserPool
    created_at: datetime | None = None
    transfers_saved: int = 0


async def get_pool(session: AsyncSession, pool_id: str, *, for_update: bool = False) -> StoredPool:
    """The pool with its assignments and transfers, or NotFound."""
    row = await _row(session, NamedUserPoolRow, "named-user pool", pool_id, for_update=for_update)
    assignments = await _children(session, NamedUserAssignmentRow, NamedUserAssignmentRow.pool_id, pool_id)
    transfers = await _children(
        session, NamedUserTransferRow, NamedUserTransferRow.pool_id, pool_id, NamedUserTransferRow.sequence
    )
    pool = NamedUserPool(
        id=row.id,
        account_id=row.account_id,
        size=row.size,
        programs_per_user=row.programs_per_user,
        contract_programs=frozenset(json.loads(row.contract_programs)),
        contract_start=row.contract_start,
        transfer_percent=row.transfer_percent,
        subscription_id=row.subscription_id,
        assignments={a.user_id: frozenset(json.loads(a.programs)) for a in assignments},
        transfers=[SeatTransfer(t.from_user, t.to_user, t.on_date, t.contract_year, t.by) for t in transfers],
    )
    return StoredPool(pool, row.created_at, len(transfers))


async def save_pool(
    session: AsyncSession, stored: StoredPool, *, changed_users: set[str] | None = None
) -> None:
    """Insert or update a pool; rewrites the assignments of `changed_users` (all when None)."""
    pool = stored.pool
    stored.created_at = stored.created_at or utcnow()
    await _upsert(
        session,
        NamedUserPoolRow,
        pool.id,
        {
            "id": pool.id,
            "account_id": pool.account_id,
            "subscription_id": pool.subscription_id,
            "size": pool.size,
            "programs_per_user": pool.programs_per_user,
            "contract_programs": json.dumps(sorted(pool.contract_programs)),
            "contract_start": pool.contract_start,
            "transfer_percent": pool.transfer_percent,
            "created_at": stored.created_at,
        },
    )
    await session.flush()
    users = set(pool.assignments) if changed_users is None else changed_users
    for user in users:
        programs = pool.assignments.get(user)
        if programs is None:
            await session.exec(
                delete(NamedUserAssignmentRow).where(
                    col(NamedUserAssignmentRow.pool_id) == pool.id,
                    col(NamedUserAssignmentRow.user_id) == user,
                )
            )
        else:
            await _upsert(
                session,
                NamedUserAssignmentRow,
                (pool.id, user),
                {"pool_id": pool.id, "user_id": user, "programs": json.dumps(sorted(programs))},
            )
    for sequence, transfer in enumerate(
        pool.transfers[stored.transfers_saved :], start=stored.transfers_saved + 1
    ):
        session.add(
            NamedUserTransferRow(
                id=new_id("xfer"),
                pool_id=pool.id,
                sequence=sequence,
                from_user=transfer.from_user,
                to_user=transfer.to_user,
                on_date=transfer.on_date,
                contract_year=transfer.contract_year,
                by=transfer.by[:80],
            )
        )
    stored.transfers_saved = len(pool.transfers)
