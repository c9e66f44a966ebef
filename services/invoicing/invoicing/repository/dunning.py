"""Dunning policies in SQL: `dunning_policies` rows (steps as JSON text) and `dunning_policy_assignments`."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.dunning import DunningAction, DunningPolicy, DunningStep
from invoicing.handlers.dunning_port import DunningPolicyRepository
from invoicing.models.collections import DunningAssignmentRow, DunningPolicyRow
from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest, paginate

Row = DunningPolicyRow
Assignment = DunningAssignmentRow


class SqlDunningPolicyRepository(DunningPolicyRepository):
    """Dunning policies over the invoicing database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, policy_id: str) -> DunningPolicy | None:
        """One policy, if it exists."""
        row = (await self.session.exec(select(Row).where(col(Row.id) == policy_id))).first()
        return None if row is None else _policy(row)

    async def add(self, policy: DunningPolicy) -> None:
        """Insert a new policy."""
        self.session.add(Row(**_values(policy), version=1))
        await self.session.flush()
        policy.version = 1

    async def save(self, policy: DunningPolicy) -> None:
        """Write a changed policy; a stale copy is a 409."""
        result: Any = await self.session.exec(
            update(Row)
            .where(col(Row.id) == policy.id, col(Row.version) == policy.version)
            .values(**_values(policy), version=policy.version + 1)
        )
        if result.rowcount != 1:
            raise Conflict(f"dunning policy {policy.id!r} changed meanwhile; read it and retry")
        policy.version += 1

    async def delete(self, policy: DunningPolicy) -> None:
        """Delete the row."""
        await self.session.exec(delete(Row).where(col(Row.id) == policy.id))

    async def page(self, page: PageRequest) -> Page[DunningPolicy]:
        """A page by id."""
        return await paginate(self.session, select(Row), Row.id, page, _policy)

    async def default(self) -> DunningPolicy | None:
        """The row marked default."""
        row = (await self.session.exec(select(Row).where(col(Row.is_default).is_(True)))).first()
        return None if row is None else _policy(row)

    async def make_default(self, policy: DunningPolicy) -> None:
        """Unmark the previous default, then mark this one (the partial unique index keeps one)."""
        await self.session.exec(
            update(Row)
            .where(col(Row.is_default).is_(True), col(Row.id) != policy.id)
            .values(is_default=False)
        )
        await self.session.flush()
        policy.is_default = True
        await self.save(policy)

    async def assigned(self, account_ids: Collection[str]) -> dict[str, str]:
        """One query for the page of accounts."""
        if not account_ids:
            return {}
        rows = await self.session.exec(
            select(Assignment.account_id, Assignment.policy_id).where(
                col(Assignment.account_id).in_(sorted(account_ids))
            )
        )
        return dict(rows.all())

    async def assign(self, account_id: str, policy_id: str, *, at: datetime) -> None:
        """Insert or replace the account's row."""
        await self.session.merge(Assignment(account_id=account_id, policy_id=policy_id, assigned_at=at))
        await self.session.flush()

    async def unassign(self, account_id: str) -> bool:
        """Delete the account's row."""
        result: Any = await self.session.exec(
            delete(Assignment).where(col(Assignment.account_id) == account_id)
        )
        return bool(result.rowcount)

    async def is_assigned(self, policy_id: str) -> bool:
        """Any account row naming the policy."""
        row = (
            await self.session.exec(
                select(Assignment.account_id).where(col(Assignment.policy_id) == policy_id)
            )
        ).first()
        return row is not None

    async def mark_in_use(self, policy_id: str) -> None:
        """Set `in_use` (once; later calls change nothing)."""
        await self.session.exec(
            update(Row).where(col(Row.id) == policy_id, col(Row.in_use).is_(False)).values(in_use=True)
        )


def steps_json(steps: tuple[DunningStep, ...]) -> str:
    """The steps as stored: money as strings."""
    return json.dumps(
        [
            {
                "days_past_due": step.days_past_due,
                "action": step.action.value,
                "min_amounts": {
                    currency: str(amount) for currency, amount in sorted(step.min_amounts.items())
                },
            }
            for step in steps
        ]
    )


def _steps(text: str) -> tuple[DunningStep, ...]:
    return tuple(
        DunningStep(
            days_past_due=int(item["days_past_due"]),
            action=DunningAction(item["action"]),
            min_amounts={currency: Decimal(amount) for currency, amount in item["min_amounts"].items()},
        )
        for item in json.loads(text)
    )


def _values(policy: DunningPolicy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "name": policy.name,
        "description": policy.description,
        "steps": steps_json(policy.steps),
        "is_default": policy.is_default,
        "in_use": policy.in_use,
        "created_at": policy.created_at,
        "updated_at": policy.updated_at,
    }


def _policy(row: Row) -> DunningPolicy:
    return DunningPolicy(
        id=row.id,
        name=row.name,
        description=row.description,
        steps=_steps(row.steps),
        is_default=row.is_default,
        in_use=row.in_use,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )
