"""Order events → `libs.contracts.provisioning` payloads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from libs.contracts import provisioning as wire
from libs.contracts.envelope import EventPayload
from libs.platform.money import decimal_out, percent_out, unit_price_out
from provisioning.domain import orders as ords
from provisioning.events.common import Outgoing, taken
from provisioning.handlers.records import StoredOrder


def _line_info(line: ords.OrderLine, kind: ords.OrderKind) -> wire.OrderLineInfo:
    new = kind is ords.OrderKind.NEW
    return wire.OrderLineInfo(
        order_line_id=line.id,
        product_id=line.product_id,
        price_id=line.price_id,
        price_version=line.price_version,
        quantity=decimal_out(line.quantity),
        unit_price=unit_price_out(line.unit_list_price),
        discount_percent=percent_out(line.effective_discount_percent),
        license_type=line.license_type.value,
        term_months=line.term_months,
        subscription_id=line.subscription_id,
        effective_date=line.effective_date,
        renewal=line.renewal_policy.kind.value if new else None,
        renewal_months=line.renewal_policy.months if new else None,
        commitment_quantity=decimal_out(line.committed_quantity) if new else None,
        termination_fee_price_id=line.termination_fee_price_id,
    )


def contracts_of(stored: StoredOrder) -> list[Outgoing]:
    """The contracts of what an order recorded, keyed by its account."""
    order = stored.order
    return [(payload, order.account_id) for payload in order_payloads(taken(order))]


def order_payloads(events: Iterable[object]) -> Iterator[EventPayload]:
    """The wire events of an order's recorded events."""
    for event in events:
        if isinstance(event, ords.OrderSubmitted):
            yield wire.OrderSubmitted(
                order_id=event.order_id,
                account_id=event.account_id,
                customer_id=event.customer_id,
                kind=event.kind.value,
                currency=event.currency,
                approval_required=event.approval_required,
            )
        elif isinstance(event, ords.OrderApproved):
            yield wire.OrderApproved(
                order_id=event.order_id,
                account_id=event.account_id,
                customer_id=event.customer_id,
                kind=event.kind.value,
                currency=event.currency,
                automatic=event.automatic,
                lines=[_line_info(line, event.kind) for line in event.lines],
            )
        elif isinstance(event, ords.OrderCancelled):
            yield wire.OrderCancelled(
                order_id=event.order_id, account_id=event.account_id, reason=event.reason
            )
        elif isinstance(event, ords.OrderFulfilled):
            yield wire.OrderFulfilled(order_id=event.order_id, account_id=event.account_id)
