"""Request bodies are read strictly: a date is a "YYYY-MM-DD" string, a boolean is true/false and
an integer a JSON integer. FastAPI validates bodies in pydantic's python mode, whose lax
coercions would read 0 as 1970-01-01, 0 as false and true or "0001" as 1; each is a 422 that
names the field and changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from libs.platform.audit import AuditRecord
from libs.platform.outbox import OutboxMessage
from provisioning.app import create_app
from tests.provisioning.fakes import InMemoryCatalog
from tests.provisioning.integration.conftest import provisioning_settings
from tests.provisioning.integration.factories import (
    ADMIN,
    active_subscription,
    approved_order,
    billing_profile,
    customer_with_account,
    line,
    ok,
)
from tests.support.services import running_app

Ids = dict[str, str]
Build = Callable[[Ids], dict[str, Any]]
LISTS = ("/v1/customers", "/v1/accounts", "/v1/partners", "/v1/deal-registrations", "/v1/orders")
LISTS += ("/v1/workflows", "/v1/subscriptions", "/v1/fulfillments", "/v1/named-users/pools")


@pytest.fixture
async def service(
    database_url: str, catalog: InMemoryCatalog
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Provisioning on SQLite and on PostgreSQL with the fake catalog, and its app (for the outbox)."""
    app = create_app(provisioning_settings(database_url), catalog=catalog)
    async with running_app(app) as http:
        http.headers.update(ADMIN)
        yield app, http


async def _seed(client: httpx.AsyncClient) -> Ids:
    """One of each thing a bad request could create, change or act on."""
    partner = await ok(await client.post("/v1/partners", json={"name": "Acme"}), 201)
    deal = await ok(
        await client.post(
            "/v1/deal-registrations", json={"partner_id": partner["id"], "opportunity_name": "Redfin"}
        ),
        201,
    )
    _, account_id = await customer_with_account(client)
    draft = await ok(
        await client.post(
            "/v1/orders", json={"account_id": account_id, "lines": [line("price_platform", 1)]}
        ),
        201,
    )
    subscription_id = await active_subscription(client, account_id)
    support = await approved_order(
        client, account_id, [line("price_support", 5, term_months=12, effective_date="2027-01-01")]
    )
    workflow = (await ok(await client.get(f"/v1/workflows?order_id={support['id']}")))["data"][0]
    task_id = workflow["tasks"][0]["id"]
    await ok(await client.post(f"/v1/tasks/{task_id}/start"))
    platform = await approved_order(client, account_id, [line("price_platform", 20)])
    pool = await ok(await client.post("/v1/named-users/pools", json=_pool(account_id)), 201)
    return {
        "partner_id": partner["id"],
        "deal_id": deal["id"],
        "account_id": account_id,
        "order_id": draft["id"],
        "subscription_id": subscription_id,
        "task_id": task_id,
        "platform_order_id": platform["id"],
        "platform_line_id": platform["lines"][0]["id"],
        "pool_id": pool["id"],
    }


def _pool(account_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "account_id": account_id,
        "size": 5,
        "programs_per_user": 2,
        "contract_programs": ["a", "b", "c"],
        "contract_start": "2026-01-01",
    }
    return {**body, **overrides}


async def _state(app: FastAPI, client: httpx.AsyncClient) -> list[Any]:
    """Everything provisioning shows, its audit trail and its outbox."""
    lists = [(await ok(await client.get(path)))["data"] for path in LISTS]
    async with app.state.runtime.db.session() as session:
        audit = len((await session.exec(select(AuditRecord))).all())
        outbox = len((await session.exec(select(OutboxMessage))).all())
    return [*lists, audit, outbox]


def _account(**profile: Any) -> Build:
    return lambda ids: {
        "customer_id": "cus_x",
        "name": "Redfin EU",
        "billing_profile": billing_profile(**profile),
    }


def _order_line(**overrides: Any) -> Build:
    return lambda ids: {"account_id": ids["account_id"], "lines": [line("price_support", 1, **overrides)]}


def _body(**fields: Any) -> Build:
    return lambda ids: fields


def _fulfillment(**overrides: Any) -> Build:
    return lambda ids: {
        "order_id": ids["platform_order_id"],
        "lines": [{"order_line_id": ids["platform_line_id"], "quantity": 5}],
        **overrides,
    }


