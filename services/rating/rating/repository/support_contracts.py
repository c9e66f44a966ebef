"""Support contracts in SQL: `support_contract_templates` and `support_contracts` rows <-> domain
objects, and the holders they belong to read from the read model (`rating_subscriptions`,
`rating_accounts`).

A contract loaded twice in one unit of work is one object (so hours drawn are never lost to a
second copy); each save bumps its `version` and a write made on a stale copy is a 409.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, false, insert, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.vocabulary import ContractKind, ExpiryOption
from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest, paginate
from rating.domain.support_contracts import (
    ContractState,
    HolderType,
    SupportContract,
    SupportContractTemplate,
)
from rating.handlers.support_contracts import SupportContractFilters, SupportContractRepository
from rating.models import SupportContractRow, SupportContractTemplateRow

Row = SupportContractRow


class SqlSupportContractRepository(SupportContractRepository):
    """Contracts and templates over the rating database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: dict[str, SupportContract] = {}

    # --- templates ------------------------------------------------------------------------

    async def template(self, template_id: str) -> SupportContractTemplate | None:
        """The local copy of a catalog template, if any."""
        row = await self.session.get(SupportContractTemplateRow, template_id)
        return None if row is None else _template(row)

    async def per_incident_templates(self) -> list[SupportContractTemplate]:
        """Every per-incident template, by id."""
        stmt = (
            select(SupportContractTemplateRow)
            .where(col(SupportContractTemplateRow.kind) == ContractKind.PER_INCIDENT.value)
            .order_by(col(SupportContractTemplateRow.template_id))
        )
        return [_template(row) for row in (await self.session.exec(stmt)).all()]

    async def save_template(self, template: SupportContractTemplate) -> None:
        """Insert or replace a template."""
        values: dict[str, Any] = {
            "name": template.name,
            "kind": template.kind.value,
            "period_months": template.period_months,
            "hours": template.hours,
            "on_expiry": template.on_expiry.value,
            "product_id": template.product_id,
            "event_at": template.event_at,
        }
        row = await self.session.get(SupportContractTemplateRow, template.id)
        if row is None:
            self.session.add(SupportContractTemplateRow(template_id=template.id, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
        await self.session.flush()

    # --- contracts ------------------------------------------------------------------------

    async def find(self, contract_id: str) -> SupportContract | None:
        """One contract, if it exists."""
        if contract_id in self.seen:
            return self.seen[contract_id]
        rows = await self._rows(col(Row.id) == contract_id)
        return rows[0] if rows else None

    async def held_by(self, subscription_id: str, account_ids: Iterable[str]) -> list[SupportContract]:
        """Contracts of the subscription or the accounts, not cancelled, not per-incident (one query)."""
        holder = or_(
            and_(
                col(Row.holder_type) == HolderType.SUBSCRIPTION.value, col(Row.holder_id) == subscription_id
            ),
            and_(col(Row.holder_type) == HolderType.ACCOUNT.value, col(Row.holder_id).in_(list(account_ids))),
        )
        return await self._rows(holder, col(Row.cancelled_at).is_(None), col(Row.request_id).is_(None))

    async def time_zones(self, filters: SupportContractFilters) -> list[str]:
        """The distinct time zones of the contracts matching the holder filters."""
        stmt = select(Row.time_zone).where(*_holder_filters(filters)).distinct()
        return sorted(str(zone) for zone in (await self.session.exec(stmt)).all())

    async def page(
        self, filters: SupportContractFilters, page: PageRequest, *, today: dict[str, date]
    ) -> Page[SupportContract]:
        """A page of contracts ordered by id; a state filter reads each contract on `today[its zone]`."""
        where = _holder_filters(filters)
        if filters.state is not None:
            where.append(_in_state(filters.state, today))
        stmt = select(Row).where(*where)
        return await paginate(self.session, stmt, Row.id, page, self._load)

    async def save(self, contract: SupportContract) -> None:
        """Insert a new contract or write a changed one (a concurrent change to it is a 409)."""
        values = _row_values(contract)
        if contract.version == 0:
            await self.session.exec(insert(Row).values(**values, version=1))
        else:
            result: Any = await self.session.exec(
                update(Row)
                .where(col(Row.id) == contract.id, col(Row.version) == contract.version)
                .values(**values, version=contract.version + 1)
            )
            if result.rowcount != 1:
                raise Conflict(f"support contract {contract.id!r} changed meanwhile; read it and retry")
        contract.version += 1
        self.seen[contract.id] = contract

    async def _rows(self, *where: ColumnElement[bool]) -> list[SupportContract]:
        rows = (await self.session.exec(select(Row).where(*where).order_by(col(Row.id)))).all()
        return [self._load(row) for row in rows]

    def _load(self, row: Row) -> SupportContract:
        known = self.seen.get(row.id)
        if known is not None:
            return known
        contract = SupportContract(
            id=row.id,
            template_id=row.template_id,
            kind=ContractKind(row.kind),
            holder_type=HolderType(row.holder_type),
            holder_id=row.holder_id,
            account_id=row.account_id,
            time_zone=row.time_zone,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            hours_granted=row.hours_granted,
            hours_used=row.hours_used,
            on_expiry=ExpiryOption(row.on_expiry),
            product_id=row.product_id,
            request_id=row.request_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            ended_at=row.ended_at,
            cancelled_at=row.cancelled_at,
            version=row.version,
        )
        self.seen[row.id] = contract
        return contract


def _template(row: SupportContractTemplateRow) -> SupportContractTemplate:
    return SupportContractTemplate(
        id=row.template_id,
        name=row.name,
        kind=ContractKind(row.kind),
        period_months=row.period_months,
        hours=row.hours,
        on_expiry=ExpiryOption(row.on_expiry),
        product_id=row.product_id,
        event_at=row.event_at,
    )


def _row_values(contract: SupportContract) -> dict[str, Any]:
    return {
        "id": contract.id,
        "template_id": contract.template_id,
        "kind": contract.kind.value,
        "holder_type": contract.holder_type.value,
        "holder_id": contract.holder_id,
        "account_id": contract.account_id,
        "request_id": contract.request_id,
        "product_id": contract.product_id,
        "time_zone": contract.time_zone,
        "starts_on": contract.starts_on,
        "ends_on": contract.ends_on,
        "hours_granted": contract.hours_granted,
        "hours_used": contract.hours_used,
        "on_expiry": contract.on_expiry.value,
        "ended_at": contract.ended_at,
        "cancelled_at": contract.cancelled_at,
        "created_at": contract.created_at,
        "updated_at": contract.updated_at,
    }


def _holder_filters(filters: SupportContractFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.holder_type is not None:
        where.append(col(Row.holder_type) == filters.holder_type.value)
    if filters.holder_id is not None:
        where.append(col(Row.holder_id) == filters.holder_id)
    return where


def _in_state(state: ContractState, today: dict[str, date]) -> ColumnElement[bool]:
    # The SQL form of SupportContract.state_on, each contract read on the local date of its zone.
    if state is ContractState.CANCELLED:
        return col(Row.cancelled_at).is_not(None)
    live = and_(col(Row.cancelled_at).is_(None), col(Row.ended_at).is_(None))

    def per_zone(condition: Any) -> ColumnElement[bool]:
        return or_(
            false(), *(and_(col(Row.time_zone) == zone, condition(day)) for zone, day in today.items())
        )

    def period_over(day: date) -> ColumnElement[bool]:
        return and_(col(Row.ends_on).is_not(None), col(Row.ends_on) <= day)

    if state is ContractState.EXPIRED:
        return and_(
            col(Row.cancelled_at).is_(None), or_(col(Row.ended_at).is_not(None), per_zone(period_over))
        )
    if state is ContractState.PENDING:
        return and_(live, per_zone(lambda day: col(Row.starts_on) > day))
    return and_(
        live,
        per_zone(
            lambda day: and_(
                col(Row.starts_on) <= day, or_(col(Row.ends_on).is_(None), col(Row.ends_on) > day)
            )
        ),
    )
