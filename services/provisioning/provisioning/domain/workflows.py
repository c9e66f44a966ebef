"""Provisioning workflows: templates as data, and the tasks a workflow instance tracks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from libs.platform.errors import Conflict, NotFound, ValidationFailed
from libs.platform.ids import new_id

from .events import DomainEvent


@dataclass(frozen=True)
class WorkflowStep:
    """One step of a template: who owns it, how long it may take, what must come first."""

    key: str
    title: str
    owner_team: str
    due_in_days: int
    requires: tuple[str, ...] = ()
    # Teams that take part without owning the step (e.g. finance with voice engineering).
    collaborating_teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkflowTemplate:
    """The ordered steps that provision a kind of product, kept as data, not code.

    `term_months` is the committed term of what it provisions (resold seats: the vendor's
    3-year paperwork), used when an order line names no term; None leaves the default term.
    """

    name: str
    steps: tuple[WorkflowStep, ...]
    product_kinds: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    term_months: int | None = None

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for step in self.steps:
            if step.key in seen:
                raise ValidationFailed.single("steps", f"step {step.key!r} appears twice")
            missing = [key for key in step.requires if key not in seen]
            if missing:
                # Requiring only earlier steps keeps every template free of cycles.
                raise ValidationFailed.single(
                    "steps", f"step {step.key!r} requires {missing}, which do not come before it"
                )
            if step.due_in_days < 0:
                raise ValidationFailed.single("steps", f"step {step.key!r} is due in the past")
            seen.add(step.key)
        if not self.steps:
            raise ValidationFailed.single("steps", "a template needs at least one step")
        if self.term_months is not None and self.term_months <= 0:
            raise ValidationFailed.single("term_months", "a template's term is a positive number of months")

    def applies_to(self, *, product_kind: str | None = None, sku: str | None = None) -> bool:
        """True when this template provisions the given product kind or SKU."""
        return (sku is not None and sku in self.skus) or (
            product_kind is not None and product_kind in self.product_kinds
        )


RESOLD_WFM_SEATS = WorkflowTemplate(
    name="resold_wfm_seats",
    product_kinds=frozenset({"resold_seats"}),
    # The vendor paperwork is signed for a 3-year term (EXAMPLES case 1).
    term_months=36,
    steps=(
        WorkflowStep(
            key="verify_order_lines",
            title="Verify the sales-order line items and set expectations with sales",
            owner_team="service_delivery",
            due_in_days=2,
        ),
        WorkflowStep(
            key="request_vendor_quote",
            title="Request the vendor's quote",
            owner_team="voice_engineering",
            due_in_days=5,
            requires=("verify_order_lines",),
        ),
        WorkflowStep(
            key="submit_purchase_request",
            title="Submit the vendor paperwork through a purchase request",
            owner_team="voice_engineering",
            due_in_days=7,
            requires=("request_vendor_quote",),
        ),
        WorkflowStep(
            key="vendor_paperwork_signed",
            title="Vendor paperwork signed for the 3-year term",
            owner_team="finance",
            due_in_days=14,
            requires=("submit_purchase_request",),
            collaborating_teams=("voice_engineering",),
        ),
        WorkflowStep(
            key="kickoff_scheduled",
            title="Kickoff call scheduled with the vendor, implementation engineer invited",
            owner_team="project_management",
            due_in_days=21,
            requires=("vendor_paperwork_signed",),
        ),
    ),
)
"""Seed 000: completing the last step makes the subscription active."""

STANDARD_ACTIVATION = WorkflowTemplate(
    name="standard_activation",
    steps=(
        WorkflowStep(
            key="activate_service",
            title="Activate the service",
            owner_team="service_delivery",
            due_in_days=1,
        ),
    ),
)
"""The fallback for products without a dedicated template."""

DEFAULT_TEMPLATES: tuple[WorkflowTemplate, ...] = (RESOLD_WFM_SEATS,)


def provisioning_kind(*, product_kind: str | None, vendor_id: str | None) -> str | None:
    """The kind of provisioning a product needs: a product bought from a vendor is resold seats."""
    # The catalog says what a product is (license, workshop, …); whether it is resold shows in
    # its vendor. Resold seats need the vendor paperwork workflow (seed 000).
    return "resold_seats" if vendor_id else product_kind


def product_template(
    *,
    product_kind: str | None,
    vendor_id: str | None,
    sku: str | None,
    templates: Iterable[WorkflowTemplate] = DEFAULT_TEMPLATES,
) -> WorkflowTemplate:
    """The template that provisions a catalog product (its provisioning kind, else its SKU)."""
    kind = provisioning_kind(product_kind=product_kind, vendor_id=vendor_id)
    return template_for(product_kind=kind, sku=sku, templates=templates)


def template_for(
    *,
    product_kind: str | None = None,
    sku: str | None = None,
    templates: Iterable[WorkflowTemplate] = DEFAULT_TEMPLATES,
) -> WorkflowTemplate:
    """The template that provisions a product: its own by SKU or kind, else the standard one."""
    candidates = list(templates)
    for template in candidates:
        if sku is not None and sku in template.skus:
            return template
    for template in candidates:
        if template.applies_to(product_kind=product_kind):
            return template
    return STANDARD_ACTIVATION


class TaskState(StrEnum):
    """Where a task is."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


