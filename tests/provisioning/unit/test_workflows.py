"""Provisioning workflows: templates as data, task ordering, overdue tasks and completion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from libs.platform.errors import Conflict, NotFound, ValidationFailed
from provisioning.domain.orders import DEFAULT_TERM_MONTHS, line_term_months
from provisioning.domain.workflows import (
    RESOLD_WFM_SEATS,
    STANDARD_ACTIVATION,
    TaskState,
    Workflow,
    WorkflowCompleted,
    WorkflowStatus,
    WorkflowStep,
    WorkflowTemplate,
    overdue,
    product_template,
    template_for,
)

from .factories import CLERK

STARTED = date(2026, 2, 2)


def resold_workflow() -> Workflow:
    """A freshly started resold-seat workflow, events cleared."""
    workflow = Workflow.start(
        RESOLD_WFM_SEATS,
        order_id="ord_test",
        account_id="acct_test",
        subscription_id="sub_test",
        started_on=STARTED,
        by=CLERK,
    )
    workflow.events.clear()
    return workflow


def finish(workflow: Workflow, key: str, on: date = date(2026, 2, 3)) -> None:
    """Start and complete one task."""
    workflow.start_task(key, by=CLERK)
    workflow.complete_task(key, on=on, by=CLERK)


def test_the_resold_template_follows_the_seed() -> None:
    assert [(s.key, s.owner_team) for s in RESOLD_WFM_SEATS.steps] == [
        ("verify_order_lines", "service_delivery"),
        ("request_vendor_quote", "voice_engineering"),
        ("submit_purchase_request", "voice_engineering"),
        ("vendor_paperwork_signed", "finance"),
        ("kickoff_scheduled", "project_management"),
    ]
    assert "3-year" in RESOLD_WFM_SEATS.steps[3].title
    assert "implementation engineer" in RESOLD_WFM_SEATS.steps[4].title


def test_templates_are_chosen_by_product_kind_or_sku() -> None:
    assert template_for(product_kind="resold_seats") is RESOLD_WFM_SEATS
    assert template_for(product_kind="workshop") is STANDARD_ACTIVATION
    custom = WorkflowTemplate(
        name="custom",
        skus=frozenset({"SKU-1"}),
        steps=(WorkflowStep("only", "Only step", "ops", 1),),
    )
    assert template_for(sku="SKU-1", templates=[RESOLD_WFM_SEATS, custom]) is custom


def test_a_template_may_only_require_earlier_steps() -> None:
    with pytest.raises(ValidationFailed):
        WorkflowTemplate(
            name="bad",
            steps=(
                WorkflowStep("a", "A", "ops", 1, requires=("b",)),
                WorkflowStep("b", "B", "ops", 1),
            ),
        )
    with pytest.raises(ValidationFailed):
        WorkflowTemplate(name="dup", steps=(WorkflowStep("a", "A", "ops", 1),) * 2)
    with pytest.raises(ValidationFailed):
        WorkflowTemplate(name="empty", steps=())


def test_starting_opens_one_task_per_step_with_due_dates() -> None:
    workflow = resold_workflow()
    assert [t.state for t in workflow.tasks] == [TaskState.OPEN] * 5
    assert workflow.task("verify_order_lines").due_date == date(2026, 2, 4)
    assert workflow.task("kickoff_scheduled").due_date == date(2026, 2, 23)
    assert [t.key for t in workflow.ready_tasks()] == ["verify_order_lines"]


def test_a_task_waits_for_the_tasks_it_requires() -> None:
    workflow = resold_workflow()
    with pytest.raises(Conflict, match="verify_order_lines"):
        workflow.start_task("request_vendor_quote", by=CLERK)
    assert workflow.task("request_vendor_quote").state is TaskState.OPEN
    finish(workflow, "verify_order_lines")
    workflow.start_task("request_vendor_quote", by="usr_john")
    task = workflow.task("request_vendor_quote")
    assert (task.state, task.assignee) == (TaskState.IN_PROGRESS, "usr_john")


def test_completing_every_task_completes_the_workflow_once() -> None:
    workflow = resold_workflow()
    for step in RESOLD_WFM_SEATS.steps[:-1]:
        finish(workflow, step.key)
        assert workflow.status is WorkflowStatus.RUNNING
    finish(workflow, "kickoff_scheduled", on=date(2026, 2, 20))
    assert workflow.status is WorkflowStatus.COMPLETED
    completed = [e for e in workflow.events if isinstance(e, WorkflowCompleted)]
    assert completed == [
        WorkflowCompleted(
            workflow.id,
            "resold_wfm_seats",
            "ord_test",
            "acct_test",
            "sub_test",
            date(2026, 2, 20),
        )
    ]


def test_standard_activation_completes_in_one_step() -> None:
    workflow = Workflow.start(
        STANDARD_ACTIVATION, order_id="ord_x", account_id="acct_x", started_on=STARTED, by=CLERK
    )
    finish(workflow, "activate_service")
    assert workflow.status is WorkflowStatus.COMPLETED


def test_overdue_lists_unfinished_tasks_past_their_due_date() -> None:
    workflow = resold_workflow()
    finish(workflow, "verify_order_lines")
    late = overdue(workflow.tasks, today=date(2026, 2, 10))
    # verify is done; the quote (due 02-07) and the purchase request (due 02-09) are late.
    assert [t.key for t in late] == ["request_vendor_quote", "submit_purchase_request"]
    assert workflow.overdue_tasks(date(2026, 2, 4)) == []


def test_blocking_and_unblocking_a_task() -> None:
    workflow = resold_workflow()
    workflow.block_task("verify_order_lines", reason="sales order missing SKU", by=CLERK)
    task = workflow.task("verify_order_lines")
    assert (task.state, task.blocked_reason) == (TaskState.BLOCKED, "sales order missing SKU")
    assert task.is_overdue(date(2026, 3, 1))
    workflow.unblock_task("verify_order_lines", by=CLERK)
    assert task.state is TaskState.OPEN
    with pytest.raises(ValidationFailed):
        workflow.block_task("verify_order_lines", reason=" ", by=CLERK)


def test_assignee_and_notes() -> None:
    workflow = resold_workflow()
    workflow.assign("request_vendor_quote", "usr_john")
    at = datetime(2026, 2, 3, 9, 30, tzinfo=UTC)
    workflow.add_note("request_vendor_quote", "Quote requested from vendor", by="usr_john", at=at)
    task = workflow.task("request_vendor_quote")
    assert task.assignee == "usr_john"
    assert [(n.by, n.text) for n in task.notes] == [("usr_john", "Quote requested from vendor")]
    with pytest.raises(ValidationFailed):
        workflow.add_note("request_vendor_quote", "", by="usr_john", at=at)


def test_an_unknown_task_is_not_found() -> None:
    with pytest.raises(NotFound):
        resold_workflow().start_task("nope", by=CLERK)


ACTIONS: dict[str, Callable[[Workflow], None]] = {
    "start": lambda w: w.start_task("verify_order_lines", by=CLERK),
    "complete": lambda w: w.complete_task("verify_order_lines", on=STARTED, by=CLERK),
    "block": lambda w: w.block_task("verify_order_lines", reason="waiting", by=CLERK),
    "unblock": lambda w: w.unblock_task("verify_order_lines", by=CLERK),
    "assign": lambda w: w.assign("verify_order_lines", "usr_x"),
}


def task_in(state: TaskState) -> Workflow:
    """A workflow whose first task is in `state`."""
    workflow = resold_workflow()
    if state in (TaskState.IN_PROGRESS, TaskState.DONE):
        workflow.start_task("verify_order_lines", by=CLERK)
    if state is TaskState.DONE:
        workflow.complete_task("verify_order_lines", on=STARTED, by=CLERK)
    if state is TaskState.BLOCKED:
        workflow.block_task("verify_order_lines", reason="waiting", by=CLERK)
    workflow.events.clear()
    return workflow


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (TaskState.OPEN, "complete"),
        (TaskState.OPEN, "unblock"),
        (TaskState.IN_PROGRESS, "start"),
        (TaskState.IN_PROGRESS, "unblock"),
        (TaskState.BLOCKED, "start"),
        (TaskState.BLOCKED, "complete"),
        (TaskState.BLOCKED, "block"),
        (TaskState.DONE, "start"),
        (TaskState.DONE, "complete"),
        (TaskState.DONE, "block"),
        (TaskState.DONE, "unblock"),
        (TaskState.DONE, "assign"),
    ],
)
def test_illegal_task_transitions_conflict(state: TaskState, action: str) -> None:
    workflow = task_in(state)
    with pytest.raises(Conflict):
        ACTIONS[action](workflow)
    assert workflow.task("verify_order_lines").state is state
    assert workflow.events == []


def test_a_lines_term_is_its_own_else_its_templates_else_the_default() -> None:
    resold = product_template(product_kind="license", vendor_id="ven_wfm", sku="WFM-SEAT")

    assert resold.name == "resold_wfm_seats"
    assert line_term_months(None, resold) == 36
    assert line_term_months(24, resold) == 24
    assert line_term_months(None, STANDARD_ACTIVATION) == DEFAULT_TERM_MONTHS
