"""Bundle events -> `catalog.bundle_changed`."""

from __future__ import annotations

from catalog.domain.bundles import BundleChanged
from catalog.events.common import Outgoing
from libs.contracts import catalog as contracts
from libs.platform.money import decimal_out


def bundle_changed(event: BundleChanged) -> Outgoing:
    """A created or changed bundle, keyed by its id."""
    b = event.bundle
    payload = contracts.BundleChanged(
        bundle_id=b.id,
        change=event.change,
        name=b.name,
        components=[
            contracts.BundleComponentTerms(product_id=c.product_id, quantity=decimal_out(c.quantity))
            for c in b.components
        ],
        active=b.active,
    )
    return Outgoing(payload, b.id)
