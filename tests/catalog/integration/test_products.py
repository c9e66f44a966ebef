"""Products through the API: create, read, list, change, uniqueness, roles, idempotency, audit."""

from __future__ import annotations

from libs.platform.settings import Role
from tests.catalog.integration import factories as f
from tests.catalog.integration.conftest import CatalogClient


async def test_product_is_created_read_and_listed(catalog: CatalogClient) -> None:
    body = f.product(sku="WFM-SEAT", name="WFM seat", vendor_id="ven_wfm", license_type="committed")
    created = await catalog.created("/v1/products", body)

    assert created["id"].startswith("prod_")
    assert created["sku"] == "WFM-SEAT"
    assert created["license_type"] == "committed"
    assert created["active"] is True
    fetched = (await catalog.get(f"/v1/products/{created['id']}", role=Role.OPS)).json()
    assert fetched == created
    listed = (await catalog.get("/v1/products", params={"kind": "license"})).json()
    assert [p["id"] for p in listed["data"]] == [created["id"]]


async def test_product_list_pages_with_a_cursor(catalog: CatalogClient) -> None:
    ids = [(await catalog.created("/v1/products", f.product()))["id"] for _ in range(3)]
    first = (await catalog.get("/v1/products", params={"limit": 2})).json()
    second = (await catalog.get("/v1/products", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [p["id"] for p in first["data"] + second["data"]] == ids
    assert first["has_more"] is True
    assert second["has_more"] is False


async def test_duplicate_sku_is_a_conflict(catalog: CatalogClient) -> None:
    await catalog.created("/v1/products", f.product(sku="DUP-1"))
    response = await catalog.post("/v1/products", f.product(sku="DUP-1"))
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_update_changes_fields_and_is_audited(catalog: CatalogClient) -> None:
    created = await catalog.created("/v1/products", f.product(name="Old name"))
    response = await catalog.patch(f"/v1/products/{created['id']}", {"name": "New name", "active": False})
    assert response.status_code == 200
    assert response.json()["name"] == "New name"
    assert response.json()["active"] is False

    audit = (await catalog.get("/v1/audit-log", params={"entity_id": created["id"]})).json()["data"]
    assert [a["action"] for a in audit] == ["product.created", "product.updated"]
    assert audit[1]["changes"]["name"] == {"before": "Old name", "after": "New name"}
    assert audit[1]["actor"].startswith("admin:")
    assert await catalog.event_types() == ["catalog.product_changed", "catalog.product_changed"]


async def test_null_for_a_required_field_is_refused(catalog: CatalogClient) -> None:
    created = await catalog.created("/v1/products", f.product())
    response = await catalog.patch(f"/v1/products/{created['id']}", {"name": None})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["name"]


async def test_unknown_product_is_404(catalog: CatalogClient) -> None:
    assert (await catalog.get("/v1/products/prod_nope")).status_code == 404
    assert (await catalog.patch("/v1/products/prod_nope", {"name": "x"})).status_code == 404


async def test_roles_finance_writes_ops_and_crm_only_read(catalog: CatalogClient) -> None:
    assert (await catalog.post("/v1/products", f.product(), role=Role.FINANCE)).status_code == 201
    assert (await catalog.post("/v1/products", f.product(), role=Role.OPS)).status_code == 403
    assert (await catalog.post("/v1/products", f.product(), role=Role.CRM)).status_code == 403
    assert (await catalog.get("/v1/products", role=Role.CRM)).status_code == 200
    assert (await catalog.http.get("/v1/products")).status_code == 401


async def test_idempotency_key_replays_and_refuses_another_body(catalog: CatalogClient) -> None:
    body = f.product(sku="IDEM-1")
    first = await catalog.post("/v1/products", body, headers={"Idempotency-Key": "k-1"})
    again = await catalog.post("/v1/products", body, headers={"Idempotency-Key": "k-1"})
    other = await catalog.post("/v1/products", f.product(sku="IDEM-2"), headers={"Idempotency-Key": "k-1"})

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    assert other.status_code == 409
    listed = (await catalog.get("/v1/products")).json()["data"]
    assert [p["sku"] for p in listed] == ["IDEM-1"]


# Each text field accepts at most what its column holds (PostgreSQL refuses a longer value; SQLite
# would store it): one character more is a 422 naming the field on every database, never a 500.
COLUMN_WIDTHS = {"unit_of_measure": 40, "tax_code": 40, "vendor_id": 60}


async def test_text_fields_accept_what_their_column_holds_and_refuse_more(catalog: CatalogClient) -> None:
    widest = {field: "u" * width for field, width in COLUMN_WIDTHS.items()}
    created = await catalog.created("/v1/products", f.product(**widest))
    assert {field: created[field] for field in COLUMN_WIDTHS} == widest
    book = await catalog.created("/v1/vendor-cost-books", f.cost_book(vendor_id="v" * 60))
    assert book["vendor_id"] == "v" * 60

    for field, width in COLUMN_WIDTHS.items():
        too_long = {field: "x" * (width + 1)}
        for response in (
            await catalog.post("/v1/products", f.product(**too_long)),
            await catalog.patch(f"/v1/products/{created['id']}", too_long),
        ):
            assert response.status_code == 422, response.text
            assert [e["field"] for e in response.json()["errors"]] == [field]
    response = await catalog.post("/v1/vendor-cost-books", f.cost_book(vendor_id="v" * 61))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["vendor_id"]