class WorkflowStatus(StrEnum):
    """A workflow runs until all of its tasks are done."""

    RUNNING = "running"
    COMPLETED = "completed"


@dataclass(frozen=True)
class TaskNote:
    """A remark on a task, kept in order."""

    at: datetime
    by: str
    text: str


@dataclass
class WorkflowTask:
    """One step of a running workflow, owned by a team and due on a date."""

    id: str
    key: str
    title: str
    owner_team: str
    due_date: date
    requires: tuple[str, ...] = ()
    state: TaskState = TaskState.OPEN
    assignee: str | None = None
    completed_on: date | None = None
    blocked_reason: str | None = None
    notes: list[TaskNote] = field(default_factory=list)

    def is_overdue(self, today: date) -> bool:
        """True when the task is not done and its due date has passed."""
        return self.state is not TaskState.DONE and self.due_date < today


def overdue(tasks: Iterable[WorkflowTask], today: date) -> list[WorkflowTask]:
    """The tasks not done by their due date, most overdue first."""
    return sorted((t for t in tasks if t.is_overdue(today)), key=lambda t: t.due_date)


@dataclass(frozen=True)
class WorkflowStarted(DomainEvent):
    """A provisioning workflow began for an order line."""

    workflow_id: str
    template_name: str
    order_id: str
    account_id: str
    subscription_id: str | None
    by: str


@dataclass(frozen=True)
class WorkflowCompleted(DomainEvent):
    """Every task is done; the service now activates the subscription."""

    workflow_id: str
    template_name: str
    order_id: str
    account_id: str
    subscription_id: str | None
    completed_on: date


