"""Workflow events → `libs.contracts.provisioning` payloads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from libs.contracts import provisioning as wire
from libs.contracts.envelope import EventPayload
from provisioning.domain import workflows as wfs
from provisioning.events.common import Outgoing, taken
from provisioning.handlers.records import StoredWorkflow


def contracts_of(stored: StoredWorkflow) -> list[Outgoing]:
    """The contracts of what a workflow recorded, keyed by its account."""
    workflow = stored.workflow
    return [(payload, workflow.account_id) for payload in workflow_payloads(taken(workflow))]


def workflow_payloads(events: Iterable[object]) -> Iterator[EventPayload]:
    """The wire events of a workflow's recorded events (task steps are audited, not published)."""
    for event in events:
        if isinstance(event, wfs.WorkflowStarted):
            yield wire.WorkflowStarted(
                workflow_id=event.workflow_id,
                template_name=event.template_name,
                order_id=event.order_id,
                account_id=event.account_id,
                subscription_id=event.subscription_id,
            )
        elif isinstance(event, wfs.WorkflowCompleted):
            yield wire.WorkflowCompleted(
                workflow_id=event.workflow_id,
                template_name=event.template_name,
                order_id=event.order_id,
                account_id=event.account_id,
                subscription_id=event.subscription_id,
                completed_on=event.completed_on,
            )
