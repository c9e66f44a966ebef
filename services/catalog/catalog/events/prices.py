"""Price events -> `catalog.price_published`."""

from __future__ import annotations

from catalog.domain.prices import PricePublished
from catalog.events.common import Outgoing, tier_terms
from libs.contracts import catalog as contracts
from libs.platform.money import amount_out, decimal_out, unit_price_out


def price_published(event: PricePublished) -> Outgoing:
    """A published price version, keyed by its product (a product's prices stay in order)."""
    v, terms = event.version, event.version.terms
    payload = contracts.PricePublished(
        price_id=v.price_id,
        version=v.version,
        product_id=v.product_id,
        currency=v.currency,
        charge_type=v.charge_type,
        billing_period=v.billing_period,
        timing=v.timing,
        model=terms.model,
        unit_price=unit_price_out(terms.unit_price),
        amount=amount_out(terms.amount, v.currency),
        tiers=tier_terms(terms.tiers),
        package_size=decimal_out(terms.package_size),
        included_quantity=decimal_out(terms.included_quantity),
        minimum_commitment=amount_out(terms.minimum_commitment, v.currency),
        cost_book_id=terms.cost_book_id,
        effective_from=v.effective_from,
        effective_to=v.effective_to,
        previous_version_effective_to=event.previous_version_effective_to,
    )
    return Outgoing(payload, v.product_id)
