"""License fulfillments and their lines on the service's database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.vocabulary import LicenseType
from libs.platform.db import utcnow
from libs.platform.pagination import Page, PageRequest
from provisioning.domain.fulfillments import Fulfillment, FulfillmentLine, FulfillmentStatus
from provisioning.handlers.records import StoredFulfillment
from provisioning.handlers.unit_of_work import FulfillmentRepository
from provisioning.models import FulfillmentLineRow, FulfillmentRow
from provisioning.repository.common import children, get_row, rows_page, upsert, with_data


def _fulfillment_from_rows(row: FulfillmentRow, line_rows: Sequence[FulfillmentLineRow]) -> StoredFulfillment:
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
            for line in line_rows
        ],
        associated_project_id=row.associated_project_id,
        status=FulfillmentStatus(row.status),
        completed_on=row.completed_on,
    )
    return StoredFulfillment(fulfillment, row.created_at, row.updated_at)


class SqlFulfillmentRepository(FulfillmentRepository):
    """Fulfillments and their lines in the service's database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    async def _with_lines(self, rows: Sequence[FulfillmentRow]) -> list[StoredFulfillment]:
        lines = await children(
            self.session,
            FulfillmentLineRow,
            FulfillmentLineRow.fulfillment_id,
            [r.id for r in rows],
            FulfillmentLineRow.position,
        )
        return [_fulfillment_from_rows(row, lines[row.id]) for row in rows]

    async def get(self, fulfillment_id: str, *, for_update: bool = False) -> StoredFulfillment:
        """The fulfillment with its lines, or NotFound."""
        row = await get_row(
            self.session, FulfillmentRow, "fulfillment", fulfillment_id, for_update=for_update
        )
        return (await self._with_lines([row]))[0]

    async def of_order(self, order_id: str) -> list[Fulfillment]:
        """Every fulfillment recorded against an order (two queries)."""
        stmt = (
            select(FulfillmentRow).where(FulfillmentRow.order_id == order_id).order_by(col(FulfillmentRow.id))
        )
        rows = (await self.session.exec(stmt)).all()
        return [stored.fulfillment for stored in await self._with_lines(rows)]

    async def page(
        self, page: PageRequest, *, order_id: str | None, status: FulfillmentStatus | None
    ) -> Page[StoredFulfillment]:
        """A page of fulfillments by id, with their lines (two queries per page)."""
        rows = await rows_page(
            self.session, FulfillmentRow, page, order_id=order_id, status=status.value if status else None
        )
        return with_data(rows, await self._with_lines(rows.data))

    async def save(self, stored: StoredFulfillment) -> None:
        """Stage a new or changed fulfillment and rewrite its lines."""
        ful, now = stored.fulfillment, utcnow()
        stored.created_at = stored.created_at or now
        stored.updated_at = now
        await upsert(
            self.session,
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
        await self.session.flush()
        await self.session.exec(delete(FulfillmentLineRow).where(FulfillmentLineRow.fulfillment_id == ful.id))  # type: ignore[arg-type]
        for position, line in enumerate(ful.lines):
            self.session.add(
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
        self._staged(stored)
