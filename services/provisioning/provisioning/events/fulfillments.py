"""Fulfillment events → `libs.contracts.provisioning` payloads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from libs.contracts import provisioning as wire
from libs.contracts.envelope import EventPayload
from libs.platform.money import decimal_out, percent_out, unit_price_out
from provisioning.domain import fulfillments as ful
from provisioning.events.common import Outgoing, taken
from provisioning.handlers.records import StoredFulfillment


def contracts_of(stored: StoredFulfillment) -> list[Outgoing]:
    """The contracts of what a fulfillment recorded, keyed by its account."""
    fulfillment = stored.fulfillment
    return [(payload, fulfillment.account_id) for payload in fulfillment_payloads(taken(fulfillment))]


def fulfillment_payloads(events: Iterable[object]) -> Iterator[EventPayload]:
    """`fulfillment.completed`, once, with every line's consumed and billable quantity."""
    for event in events:
        if isinstance(event, ful.FulfillmentCompleted):
            currency = ful.currency_of(event.lines)
            yield wire.FulfillmentCompleted(
                fulfillment_id=event.fulfillment_id,
                order_id=event.order_id,
                account_id=event.account_id,
                currency=currency,
                associated_project_id=event.associated_project_id,
                completed_on=event.completed_on,
                lines=[
                    wire.FulfilledLine(
                        order_line_id=line.order_line_id,
                        product_id=line.product_id,
                        license_type=line.license_type.value,
                        consumed_quantity=decimal_out(line.consumed_quantity),
                        billable_quantity=decimal_out(line.billable_quantity),
                        unit_price=unit_price_out(line.unit_list_price),
                        discount_percent=percent_out(line.discount_percent or Decimal(0)),
                    )
                    for line in event.lines
                ],
            )
