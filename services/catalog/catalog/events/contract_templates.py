"""Contract template events -> `catalog.contract_template_changed`."""

from __future__ import annotations

from catalog.domain.common import plain_or_none
from catalog.domain.contract_templates import ContractTemplateChanged
from catalog.events.common import Outgoing
from libs.contracts import catalog as contracts


def contract_template_changed(event: ContractTemplateChanged) -> Outgoing:
    """A created or changed support-contract template, keyed by its id."""
    t = event.template
    payload = contracts.ContractTemplateChanged(
        template_id=t.id,
        change=event.change,
        name=t.name,
        kind=t.kind,
        period_months=t.period_months,
        hours=plain_or_none(t.hours),
        on_expiry=t.on_expiry,
        product_id=t.product_id,
    )
    return Outgoing(payload, t.id)
