"""Provisioning workflows and tasks: what the API accepts and shows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from libs.platform.text import NON_BLANK_TEXT
from provisioning.domain.workflows import TaskState, Workflow, WorkflowStatus, WorkflowTask
from provisioning.schemas.common import Command, Day, UserId


class TaskNotePublic(BaseModel):
    """A note on a task."""

    at: datetime
    by: str
    text: str


class TaskPublic(BaseModel):
    """A workflow task."""

    id: str
    workflow_id: str
    key: str
    title: str
    owner_team: str
    state: TaskState
    assignee: str | None
    due_date: date
    requires: list[str]
    completed_on: date | None
    blocked_reason: str | None
    overdue: bool
    notes: list[TaskNotePublic]


class WorkflowPublic(BaseModel):
    """A provisioning workflow and its tasks."""

    id: str
    template_name: str
    order_id: str
    account_id: str
    subscription_id: str | None
    status: WorkflowStatus
    started_on: date
    completed_on: date | None
    tasks: list[TaskPublic]


class TaskUpdate(Command):
    """Give a task to someone."""

    assignee: UserId


class TaskComplete(Command):
    """Complete a task, on a date (today when omitted)."""

    completed_on: Day | None = None


class TaskBlock(Command):
    """Block a task, with the reason."""

    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000), NON_BLANK_TEXT]


class TaskNoteCreate(Command):
    """A note for a task."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=4000), NON_BLANK_TEXT]


def task_public(workflow_id: str, t: WorkflowTask, today: date) -> TaskPublic:
    """A task as shown."""
    return TaskPublic(
        id=t.id,
        workflow_id=workflow_id,
        key=t.key,
        title=t.title,
        owner_team=t.owner_team,
        state=t.state,
        assignee=t.assignee,
        due_date=t.due_date,
        requires=list(t.requires),
        completed_on=t.completed_on,
        blocked_reason=t.blocked_reason,
        overdue=t.is_overdue(today),
        notes=[TaskNotePublic(at=n.at, by=n.by, text=n.text) for n in t.notes],
    )


def workflow_public(wf: Workflow, today: date) -> WorkflowPublic:
    """A workflow and its tasks as shown."""
    return WorkflowPublic(
        id=wf.id,
        template_name=wf.template_name,
        order_id=wf.order_id,
        account_id=wf.account_id,
        subscription_id=wf.subscription_id,
        status=wf.status,
        started_on=wf.started_on,
        completed_on=wf.completed_on,
        tasks=[task_public(wf.id, t, today) for t in wf.tasks],
    )
