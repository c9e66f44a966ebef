"""Dunning policies -> `dunning_policy.changed`, keyed by the policy (or the account on an
assignment) (libs/contracts/collections.py)."""

from __future__ import annotations

from datetime import datetime

from invoicing.domain.dunning import DunningPolicy
from libs.contracts import collections as contracts
from libs.contracts.envelope import EventPayload
from libs.platform.money import amount_out


def policy_changed(
    change: str, policy: DunningPolicy | None, at: datetime, *, account_id: str | None = None
) -> tuple[EventPayload, str]:
    """A change of a policy (or of an account's policy), with the policy as it stands."""
    fields: dict[str, object] = {"policy_id": None}
    if policy is not None:
        fields = {
            "policy_id": policy.id,
            "name": policy.name,
            "description": policy.description,
            "is_default": policy.is_default,
            "steps": [
                contracts.DunningPolicyStep(
                    days_past_due=step.days_past_due,
                    action=step.action.value,
                    min_amounts={c: amount_out(a, c) for c, a in step.min_amounts.items()},
                )
                for step in policy.steps
            ],
        }
    payload = contracts.DunningPolicyChanged(
        change=change,
        account_id=account_id,
        changed_at=at,
        **fields,
    )
    key = account_id if account_id is not None else (policy.id if policy is not None else "")
    return payload, key
