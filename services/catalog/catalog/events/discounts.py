"""Discount events -> `catalog.discount_changed`."""

from __future__ import annotations

from catalog.domain.discounts import DiscountChanged
from catalog.events.common import Outgoing
from libs.contracts import catalog as contracts
from libs.platform.money import amount_out, decimal_out, percent_out


def discount_changed(event: DiscountChanged) -> Outgoing:
    """A created or changed discount, keyed by its id."""
    d = event.discount
    payload = contracts.DiscountChanged(
        discount_id=d.id,
        change=event.change,
        name=d.name,
        kind=d.kind,
        value=decimal_out(d.value) if d.currency is None else amount_out(d.value, d.currency),
        currency=d.currency,
        duration_cycles=d.duration_cycles,
        product_ids=list(d.product_ids),
        approval_threshold_percent=percent_out(d.approval_threshold_percent),
        promo_code=d.promo_code,
        valid_from=d.valid_from,
        valid_to=d.valid_to,
        active=d.active,
    )
    return Outgoing(payload, d.id)