LAX_DATES = [0, -0.0, "-0", "0.0000001", "2026-01-01T00:00:00Z"]
WIRE_TYPE_ERRORS = {"date_format", "bool_type", "int_type"}
SUB = "/v1/subscriptions/{subscription_id}"
EXEMPT = {"treatment": "exempt", "certificate_number": "EX-1", "certificate_expiry": 0}
CASES = [
    *[
        pytest.param(
            "POST",
            "/v1/orders",
            _order_line(effective_date=v),
            "lines.0.effective_date",
            id=f"order-date-{v!r}",
        )
        for v in LAX_DATES
    ],
    pytest.param("POST", "/v1/orders", _order_line(term_months=True), "lines.0.term_months", id="term-true"),
    pytest.param(
        "POST", "/v1/orders", _order_line(term_months="12"), "lines.0.term_months", id="term-string"
    ),
    pytest.param(
        "POST",
        "/v1/orders",
        _order_line(renewal={"policy": "auto_renew", "months": "0012"}),
        "lines.0.renewal.months",
        id="renewal-months-string",
    ),
    pytest.param(
        "POST",
        "/v1/orders/{order_id}/lines",
        lambda ids: {"lines": [line("price_support", 1, effective_date=-0.0)]},
        "lines.0.effective_date",
        id="order-lines-date",
    ),
    pytest.param(
        "POST",
        "/v1/accounts",
        _account(bill_cycle_day="0001"),
        "billing_profile.bill_cycle_day",
        id="bcd-0001",
    ),
    pytest.param(
        "POST",
        "/v1/accounts",
        _account(bill_cycle_day=" 1"),
        "billing_profile.bill_cycle_day",
        id="bcd-space",
    ),
    pytest.param(
        "POST", "/v1/accounts", _account(bill_cycle_day=True), "billing_profile.bill_cycle_day", id="bcd-true"
    ),
    pytest.param(
        "POST",
        "/v1/accounts",
        _account(payment_terms_days="30"),
        "billing_profile.payment_terms_days",
        id="terms-string",
    ),
    pytest.param(
        "POST",
        "/v1/accounts",
        _account(tax_status=EXEMPT),
        "billing_profile.tax_status.certificate_expiry",
        id="certificate-expiry-0",
    ),
    pytest.param(
        "POST",
        "/v1/accounts",
        lambda ids: {**_account()(ids), "bills_to_parent": 0},
        "bills_to_parent",
        id="bills-to-parent-0",
    ),
    pytest.param(
        "PATCH", "/v1/accounts/{account_id}", _body(bills_to_parent=1), "bills_to_parent", id="patch-bills-1"
    ),
    pytest.param(
        "PATCH",
        "/v1/accounts/{account_id}",
        lambda ids: {"billing_profile": billing_profile(bill_cycle_day=True)},
        "billing_profile.bill_cycle_day",
        id="patch-bcd-true",
    ),
    pytest.param(
        "POST",
        "/v1/deal-registrations",
        lambda ids: {
            "partner_id": ids["partner_id"],
            "opportunity_name": "X",
            "licensing": {"start_date": 0},
        },
        "licensing.start_date",
        id="deal-start-0",
    ),
    pytest.param(
        "PATCH",
        "/v1/deal-registrations/{deal_id}",
        _body(licensing={"end_date": "2030-01-01T00:00:00Z"}),
        "licensing.end_date",
        id="deal-end-datetime",
    ),
    pytest.param(
        "POST",
        "/v1/deal-registrations/{deal_id}/convert",
        lambda ids: {"billing_profile": billing_profile(bill_cycle_day="1")},
        "billing_profile.bill_cycle_day",
        id="convert-bcd-string",
    ),
    pytest.param("POST", "/v1/subscriptions/term-ends", _body(as_of=0), "as_of", id="term-ends-0"),
    pytest.param(
        "POST",
        f"{SUB}/change",
        _body(effective_date="0.0000001", quantity=5),
        "effective_date",
        id="change-date",
    ),
    pytest.param(
        "POST",
        f"{SUB}/change",
        _body(effective_date="2027-04-01", term_end=0),
        "term_end",
        id="change-term-end",
    ),
    pytest.param("POST", f"{SUB}/suspend", _body(effective_date=0), "effective_date", id="suspend-0"),
    pytest.param(
        "POST",
        f"{SUB}/cancel",
        _body(effective_date="2027-03-01T00:00:00Z"),
        "effective_date",
        id="cancel-datetime",
    ),
    pytest.param(
        "POST", "/v1/tasks/{task_id}/complete", _body(completed_on=0), "completed_on", id="task-done-0"
    ),
    pytest.param(
        "POST",
        "/v1/fulfillments",
        _fulfillment(status="completed", completed_on="-0"),
        "completed_on",
        id="fulfillment-completed-on",
    ),
    pytest.param(
        "POST",
        "/v1/named-users/pools",
        lambda ids: _pool(ids["account_id"], size=True),
        "size",
        id="pool-size-true",
    ),
    pytest.param(
        "POST",
        "/v1/named-users/pools",
        lambda ids: _pool(ids["account_id"], programs_per_user="2"),
        "programs_per_user",
        id="pool-programs-string",
    ),
    pytest.param(
        "POST",
        "/v1/named-users/pools",
        lambda ids: _pool(ids["account_id"], contract_start=0),
        "contract_start",
        id="pool-start-0",
    ),
    pytest.param(
        "POST",
        "/v1/named-users/pools/{pool_id}/transfers",
        _body(from_user="a", to_user="b", on_date="2026-01-01T00:00:00Z"),
        "on_date",
        id="transfer-datetime",
    ),
]


