"""Support request events -> `support.request_opened`, `support.time_logged`,
`support.request_closed` and `support.incident_charged` (the per-incident one-time charge)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from libs.contracts import support as contracts
from libs.platform.money import decimal_out
from rating.domain.support_contracts import SupportContractChanged
from rating.domain.support_requests import (
    SupportIncidentCharged,
    SupportRequestClosed,
    SupportRequestOpened,
    SupportTimeLogged,
)
from rating.events.support_contracts import Outgoing, support_contract_changed


def support_request_opened(event: SupportRequestOpened) -> Outgoing:
    """A request opened under the contract the validation order found."""
    r = event.request
    payload = contracts.SupportRequestOpened(
        request_id=r.id,
        subscription_id=r.subscription_id,
        account_id=r.account_id,
        opened_at=r.opened_at,
        contract_id=r.coverage_contract_id,
        coverage_step=r.coverage_step.value,
    )
    return payload, r.account_id


def support_time_logged(event: SupportTimeLogged) -> Outgoing:
    """Time logged and where it went."""
    r, entry = event.request, event.entry
    payload = contracts.SupportTimeLogged(
        entry_id=entry.id,
        request_id=r.id,
        subscription_id=r.subscription_id,
        account_id=r.account_id,
        hours=decimal_out(entry.hours),
        logged_at=entry.logged_at,
        covered_hours=decimal_out(entry.split.covered),
        rolled_over_hours=decimal_out(entry.split.rolled_over),
        uncovered_hours=decimal_out(entry.split.uncovered),
        allocations=[
            contracts.TimeAllocation(contract_id=a.contract_id, hours=decimal_out(a.hours), rule=a.rule.value)
            for a in entry.split.allocations
        ],
    )
    return payload, r.account_id


def support_request_closed(event: SupportRequestClosed) -> Outgoing:
    """A request closed."""
    r = event.request
    assert r.closed_at is not None
    payload = contracts.SupportRequestClosed(
        request_id=r.id,
        subscription_id=r.subscription_id,
        account_id=r.account_id,
        closed_at=r.closed_at,
        hours_logged=decimal_out(r.hours_logged),
        hours_uncovered=decimal_out(r.hours_uncovered),
    )
    return payload, r.account_id


def support_incident_charged(event: SupportIncidentCharged) -> Outgoing:
    """The one-time charge of a per-incident contract, for invoicing."""
    c, r = event.contract, event.request
    assert c.product_id is not None
    payload = contracts.SupportIncidentCharged(
        contract_id=c.id,
        request_id=r.id,
        account_id=r.account_id,
        subscription_id=r.subscription_id,
        template_id=c.template_id,
        product_id=c.product_id,
        quantity=Decimal(1),
        currency=event.currency,
        charged_on=event.charged_on,
    )
    return payload, r.account_id


MAPPERS: dict[type[Any], Callable[[Any], Outgoing]] = {
    SupportContractChanged: support_contract_changed,
    SupportRequestOpened: support_request_opened,
    SupportTimeLogged: support_time_logged,
    SupportRequestClosed: support_request_closed,
    SupportIncidentCharged: support_incident_charged,
}


def outgoing_of(event: object) -> Outgoing:
    """The contract payload and partition key of a support domain event (TypeError for an unmapped one)."""
    mapper = MAPPERS.get(type(event))
    if mapper is None:
        raise TypeError(f"no contract for domain event {type(event).__name__}")
    return mapper(event)
