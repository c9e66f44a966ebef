"""Contract template events -> `catalog.contract_template_changed`."""

from __future__ import annotations

from catalog.domain.contract_templates import ContractTemplateChanged
from catalog.events.common import Outgoing
from libs.contracts import catalog as contracts
from libs.platform.money import decimal_out


def contract_template_changed(event: ContractTemplateChanged) -> Outgoing:
    """A created or changed support-contract template, keyed by its id."""
    t = event.template
    payload = contracts.ContractTemplateChanged(
        template_id=t.id,
        change=event.change,
        name=t.name,
        kind=t.kind,
        period_months=t.period_months,
        hours=decimal_out(t.hours),
        on_expiry=t.on_expiry,
        product_id=t.product_id,
    )
    return Outgoing(payload, t.id)
