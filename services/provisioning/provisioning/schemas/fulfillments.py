"""License fulfillments: what the API accepts and shows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from libs.contracts.types import (
    Amount,
    Percent,
    Quantity,
    UnitPrice,
)
from libs.contracts.vocabulary import LicenseType
from libs.platform.db import utcnow
from libs.platform.money import amount_out, decimal_out, percent_out, unit_price_out
from libs.platform.text import ONE_LINE
from provisioning.domain.fulfillments import Fulfillment, FulfillmentStatus, currency_of
from provisioning.handlers.records import StoredFulfillment
from provisioning.schemas.common import (
    ZERO,
    Command,
    Day,
    LineQuantity,
    RefId,
)


class FulfillmentLineIn(Command):
    """How much of an order line is launched or delivered."""

    order_line_id: RefId
    quantity: LineQuantity


class FulfillmentCreate(Command):
    """Record a fulfillment against an order: scheduled, or straight away completed."""

    order_id: RefId
    associated_project_id: Annotated[str, StringConstraints(min_length=1, max_length=60), ONE_LINE] | None = (
        None
    )
    status: FulfillmentStatus = FulfillmentStatus.SCHEDULED
    completed_on: Day | None = None
    lines: list[FulfillmentLineIn] = Field(min_length=1, max_length=100)


class FulfillmentUpdate(Command):
    """New quantities of some lines while scheduled."""

    lines: list[FulfillmentLineIn] = Field(min_length=1, max_length=100)


class FulfillmentLinePublic(BaseModel):
    """A fulfilled line and what it bills."""

    order_line_id: str
    product_id: str
    license_type: LicenseType
    quantity: Quantity
    billable_quantity: Quantity
    unit_price: UnitPrice
    discount_percent: Percent
    billable_amount: Amount


class FulfillmentPublic(BaseModel):
    """A fulfillment."""

    id: str
    order_id: str
    account_id: str
    associated_project_id: str | None
    status: FulfillmentStatus
    completed_on: date | None
    currency: str
    lines: list[FulfillmentLinePublic]
    billable_total: Amount
    created_at: datetime
    updated_at: datetime


def fulfillment_public(stored: StoredFulfillment) -> FulfillmentPublic:
    """A fulfillment with what it bills, rounded per line."""
    f: Fulfillment = stored.fulfillment
    currency = currency_of(f.lines)
    lines = []
    for line in f.lines:
        gross = line.billable_quantity * line.unit_list_price
        net = gross - gross * line.discount_percent / Decimal(100)
        lines.append(
            FulfillmentLinePublic(
                order_line_id=line.order_line_id,
                product_id=line.product_id,
                license_type=line.license_type,
                quantity=decimal_out(line.quantity),
                billable_quantity=decimal_out(line.billable_quantity),
                unit_price=unit_price_out(line.unit_list_price),
                discount_percent=percent_out(line.discount_percent),
                billable_amount=amount_out(net, currency),
            )
        )
    return FulfillmentPublic(
        id=f.id,
        order_id=f.order_id,
        account_id=f.account_id,
        associated_project_id=f.associated_project_id,
        status=f.status,
        completed_on=f.completed_on,
        currency=currency,
        lines=lines,
        billable_total=amount_out(sum((ln.billable_amount for ln in lines), ZERO), currency),
        created_at=stored.created_at or utcnow(),
        updated_at=stored.updated_at or utcnow(),
    )
