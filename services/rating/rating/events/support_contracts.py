"""Support contract events -> `support.contract_changed`."""

from __future__ import annotations

from libs.contracts import support as contracts
from libs.contracts.envelope import EventPayload
from libs.platform.money import decimal_out
from rating.domain.support_contracts import SupportContractChanged

Outgoing = tuple[EventPayload, str]
"""A contract payload and its partition key (the account id)."""


def support_contract_changed(event: SupportContractChanged) -> Outgoing:
    """A contract's state after a change, keyed by its holder's account."""
    c = event.contract
    payload = contracts.SupportContractChanged(
        contract_id=c.id,
        change=event.change.value,
        template_id=c.template_id,
        kind=c.kind,
        holder_type=c.holder_type.value,
        holder_id=c.holder_id,
        account_id=c.account_id,
        request_id=c.request_id,
        product_id=c.product_id,
        starts_on=c.starts_on,
        ends_on=c.ends_on,
        hours_granted=decimal_out(c.hours_granted),
        hours_used=decimal_out(c.hours_used),
        on_expiry=c.on_expiry,
        state=c.state_at(event.at).value,
        changed_at=event.at,
    )
    return payload, c.account_id
