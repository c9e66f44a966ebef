"""Use cases of named-user pools: create, assign programs, transfer seats."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.errors import ValidationFailed
from libs.platform.pagination import Page, PageRequest, paginate
from libs.platform.unit_of_work import UnitOfWork
from provisioning import repository as repo
from provisioning.domain.named_users import NamedUserPool
from provisioning.events.named_users import pool_payloads
from provisioning.handlers.common import commit_change, filtered, page_of_aggregates
from provisioning.models import (
    NamedUserAssignmentRow,
    NamedUserPoolRow,
)
from provisioning.repository.named_users import StoredPool
from provisioning.schemas.named_users import (
    AssignmentCreate,
    AssignmentPublic,
    PoolCreate,
    PoolPublic,
    TransferCreate,
    TransferPublic,
    pool_public,
)


async def create_pool(*, uow: UnitOfWork, command: PoolCreate, actor: str) -> PoolPublic:
    """A named-user pool for an account."""
    await repo.get_account(uow.session, command.account_id)
    if command.subscription_id is not None:
        sub = await repo.get_subscription(uow.session, command.subscription_id)
        if sub.subscription.account_id != command.account_id:
            raise ValidationFailed.single("subscription_id", "is not a subscription of this account")
    pool = NamedUserPool.create(
        account_id=command.account_id,
        size=command.size,
        programs_per_user=command.programs_per_user,
        contract_programs=command.contract_programs,
        contract_start=command.contract_start,
        transfer_percent=command.transfer_percent,
        subscription_id=command.subscription_id,
    )
    stored = StoredPool(pool)
    await repo.save_pool(uow.session, stored)
    await commit_change(
        uow,
        "named_user_pool.created",
        ("named_user_pool", pool.id),
        command.model_dump(mode="json"),
        pool_payloads(pool),
        pool.account_id,
    )
    return pool_public(stored)


async def assign_named_user(
    *, uow: UnitOfWork, pool_id: str, command: AssignmentCreate, actor: str
) -> AssignmentPublic:
    """Give a user programs: refused over the pool size or the per-user program limit."""
    stored = await repo.get_pool(uow.session, pool_id, for_update=True)
    stored.pool.assign(command.user_id, command.programs, by=actor)
    await repo.save_pool(uow.session, stored, changed_users={command.user_id})
    await commit_change(
        uow,
        "named_user.assigned",
        ("named_user_pool", pool_id),
        command.model_dump(mode="json"),
        pool_payloads(stored.pool),
        stored.pool.account_id,
    )
    return AssignmentPublic(
        pool_id=pool_id, user_id=command.user_id, programs=sorted(stored.pool.programs_of(command.user_id))
    )


async def transfer_named_user(
    *, uow: UnitOfWork, pool_id: str, command: TransferCreate, actor: str
) -> TransferPublic:
    """Move a seat to another person, within the contract year's allowance."""
    stored = await repo.get_pool(uow.session, pool_id, for_update=True)
    pool = stored.pool
    pool.transfer(command.from_user, command.to_user, on_date=command.on_date, by=actor)
    await repo.save_pool(uow.session, stored, changed_users={command.from_user, command.to_user})
    await commit_change(
        uow,
        "named_user.transferred",
        ("named_user_pool", pool_id),
        command.model_dump(mode="json"),
        pool_payloads(pool),
        pool.account_id,
    )
    transfer = pool.transfers[-1]
    return TransferPublic(
        pool_id=pool_id,
        from_user=transfer.from_user,
        to_user=transfer.to_user,
        on_date=transfer.on_date,
        contract_year=transfer.contract_year,
        transfers_remaining=pool.transfers_remaining(command.on_date),
    )


async def get_pool(*, session: AsyncSession, pool_id: str) -> PoolPublic:
    """One pool with its usage."""
    return pool_public(await repo.get_pool(session, pool_id))


async def list_pools(*, session: AsyncSession, page: PageRequest, account_id: str | None) -> Page[Any]:
    """A page of pools."""
    stmt = filtered(NamedUserPoolRow, account_id=account_id)
    return await page_of_aggregates(
        session, stmt, NamedUserPoolRow.id, page, lambda i: get_pool(session=session, pool_id=i)
    )


async def list_assignments(*, session: AsyncSession, pool_id: str, page: PageRequest) -> Page[Any]:
    """A page of a pool's named users, by user id."""
    await repo.get_pool(session, pool_id)
    stmt = select(NamedUserAssignmentRow).where(NamedUserAssignmentRow.pool_id == pool_id)
    return await paginate(
        session,
        stmt,
        NamedUserAssignmentRow.user_id,
        page,
        lambda r: AssignmentPublic(
            pool_id=r.pool_id, user_id=r.user_id, programs=sorted(json.loads(r.programs))
        ),
    )
