"""The catalog's answers are read through the contract models in libs/contracts/catalog_api.py.

A malformed answer (a missing field, an unknown license type, a number that is not one) is
the catalog failing (CatalogUnavailable, a 503), never a silent default; and the catalog's own
response schemas carry every field the contract requires, with the same vocabulary.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, get_args

import httpx
import pytest
from pydantic import BaseModel

from catalog.schemas.discounts import DiscountPublic
from catalog.schemas.prices import PricePublic
from catalog.schemas.products import ProductPublic
from catalog.schemas.quotes import LineDiscountPublic, QuoteLinePublic, QuotePublic
from libs.contracts.catalog_api import (
    CatalogDiscountAnswer,
    CatalogPriceAnswer,
    CatalogProductAnswer,
    CatalogQuoteAnswer,
    CatalogQuotedDiscount,
    CatalogQuotedLine,
)
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, LicenseType, ProductKind
from provisioning.catalog_client import CatalogUnavailable, HttpCatalogClient, QuoteItem

PRODUCT = {
    "id": "prod_1",
    "sku": "WFM-SEAT",
    "name": "WFM seat",
    "kind": "license",
    "license_type": "committed",
    "vendor_id": "ven_wfm",
}
PRICE = {
    "id": "price_1",
    "product_id": "prod_1",
    "currency": "USD",
    "version": 2,
    "charge_type": "recurring",
    "billing_period": "annual",
    "timing": "in_advance",
}
DISCOUNT = {"id": "disc_1", "name": "Launch", "kind": "percent", "value": "15", "product_ids": []}
LINE = {
    "line_number": 1,
    "product_id": "prod_1",
    "price_id": "price_1",
    "price_version": 2,
    "quantity": "250",
    "unit_price": "144.00",
    "list_amount": "36000.00",
    "discounts": [{"discount_id": "disc_1", "name": "Launch", "amount": "5400.00"}],
    "discount_amount": "5400.00",
    "net_amount": "30600.00",
    "effective_percent_off": "15",
    "needs_approval": False,
}
QUOTE = {
    "id": "quo_1",
    "currency": "USD",
    "lines": [LINE],
    "subtotal": "36000.00",
    "discount_total": "5400.00",
    "total": "30600.00",
    "needs_approval": False,
}


def client_answering(body: Any) -> HttpCatalogClient:
    return HttpCatalogClient(
        "http://catalog",
        "key",
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=body)),
    )


async def test_well_formed_answers_are_read_with_the_shared_vocabulary() -> None:
    product = await client_answering(PRODUCT).get_product("prod_1")
    assert product is not None
    assert (product.kind, product.license_type) == (ProductKind.LICENSE, LicenseType.COMMITTED)
    price = await client_answering(PRICE).get_price("price_1", as_of=date(2026, 3, 1))
    assert price is not None
    assert (price.charge_type, price.billing_period, price.timing) == (
        ChargeType.RECURRING,
        BillingFrequency.ANNUAL,
        BillingTiming.IN_ADVANCE,
    )
    discount = await client_answering(DISCOUNT).get_discount("disc_1")
    assert discount is not None
    assert (discount.value, discount.approval_threshold_percent) == (Decimal(15), None)
    quote = await client_answering(QUOTE).quote(
        currency="USD", as_of=date(2026, 3, 1), items=[QuoteItem("price_1", Decimal(250))]
    )
    assert (quote.total, quote.lines[0].discounts[0].amount) == (Decimal("30600.00"), Decimal("5400.00"))


def without(data: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != field}


@pytest.mark.parametrize(
    "body",
    [
        without(PRODUCT, "license_type"),
        without(PRODUCT, "name"),
        {**PRODUCT, "license_type": "perpetual"},
        {**PRODUCT, "kind": None},
    ],
)
async def test_a_malformed_product_is_the_catalog_failing(body: dict[str, Any]) -> None:
    with pytest.raises(CatalogUnavailable):
        await client_answering(body).get_product("prod_1")


@pytest.mark.parametrize(
    "body",
    [
        without(PRICE, "version"),
        without(PRICE, "charge_type"),
        without(PRICE, "timing"),
        {**PRICE, "billing_period": "fortnightly"},
    ],
)
async def test_a_malformed_price_is_the_catalog_failing(body: dict[str, Any]) -> None:
    with pytest.raises(CatalogUnavailable):
        await client_answering(body).get_price("price_1", as_of=date(2026, 3, 1))


@pytest.mark.parametrize(
    "body", [without(DISCOUNT, "kind"), without(DISCOUNT, "value"), {**DISCOUNT, "value": "lots"}]
)
async def test_a_malformed_discount_is_the_catalog_failing(body: dict[str, Any]) -> None:
    with pytest.raises(CatalogUnavailable):
        await client_answering(body).get_discount("disc_1")


@pytest.mark.parametrize(
    "body",
    [
        without(QUOTE, "total"),
        without(QUOTE, "needs_approval"),
        {**QUOTE, "lines": [without(LINE, "needs_approval")]},
        {**QUOTE, "lines": [without(LINE, "discount_amount")]},
        {**QUOTE, "lines": [without(LINE, "price_version")]},
    ],
)
async def test_a_malformed_quote_is_the_catalog_failing(body: dict[str, Any]) -> None:
    with pytest.raises(CatalogUnavailable):
        await client_answering(body).quote(
            currency="USD", as_of=date(2026, 3, 1), items=[QuoteItem("price_1", Decimal(1))]
        )


@pytest.mark.parametrize(
    ("catalog_side", "contract"),
    [
        (ProductPublic, CatalogProductAnswer),
        (PricePublic, CatalogPriceAnswer),
        (DiscountPublic, CatalogDiscountAnswer),
        (QuotePublic, CatalogQuoteAnswer),
        (QuoteLinePublic, CatalogQuotedLine),
        (LineDiscountPublic, CatalogQuotedDiscount),
    ],
)
def test_the_catalogs_response_schema_carries_what_the_contract_requires(
    catalog_side: type[BaseModel], contract: type[BaseModel]
) -> None:
    """Every field the contract requires is one the catalog's response always writes (required,
    or with a default: the catalog serializes every field), with the same vocabulary."""
    served = catalog_side.model_json_schema(mode="serialization")["properties"]
    required = {name for name, field in contract.model_fields.items() if field.is_required()}
    assert required <= set(served), required - set(served)
    for name, field in contract.model_fields.items():
        enums = [k for k in (field.annotation, *get_args(field.annotation)) if _is_enum(k)]
        if enums and name in catalog_side.model_fields:
            theirs = catalog_side.model_fields[name].annotation
            assert enums[0] in (theirs, *get_args(theirs)), f"{catalog_side.__name__}.{name}"


def _is_enum(kind: object) -> bool:
    return isinstance(kind, type) and issubclass(kind, Enum)
