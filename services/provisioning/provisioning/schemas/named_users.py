"""Named-user pools, assignments and transfers: what the API accepts and shows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from libs.contracts.types import (
    IntegerRange,
    Percent,
)
from libs.platform.db import utcnow
from libs.platform.money import percent_out
from provisioning.domain.named_users import NamedUserPool
from provisioning.handlers.records import StoredPool
from provisioning.schemas.common import Command, Day, ProgramName, RefId, UserId


class PoolCreate(Command):
    """A named-user pool for an account's contract."""

    account_id: RefId
    size: Annotated[int, IntegerRange(1, 10_000_000)]
    programs_per_user: Annotated[int, IntegerRange(1, 1000)]
    contract_programs: list[ProgramName] = Field(min_length=1, max_length=1000)
    contract_start: Day
    transfer_percent: Percent = Decimal(10)
    subscription_id: RefId | None = None


class AssignmentCreate(Command):
    """Give a user access to programs."""

    user_id: UserId
    programs: list[ProgramName] = Field(min_length=1, max_length=100)


class TransferCreate(Command):
    """Move a seat to another person."""

    from_user: UserId
    to_user: UserId
    on_date: Day


class PoolPublic(BaseModel):
    """A named-user pool and how much of it is used."""

    id: str
    account_id: str
    subscription_id: str | None
    size: int
    programs_per_user: int
    contract_programs: list[str]
    contract_start: date
    transfer_percent: Percent
    seats_used: int
    seats_available: int
    transfers_per_year: int
    created_at: datetime


class AssignmentPublic(BaseModel):
    """A named user and their programs."""

    pool_id: str
    user_id: str
    programs: list[str]


class TransferPublic(BaseModel):
    """A seat transfer."""

    pool_id: str
    from_user: str
    to_user: str
    on_date: date
    contract_year: int
    transfers_remaining: int


def pool_public(stored: StoredPool) -> PoolPublic:
    """A named-user pool as shown."""
    p: NamedUserPool = stored.pool
    return PoolPublic(
        id=p.id,
        account_id=p.account_id,
        subscription_id=p.subscription_id,
        size=p.size,
        programs_per_user=p.programs_per_user,
        contract_programs=sorted(p.contract_programs),
        contract_start=p.contract_start,
        transfer_percent=percent_out(p.transfer_percent),
        seats_used=p.seats_used,
        seats_available=p.seats_available,
        transfers_per_year=p.transfers_per_year,
        created_at=stored.created_at or utcnow(),
    )
