"""Sales orders and their lines, with the catalog's pricing snapshot of each line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from provisioning.domain.orders import LineDiscount, OrderKind, OrderLine, OrderStatus, SalesOrder
from provisioning.domain.subscriptions import (
    LicenseType,
    RenewalKind,
    RenewalPolicy,
)
from provisioning.models import (
    OrderLineRow,
    SalesOrderRow,
)
from provisioning.repository.common import _children, _row, _upsert


@dataclass(frozen=True)
class QuotedLineDiscount:
    """A discount on a line as the catalog quoted it."""

    discount_id: str
    name: str
    amount: Decimal
    approval_threshold_percent: Decimal | None
    kind: str
    value: Decimal


@dataclass(frozen=True)
class LinePricing:
    """The catalog facts snapshotted on a line beside the domain's OrderLine."""

    product_sku: str | None = None
    product_name: str | None = None
    product_kind: str | None = None
    product_vendor_id: str | None = None
    charge_type: str | None = None
    billing_period: str | None = None
    billing_timing: str | None = None
    list_amount: Decimal = Decimal(0)
    discount_amount: Decimal = Decimal(0)
    net_amount: Decimal = Decimal(0)
    effective_percent_off: Decimal = Decimal(0)
    discounts: tuple[QuotedLineDiscount, ...] = ()


@dataclass
class StoredOrder:
    """An order with the pricing snapshot of its lines and its timestamps."""

    order: SalesOrder
    pricing: dict[str, LinePricing] = field(default_factory=dict)
    quote_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


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
        discounts=tuple(line_discount(d) for d in quoted),
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
        product_kind=row.product_kind,
        product_vendor_id=row.product_vendor_id,
        charge_type=row.charge_type,
        billing_period=row.billing_period,
        billing_timing=row.billing_timing,
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


def line_discount(quoted: QuotedLineDiscount) -> LineDiscount:
    """The domain discount of a quoted one: a percent, or the amount the catalog took off."""
    if quoted.kind == "percent":
        return LineDiscount(quoted.discount_id, quoted.approval_threshold_percent, percent=quoted.value)
    return LineDiscount(quoted.discount_id, quoted.approval_threshold_percent, amount=quoted.amount)


async def get_order(session: AsyncSession, order_id: str, *, for_update: bool = False) -> StoredOrder:
    """The order with its lines, or NotFound."""
    row = await _row(session, SalesOrderRow, "order", order_id, for_update=for_update)
    line_rows = await _children(session, OrderLineRow, OrderLineRow.order_id, order_id, OrderLineRow.position)
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
    return StoredOrder(order, pricing, row.quote_id, row.created_at, row.updated_at)


async def save_order(session: AsyncSession, stored: StoredOrder, *, currency: str) -> None:
    """Insert or update an order and rewrite its lines."""
    order, now = stored.order, utcnow()
    stored.created_at = stored.created_at or now
    stored.updated_at = now
    await _upsert(
        session,
        SalesOrderRow,
        order.id,
        {
            "id": order.id,
            "customer_id": order.customer_id,
            "account_id": order.account_id,
            "kind": order.kind.value,
            "status": order.status.value,
            "currency": currency,
            "approval_required": order.approval_required,
            "approved_by": order.approved_by,
            "deal_registration_id": order.deal_registration_id,
            "requested_discounts_note": order.requested_discounts_note,
            "quote_id": stored.quote_id,
            "created_at": stored.created_at,
            "updated_at": now,
        },
    )
    await session.flush()
    await session.exec(delete(OrderLineRow).where(OrderLineRow.order_id == order.id))  # type: ignore[arg-type]
    for position, line in enumerate(order.lines):
        priced = stored.pricing.get(line.id, LinePricing())
        session.add(
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
