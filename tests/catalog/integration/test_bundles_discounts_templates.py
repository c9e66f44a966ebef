"""Bundles, discounts and support-contract templates through the API."""

from __future__ import annotations

from tests.catalog.integration import factories as f
from tests.catalog.integration.conftest import CatalogClient


async def test_bundle_is_created_changed_and_audited(catalog: CatalogClient) -> None:
    platform = (await catalog.created("/v1/products", f.product(kind="platform")))["id"]
    seat = (await catalog.created("/v1/products", f.product(kind="workshop")))["id"]
    bundle = await catalog.created("/v1/bundles", f.bundle((platform, "1"), (seat, "1")))

    changed = await catalog.patch(
        f"/v1/bundles/{bundle['id']}", {"components": [{"product_id": platform, "quantity": 2}]}
    )

    assert changed.status_code == 200
    assert changed.json()["components"] == [{"product_id": platform, "quantity": "2"}]
    assert (await catalog.get(f"/v1/bundles/{bundle['id']}")).json() == changed.json()
    assert (await catalog.event_types())[-2:] == ["catalog.bundle_changed", "catalog.bundle_changed"]
    audit = (await catalog.get("/v1/audit-log", params={"entity_id": bundle["id"]})).json()["data"]
    assert [a["action"] for a in audit] == ["bundle.created", "bundle.updated"]


async def test_bundle_refuses_unknown_products_duplicates_and_zero_quantities(catalog: CatalogClient) -> None:
    platform = (await catalog.created("/v1/products", f.product()))["id"]

    unknown = await catalog.post("/v1/bundles", f.bundle((platform, "1"), ("prod_missing", "1")))
    twice = await catalog.post("/v1/bundles", f.bundle((platform, "1"), (platform, "0")))

    assert unknown.status_code == 404
    assert twice.status_code == 422
    assert {e["field"] for e in twice.json()["errors"]} == {
        "components.1.quantity",
        "components.1.product_id",
    }
    assert (await catalog.get("/v1/bundles")).json()["data"] == []


async def test_discount_rules_by_kind(catalog: CatalogClient) -> None:
    amount_without_currency = await catalog.post("/v1/discounts", f.discount(kind="amount", value="50.00"))
    percent_over_100 = await catalog.post("/v1/discounts", f.discount(value="120"))
    yen_with_decimals = await catalog.post(
        "/v1/discounts", f.discount(kind="amount", value="50.5", currency="JPY")
    )
    backwards = await catalog.post(
        "/v1/discounts", f.discount(valid_from="2026-05-01", valid_to="2026-04-01")
    )

    assert [e["field"] for e in amount_without_currency.json()["errors"]] == ["currency"]
    assert [e["field"] for e in percent_over_100.json()["errors"]] == ["value"]
    assert [e["field"] for e in yen_with_decimals.json()["errors"]] == ["value"]
    assert [e["field"] for e in backwards.json()["errors"]] == ["valid_to"]
    assert (await catalog.get("/v1/discounts")).json()["data"] == []


async def test_promo_codes_are_unique_and_searchable(catalog: CatalogClient) -> None:
    first = await catalog.created("/v1/discounts", f.discount(promo_code="WELCOME10"))
    duplicate = await catalog.post("/v1/discounts", f.discount(promo_code="WELCOME10"))

    assert duplicate.status_code == 409
    found = (await catalog.get("/v1/discounts", params={"promo_code": "WELCOME10"})).json()["data"]
    assert [d["id"] for d in found] == [first["id"]]
    updated = await catalog.patch(
        f"/v1/discounts/{first['id']}", {"approval_threshold_percent": "20", "active": False}
    )
    assert (updated.json()["approval_threshold_percent"], updated.json()["active"]) == ("20", False)


async def test_contract_template_kinds(catalog: CatalogClient) -> None:
    time_limited = await catalog.created("/v1/contract-templates", f.contract_template())
    hours = await catalog.created(
        "/v1/contract-templates", f.contract_template("support_hours", period_months=None, hours="40")
    )
    incident = await catalog.created(
        "/v1/contract-templates",
        f.contract_template("per_incident", period_months=None, hours=None, on_expiry="ignore"),
    )
    assert (time_limited["period_months"], time_limited["hours"], time_limited["on_expiry"]) == (
        12,
        "60",
        "rollover",
    )
    assert (hours["kind"], hours["hours"]) == ("support_hours", "40")
    assert incident["kind"] == "per_incident"

    missing_hours = await catalog.post("/v1/contract-templates", f.contract_template(hours=None))
    subscription_with_hours = await catalog.post(
        "/v1/contract-templates", f.contract_template("subscription", on_expiry="ignore")
    )
    assert [e["field"] for e in missing_hours.json()["errors"]] == ["hours"]
    assert [e["field"] for e in subscription_with_hours.json()["errors"]] == ["hours"]

    # A change must leave the template valid for its kind.
    broken = await catalog.patch(f"/v1/contract-templates/{time_limited['id']}", {"period_months": None})
    assert [e["field"] for e in broken.json()["errors"]] == ["period_months"]
    fine = await catalog.patch(f"/v1/contract-templates/{time_limited['id']}", {"hours": "80"})
    assert fine.json()["hours"] == "80"
    assert (await catalog.get(f"/v1/contract-templates/{time_limited['id']}")).json()["hours"] == "80"
    assert (await catalog.event_types()).count("catalog.contract_template_changed") == 4
