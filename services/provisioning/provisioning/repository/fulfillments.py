"""License fulfillments and their lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from provisioning.domain.fulfillments import Fulfillment, FulfillmentLine, FulfillmentStatus
from provisioning.domain.subscriptions import (
    LicenseType,
)
from provisioning.models import (
    FulfillmentLineRow,
    FulfillmentRow,
)
from provisioning.repository.common import _children, _row, _upsert


@dataclass
class StoredFulfillment:
    """A fulfillment and its timestamps."""

    fulfillment: Fulfillment
    created_at: datetime | None = None
    updated_at: datetime | None = None


async def _fulfillment_from_row(session: AsyncSession, row: FulfillmentRow) -> StoredFulfillment:
    lines = await _children(
        session, FulfillmentLineRow, FulfillmentLineRow.fulfillment_id, row.id, FulfillmentLineRow.position
    )
    fulfillment = Fulfillment(
        id=row.id,
        order_id=row.order_id,
        account_id=row.account_id,
        lines=[
            FulfillmentLine(
                order_line_id=line.order_line_id,
                product_id=line.product_id,
                license_type=LicenseType(line.license_type),
                quantity=line.quantity,
                unit_list_price=line.unit_list_price,
                discount_percent=line.discount_percent,
                currency=line.currency,
            )
            for line in lines
        ],
        associated_project_id=row.associated_project_id,
        status=FulfillmentStatus(row.status),
        completed_on=row.completed_on,
    )
    return StoredFulfillment(fulfillment, row.created_at, row.updated_at)


async def get_fulfillment(
    session: AsyncSession, fulfillment_id: str, *, for_update: bool = False
) -> StoredFulfillment:
    """The fulfillment with its lines, or NotFound."""
    row = await _row(session, FulfillmentRow, "fulfillment", fulfillment_id, for_update=for_update)
    return await _fulfillment_from_row(session, row)


async def fulfillments_of_order(session: AsyncSession, order_id: str) -> list[Fulfillment]:
    """Every fulfillment recorded against an order."""
    rows = await _children(session, FulfillmentRow, FulfillmentRow.order_id, order_id, FulfillmentRow.id)
    return [(await _fulfillment_from_row(session, r)).fulfillment for r in rows]


async def save_fulfillment(session: AsyncSession, stored: StoredFulfillment) -> None:
    """Insert or update a fulfillment and rewrite its lines."""
    ful, now = stored.fulfillment, utcnow()
    stored.created_at = stored.created_at or now
    stored.updated_at = now
    await _upsert(
        session,
        FulfillmentRow,
        ful.id,
        {
            "id": ful.id,
            "order_id": ful.order_id,
            "account_id": ful.account_id,
            "associated_project_id": ful.associated_project_id,
            "status": ful.status.value,
            "completed_on": ful.completed_on,
            "created_at": stored.created_at,
            "updated_at": now,
        },
    )
    await session.flush()
    await session.exec(delete(FulfillmentLineRow).where(FulfillmentLineRow.fulfillment_id == ful.id))  # type: ignore[arg-type]
    for position, line in enumerate(ful.lines):
        session.add(
            FulfillmentLineRow(
                fulfillment_id=ful.id,
                order_line_id=line.order_line_id,
                position=position,
                product_id=line.product_id,
                license_type=line.license_type.value,
                quantity=line.quantity,
                unit_list_price=line.unit_list_price,
                discount_percent=line.discount_percent,
                currency=line.currency,
            )
        )
