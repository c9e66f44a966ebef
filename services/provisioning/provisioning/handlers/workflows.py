"""Use cases of provisioning workflows and their tasks."""

from __future__ import annotations

from datetime import date

from libs.platform.clock import UTC_ZONE
from libs.platform.db import utcnow
from libs.platform.errors import ValidationFailed
from libs.platform.pagination import Page, PageRequest
from provisioning.domain.orders import OrderStatus
from provisioning.domain.subscriptions import SubscriptionState
from provisioning.domain.workflows import TaskState, WorkflowStatus
from provisioning.handlers.common import account_date, account_dates, commit_change, public_page
from provisioning.handlers.records import StoredWorkflow, TaskFilter
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork
from provisioning.schemas.workflows import TaskPublic, WorkflowPublic, task_public, workflow_public


async def _load_task(uow: ProvisioningUnitOfWork, task_id: str) -> tuple[StoredWorkflow, str]:
    workflow_id, _ = await uow.workflows.get_task(task_id)
    stored = await uow.workflows.get(workflow_id, for_update=True)
    key = next(t.key for t in stored.workflow.tasks if t.id == task_id)
    return stored, key


async def _save_task_change(
    uow: ProvisioningUnitOfWork, stored: StoredWorkflow, task_id: str, action: str
) -> TaskPublic:
    await uow.workflows.save(stored)
    wf = stored.workflow
    task = next(t for t in wf.tasks if t.id == task_id)
    changes = {"workflow_id": wf.id, "state": task.state.value, "assignee": task.assignee}
    await commit_change(uow, action, ("task", task_id), changes)
    return task_public(wf.id, task, await account_date(uow, wf.account_id))


async def start_task(*, uow: ProvisioningUnitOfWork, task_id: str, actor: str) -> TaskPublic:
    """open → in_progress once the steps before it are done."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.start_task(key, by=actor)
    return await _save_task_change(uow, stored, task_id, "task.started")


async def block_task(*, uow: ProvisioningUnitOfWork, task_id: str, reason: str, actor: str) -> TaskPublic:
    """open or in_progress → blocked."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.block_task(key, reason=reason, by=actor)
    return await _save_task_change(uow, stored, task_id, "task.blocked")


async def unblock_task(*, uow: ProvisioningUnitOfWork, task_id: str, actor: str) -> TaskPublic:
    """blocked → open."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.unblock_task(key, by=actor)
    return await _save_task_change(uow, stored, task_id, "task.unblocked")


async def assign_task(*, uow: ProvisioningUnitOfWork, task_id: str, assignee: str, actor: str) -> TaskPublic:
    """Give a task to someone."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.assign(key, assignee)
    return await _save_task_change(uow, stored, task_id, "task.assigned")


async def add_task_note(*, uow: ProvisioningUnitOfWork, task_id: str, text: str, actor: str) -> TaskPublic:
    """Append a note to a task."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.add_note(key, text, by=actor, at=utcnow())
    return await _save_task_change(uow, stored, task_id, "task.noted")


async def complete_task(
    *, uow: ProvisioningUnitOfWork, task_id: str, completed_on: date | None, actor: str
) -> TaskPublic:
    """in_progress → done; the last task completes the workflow and activates the subscription."""
    stored, key = await _load_task(uow, task_id)
    wf = stored.workflow
    on = completed_on or await account_date(uow, wf.account_id)
    if on < wf.started_on:
        raise ValidationFailed.single(
            "completed_on", f"must not be before the workflow started on {wf.started_on}"
        )
    wf.complete_task(key, on=on, by=actor)
    if wf.status is WorkflowStatus.COMPLETED:
        await _workflow_completed(uow, stored, on, actor)
    return await _save_task_change(uow, stored, task_id, "task.completed")


async def _workflow_completed(
    uow: ProvisioningUnitOfWork, stored: StoredWorkflow, on: date, actor: str
) -> None:
    wf = stored.workflow
    if wf.subscription_id is not None:
        sub_stored = await uow.subscriptions.get(wf.subscription_id, for_update=True)
        sub = sub_stored.subscription
        if sub.state in {SubscriptionState.PENDING, SubscriptionState.TRIAL}:
            if on >= sub.term_end:
                # The request's own date is what is wrong: the subscription's term is over by then.
                raise ValidationFailed.single(
                    "completed_on", f"must be before the subscription's term ends on {sub.term_end}"
                )
            # Provisioned ahead of the contract start: billing starts with the term.
            sub.activate(effective=max(on, sub.term_start), by=actor)
            await uow.subscriptions.save(sub_stored)
            uow.audit("subscription.activated", "subscription", sub.id, {"workflow_id": wf.id})
    await uow.workflows.save(stored)
    statuses = await uow.workflows.statuses_of_order(wf.order_id)
    if all(status is WorkflowStatus.COMPLETED for status in statuses):
        order_stored = await uow.orders.get(wf.order_id, for_update=True)
        if order_stored.order.status is OrderStatus.APPROVED:
            order_stored.order.mark_fulfilled(by=actor)
            await uow.orders.save(order_stored)
            uow.audit("order.fulfilled", "order", wf.order_id, {})


async def get_workflow(*, uow: ProvisioningUnitOfWork, workflow_id: str) -> WorkflowPublic:
    """One workflow with its tasks."""
    wf = (await uow.workflows.get(workflow_id)).workflow
    return workflow_public(wf, await account_date(uow, wf.account_id))


async def list_workflows(
    *,
    uow: ProvisioningUnitOfWork,
    page: PageRequest,
    order_id: str | None,
    account_id: str | None,
    status: WorkflowStatus | None,
) -> Page[WorkflowPublic]:
    """A page of workflows with their tasks."""
    workflows = await uow.workflows.page(page, order_id=order_id, account_id=account_id, status=status)
    days = await account_dates(uow, {s.workflow.account_id for s in workflows.data})
    return public_page(workflows, lambda s: workflow_public(s.workflow, days[s.workflow.account_id]))


async def get_task(*, uow: ProvisioningUnitOfWork, task_id: str) -> TaskPublic:
    """One task."""
    workflow_id, task = await uow.workflows.get_task(task_id)
    wf = (await uow.workflows.get(workflow_id)).workflow
    return task_public(workflow_id, task, await account_date(uow, wf.account_id))


async def list_tasks(
    *,
    uow: ProvisioningUnitOfWork,
    page: PageRequest,
    overdue: bool | None,
    as_of: date | None,
    owner_team: str | None,
    state: TaskState | None,
    assignee: str | None,
    workflow_id: str | None,
) -> Page[TaskPublic]:
    """A page of tasks; `overdue=true` keeps those not done by their due date."""
    # Tasks of many accounts in one filtered page: "today" is UTC's unless `as_of` names the day.
    day = as_of or uow.business_date(UTC_ZONE)
    where = TaskFilter(
        owner_team=owner_team,
        state=state,
        assignee=assignee,
        workflow_id=workflow_id,
        overdue=overdue,
        as_of=day,
    )
    tasks = await uow.workflows.tasks_page(page, where)
    return public_page(tasks, lambda found: task_public(found[0], found[1], day))
