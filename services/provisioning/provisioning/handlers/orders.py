"""Use cases of sales orders: draft, price, submit, approve, cancel, and what approval sets going."""

from __future__ import annotations

from typing import Any

from libs.platform.errors import Conflict, FieldErrors, ValidationFailed
from libs.platform.pagination import Page, PageRequest
from provisioning.catalog_client import CatalogClient
from provisioning.domain.accounts import Account
from provisioning.domain.fulfillments import committed_balances
from provisioning.domain.orders import (
    OrderKind,
    OrderStatus,
    SalesOrder,
    line_term_months,
    makes_subscription,
    term_end,
)
from provisioning.domain.subscriptions import Subscription
from provisioning.domain.workflows import Workflow, product_template
from provisioning.handlers.common import account_date, commit_change, public_page
from provisioning.handlers.pricing import line_request, price_lines
from provisioning.handlers.records import StoredOrder, StoredSubscription, StoredWorkflow
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork
from provisioning.schemas.orders import (
    CommitmentsPublic,
    OrderCreate,
    OrderLinesAdd,
    OrderPublic,
    commitments_public,
    order_public,
)


async def create_order(
    *, uow: ProvisioningUnitOfWork, catalog: CatalogClient, command: OrderCreate, actor: str
) -> OrderPublic:
    """A draft order for an account, its lines priced by the catalog."""
    account = await uow.customers.get_account(command.account_id)
    priced = await price_lines(
        uow,
        catalog,
        currency=account.currency,
        account_id=account.id,
        kind=command.kind,
        lines=command.lines,
    )
    order = SalesOrder.draft(
        customer_id=account.customer_id,
        account_id=account.id,
        kind=command.kind,
        lines=[p[0] for p in priced.lines],
    )
    stored = StoredOrder(order, account.currency, {p[0].id: p[1] for p in priced.lines}, priced.quote_id)
    return await _committed(uow, stored, "order.drafted", command.model_dump(mode="json"))


async def add_order_lines(
    *, uow: ProvisioningUnitOfWork, catalog: CatalogClient, order_id: str, command: OrderLinesAdd, actor: str
) -> OrderPublic:
    """Add priced lines to a draft order."""
    stored, account = await _draft(uow, order_id, "add a line to")
    order = stored.order
    priced = await price_lines(
        uow,
        catalog,
        currency=account.currency,
        account_id=account.id,
        kind=order.kind,
        lines=command.lines,
        first_index=len(order.lines),
    )
    for line, pricing in priced.lines:
        order.add_line(line)
        stored.pricing[line.id] = pricing
    stored.quote_id = priced.quote_id
    return await _committed(uow, stored, "order.lines_added", command.model_dump(mode="json"))


async def remove_order_line(
    *, uow: ProvisioningUnitOfWork, order_id: str, line_id: str, actor: str
) -> OrderPublic:
    """Remove a line from a draft order."""
    stored = await uow.orders.get(order_id, for_update=True)
    stored.order.remove_line(line_id)
    stored.pricing.pop(line_id, None)
    return await _committed(uow, stored, "order.line_removed", {"line_id": line_id})


async def submit_order(
    *, uow: ProvisioningUnitOfWork, catalog: CatalogClient, order_id: str, actor: str
) -> OrderPublic:
    """Submit to contracts: re-price with one quote, then approve at once unless a discount
    exceeds its threshold (then finance approves)."""
    stored, account = await _draft(uow, order_id, "submit")
    order = stored.order
    # Prices may have moved since the draft: the order is pinned to what is in force now.
    priced = await price_lines(
        uow,
        catalog,
        currency=account.currency,
        account_id=account.id,
        kind=order.kind,
        lines=[line_request(line) for line in order.lines],
        keep_ids=[line.id for line in order.lines],
    )
    if priced.lines:
        order.lines = [p[0] for p in priced.lines]
        stored.pricing = {p[0].id: p[1] for p in priced.lines}
        stored.quote_id = priced.quote_id
    order.submit(by=actor)
    if order.status is OrderStatus.APPROVED:
        await _provision(uow, stored, actor)
    await uow.orders.save(stored)
    uow.audit(
        "order.submitted",
        "order",
        order.id,
        {"approval_required": order.approval_required, "status": order.status.value},
    )
    await uow.commit()
    return await _order_view(uow, stored)


async def approve_order(*, uow: ProvisioningUnitOfWork, order_id: str, role: str, actor: str) -> OrderPublic:
    """Finance (or an admin) approves an order waiting for a discount approval."""
    stored = await uow.orders.get(order_id, for_update=True)
    order = stored.order
    order.approve(by_role=role, by=actor)
    await _provision(uow, stored, actor)
    await uow.orders.save(stored)
    await commit_change(uow, "order.approved", ("order", order.id), {"approved_by": actor})
    return await _order_view(uow, stored)


async def cancel_order(
    *, uow: ProvisioningUnitOfWork, order_id: str, reason: str | None, actor: str
) -> OrderPublic:
    """Withdraw a draft or submitted order."""
    stored = await uow.orders.get(order_id, for_update=True)
    stored.order.cancel(by=actor, reason=reason)
    await uow.orders.save(stored)
    await commit_change(uow, "order.cancelled", ("order", order_id), {"reason": reason})
    return await _order_view(uow, stored)


