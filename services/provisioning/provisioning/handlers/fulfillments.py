"""Use cases of license fulfillments against an order's committed lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from libs.platform.errors import FieldErrors, ValidationFailed
from libs.platform.pagination import Page, PageRequest
from provisioning.domain.fulfillments import Fulfillment, FulfillmentStatus, committed_balances
from provisioning.domain.orders import SalesOrder
from provisioning.handlers.common import MAX_LINE_QUANTITY, account_date, commit_change, public_page
from provisioning.handlers.records import StoredFulfillment
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork
from provisioning.schemas.fulfillments import (
    FulfillmentCreate,
    FulfillmentLineIn,
    FulfillmentPublic,
    FulfillmentUpdate,
    fulfillment_public,
)


def _quantities(lines: Sequence[FulfillmentLineIn]) -> dict[str, Decimal]:
    errors = FieldErrors()
    quantities: dict[str, Decimal] = {}
    for index, line in enumerate(lines):
        if line.order_line_id in quantities:
            errors.add(f"lines.{index}.order_line_id", "appears twice", "duplicate")
        elif line.quantity > MAX_LINE_QUANTITY:
            errors.add(f"lines.{index}.quantity", f"must be at most {MAX_LINE_QUANTITY}")
        quantities[line.order_line_id] = line.quantity
    errors.raise_if_any("The fulfillment lines are invalid")
    return quantities


async def _save_fulfillment(
    uow: ProvisioningUnitOfWork, stored: StoredFulfillment, action: str, changes: dict[str, Any]
) -> FulfillmentPublic:
    await uow.fulfillments.save(stored)
    f = stored.fulfillment
    await commit_change(uow, action, ("fulfillment", f.id), changes)
    return fulfillment_public(stored)


async def record_fulfillment(
    *, uow: ProvisioningUnitOfWork, command: FulfillmentCreate, actor: str
) -> FulfillmentPublic:
    """Record launches (scheduled) or deliveries (completed) against an order's lines."""
    quantities = _quantities(command.lines)
    # Locking the order serialises fulfillments of one commitment.
    order = (await uow.orders.get(command.order_id, for_update=True)).order
    balances = committed_balances(order, await uow.fulfillments.of_order(order.id))
    if command.status is FulfillmentStatus.CANCELLED:
        raise ValidationFailed.single("status", "a fulfillment is recorded as scheduled or completed")
    if command.status is FulfillmentStatus.COMPLETED:
        fulfillment = Fulfillment.record_completed(
            order,
            quantities,
            balances=balances,
            associated_project_id=command.associated_project_id,
            on=command.completed_on or await account_date(uow, order.account_id),
            by=actor,
        )
    else:
        fulfillment = Fulfillment.schedule(
            order,
            quantities,
            balances=balances,
            associated_project_id=command.associated_project_id,
            by=actor,
        )
    return await _save_fulfillment(
        uow, StoredFulfillment(fulfillment), "fulfillment.recorded", command.model_dump(mode="json")
    )


async def _load_fulfillment(
    uow: ProvisioningUnitOfWork, fulfillment_id: str
) -> tuple[StoredFulfillment, SalesOrder]:
    # The order is locked first (as when recording one): it serialises changes to its commitment.
    order_id = (await uow.fulfillments.get(fulfillment_id)).fulfillment.order_id
    order = (await uow.orders.get(order_id, for_update=True)).order
    stored = await uow.fulfillments.get(fulfillment_id, for_update=True)
    return stored, order


async def update_fulfillment(
    *, uow: ProvisioningUnitOfWork, fulfillment_id: str, command: FulfillmentUpdate, actor: str
) -> FulfillmentPublic:
    """New quantities while scheduled (a cohort of 10 becomes 12)."""
    quantities = _quantities(command.lines)
    stored, order = await _load_fulfillment(uow, fulfillment_id)
    balances = committed_balances(order, await uow.fulfillments.of_order(order.id))
    errors = FieldErrors()
    for line_id in quantities:
        if all(line.order_line_id != line_id for line in stored.fulfillment.lines):
            errors.add(f"lines.{line_id}", "is not a line of this fulfillment", "unknown_line")
    errors.raise_if_any("The fulfillment cannot be updated")
    for line_id, quantity in quantities.items():
        stored.fulfillment.update_quantity(line_id, quantity, balances=balances)
    return await _save_fulfillment(uow, stored, "fulfillment.updated", command.model_dump(mode="json"))


async def complete_fulfillment(
    *, uow: ProvisioningUnitOfWork, fulfillment_id: str, completed_on: date | None, actor: str
) -> FulfillmentPublic:
    """scheduled → completed: one `fulfillment.completed` with every line's billable quantity."""
    stored, _ = await _load_fulfillment(uow, fulfillment_id)
    ful = stored.fulfillment
    ful.complete(on=completed_on or await account_date(uow, ful.account_id), by=actor)
    return await _save_fulfillment(uow, stored, "fulfillment.completed", {"completed_on": str(completed_on)})


async def cancel_fulfillment(
    *, uow: ProvisioningUnitOfWork, fulfillment_id: str, actor: str
) -> FulfillmentPublic:
    """scheduled → cancelled; committed launches are given back."""
    stored, order = await _load_fulfillment(uow, fulfillment_id)
    balances = committed_balances(order, await uow.fulfillments.of_order(order.id))
    stored.fulfillment.cancel(balances=balances, by=actor)
    return await _save_fulfillment(uow, stored, "fulfillment.cancelled", {})


async def get_fulfillment(*, uow: ProvisioningUnitOfWork, fulfillment_id: str) -> FulfillmentPublic:
    """One fulfillment."""
    return fulfillment_public(await uow.fulfillments.get(fulfillment_id))


async def list_fulfillments(
    *, uow: ProvisioningUnitOfWork, page: PageRequest, order_id: str | None, status: FulfillmentStatus | None
) -> Page[FulfillmentPublic]:
    """A page of fulfillments with their lines."""
    return public_page(
        await uow.fulfillments.page(page, order_id=order_id, status=status), fulfillment_public
    )
