"""Request bodies for the catalog API: sensible defaults, override what a test is about."""

from __future__ import annotations

import itertools
from typing import Any

_skus = itertools.count(1)


def tier(up_to: str | None, unit_price: str, flat_fee: str | None = None) -> dict[str, Any]:
    """One band (up_to None = the open last band)."""
    body: dict[str, Any] = {"up_to": up_to, "unit_price": unit_price}
    if flat_fee is not None:
        body["flat_fee"] = flat_fee
    return body


def product(**overrides: Any) -> dict[str, Any]:
    """A per-seat platform license with a fresh SKU."""
    body: dict[str, Any] = {
        "sku": f"SKU-{next(_skus):05d}",
        "name": "Platform license",
        "kind": "license",
        "unit_of_measure": "seat",
        "license_type": "subscription",
        "revenue_rule": "ratable",
        "tax_code": "SW050000",
    }
    body.update(overrides)
    return body


def _price(product_id: str, terms: dict[str, Any]) -> dict[str, Any]:
    """A monthly recurring USD price in advance from 2026-01-01; `terms` set the model and override."""
    body: dict[str, Any] = {
        "product_id": product_id,
        "currency": "USD",
        "charge_type": "recurring",
        "billing_period": "monthly",
        "timing": "in_advance",
        "effective_from": "2026-01-01",
    }
    body.update(terms)
    return body


def per_unit_price(product_id: str, unit_price: str = "150.00", **overrides: Any) -> dict[str, Any]:
    """A monthly per-unit USD price in force from 2026-01-01."""
    return _price(product_id, {"model": "per_unit", "unit_price": unit_price, **overrides})


def tiered_price(
    product_id: str, model: str, tiers: list[dict[str, Any]], **overrides: Any
) -> dict[str, Any]:
    """A monthly usage price, graduated or volume, in arrears."""
    terms = {"model": model, "charge_type": "usage", "timing": "in_arrears", "tiers": tiers}
    return _price(product_id, {**terms, **overrides})


def cost_plus_price(product_id: str, cost_book_id: str, **overrides: Any) -> dict[str, Any]:
    """A monthly cost-plus price on a vendor cost book."""
    return _price(product_id, {"model": "cost_plus", "cost_book_id": cost_book_id, **overrides})


def cost_book(**overrides: Any) -> dict[str, Any]:
    """A resold-seat cost book: volume 1-200 20.00, 201-1000 16.00, 1001+ 13.50; markup 25%."""
    body: dict[str, Any] = {
        "vendor_id": "ven_rostering",
        "name": "Rostering seats",
        "currency": "USD",
        "mode": "volume",
        "markup_percent": "25",
        "tiers": [tier("200", "20.00"), tier("1000", "16.00"), tier(None, "13.50")],
        "effective_from": "2026-01-01",
    }
    body.update(overrides)
    return body


def discount(**overrides: Any) -> dict[str, Any]:
    """A 10% discount on every product, approval above 15%."""
    body: dict[str, Any] = {
        "name": "Partner 10%",
        "kind": "percent",
        "value": "10",
        "approval_threshold_percent": "15",
    }
    body.update(overrides)
    return body


def bundle(*components: tuple[str, str], **overrides: Any) -> dict[str, Any]:
    """A bundle of (product_id, quantity) components."""
    body: dict[str, Any] = {
        "name": "Onboarding bundle",
        "components": [{"product_id": p, "quantity": q} for p, q in components],
    }
    body.update(overrides)
    return body


def contract_template(kind: str = "time_limited", **overrides: Any) -> dict[str, Any]:
    """A support contract of 12 months or 60 hours, whichever ends first."""
    body: dict[str, Any] = {
        "name": "Gold support",
        "kind": kind,
        "period_months": 12,
        "hours": "60",
        "on_expiry": "rollover",
    }
    body.update(overrides)
    return body


def quote_item(price_id: str, quantity: str | int, *discount_ids: str) -> dict[str, Any]:
    """One quote line on a price."""
    return {"price_id": price_id, "quantity": quantity, "discount_ids": list(discount_ids)}


def quote(
    *items: dict[str, Any], currency: str = "USD", as_of: str = "2026-03-01", **overrides: Any
) -> dict[str, Any]:
    """A quote as of 2026-03-01."""
    body: dict[str, Any] = {"currency": currency, "as_of": as_of, "items": list(items)}
    body.update(overrides)
    return body