async def _provision(uow: ProvisioningUnitOfWork, stored: StoredOrder, actor: str) -> None:
    """What an approval sets going: workflows and pending subscriptions, or amendments."""
    order = stored.order
    if order.kind is OrderKind.AMENDMENT:
        await _apply_amendment(uow, order, actor)
        order.mark_fulfilled(by=actor)
        return
    started_on = await account_date(uow, order.account_id)
    for line in order.lines:
        pricing = stored.pricing_of(line.id)
        if not makes_subscription(pricing.charge_type):
            continue
        term_start = line.effective_date or started_on
        template = product_template(
            product_kind=pricing.product_kind, vendor_id=pricing.product_vendor_id, sku=pricing.product_sku
        )
        subscription = Subscription.create(
            account_id=order.account_id,
            product_id=line.product_id,
            price_id=line.price_id,
            price_version=line.price_version,
            quantity=line.quantity,
            license_type=line.license_type,
            term_start=term_start,
            term_end=term_end(term_start, line_term_months(line.term_months, template)),
            renewal=line.renewal_policy,
            commitment_quantity=line.committed_quantity,
            order_id=order.id,
            termination_fee_price_id=line.termination_fee_price_id,
        )
        sub_stored = StoredSubscription(
            subscription,
            currency=line.currency,
            unit_price=line.unit_list_price,
            discount_percent=line.effective_discount_percent,
            charge_type=pricing.charge_type,
            billing_period=pricing.billing_period,
            billing_timing=pricing.billing_timing,
            order_line_id=line.id,
        )
        await uow.subscriptions.save(sub_stored)
        workflow = Workflow.start(
            template,
            order_id=order.id,
            account_id=order.account_id,
            subscription_id=subscription.id,
            started_on=started_on,
            by=actor,
        )
        await uow.workflows.save(StoredWorkflow(workflow, line.id))
        uow.audit("subscription.created", "subscription", subscription.id, {"order_line_id": line.id})
        uow.audit("workflow.started", "workflow", workflow.id, {"template": template.name})


async def _apply_amendment(uow: ProvisioningUnitOfWork, order: SalesOrder, actor: str) -> None:
    errors = FieldErrors()
    for index, line in enumerate(order.lines):
        assert line.subscription_id and line.effective_date
        stored = await uow.subscriptions.get(line.subscription_id, for_update=True)
        sub = stored.subscription
        try:
            if line.quantity != sub.quantity:
                sub.change_quantity(line.quantity, effective=line.effective_date, by=actor)
            if line.term_months is not None:
                new_end = term_end(sub.term_start, line.term_months)
                if new_end != sub.term_end:
                    sub.change_term(new_term_end=new_end, effective=line.effective_date, by=actor)
        except ValidationFailed as exc:
            for error in exc.errors:
                errors.add(f"lines.{index}.{error.field}", error.message, error.code)
            continue
        await uow.subscriptions.save(stored)
        uow.audit("subscription.amended", "subscription", sub.id, {"order_id": order.id})
    errors.raise_if_any("The amendment cannot be applied")


async def _order_view(uow: ProvisioningUnitOfWork, stored: StoredOrder) -> OrderPublic:
    deal_id = stored.order.deal_registration_id
    return order_public(stored, deal=await uow.deals.get_deal(deal_id) if deal_id else None)


async def get_order(*, uow: ProvisioningUnitOfWork, order_id: str) -> OrderPublic:
    """One order with its priced lines."""
    return await _order_view(uow, await uow.orders.get(order_id))


async def list_orders(
    *, uow: ProvisioningUnitOfWork, page: PageRequest, account_id: str | None, status: OrderStatus | None
) -> Page[OrderPublic]:
    """A page of orders (their lines and deals read for the whole page at once)."""
    orders = await uow.orders.page(page, account_id=account_id, status=status)
    deal_ids = {s.order.deal_registration_id for s in orders.data if s.order.deal_registration_id}
    deals = await uow.deals.find_deals(deal_ids)
    return public_page(orders, lambda s: order_public(s, deal=deals.get(s.order.deal_registration_id or "")))


async def order_commitments(*, uow: ProvisioningUnitOfWork, order_id: str) -> CommitmentsPublic:
    """Committed, launched and remaining licenses per committed line."""
    stored = await uow.orders.get(order_id)
    balances = committed_balances(stored.order, await uow.fulfillments.of_order(order_id))
    return commitments_public(order_id, list(balances.values()))


async def _committed(
    uow: ProvisioningUnitOfWork, stored: StoredOrder, action: str, changes: dict[str, Any]
) -> OrderPublic:
    """Save the order, audit `action` on it, commit, and answer with its view."""
    await uow.orders.save(stored)
    uow.audit(action, "order", stored.order.id, changes)
    await uow.commit()
    return await _order_view(uow, stored)


async def _draft(uow: ProvisioningUnitOfWork, order_id: str, action: str) -> tuple[StoredOrder, Account]:
    """A draft order, locked for change, with its account; a Conflict for any other status."""
    stored = await uow.orders.get(order_id, for_update=True)
    if stored.order.status is not OrderStatus.DRAFT:
        raise Conflict(f"Cannot {action} an order that is {stored.order.status.value}")
    return stored, await uow.customers.get_account(stored.order.account_id)
