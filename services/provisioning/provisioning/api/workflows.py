"""`/v1/workflows` and `/v1/tasks`: provisioning workflows and the tasks teams work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.auth import Reader
from libs.platform.pagination import Page, PageParams
from provisioning import handlers
from provisioning import schemas as s
from provisioning.api.deps import Id, Operator, RuntimeDep, SessionDep, in_unit_of_work
from provisioning.domain.workflows import TaskState, WorkflowStatus

router = APIRouter(tags=["workflows and tasks"])
Filter = Annotated[str | None, Query(max_length=120)]


@router.get("/v1/workflows", response_model=Page[s.WorkflowPublic], summary="List workflows")
async def list_workflows(
    _: Reader,
    session: SessionDep,
    page: PageParams,
    order_id: Filter = None,
    account_id: Filter = None,
    status: WorkflowStatus | None = None,
) -> Page[s.WorkflowPublic]:
    return await handlers.list_workflows(
        session=session,
        page=page,
        order_id=order_id,
        account_id=account_id,
        status=status.value if status else None,
    )


@router.get("/v1/workflows/{workflow_id}", response_model=s.WorkflowPublic, summary="Get a workflow")
async def get_workflow(workflow_id: Id, _: Reader, session: SessionDep) -> s.WorkflowPublic:
    return await handlers.get_workflow(session=session, workflow_id=workflow_id)


@router.get("/v1/tasks", response_model=Page[s.TaskPublic], summary="List tasks (overdue=true: late ones)")
async def list_tasks(
    _: Reader,
    session: SessionDep,
    page: PageParams,
    overdue: bool | None = None,
    as_of: Annotated[s.Day | None, Query(description="The day overdue is judged on (today).")] = None,
    owner_team: Filter = None,
    state: TaskState | None = None,
    assignee: Filter = None,
    workflow_id: Filter = None,
) -> Page[s.TaskPublic]:
    return await handlers.list_tasks(
        session=session,
        page=page,
        overdue=overdue,
        as_of=as_of,
        owner_team=owner_team,
        state=state,
        assignee=assignee,
        workflow_id=workflow_id,
    )


@router.get("/v1/tasks/{task_id}", response_model=s.TaskPublic, summary="Get a task")
async def get_task(task_id: Id, _: Reader, session: SessionDep) -> s.TaskPublic:
    return await handlers.get_task(session=session, task_id=task_id)


@router.patch("/v1/tasks/{task_id}", response_model=s.TaskPublic, summary="Assign a task")
async def assign_task(task_id: Id, body: s.TaskUpdate, caller: Operator, rt: RuntimeDep) -> s.TaskPublic:
    return await in_unit_of_work(rt, caller, handlers.assign_task, task_id=task_id, assignee=body.assignee)


@router.post("/v1/tasks/{task_id}/start", response_model=s.TaskPublic, summary="Start a task")
async def start_task(task_id: Id, caller: Operator, rt: RuntimeDep) -> s.TaskPublic:
    return await in_unit_of_work(rt, caller, handlers.start_task, task_id=task_id)


@router.post(
    "/v1/tasks/{task_id}/complete",
    response_model=s.TaskPublic,
    summary="Complete a task (the last one activates the subscription)",
)
async def complete_task(task_id: Id, body: s.TaskComplete, caller: Operator, rt: RuntimeDep) -> s.TaskPublic:
    return await in_unit_of_work(
        rt, caller, handlers.complete_task, task_id=task_id, completed_on=body.completed_on
    )


@router.post("/v1/tasks/{task_id}/block", response_model=s.TaskPublic, summary="Block a task")
async def block_task(task_id: Id, body: s.TaskBlock, caller: Operator, rt: RuntimeDep) -> s.TaskPublic:
    return await in_unit_of_work(rt, caller, handlers.block_task, task_id=task_id, reason=body.reason)


@router.post("/v1/tasks/{task_id}/unblock", response_model=s.TaskPublic, summary="Unblock a task")
async def unblock_task(task_id: Id, caller: Operator, rt: RuntimeDep) -> s.TaskPublic:
    return await in_unit_of_work(rt, caller, handlers.unblock_task, task_id=task_id)


@router.post("/v1/tasks/{task_id}/notes", response_model=s.TaskPublic, summary="Add a note to a task")
async def add_task_note(
    task_id: Id, body: s.TaskNoteCreate, caller: Operator, rt: RuntimeDep
) -> s.TaskPublic:
    return await in_unit_of_work(rt, caller, handlers.add_task_note, task_id=task_id, text=body.text)