@dataclass
class Workflow:
    """A running instance of a template for one order (and the subscription it provisions)."""

    id: str
    template_name: str
    order_id: str
    account_id: str
    subscription_id: str | None
    started_on: date
    tasks: list[WorkflowTask]
    status: WorkflowStatus = WorkflowStatus.RUNNING
    completed_on: date | None = None
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def start(
        cls,
        template: WorkflowTemplate,
        *,
        order_id: str,
        account_id: str,
        subscription_id: str | None = None,
        started_on: date,
        by: str,
    ) -> Workflow:
        """Open one task per template step, each due a number of days after the start."""
        workflow_id = new_id("wf")
        tasks = [
            WorkflowTask(
                id=new_id("task"),
                key=step.key,
                title=step.title,
                owner_team=step.owner_team,
                due_date=started_on + timedelta(days=step.due_in_days),
                requires=step.requires,
            )
            for step in template.steps
        ]
        workflow = cls(
            id=workflow_id,
            template_name=template.name,
            order_id=order_id,
            account_id=account_id,
            subscription_id=subscription_id,
            started_on=started_on,
            tasks=tasks,
        )
        workflow.events.append(
            WorkflowStarted(workflow_id, template.name, order_id, account_id, subscription_id, by)
        )
        return workflow

    def task(self, key: str) -> WorkflowTask:
        """The task for a step key, or NotFound."""
        for task in self.tasks:
            if task.key == key:
                return task
        raise NotFound("workflow task", key)

    def open_tasks(self) -> list[WorkflowTask]:
        """Tasks not done yet, in template order."""
        return [t for t in self.tasks if t.state is not TaskState.DONE]

    def ready_tasks(self) -> list[WorkflowTask]:
        """Open tasks whose required tasks are all done, i.e. what can start now."""
        return [t for t in self.tasks if t.state is TaskState.OPEN and not self._unfinished(t)]

    def assign(self, key: str, assignee: str) -> None:
        """Give a task to a person; a done task keeps who did it."""
        task = self._task_in(key, "assign", TaskState.OPEN, TaskState.IN_PROGRESS, TaskState.BLOCKED)
        task.assignee = assignee

    def add_note(self, key: str, text: str, *, by: str, at: datetime) -> None:
        """Append a note to a task (allowed in every state: notes are the audit trail)."""
        if not text.strip():
            raise ValidationFailed.single("text", "is required", "required")
        self.task(key).notes.append(TaskNote(at, by, text.strip()))

    def start_task(self, key: str, *, by: str) -> None:
        """open → in_progress, once the tasks it requires are done."""
        task = self._task_in(key, "start", TaskState.OPEN)
        unfinished = self._unfinished(task)
        if unfinished:
            raise Conflict(f"Task {key!r} waits for {', '.join(unfinished)} to be done")
        task.state = TaskState.IN_PROGRESS
        if task.assignee is None:
            task.assignee = by

    def block_task(self, key: str, *, reason: str, by: str) -> None:
        """open or in_progress → blocked, with the reason."""
        if not reason.strip():
            raise ValidationFailed.single("reason", "is required", "required")
        task = self._task_in(key, "block", TaskState.OPEN, TaskState.IN_PROGRESS)
        task.state = TaskState.BLOCKED
        task.blocked_reason = reason.strip()

    def unblock_task(self, key: str, *, by: str) -> None:
        """blocked → open; the task must be started again."""
        task = self._task_in(key, "unblock", TaskState.BLOCKED)
        task.state = TaskState.OPEN
        task.blocked_reason = None

    def complete_task(self, key: str, *, on: date, by: str) -> None:
        """in_progress → done; completing the last task completes the workflow."""
        task = self._task_in(key, "complete", TaskState.IN_PROGRESS)
        task.state = TaskState.DONE
        task.completed_on = on
        if all(t.state is TaskState.DONE for t in self.tasks):
            self.status = WorkflowStatus.COMPLETED
            self.completed_on = on
            self.events.append(
                WorkflowCompleted(
                    self.id,
                    self.template_name,
                    self.order_id,
                    self.account_id,
                    self.subscription_id,
                    on,
                )
            )

    def overdue_tasks(self, today: date) -> list[WorkflowTask]:
        """This workflow's tasks past their due date."""
        return overdue(self.tasks, today)

    def _task_in(self, key: str, action: str, *allowed: TaskState) -> WorkflowTask:
        task = self.task(key)
        if task.state not in allowed:
            raise Conflict(f"Cannot {action} task {key!r}: it is {task.state.value}")
        return task

    def _unfinished(self, task: WorkflowTask) -> Sequence[str]:
        return [key for key in task.requires if self.task(key).state is not TaskState.DONE]
