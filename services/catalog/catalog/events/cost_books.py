"""Cost book events -> `catalog.cost_book_published`."""

from __future__ import annotations

from catalog.domain.cost_books import CostBookPublished
from catalog.events.common import Outgoing, tier_terms
from libs.contracts import catalog as contracts
from libs.platform.money import decimal_out


def cost_book_published(event: CostBookPublished) -> Outgoing:
    """A published cost book version, keyed by the cost book."""
    v = event.version
    payload = contracts.CostBookPublished(
        cost_book_id=v.cost_book_id,
        version=v.version,
        vendor_id=v.vendor_id,
        currency=v.currency,
        mode=v.mode,
        tier_period=v.tier_period,
        markup_percent=decimal_out(v.markup_percent),
        tiers=tier_terms(v.tiers),
        effective_from=v.effective_from,
        effective_to=v.effective_to,
    )
    return Outgoing(payload, v.cost_book_id)
