"""The catalog's use cases, one module per concept; each runs in one unit of work.

Routes import the module of their concept; the names below are the same functions, for callers
that want every use case in one namespace (the handler unit tests).
"""

from catalog.handlers.bundles import create_bundle, get_bundle, list_bundles, update_bundle
from catalog.handlers.contract_templates import (
    create_contract_template,
    get_contract_template,
    list_contract_templates,
    update_contract_template,
)
from catalog.handlers.cost_books import (
    create_cost_book,
    get_cost_book,
    list_cost_book_versions,
    list_cost_books,
    publish_cost_book_version,
)
from catalog.handlers.discounts import create_discount, get_discount, list_discounts, update_discount
from catalog.handlers.prices import (
    create_price,
    get_price,
    list_price_versions,
    list_prices,
    publish_price_version,
)
from catalog.handlers.products import create_product, get_product, list_products, update_product
from catalog.handlers.quotes import create_quote, get_quote, list_quotes

__all__ = [
    "create_bundle",
    "create_contract_template",
    "create_cost_book",
    "create_discount",
    "create_price",
    "create_product",
    "create_quote",
    "get_bundle",
    "get_contract_template",
    "get_cost_book",
    "get_discount",
    "get_price",
    "get_product",
    "get_quote",
    "list_bundles",
    "list_contract_templates",
    "list_cost_book_versions",
    "list_cost_books",
    "list_discounts",
    "list_price_versions",
    "list_prices",
    "list_products",
    "list_quotes",
    "publish_cost_book_version",
    "publish_price_version",
    "update_bundle",
    "update_contract_template",
    "update_discount",
    "update_product",
]
