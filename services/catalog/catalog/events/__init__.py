"""Domain events -> `libs.contracts` payloads: the one path by which the catalog's changes leave it.

Aggregates record domain events; on commit the unit of work passes each to `contract_of`, which
finds the concept's mapper and returns the contract payload and its partition key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.domain.bundles import BundleChanged
from catalog.domain.contract_templates import ContractTemplateChanged
from catalog.domain.cost_books import CostBookPublished
from catalog.domain.discounts import DiscountChanged
from catalog.domain.prices import PricePublished
from catalog.domain.products import ProductChanged
from catalog.domain.quotes import QuoteCreated
from catalog.events import bundles as bundle_events
from catalog.events import contract_templates as contract_template_events
from catalog.events import cost_books as cost_book_events
from catalog.events import discounts as discount_events
from catalog.events import prices as price_events
from catalog.events import products as product_events
from catalog.events import quotes as quote_events
from catalog.events.common import Outgoing

MAPPERS: dict[type[Any], Callable[[Any], Outgoing]] = {
    ProductChanged: product_events.product_changed,
    PricePublished: price_events.price_published,
    CostBookPublished: cost_book_events.cost_book_published,
    BundleChanged: bundle_events.bundle_changed,
    DiscountChanged: discount_events.discount_changed,
    ContractTemplateChanged: contract_template_events.contract_template_changed,
    QuoteCreated: quote_events.quote_created,
}


def contract_of(event: object) -> Outgoing:
    """The contract payload and partition key of a domain event (TypeError for an unmapped one)."""
    mapper = MAPPERS.get(type(event))
    if mapper is None:
        raise TypeError(f"no contract for domain event {type(event).__name__}")
    return mapper(event)
