"""Named-user pools, their assignments and their seat transfers on the service's database."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest, paginate
from provisioning.domain.named_users import NamedUserPool, SeatTransfer
from provisioning.handlers.records import NamedUserAssignment, StoredPool
from provisioning.handlers.unit_of_work import NamedUserRepository
from provisioning.models import NamedUserAssignmentRow, NamedUserPoolRow, NamedUserTransferRow
from provisioning.repository.common import children, get_row, rows_page, upsert, with_data


def _pool_from_rows(
    row: NamedUserPoolRow,
    assignments: Sequence[NamedUserAssignmentRow],
    transfers: Sequence[NamedUserTransferRow],
) -> StoredPool:
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


class SqlNamedUserRepository(NamedUserRepository):
    """Pools, assignments and transfers in the service's database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    async def _with_users(self, rows: Sequence[NamedUserPoolRow]) -> list[StoredPool]:
        ids = [r.id for r in rows]
        assignments = await children(
            self.session, NamedUserAssignmentRow, NamedUserAssignmentRow.pool_id, ids
        )
        transfers = await children(
            self.session,
            NamedUserTransferRow,
            NamedUserTransferRow.pool_id,
            ids,
            NamedUserTransferRow.sequence,
        )
        return [_pool_from_rows(row, assignments[row.id], transfers[row.id]) for row in rows]

    async def get(self, pool_id: str, *, for_update: bool = False) -> StoredPool:
        """The pool with its assignments and transfers, or NotFound."""
        row = await get_row(self.session, NamedUserPoolRow, "named-user pool", pool_id, for_update=for_update)
        return (await self._with_users([row]))[0]

    async def page(self, page: PageRequest, *, account_id: str | None) -> Page[StoredPool]:
        """A page of pools by id, with their assignments and transfers (three queries per page)."""
        rows = await rows_page(self.session, NamedUserPoolRow, page, account_id=account_id)
        return with_data(rows, await self._with_users(rows.data))

    async def assignments_page(self, pool_id: str, page: PageRequest) -> Page[NamedUserAssignment]:
        """A page of a pool's named users, by user id."""
        stmt = select(NamedUserAssignmentRow).where(NamedUserAssignmentRow.pool_id == pool_id)
        return await paginate(
            self.session,
            stmt,
            NamedUserAssignmentRow.user_id,
            page,
            lambda r: NamedUserAssignment(r.pool_id, r.user_id, frozenset(json.loads(r.programs))),
        )

    async def save(self, stored: StoredPool, *, changed_users: set[str] | None = None) -> None:
        """Stage a pool; rewrites the assignments of `changed_users` (all when None)."""
        pool = stored.pool
        stored.created_at = stored.created_at or utcnow()
        await upsert(
            self.session,
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
        await self.session.flush()
        users = set(pool.assignments) if changed_users is None else changed_users
        for user in users:
            programs = pool.assignments.get(user)
            if programs is None:
                await self.session.exec(
                    delete(NamedUserAssignmentRow).where(
                        col(NamedUserAssignmentRow.pool_id) == pool.id,
                        col(NamedUserAssignmentRow.user_id) == user,
                    )
                )
            else:
                await upsert(
                    self.session,
                    NamedUserAssignmentRow,
                    (pool.id, user),
                    {"pool_id": pool.id, "user_id": user, "programs": json.dumps(sorted(programs))},
                )
        for sequence, transfer in enumerate(
            pool.transfers[stored.transfers_saved :], start=stored.transfers_saved + 1
        ):
            self.session.add(
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
        self._staged(stored)
