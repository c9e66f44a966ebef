"""Product events -> `catalog.product_changed`."""

from __future__ import annotations

from catalog.domain.products import ProductChanged
from catalog.events.common import Outgoing
from libs.contracts import catalog as contracts


def product_changed(event: ProductChanged) -> Outgoing:
    """A created or changed product, keyed by its id."""
    p = event.product
    payload = contracts.ProductChanged(
        product_id=p.id,
        change=event.change,
        sku=p.sku,
        name=p.name,
        kind=p.kind,
        unit_of_measure=p.unit_of_measure,
        license_type=p.license_type,
        revenue_rule=p.revenue_rule,
        tax_code=p.tax_code,
        vendor_id=p.vendor_id,
        active=p.active,
    )
    return Outgoing(payload, p.id)
