"""Rules between fields are in the OpenAPI document, and the document and the server agree on them.

Each body is checked twice: against its request schema in `/openapi.json` (JSON Schema) and by the
server (201 or 422). What a kind needs (an amount discount's currency, a percent at most 100, a
usage price's period and arrears timing, a contract's period, hours and what rolls over) is stated
with `oneOf`, so neither side may accept what the other refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from jsonschema_rs import Draft202012Validator

from tests.catalog.integration import factories as f
from tests.catalog.integration.conftest import CatalogClient

Body = Callable[[str], dict[str, Any]]  # from a product id


def _price(**overrides: Any) -> Body:
    return lambda product_id: f.per_unit_price(product_id, **overrides)


def _discount(**overrides: Any) -> Body:
    return lambda _: f.discount(**overrides)


def _template(kind: str, **overrides: Any) -> Body:
    return lambda _: f.contract_template(kind, **overrides)


_NO_BOUNDS = {"period_months": None, "hours": None}
CASES = [
    pytest.param("/v1/prices", "PriceCreate", _price(), True, id="recurring-with-period"),
    pytest.param("/v1/prices", "PriceCreate", _price(billing_period=None), False, id="recurring-no-period"),
    pytest.param(
        "/v1/prices", "PriceCreate", _price(charge_type="one_time", billing_period=None), True, id="one-time"
    ),
    pytest.param("/v1/prices", "PriceCreate", _price(charge_type="one_time"), False, id="one-time-period"),
    pytest.param(
        "/v1/prices",
        "PriceCreate",
        _price(charge_type="usage", timing="in_arrears"),
        True,
        id="usage-arrears",
    ),
    pytest.param("/v1/prices", "PriceCreate", _price(charge_type="usage"), False, id="usage-in-advance"),
    pytest.param("/v1/discounts", "DiscountCreate", _discount(), True, id="percent"),
    pytest.param("/v1/discounts", "DiscountCreate", _discount(currency="USD"), False, id="percent-currency"),
    pytest.param(
        "/v1/discounts",
        "DiscountCreate",
        _discount(kind="amount", currency="USD"),
        True,
        id="amount-currency",
    ),
    pytest.param("/v1/discounts", "DiscountCreate", _discount(kind="amount"), False, id="amount-no-currency"),
    pytest.param("/v1/discounts", "DiscountCreate", _discount(value="100.00"), True, id="percent-100"),
    pytest.param("/v1/discounts", "DiscountCreate", _discount(value="100.01"), False, id="percent-over-100"),
    pytest.param(
        "/v1/discounts",
        "DiscountCreate",
        _discount(kind="amount", currency="USD", value="250.00", approval_threshold_percent=None),
        True,
        id="amount-over-100",
    ),
    pytest.param(
        "/v1/contract-templates", "ContractTemplateCreate", _template("time_limited"), True, id="both"
    ),
    pytest.param(
        "/v1/contract-templates",
        "ContractTemplateCreate",
        _template("time_limited", hours=None),
        False,
        id="time-limited-no-hours",
    ),
    pytest.param(
        "/v1/contract-templates",
        "ContractTemplateCreate",
        _template("subscription", hours=None, on_expiry="ignore"),
        True,
        id="subscription",
    ),
    pytest.param(
        "/v1/contract-templates", "ContractTemplateCreate", _template("subscription"), False, id="sub-hours"
    ),
    pytest.param(
        "/v1/contract-templates",
        "ContractTemplateCreate",
        _template("support_hours", period_months=None),
        True,
        id="support-hours",
    ),
    pytest.param(
        "/v1/contract-templates",
        "ContractTemplateCreate",
        _template("per_incident", **_NO_BOUNDS, on_expiry="ignore"),
        True,
        id="per-incident",
    ),
    pytest.param(
        "/v1/contract-templates",
        "ContractTemplateCreate",
        _template("per_incident", hours=None, on_expiry="ignore"),
        False,
        id="per-incident-period",
    ),
    pytest.param(
        "/v1/contract-templates",
        "ContractTemplateCreate",
        _template("subscription", hours=None),
        False,
        id="rollover-without-hours",
    ),
]


@pytest.mark.parametrize(("path", "schema", "body", "valid"), CASES)
async def test_the_document_and_the_server_agree_on_what_a_kind_needs(
    catalog: CatalogClient, path: str, schema: str, body: Body, valid: bool
) -> None:
    product_id = (await catalog.created("/v1/products", f.product()))["id"]
    document = (await catalog.get("/openapi.json")).json()
    request_schema = Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": document["components"]}
    )
    request = body(product_id)

    assert request_schema.is_valid(request) is valid
    response = await catalog.post(path, request)
    assert response.status_code == (201 if valid else 422), response.text
