"""Sales orders and their lines on the service's database, with each line's pricing snapshot."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import delete
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, LicenseType, ProductKind
from libs.platform.db import utcnow
from libs.platform.pagination import Page, PageRequest
from provisioning.domain.orders import OrderKind, OrderLine, OrderStatus, SalesOrder
from provisioning.domain.subscriptions import RenewalKind, RenewalPolicy
from provisioning.handlers.records import LinePricing, QuotedLineDiscount, StoredOrder
from provisioning.handlers.unit_of_work import OrderRepository
from provisioning.models import OrderLineRow, SalesOrderRow
from provisioning.repository.common import children, get_row, optional_enum, rows_page, upsert, with_data


def _line_from_row(row: OrderLineRow) -> tuple[OrderLine, LinePricing]:
    quoted = tuple(
        QuotedLineDiscount(
            d["discount_id"],
            d["name"],
            Decimal(d["amount"]),
            _decimal_or_none(d["approval_threshold_percent"]),
            d["kind"],
            Decimal(d["value"]),
        )
        for d in json.loads(row.discounts)
    )
    line = OrderLine(
        id=row.id,
        product_id=row.product_id,
        price_id=row.price_id,
        price_version=row.price_version,
        quantity=row.quantity,
        unit_list_price=row.unit_list_price,
        currency=row.currency,
        license_type=LicenseType(row.license_type),
        term_months=row.term_months,
        discounts=tuple(d.as_line_discount() for d in quoted),
        subscription_id=row.subscription_id,
        effective_date=row.effective_date,
        renewal=(
            RenewalPolicy(RenewalKind(row.renewal_kind), row.renewal_months) if row.renewal_kind else None
        ),
        commitment_quantity=row.commitment_quantity,
        termination_fee_price_id=row.termination_fee_price_id,
    )
    pricing = LinePricing(
        product_sku=row.product_sku,
        product_name=row.product_name,
        product_kind=optional_enum(ProductKind, row.product_kind),
        product_vendor_id=row.product_vendor_id,
        charge_type=optional_enum(ChargeType, row.charge_type),
        billing_period=optional_enum(BillingFrequency, row.billing_period),
        billing_timing=optional_enum(BillingTiming, row.billing_timing),
        list_amount=row.list_amount,
        discount_amount=row.discount_amount,
        net_amount=row.net_amount,
        effective_percent_off=row.effective_percent_off,
        discounts=quoted,
    )
    return line, pricing


def _decimal_or_none(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _str_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _stored_order(row: SalesOrderRow, line_rows: Sequence[OrderLineRow]) -> StoredOrder:
    lines, pricing = [], {}
    for line_row in line_rows:
        line, priced = _line_from_row(line_row)
        lines.append(line)
        pricing[line.id] = priced
    order = SalesOrder(
        id=row.id,
        customer_id=row.customer_id,
        account_id=row.account_id,
        kind=OrderKind(row.kind),
        status=OrderStatus(row.status),
        lines=lines,
        approval_required=row.approval_required,
        approved_by=row.approved_by,
        deal_registration_id=row.deal_registration_id,
        requested_discounts_note=row.requested_discounts_note,
    )
    return StoredOrder(order, row.currency, pricing, row.quote_id, row.created_at, row.updated_at)


class SqlOrderRepository(OrderRepository):
    """Orders and their lines in the service's database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    async def _with_lines(self, rows: Sequence[SalesOrderRow]) -> list[StoredOrder]:
        lines = await children(
            self.session, OrderLineRow, OrderLineRow.order_id, [r.id for r in rows], OrderLineRow.position
        )
        return [_stored_order(row, lines[row.id]) for row in rows]

    async def get(self, order_id: str, *, for_update: bool = False) -> StoredOrder:
        """The order with its lines, or NotFound."""
        row = await get_row(self.session, SalesOrderRow, "order", order_id, for_update=for_update)
        return (await self._with_lines([row]))[0]

    async def page(
        self, page: PageRequest, *, account_id: str | None, status: OrderStatus | None
    ) -> Page[StoredOrder]:
        """A page of orders by id, with their lines (two queries per page)."""
        rows = await rows_page(
            self.session, SalesOrderRow, page, account_id=account_id, status=status.value if status else None
        )
        return with_data(rows, await self._with_lines(rows.data))

    async def save(self, stored: StoredOrder) -> None:
        """Stage a new or changed order and rewrite its lines."""
        order, now = stored.order, utcnow()
        stored.created_at = stored.created_at or now
        stored.updated_at = now
        await upsert(
            self.session,
            SalesOrderRow,
            order.id,
            {
                "id": order.id,
                "customer_id": order.customer_id,
                "account_id": order.account_id,
                "kind": order.kind.value,
                "status": order.status.value,
                "currency": stored.currency,
                "approval_required": order.approval_required,
                "approved_by": order.approved_by,
                "deal_registration_id": order.deal_registration_id,
                "requested_discounts_note": order.requested_discounts_note,
                "quote_id": stored.quote_id,
                "created_at": stored.created_at,
                "updated_at": now,
            },
        )
        await self.session.flush()
        await self.session.exec(delete(OrderLineRow).where(OrderLineRow.order_id == order.id))  # type: ignore[arg-type]
        for position, line in enumerate(order.lines):
            priced = stored.pricing.get(line.id, LinePricing())
            self.session.add(
                OrderLineRow(
                    id=line.id,
                    order_id=order.id,
                    position=position,
                    product_id=line.product_id,
                    product_sku=priced.product_sku,
                    product_name=priced.product_name,
                    product_kind=priced.product_kind,
                    product_vendor_id=priced.product_vendor_id,
                    price_id=line.price_id,
                    price_version=line.price_version,
                    charge_type=priced.charge_type,
                    billing_period=priced.billing_period,
                    billing_timing=priced.billing_timing,
                    currency=line.currency,
                    license_type=line.license_type.value,
                    quantity=line.quantity,
                    unit_list_price=line.unit_list_price,
                    list_amount=priced.list_amount,
                    discount_amount=priced.discount_amount,
                    net_amount=priced.net_amount,
                    effective_percent_off=priced.effective_percent_off,
                    needs_approval=line.needs_approval,
                    discounts=json.dumps(
                        [
                            {
                                "discount_id": d.discount_id,
                                "name": d.name,
                                "amount": str(d.amount),
                                "approval_threshold_percent": _str_or_none(d.approval_threshold_percent),
                                "kind": d.kind,
                                "value": str(d.value),
                            }
                            for d in priced.discounts
                        ]
                    ),
                    term_months=line.term_months,
                    subscription_id=line.subscription_id,
                    effective_date=line.effective_date,
                    renewal_kind=line.renewal.kind.value if line.renewal else None,
                    renewal_months=line.renewal.months if line.renewal else None,
                    commitment_quantity=line.commitment_quantity,
                    termination_fee_price_id=line.termination_fee_price_id,
                )
            )
        self._staged(stored)
