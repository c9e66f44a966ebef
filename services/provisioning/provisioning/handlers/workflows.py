"""Use cases of provisioning workflows and their tasks."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from libs.platform.errors import NotFound, ValidationFailed
from libs.platform.pagination import Page, PageRequest, paginate
from libs.platform.unit_of_work import UnitOfWork
from provisioning import repository as repo
from provisioning.domain.orders import (
    OrderStatus,
)
from provisioning.domain.subscriptions import (
    SubscriptionState,
)
from provisioning.domain.workflows import TaskState, Workflow, WorkflowStatus
from provisioning.events.orders import order_payloads
from provisioning.events.subscriptions import subscription_payloads
from provisioning.events.workflows import workflow_payloads
from provisioning.handlers.common import commit_change, emit_all, filtered, page_of_aggregates
from provisioning.models import (
    SalesOrderRow,
    WorkflowRow,
    WorkflowTaskRow,
)
from provisioning.repository.common import today
from provisioning.repository.workflows import StoredWorkflow
from provisioning.schemas.workflows import TaskPublic, WorkflowPublic, task_public, workflow_public


async def _load_task(uow: UnitOfWork, task_id: str) -> tuple[StoredWorkflow, str]:
    workflow_id = await repo.workflow_id_of_task(uow.session, task_id)
    stored = await repo.get_workflow(uow.session, workflow_id, for_update=True)
    key = next(t.key for t in stored.workflow.tasks if t.id == task_id)
    return stored, key


async def _save_task_change(uow: UnitOfWork, stored: StoredWorkflow, task_id: str, action: str) -> TaskPublic:
    await repo.save_workflow(uow.session, stored)
    wf = stored.workflow
    task = next(t for t in wf.tasks if t.id == task_id)
    changes = {"workflow_id": wf.id, "state": task.state.value, "assignee": task.assignee}
    await commit_change(uow, action, ("task", task_id), changes, workflow_payloads(wf), wf.account_id)
    return task_public(wf.id, task, today())


async def start_task(*, uow: UnitOfWork, task_id: str, actor: str) -> TaskPublic:
    """open → in_progress once the steps before it are done."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.start_task(key, by=actor)
    return await _save_task_change(uow, stored, task_id, "task.started")


async def block_task(*, uow: UnitOfWork, task_id: str, reason: str, actor: str) -> TaskPublic:
    """open or in_progress → blocked."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.block_task(key, reason=reason, by=actor)
    return await _save_task_change(uow, stored, task_id, "task.blocked")


async def unblock_task(*, uow: UnitOfWork, task_id: str, actor: str) -> TaskPublic:
    """blocked → open."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.unblock_task(key, by=actor)
    return await _save_task_change(uow, stored, task_id, "task.unblocked")


async def assign_task(*, uow: UnitOfWork, task_id: str, assignee: str, actor: str) -> TaskPublic:
    """Give a task to someone."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.assign(key, assignee)
    return await _save_task_change(uow, stored, task_id, "task.assigned")


async def add_task_note(*, uow: UnitOfWork, task_id: str, text: str, actor: str) -> TaskPublic:
    """Append a note to a task."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.add_note(key, text, by=actor, at=utcnow())
    return await _save_task_change(uow, stored, task_id, "task.noted")


async def complete_task(
    *, uow: UnitOfWork, task_id: str, completed_on: date | None, actor: str
) -> TaskPublic:
    """in_progress → done; the last task completes the workflow and activates the subscription."""
    stored, key = await _load_task(uow, task_id)
    wf = stored.workflow
    on = completed_on or today()
    if on < wf.started_on:
        raise ValidationFailed.single(
            "completed_on", f"must not be before the workflow started on {wf.started_on}"
        )
    wf.complete_task(key, on=on, by=actor)
    if wf.status is WorkflowStatus.COMPLETED:
        await _workflow_completed(uow, wf, on, actor)
    return await _save_task_change(uow, stored, task_id, "task.completed")


async def _workflow_completed(uow: UnitOfWork, wf: Workflow, on: date, actor: str) -> None:
    session = uow.session
    if wf.subscription_id is not None:
        stored = await repo.get_subscription(session, wf.subscription_id, for_update=True)
        sub = stored.subscription
        if sub.state in {SubscriptionState.PENDING, SubscriptionState.TRIAL}:
            # Provisioned ahead of the contract start: billing starts with the term.
            sub.activate(effective=max(on, sub.term_start), by=actor)
            await repo.save_subscription(session, stored)
            uow.audit("subscription.activated", "subscription", sub.id, {"workflow_id": wf.id})
            emit_all(uow, subscription_payloads(stored), sub.account_id)
    await repo.save_workflow(session, StoredWorkflow(wf))
    await session.flush()
    others = await repo.workflows_of_order(session, wf.order_id)
    if all(w.status == WorkflowStatus.COMPLETED.value for w in others):
        order_stored = await repo.get_order(session, wf.order_id, for_update=True)
        if order_stored.order.status is OrderStatus.APPROVED:
            order_stored.order.mark_fulfilled(by=actor)
            row = await session.get(SalesOrderRow, wf.order_id)
            await repo.save_order(session, order_stored, currency=row.currency if row else "USD")
            uow.audit("order.fulfilled", "order", wf.order_id, {})
            emit_all(uow, order_payloads(order_stored.order), order_stored.order.account_id)


async def get_workflow(*, session: AsyncSession, workflow_id: str) -> WorkflowPublic:
    """One workflow with its tasks."""
    return workflow_public((await repo.get_workflow(session, workflow_id)).workflow, today())


async def list_workflows(
    *,
    session: AsyncSession,
    page: PageRequest,
    order_id: str | None,
    account_id: str | None,
    status: str | None,
) -> Page[Any]:
    """A page of workflows."""
    stmt = filtered(WorkflowRow, order_id=order_id, account_id=account_id, status=status)
    return await page_of_aggregates(
        session, stmt, WorkflowRow.id, page, lambda i: get_workflow(session=session, workflow_id=i)
    )


async def get_task(*, session: AsyncSession, task_id: str) -> TaskPublic:
    """One task."""
    row = await session.get(WorkflowTaskRow, task_id)
    if row is None:
        raise NotFound("task", task_id)
    return task_public(row.workflow_id, repo.task_from_row(row), today())


async def list_tasks(
    *,
    session: AsyncSession,
    page: PageRequest,
    overdue: bool | None,
    as_of: date | None,
    owner_team: str | None,
    state: TaskState | None,
    assignee: str | None,
    workflow_id: str | None,
) -> Page[Any]:
    """A page of tasks; `overdue=true` keeps those not done by their due date."""
    day = as_of or today()
    stmt = filtered(
        WorkflowTaskRow,
        owner_team=owner_team,
        state=state.value if state else None,
        assignee=assignee,
        workflow_id=workflow_id,
    )
    if overdue is not None:
        late = (col(WorkflowTaskRow.state) != TaskState.DONE.value) & (col(WorkflowTaskRow.due_date) < day)
        stmt = stmt.where(late if overdue else ~late)
    return await paginate(
        session,
        stmt,
        WorkflowTaskRow.id,
        page,
        lambda r: task_public(r.workflow_id, repo.task_from_row(r), day),
    )