@pytest.mark.parametrize(("method", "path", "build", "field"), CASES)
async def test_lax_dates_booleans_and_integers_are_refused_and_change_nothing(
    service: tuple[FastAPI, httpx.AsyncClient], method: str, path: str, build: Build, field: str
) -> None:
    app, client = service
    ids = await _seed(client)
    before = await _state(app, client)

    response = await client.request(method, path.format(**ids), json=build(ids))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    # Refused by the wire types themselves, not by a later business rule.
    assert [(e["field"], e["code"] in WIRE_TYPE_ERRORS) for e in response.json()["errors"]] == [(field, True)]
    assert await _state(app, client) == before


async def test_iso_dates_booleans_and_integers_are_accepted(
    service: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = service
    ids = await _seed(client)

    account = await ok(await client.get(f"/v1/accounts/{ids['account_id']}"))
    profile = billing_profile(
        bill_cycle_day=31,
        payment_terms_days=0,
        tax_status={"treatment": "exempt", "certificate_number": "EX-1", "certificate_expiry": "2027-12-31"},
    )
    changed = await ok(
        await client.patch(
            f"/v1/accounts/{ids['account_id']}", json={"billing_profile": profile, "bills_to_parent": False}
        )
    )
    assert changed["billing_profile"]["bill_cycle_day"] == 31
    assert changed["billing_profile"]["tax_status"]["certificate_expiry"] == "2027-12-31"
    assert changed["bills_to_parent"] is False and account["id"] == changed["id"]

    renewing = line(
        "price_support",
        2,
        term_months=12,
        effective_date="2027-02-01",
        renewal={"policy": "auto_renew", "months": 12},
    )
    order = await ok(await client.post(f"/v1/orders/{ids['order_id']}/lines", json={"lines": [renewing]}))
    added = order["lines"][-1]
    assert (added["term_months"], added["effective_date"]) == (12, "2027-02-01")
    assert added["renewal"] == {"policy": "auto_renew", "months": 12}

    pool = await ok(
        await client.post(
            "/v1/named-users/pools", json=_pool(ids["account_id"], size=3, contract_start="2026-02-01")
        ),
        201,
    )
    assert (pool["size"], pool["contract_start"]) == (3, "2026-02-01")
    suspended = await ok(
        await client.post(
            f"/v1/subscriptions/{ids['subscription_id']}/suspend", json={"effective_date": "2027-03-01"}
        )
    )
    assert suspended["state"] == "suspended"


async def test_a_day_beyond_what_is_stored_is_refused_with_the_range(
    service: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = service
    for day in ("1899-12-31", "2201-01-01"):
        response = await client.post("/v1/subscriptions/term-ends", json={"as_of": day})
        assert response.status_code == 422, response.text
        assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [
            ("as_of", "must be from 1900-01-01 to 2200-12-31")
        ]
