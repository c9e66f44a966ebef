"""Provisioning workflows and their tasks on the service's database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest, paginate
from provisioning.domain.workflows import TaskNote, TaskState, Workflow, WorkflowStatus, WorkflowTask
from provisioning.handlers.records import StoredWorkflow, TaskFilter
from provisioning.handlers.unit_of_work import WorkflowRepository
from provisioning.models import WorkflowRow, WorkflowTaskRow
from provisioning.repository.common import children, get_row, rows_page, upsert, with_data


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


def _workflow_from_rows(row: WorkflowRow, tasks: Sequence[WorkflowTaskRow]) -> StoredWorkflow:
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


class SqlWorkflowRepository(WorkflowRepository):
    """Workflows and tasks in the service's database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    async def _with_tasks(self, rows: Sequence[WorkflowRow]) -> list[StoredWorkflow]:
        tasks = await children(
            self.session,
            WorkflowTaskRow,
            WorkflowTaskRow.workflow_id,
            [r.id for r in rows],
            WorkflowTaskRow.position,
        )
        return [_workflow_from_rows(row, tasks[row.id]) for row in rows]

    async def get(self, workflow_id: str, *, for_update: bool = False) -> StoredWorkflow:
        """The workflow with its tasks, or NotFound."""
        row = await get_row(self.session, WorkflowRow, "workflow", workflow_id, for_update=for_update)
        return (await self._with_tasks([row]))[0]

    async def get_task(self, task_id: str) -> tuple[str, WorkflowTask]:
        """A task and the id of its workflow, or NotFound."""
        row = await self.session.get(WorkflowTaskRow, task_id)
        if row is None:
            raise NotFound("task", task_id)
        return row.workflow_id, task_from_row(row)

    async def statuses_of_order(self, order_id: str) -> list[WorkflowStatus]:
        """The status of every workflow started for an order."""
        stmt = select(WorkflowRow.status).where(WorkflowRow.order_id == order_id)
        return [WorkflowStatus(status) for status in (await self.session.exec(stmt)).all()]

    async def page(
        self,
        page: PageRequest,
        *,
        order_id: str | None,
        account_id: str | None,
        status: WorkflowStatus | None,
    ) -> Page[StoredWorkflow]:
        """A page of workflows by id, with their tasks (two queries per page)."""
        rows = await rows_page(
            self.session,
            WorkflowRow,
            page,
            order_id=order_id,
            account_id=account_id,
            status=status.value if status else None,
        )
        return with_data(rows, await self._with_tasks(rows.data))

    async def tasks_page(self, page: PageRequest, where: TaskFilter) -> Page[tuple[str, WorkflowTask]]:
        """A page of tasks by id (with their workflow's id); `overdue` compares due dates to `as_of`."""
        stmt = select(WorkflowTaskRow)
        equal = {
            "owner_team": where.owner_team,
            "state": where.state.value if where.state else None,
            "assignee": where.assignee,
            "workflow_id": where.workflow_id,
        }
        for column, value in equal.items():
            if value:
                stmt = stmt.where(getattr(WorkflowTaskRow, column) == value)
        if where.overdue is not None and where.as_of is not None:
            late = (col(WorkflowTaskRow.state) != TaskState.DONE.value) & (
                col(WorkflowTaskRow.due_date) < where.as_of
            )
            stmt = stmt.where(late if where.overdue else ~late)
        return await paginate(
            self.session, stmt, WorkflowTaskRow.id, page, lambda r: (r.workflow_id, task_from_row(r))
        )

    async def save(self, stored: StoredWorkflow) -> None:
        """Stage a new or changed workflow and its tasks."""
        wf = stored.workflow
        existing = await self.session.get(WorkflowRow, wf.id)
        await upsert(
            self.session,
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
            await upsert(
                self.session,
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
        self._staged(stored)
