"""Workflow events → `libs.contracts.provisioning` payloads."""

from __future__ import annotations

from collections.abc import Iterator

from libs.contracts import provisioning as wire
from libs.contracts.envelope import EventPayload
from provisioning.domain import workflows as wfs


def workflow_payloads(workflow: wfs.Workflow) -> Iterator[EventPayload]:
    """The wire events of a workflow's recorded events (task steps are audited, not published)."""
    for event in workflow.events:
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
