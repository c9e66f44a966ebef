"""`/v1/workflows` and `/v1/tasks`: provisioning workflows and the tasks teams work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.auth import Reader
from libs.platform.pagination import Page, PageParams
from provisioning.api.deps import NO_NUL, Id, Operator, ReadUow, RuntimeDep, in_unit_of_work
from provisioning.domain.workflows import TaskState, WorkflowStatus
from provisioning.handlers import workflows as handlers
from provisioning.schemas.common import Day
from provisioning.schemas.workflows import (
    TaskBlock,
    TaskComplete,
    TaskNoteCreate,
    TaskPublic,
    TaskUpdate,
    WorkflowPublic,
)

router = APIRouter(tags=["workflows and tasks"])
Filter = Annotated[str | None, Query(max_length=120, pattern=NO_NUL)]


@router.get("/v1/workflows", response_model=Page[WorkflowPublic], summary="List workflows")
async def list_workflows(
    _: Reader,
    uow: ReadUow,
    page: PageParams,
    order_id: Filter = None,
    account_id: Filter = None,
    status: WorkflowStatus | None = None,
) -> Page[WorkflowPublic]:
    return await handlers.list_workflows(
        uow=uow,
        page=page,
        order_id=order_id,
        account_id=account_id,
        status=status,
    )


@router.get("/v1/workflows/{workflow_id}", response_model=WorkflowPublic, summary="Get a workflow")
async def get_workflow(workflow_id: Id, _: Reader, uow: ReadUow) -> WorkflowPublic:
    return await handlers.get_workflow(uow=uow, workflow_id=workflow_id)


@router.get("/v1/tasks", response_model=Page[TaskPublic], summary="List tasks (overdue=true: late ones)")
async def list_tasks(
    _: Reader,
    uow: ReadUow,
    page: PageParams,
    overdue: bool | None = None,
    as_of: Annotated[Day | None, Query(description="The day overdue is judged on (today).")] = None,
    owner_team: Filter = None,
    state: TaskState | None = None,
    assignee: Filter = None,
    workflow_id: Filter = None,
) -> Page[TaskPublic]:
    return await handlers.list_tasks(
        uow=uow,
        page=page,
        overdue=overdue,
        as_of=as_of,
        owner_team=owner_team,
        state=state,
        assignee=assignee,
        workflow_id=workflow_id,
    )


@router.get("/v1/tasks/{task_id}", response_model=TaskPublic, summary="Get a task")
async def get_task(task_id: Id, _: Reader, uow: ReadUow) -> TaskPublic:
    return await handlers.get_task(uow=uow, task_id=task_id)


@router.patch("/v1/tasks/{task_id}", response_model=TaskPublic, summary="Assign a task")
async def assign_task(task_id: Id, body: TaskUpdate, caller: Operator, rt: RuntimeDep) -> TaskPublic:
    return await in_unit_of_work(rt, caller, handlers.assign_task, task_id=task_id, assignee=body.assignee)


@router.post("/v1/tasks/{task_id}/start", response_model=TaskPublic, summary="Start a task")
async def start_task(task_id: Id, caller: Operator, rt: RuntimeDep) -> TaskPublic:
    return await in_unit_of_work(rt, caller, handlers.start_task, task_id=task_id)


@router.post(
    "/v1/tasks/{task_id}/complete",
    response_model=TaskPublic,
    summary="Complete a task (the last one activates the subscription)",
)
async def complete_task(task_id: Id, body: TaskComplete, caller: Operator, rt: RuntimeDep) -> TaskPublic:
    return await in_unit_of_work(
        rt, caller, handlers.complete_task, task_id=task_id, completed_on=body.completed_on
    )


@router.post("/v1/tasks/{task_id}/block", response_model=TaskPublic, summary="Block a task")
async def block_task(task_id: Id, body: TaskBlock, caller: Operator, rt: RuntimeDep) -> TaskPublic:
    return await in_unit_of_work(rt, caller, handlers.block_task, task_id=task_id, reason=body.reason)


@router.post("/v1/tasks/{task_id}/unblock", response_model=TaskPublic, summary="Unblock a task")
async def unblock_task(task_id: Id, caller: Operator, rt: RuntimeDep) -> TaskPublic:
    return await in_unit_of_work(rt, caller, handlers.unblock_task, task_id=task_id)


@router.post("/v1/tasks/{task_id}/notes", response_model=TaskPublic, summary="Add a note to a task")
async def add_task_note(task_id: Id, body: TaskNoteCreate, caller: Operator, rt: RuntimeDep) -> TaskPublic:
    return await in_unit_of_work(rt, caller, handlers.add_task_note, task_id=task_id, text=body.text)
