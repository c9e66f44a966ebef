"""Use cases of sales orders: draft, price, submit, approve, cancel, and what approval sets going."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.errors import Conflict, FieldErrors, ValidationFailed
from libs.platform.pagination import Page, PageRequest
from libs.platform.periods import add_months
from libs.platform.unit_of_work import UnitOfWork
from provisioning import repository as repo
from provisioning.catalog_client import (
    CatalogClient,
)
from provisioning.domain.accounts import (
    Account,
)
from provisioning.domain.fulfillments import committed_balances
from provisioning.domain.orders import (
    OrderKind,
    OrderStatus,
    SalesOrder,
)
from provisioning.domain.subscriptions import (
    Subscription,
)
from provisioning.domain.workflows import Workflow, template_for
from provisioning.events.orders import order_payloads
from provisioning.events.subscriptions import subscription_payloads
from provisioning.events.workflows import workflow_payloads
from provisioning.handlers.common import (
    DEFAULT_TERM_MONTHS,
    SUBSCRIPTION_CHARGE_TYPES,
    commit_change,
    emit_all,
    filtered,
    page_of_aggregates,
)
from provisioning.handlers.pricing import _line_in, price_lines
from provisioning.models import (
    DealRegistrationRow,
    SalesOrderRow,
)
from provisioning.repository.common import today
from provisioning.repository.orders import LinePricing, StoredOrder
from provisioning.repository.subscriptions import StoredSubscription
from provisioning.repository.workflows import StoredWorkflow
from provisioning.schemas.orders import (
    CommitmentsPublic,
    OrderCreate,
    OrderLinesAdd,
    OrderPublic,
    commitments_public,
    order_public,
)


async def _order_view(session: AsyncSession, stored: StoredOrder) -> OrderPublic:
    row = await session.get(SalesOrderRow, stored.order.id)
    currency = row.currency if row else (stored.order.currency or "USD")
    deal_row = (
        await session.get(DealRegistrationRow, stored.order.deal_registration_id)
        if stored.order.deal_registration_id
        else None
    )
    return order_public(stored, currency=currency, deal_row=deal_row)


async def create_order(
    *, uow: UnitOfWork, catalog: CatalogClient, command: OrderCreate, actor: str
) -> OrderPublic:
    """A draft order for an account, its lines priced by the catalog."""
    session = uow.session
    account = await repo.get_account(session, command.account_id)
    priced = await price_lines(
        session,
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
    stored = StoredOrder(order, {p[0].id: p[1] for p in priced.lines}, priced.quote_id)
    await repo.save_order(session, stored, currency=account.currency)
    uow.audit("order.drafted", "order", order.id, command.model_dump(mode="json"))
    await uow.commit()
    return await _order_view(session, stored)


async def add_order_lines(
    *, uow: UnitOfWork, catalog: CatalogClient, order_id: str, command: OrderLinesAdd, actor: str
) -> OrderPublic:
    """Add priced lines to a draft order."""
    session = uow.session
    stored = await repo.get_order(session, order_id, for_update=True)
    order = stored.order
    if order.status is not OrderStatus.DRAFT:
        raise Conflict(f"Cannot add a line to an order that is {order.status.value}")
    account = await repo.get_account(session, order.account_id)
    priced = await price_lines(
        session,
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
    await repo.save_order(session, stored, currency=account.currency)
    uow.audit("order.lines_added", "order", order.id, command.model_dump(mode="json"))
    await uow.commit()
    return await _order_view(session, stored)


async def remove_order_line(*, uow: UnitOfWork, order_id: str, line_id: str, actor: str) -> OrderPublic:
    """Remove a line from a draft order."""
    session = uow.session
    stored = await repo.get_order(session, order_id, for_update=True)
    stored.order.remove_line(line_id)
    stored.pricing.pop(line_id, None)
    account = await repo.get_account(session, stored.order.account_id)
    await repo.save_order(session, stored, currency=account.currency)
    uow.audit("order.line_removed", "order", order_id, {"line_id": line_id})
    await uow.commit()
    return await _order_view(session, stored)


async def submit_order(*, uow: UnitOfWork, catalog: CatalogClient, order_id: str, actor: str) -> OrderPublic:
    """Submit to contracts: re-price with one quote, then approve at once unless a discount
    exceeds its threshold (then finance approves)."""
    session = uow.session
    stored = await repo.get_order(session, order_id, for_update=True)
    order = stored.order
    if order.status is not OrderStatus.DRAFT:
        raise Conflict(f"Cannot submit an order that is {order.status.value}")
    account = await repo.get_account(session, order.account_id)
    # Prices may have moved since the draft: the order is pinned to what is in force now.
    priced = await price_lines(
        session,
        catalog,
        currency=account.currency,
        account_id=account.id,
        kind=order.kind,
        lines=[_line_in(line) for line in order.lines],
        keep_ids=[line.id for line in order.lines],
    )
    if priced.lines:
        order.lines = [p[0] for p in priced.lines]
        stored.pricing = {p[0].id: p[1] for p in priced.lines}
        stored.quote_id = priced.quote_id
    order.submit(by=actor)
    if order.status is OrderStatus.APPROVED:
        await _provision(uow, stored, account, actor)
    await repo.save_order(session, stored, currency=account.currency)
    uow.audit(
        "order.submitted",
        "order",
        order.id,
        {"approval_required": order.approval_required, "status": order.status.value},
    )
    emit_all(uow, order_payloads(order), order.account_id)
    await uow.commit()
    return await _order_view(session, stored)


async def approve_order(*, uow: UnitOfWork, order_id: str, role: str, actor: str) -> OrderPublic:
    """Finance (or an admin) approves an order waiting for a discount approval."""
    session = uow.session
    stored = await repo.get_order(session, order_id, for_update=True)
    order = stored.order
    order.approve(by_role=role, by=actor)
    account = await repo.get_account(session, order.account_id)
    await _provision(uow, stored, account, actor)
    await repo.save_order(session, stored, currency=account.currency)
    payloads = order_payloads(order)
    await commit_change(
        uow, "order.approved", ("order", order.id), {"approved_by": actor}, payloads, order.account_id
    )
    return await _order_view(session, stored)


async def cancel_order(*, uow: UnitOfWork, order_id: str, reason: str | None, actor: str) -> OrderPublic:
    """Withdraw a draft or submitted order."""
    session = uow.session
    stored = await repo.get_order(session, order_id, for_update=True)
    stored.order.cancel(by=actor, reason=reason)
    account = await repo.get_account(session, stored.order.account_id)
    await repo.save_order(session, stored, currency=account.currency)
    payloads = order_payloads(stored.order)
    await commit_change(
        uow, "order.cancelled", ("order", order_id), {"reason": reason}, payloads, stored.order.account_id
    )
    return await _order_view(session, stored)


async def _provision(uow: UnitOfWork, stored: StoredOrder, account: Account, actor: str) -> None:
    """What an approval sets going: workflows and pending subscriptions, or amendments."""
    order = stored.order
    if order.kind is OrderKind.AMENDMENT:
        await _apply_amendment(uow, order, actor)
        order.mark_fulfilled(by=actor)
        return
    started_on = today()
    for line in order.lines:
        pricing = stored.pricing.get(line.id, LinePricing())
        if pricing.charge_type not in SUBSCRIPTION_CHARGE_TYPES:
            continue
        term_start = line.effective_date or started_on
        subscription = Subscription.create(
            account_id=order.account_id,
            product_id=line.product_id,
            price_id=line.price_id,
            price_version=line.price_version,
            quantity=line.quantity,
            license_type=line.license_type,
            term_start=term_start,
            term_end=add_months(term_start, line.term_months or DEFAULT_TERM_MONTHS),
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
        await repo.save_subscription(uow.session, sub_stored)
        template = template_for(product_kind=provisioning_kind(pricing), sku=pricing.product_sku)
        workflow = Workflow.start(
            template,
            order_id=order.id,
            account_id=order.account_id,
            subscription_id=subscription.id,
            started_on=started_on,
            by=actor,
        )
        await repo.save_workflow(uow.session, StoredWorkflow(workflow, line.id))
        uow.audit("subscription.created", "subscription", subscription.id, {"order_line_id": line.id})
        uow.audit("workflow.started", "workflow", workflow.id, {"template": template.name})
        emit_all(uow, workflow_payloads(workflow), order.account_id)


def provisioning_kind(pricing: LinePricing) -> str | None:
    """The kind of provisioning a product needs: a product bought from a vendor is resold seats."""
    # The catalog says what a product is (license, workshop, …); whether it is resold shows in
    # its vendor. Resold seats need the vendor paperwork workflow (seed 000).
    return "resold_seats" if pricing.product_vendor_id else pricing.product_kind


async def _apply_amendment(uow: UnitOfWork, order: SalesOrder, actor: str) -> None:
    errors = FieldErrors()
    for index, line in enumerate(order.lines):
        assert line.subscription_id and line.effective_date
        stored = await repo.get_subscription(uow.session, line.subscription_id, for_update=True)
        sub = stored.subscription
        try:
            if line.quantity != sub.quantity:
                sub.change_quantity(line.quantity, effective=line.effective_date, by=actor)
            if line.term_months is not None:
                new_end = add_months(sub.term_start, line.term_months)
                if new_end != sub.term_end:
                    sub.change_term(new_term_end=new_end, effective=line.effective_date, by=actor)
        except ValidationFailed as exc:
            for error in exc.errors:
                errors.add(f"lines.{index}.{error.field}", error.message, error.code)
            continue
        await repo.save_subscription(uow.session, stored)
        uow.audit("subscription.amended", "subscription", sub.id, {"order_id": order.id})
        emit_all(uow, subscription_payloads(stored), sub.account_id)
    errors.raise_if_any("The amendment cannot be applied")


async def get_order(*, session: AsyncSession, order_id: str) -> OrderPublic:
    """One order with its priced lines."""
    return await _order_view(session, await repo.get_order(session, order_id))


async def list_orders(
    *, session: AsyncSession, page: PageRequest, account_id: str | None, status: str | None
) -> Page[Any]:
    """A page of orders."""
    stmt = filtered(SalesOrderRow, account_id=account_id, status=status)
    return await page_of_aggregates(
        session, stmt, SalesOrderRow.id, page, lambda i: get_order(session=session, order_id=i)
    )


async def order_commitments(*, session: AsyncSession, order_id: str) -> CommitmentsPublic:
    """Committed, launched and remaining licenses per committed line."""
    stored = await repo.get_order(session, order_id)
    balances = committed_balances(stored.order, await repo.fulfillments_of_order(session, order_id))
    return commitments_public(order_id, list(balances.values()))
