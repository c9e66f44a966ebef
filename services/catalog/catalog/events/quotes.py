"""Quote events -> `catalog.quote_created`."""

from __future__ import annotations

from catalog.domain.quotes import QuoteCreated
from catalog.events.common import Outgoing
from libs.contracts import catalog as contracts


def quote_created(event: QuoteCreated) -> Outgoing:
    """A saved quote's totals and approval flag, keyed by its id."""
    q = event.quote
    payload = contracts.QuoteCreated(
        quote_id=q.id,
        currency=q.currency,
        as_of=q.as_of,
        line_count=len(q.lines),
        subtotal=q.subtotal,
        discount_total=q.discount_total,
        total=q.total,
        needs_approval=q.needs_approval,
    )
    return Outgoing(payload, q.id)
