"""Use cases of named-user pools: create, assign programs, transfer seats."""

from __future__ import annotations

from libs.platform.errors import ValidationFailed
from libs.platform.pagination import Page, PageRequest
from provisioning.domain.named_users import NamedUserPool
from provisioning.handlers.common import commit_change, public_page
from provisioning.handlers.records import StoredPool
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork
from provisioning.schemas.named_users import (
    AssignmentCreate,
    AssignmentPublic,
    PoolCreate,
    PoolPublic,
    TransferCreate,
    TransferPublic,
    pool_public,
)


async def create_pool(*, uow: ProvisioningUnitOfWork, command: PoolCreate, actor: str) -> PoolPublic:
    """A named-user pool for an account."""
    await uow.customers.get_account(command.account_id)
    if command.subscription_id is not None:
        sub = await uow.subscriptions.get(command.subscription_id)
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
    await uow.named_users.save(stored)
    await commit_change(
        uow,
        "named_user_pool.created",
        ("named_user_pool", pool.id),
        command.model_dump(mode="json"),
    )
    return pool_public(stored)


async def assign_named_user(
    *, uow: ProvisioningUnitOfWork, pool_id: str, command: AssignmentCreate, actor: str
) -> tuple[AssignmentPublic, bool]:
    """Give a user programs: refused over the pool size or the per-user program limit.

    Also tells whether anything changed: assigning programs the user already holds is a no-op
    (no event, no audit record).
    """
    stored = await uow.named_users.get(pool_id, for_update=True)
    changed = stored.pool.assign(command.user_id, command.programs, by=actor)
    assignment = AssignmentPublic(
        pool_id=pool_id, user_id=command.user_id, programs=sorted(stored.pool.programs_of(command.user_id))
    )
    if not changed:
        return assignment, False
    await uow.named_users.save(stored, changed_users={command.user_id})
    await commit_change(
        uow,
        "named_user.assigned",
        ("named_user_pool", pool_id),
        command.model_dump(mode="json"),
    )
    return assignment, True


async def transfer_named_user(
    *, uow: ProvisioningUnitOfWork, pool_id: str, command: TransferCreate, actor: str
) -> TransferPublic:
    """Move a seat to another person, within the contract year's allowance."""
    stored = await uow.named_users.get(pool_id, for_update=True)
    pool = stored.pool
    pool.transfer(command.from_user, command.to_user, on_date=command.on_date, by=actor)
    await uow.named_users.save(stored, changed_users={command.from_user, command.to_user})
    await commit_change(
        uow,
        "named_user.transferred",
        ("named_user_pool", pool_id),
        command.model_dump(mode="json"),
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


async def get_pool(*, uow: ProvisioningUnitOfWork, pool_id: str) -> PoolPublic:
    """One pool with its usage."""
    return pool_public(await uow.named_users.get(pool_id))


async def list_pools(
    *, uow: ProvisioningUnitOfWork, page: PageRequest, account_id: str | None
) -> Page[PoolPublic]:
    """A page of pools with their usage."""
    return public_page(await uow.named_users.page(page, account_id=account_id), pool_public)


async def list_assignments(
    *, uow: ProvisioningUnitOfWork, pool_id: str, page: PageRequest
) -> Page[AssignmentPublic]:
    """A page of a pool's named users, by user id."""
    await uow.named_users.get(pool_id)
    assignments = await uow.named_users.assignments_page(pool_id, page)
    return public_page(
        assignments,
        lambda a: AssignmentPublic(pool_id=a.pool_id, user_id=a.user_id, programs=sorted(a.programs)),
    )
