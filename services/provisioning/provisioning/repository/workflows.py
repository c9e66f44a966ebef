"""Provisioning workflows and their tasks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from libs.platform.errors import NotFound
from provisioning.domain.workflows import TaskNote, TaskState, Workflow, WorkflowStatus, WorkflowTask
from provisioning.models import (
    WorkflowRow,
    WorkflowTaskRow,
)
from provisioning.repository.common import _children, _row, _upsert


@dataclass
class StoredWorkflow:
    """A workflow and the order line it provisions."""

    workflow: Workflow
    order_line_id: str | None = None


def task_from_row(row: WorkflowTaskRow) -> WorkflowTask:
    """Domain task of a row."""
    return WorkflowTask(
        id=row.id,
        key=row.key,
        title=row.title,
        owner_team=row.owner_team,
        due_date=row.due_date,
        requires=tuple(json.loads(row.requires)),
        state=TaskState(row.state),
        assignee=row.assignee,
        completed_on=row.completed_on,
        blocked_reason=row.blocked_reason,
        notes=[TaskNote(datetime.fromisoformat(n["at"]), n["by"], n["text"]) for n in json.loads(row.notes)],
    )


async def get_workflow(
    session: AsyncSession, workflow_id: str, *, for_update: bool = False
) -> StoredWorkflow:
    """The workflow with its tasks, or NotFound."""
    row = await _row(session, WorkflowRow, "workflow", workflow_id, for_update=for_update)
    tasks = await _children(
        session, WorkflowTaskRow, WorkflowTaskRow.workflow_id, workflow_id, WorkflowTaskRow.position
    )
    workflow = Workflow(
        id=row.id,
        template_name=row.template_name,
        order_id=row.order_id,
        account_id=row.account_id,
        subscription_id=row.subscription_id,
        started_on=row.started_on,
        tasks=[task_from_row(t) for t in tasks],
        status=WorkflowStatus(row.status),
        completed_on=row.completed_on,
    )
    return StoredWorkflow(workflow, row.order_line_id)


async def workflow_id_of_task(session: AsyncSession, task_id: str) -> str:
    """The workflow a task belongs to, or NotFound."""
    row = await session.get(WorkflowTaskRow, task_id)
    if row is None:
        raise NotFound("task", task_id)
    return row.workflow_id


async def save_workflow(session: AsyncSession, stored: StoredWorkflow) -> None:
    """Insert or update a workflow and its tasks."""
    wf = stored.workflow
    existing = await session.get(WorkflowRow, wf.id)
    await _upsert(
        session,
        WorkflowRow,
        wf.id,
        {
            "id": wf.id,
            "template_name": wf.template_name,
            "order_id": wf.order_id,
            "order_line_id": stored.order_line_id,
            "account_id": wf.account_id,
            "subscription_id": wf.subscription_id,
            "started_on": wf.started_on,
            "status": wf.status.value,
            "completed_on": wf.completed_on,
            "created_at": existing.created_at if existing else utcnow(),
        },
    )
    for position, task in enumerate(wf.tasks):
        await _upsert(
            session,
            WorkflowTaskRow,
            task.id,
            {
                "id": task.id,
                "workflow_id": wf.id,
                "position": position,
                "key": task.key,
                "title": task.title,
                "owner_team": task.owner_team,
                "due_date": task.due_date,
                "requires": json.dumps(list(task.requires)),
                "state": task.state.value,
                "assignee": task.assignee,
                "completed_on": task.completed_on,
                "blocked_reason": task.blocked_reason,
                "notes": json.dumps(
                    [{"at": n.at.isoformat(), "by": n.by, "text": n.text} for n in task.notes]
                ),
            },
        )


async def workflows_of_order(session: AsyncSession, order_id: str) -> list[WorkflowRow]:
    """Every workflow started for an order."""
    return list((await session.exec(select(WorkflowRow).where(WorkflowRow.order_id == order_id))).all())
