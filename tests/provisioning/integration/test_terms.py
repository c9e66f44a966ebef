"""Subscription terms agreed per order line: renewal policy and commitment, end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from provisioning import handlers
from provisioning.app import create_app
from tests.provisioning.fakes import InMemoryCatalog
from tests.provisioning.integration.conftest import provisioning_settings
from tests.provisioning.integration.factories import (
    ADMIN,
    CRM,
    FINANCE,
    OPS,
    approved_order,
    complete_workflows,
    customer_with_account,
    line,
    ok,
    outbox_payloads,
)
from tests.support.services import running_app

AUTO_RENEW_12 = {"policy": "auto_renew", "months": 12}


@pytest.fixture(autouse=True)
def committed_seats(catalog: InMemoryCatalog) -> None:
    """A recurring committed license: committed seats billed monthly."""
    catalog.add_product("prod_seats", price_id="price_seats", unit_price="20.00", license_type="committed")


@pytest.fixture
async def any_db_app(
    database_url: str, catalog: InMemoryCatalog
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Provisioning on SQLite and on PostgreSQL with the fake catalog, bus off, and its app."""
    app = create_app(provisioning_settings(database_url), catalog=catalog)
    async with running_app(app) as http:
        yield app, http


async def _subscriptions(client: httpx.AsyncClient, order_id: str) -> dict[str, dict[str, Any]]:
    page = await ok(await client.get(f"/v1/subscriptions?order_id={order_id}", headers=OPS))
    return {sub["price_id"]: sub for sub in page["data"]}


async def test_line_terms_flow_into_the_subscriptions(any_db_client: httpx.AsyncClient) -> None:
    client = any_db_client
    _, account_id = await customer_with_account(client)
    order = await approved_order(
        client,
        account_id,
        [
            line("price_support", 10, renewal=AUTO_RENEW_12, commitment_quantity=4),
            line("price_seats", 50),
            line("price_wfm", 25, renewal={"policy": "expire"}, commitment_quantity="0"),
        ],
    )
    support, seats, wfm = order["lines"]
    assert (support["renewal"], support["commitment_quantity"]) == (AUTO_RENEW_12, "4")
    # Defaults: expire; a committed license commits its whole quantity, anything else nothing.
    assert (seats["renewal"], seats["commitment_quantity"]) == ({"policy": "expire", "months": None}, "50")
    assert (wfm["renewal"]["policy"], wfm["commitment_quantity"]) == ("expire", "0")

    subs = await _subscriptions(client, order["id"])
    assert {
        price: (sub["renewal"], sub["renewal_months"], sub["commitment_quantity"])
        for price, sub in subs.items()
    } == {
        "price_support": ("auto_renew", 12, "4"),
        "price_seats": ("expire", None, "50"),
        "price_wfm": ("expire", None, "0"),
    }


async def test_a_commitment_above_the_quantity_is_refused_and_creates_nothing(
    any_db_client: httpx.AsyncClient,
) -> None:
    client = any_db_client
    _, account_id = await customer_with_account(client)
    refused = await client.post(
        "/v1/orders",
        json={
            "account_id": account_id,
            "lines": [line("price_support", 10), line("price_seats", 5, commitment_quantity=6)],
        },
        headers=CRM,
    )
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("lines.1.commitment_quantity", "above_quantity")
    ]
    missing_months = await client.post(
        "/v1/orders",
        json={
            "account_id": account_id,
            "lines": [line("price_support", 1, renewal={"policy": "auto_renew"})],
        },
        headers=CRM,
    )
    assert missing_months.status_code == 422
    assert (await ok(await client.get(f"/v1/orders?account_id={account_id}", headers=OPS)))["data"] == []

    # A draft's added line is checked the same way, and the draft keeps its lines.
    draft = await ok(
        await client.post(
            "/v1/orders", json={"account_id": account_id, "lines": [line("price_support", 2)]}, headers=CRM
        ),
        201,
    )
    added = await client.post(
        f"/v1/orders/{draft['id']}/lines",
        json={"lines": [line("price_seats", 3, commitment_quantity="3.5")]},
        headers=CRM,
    )
    assert added.status_code == 422
    assert added.json()["errors"][0]["field"] == "lines.1.commitment_quantity"
    assert len((await ok(await client.get(f"/v1/orders/{draft['id']}", headers=OPS)))["lines"]) == 1


async def test_amendment_lines_do_not_take_terms(client: httpx.AsyncClient) -> None:
    _, account_id = await customer_with_account(client)
    order = await approved_order(client, account_id, [line("price_support", 10)])
    sub_id = (await _subscriptions(client, order["id"]))["price_support"]["id"]
    refused = await client.post(
        "/v1/orders",
        json={
            "account_id": account_id,
            "kind": "amendment",
            "lines": [
                {
                    "subscription_id": sub_id,
                    "quantity": 12,
                    "effective_date": "2027-03-01",
                    "renewal": AUTO_RENEW_12,
                    "commitment_quantity": 1,
                }
            ],
        },
        headers=CRM,
    )
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {
        "lines.0.renewal",
        "lines.0.commitment_quantity",
    }


async def test_terms_reach_the_events(client: httpx.AsyncClient, provisioning_app: FastAPI) -> None:
    _, account_id = await customer_with_account(client)
    order = await approved_order(
        client,
        account_id,
        [
            line(
                "price_support",
                10,
                term_months=12,
                effective_date="2027-01-01",
                renewal=AUTO_RENEW_12,
                commitment_quantity=8,
            )
        ],
    )
    approved = (await outbox_payloads(provisioning_app, "order.approved"))[0]
    assert (
        approved["lines"][0]["renewal"],
        approved["lines"][0]["renewal_months"],
        approved["lines"][0]["commitment_quantity"],
    ) == ("auto_renew", 12, "8")
    await complete_workflows(client, order["id"])
    activated = (await outbox_payloads(provisioning_app, "subscription.activated"))[0]
    assert (activated["renewal"], activated["renewal_months"], activated["commitment_quantity"]) == (
        "auto_renew",
        12,
        "8",
    )


async def test_deal_conversion_lines_take_terms(any_db_client: httpx.AsyncClient) -> None:
    client = any_db_client
    partner = await ok(await client.post("/v1/partners", json={"name": "Acme Partners"}, headers=CRM), 201)
    deal = await ok(
        await client.post(
            "/v1/deal-registrations",
            json={
                "partner_id": partner["id"],
                "opportunity_name": "Redfin seats",
                "opportunity_details": "50 committed seats",
                "customer_company_name": "Redfin",
                "agreement_contact": {"name": "Jo Buyer", "email": "jo@redfin.example"},
                "licensing": {
                    "currency": "USD",
                    "license_type": "new_license",
                    "start_date": "2027-01-01",
                    "end_date": "2030-01-01",
                },
                "project_description": "Seats for the planners",
            },
            headers=CRM,
        ),
        201,
    )
    over = await client.post(
        f"/v1/deal-registrations/{deal['id']}/convert",
        json={"lines": [line("price_seats", 50, commitment_quantity=51)]},
        headers=CRM,
    )
    assert over.status_code == 422
    assert over.json()["errors"][0]["field"] == "lines.0.commitment_quantity"
    assert (await ok(await client.get("/v1/customers", headers=OPS)))["data"] == []

    conversion = await ok(
        await client.post(
            f"/v1/deal-registrations/{deal['id']}/convert",
            json={
                "lines": [
                    line(
                        "price_seats",
                        50,
                        renewal={"policy": "auto_renew", "months": 36},
                        commitment_quantity=40,
                    )
                ]
            },
            headers=CRM,
        ),
        201,
    )
    converted_line = conversion["order"]["lines"][0]
    assert (converted_line["renewal"], converted_line["commitment_quantity"]) == (
        {"policy": "auto_renew", "months": 36},
        "40",
    )
    submitted = await ok(await client.post(f"/v1/deal-registrations/{deal['id']}/submit", headers=CRM))
    sub = (await _subscriptions(client, submitted["id"]))["price_seats"]
    assert (sub["renewal"], sub["renewal_months"], sub["commitment_quantity"]) == ("auto_renew", 36, "40")
    assert (sub["term_start"], sub["term_end"]) == ("2027-01-01", "2030-01-01")


# ----- term ends ----------------------------------------------------------------------------


async def _activated(client: httpx.AsyncClient, account_id: str, lines: list[dict[str, Any]]) -> list[str]:
    """Subscriptions of one order walked through their workflows, by quantity (keep them distinct)."""
    order = await approved_order(client, account_id, lines)
    await complete_workflows(client, order["id"])
    subs = await _subscriptions_of_order(client, order["id"])
    assert {sub["state"] for sub in subs} == {"active"}
    return [sub["id"] for sub in sorted(subs, key=lambda sub: Decimal(sub["quantity"]))]


async def _subscriptions_of_order(client: httpx.AsyncClient, order_id: str) -> list[dict[str, Any]]:
    page = await ok(await client.get(f"/v1/subscriptions?order_id={order_id}&limit=200", headers=OPS))
    return list(page["data"])


@contextmanager
def count_statements(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block (an executemany counts once)."""
    statements: list[str] = []
    engine = app.state.runtime.db.engine.sync_engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _support(quantity: int, **terms: Any) -> dict[str, Any]:
    return line("price_support", quantity, **{"term_months": 12, "effective_date": "2027-01-01", **terms})


async def _run(client: httpx.AsyncClient, as_of: str) -> dict[str, Any]:
    return await ok(await client.post("/v1/subscriptions/term-ends", json={"as_of": as_of}, headers=FINANCE))


async def test_term_ends_renew_or_expire_once(any_db_app: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = any_db_app
    _, account_id = await customer_with_account(client)
    yearly, expiring, monthly, suspended, later = await _activated(
        client,
        account_id,
        [
            _support(1, renewal=AUTO_RENEW_12),
            _support(2),
            _support(3, renewal={"policy": "auto_renew", "months": 1}),
            _support(4, renewal=AUTO_RENEW_12),
            _support(5, renewal=AUTO_RENEW_12, term_months=24),
        ],
    )
    await ok(await client.post(f"/v1/subscriptions/{suspended}/suspend", json={}, headers=FINANCE))

    assert await _run(client, "2027-12-31") == {"as_of": "2027-12-31", "renewed": 0, "expired": 0}
    # The term is [2027-01-01, 2028-01-01): it ends on 2028-01-01.
    assert await _run(client, "2028-01-01") == {"as_of": "2028-01-01", "renewed": 2, "expired": 1}
    assert await _run(client, "2028-01-01") == {"as_of": "2028-01-01", "renewed": 0, "expired": 0}

    async def state(sub_id: str) -> tuple[str, str]:
        sub = await ok(await client.get(f"/v1/subscriptions/{sub_id}", headers=OPS))
        return sub["state"], sub["term_end"]

    assert await state(yearly) == ("active", "2029-01-01")
    assert await state(expiring) == ("expired", "2028-01-01")
    assert await state(monthly) == ("active", "2028-02-01")
    assert await state(suspended) == ("suspended", "2028-01-01")
    assert await state(later) == ("active", "2029-01-01")

    # A later date renews the monthly one as often as needed to reach a running term.
    assert await _run(client, "2028-03-15") == {"as_of": "2028-03-15", "renewed": 1, "expired": 0}
    assert await state(monthly) == ("active", "2028-04-01")
    history = (await ok(await client.get(f"/v1/subscriptions/{monthly}/history", headers=OPS)))["data"]
    assert [(h["kind"], h["effective_date"], h["after"]["term_end"]) for h in history[1:]] == [
        ("renewal", "2028-01-01", "2028-02-01"),
        ("renewal", "2028-02-01", "2028-03-01"),
        ("renewal", "2028-03-01", "2028-04-01"),
    ]
    expired_history = await ok(await client.get(f"/v1/subscriptions/{expiring}/history", headers=OPS))
    assert expired_history["data"][-1]["kind"] == "expire"

    renewed = await outbox_payloads(app, "subscription.renewed")
    assert [(e["subscription_id"], e["previous_term_end"], e["term_end"]) for e in renewed] == [
        (yearly, "2028-01-01", "2029-01-01"),
        (monthly, "2028-01-01", "2028-02-01"),
        (monthly, "2028-02-01", "2028-03-01"),
        (monthly, "2028-03-01", "2028-04-01"),
    ]
    assert all(e["renewal"] == "auto_renew" and e["state"] == "active" for e in renewed)
    expired = await outbox_payloads(app, "subscription.expired")
    assert [(e["subscription_id"], e["effective_date"], e["state"]) for e in expired] == [
        (expiring, "2028-01-01", "expired")
    ]


async def test_term_ends_are_for_finance_and_admin_and_need_a_date(client: httpx.AsyncClient) -> None:
    body = {"as_of": "2028-01-01"}
    for role, status in ((OPS, 403), (CRM, 403), (FINANCE, 200), (ADMIN, 200)):
        assert (
            await client.post("/v1/subscriptions/term-ends", json=body, headers=role)
        ).status_code == status
    for bad in ({}, {"as_of": "2028-02-30"}, {"as_of": "2028-01-01", "extra": 1}):
        assert (await client.post("/v1/subscriptions/term-ends", json=bad, headers=ADMIN)).status_code == 422


async def test_term_ends_work_in_chunks_with_a_fixed_number_of_statements(
    any_db_app: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client = any_db_app
    _, account_id = await customer_with_account(client)
    monthly = {"policy": "auto_renew", "months": 1}
    subs = await _activated(
        client,
        account_id,
        [_support(q, renewal=monthly, term_months=12 if q <= 3 else 13) for q in range(1, 7)],
    )

    async def statements_of_run(as_of: str, renewed: int) -> int:
        with count_statements(app) as statements:
            assert await _run(client, as_of) == {"as_of": as_of, "renewed": renewed, "expired": 0}
        return len(statements)

    # Three subscriptions are due, then six: one chunk either way, the same statements.
    three = await statements_of_run("2028-01-01", 3)
    six = await statements_of_run("2028-02-01", 6)
    assert six == three
    # In chunks of four, six subscriptions take two rounds of reads and writes.
    monkeypatch.setattr(handlers, "TERM_END_CHUNK", 4)
    assert await statements_of_run("2028-03-01", 6) > six
    for sub_id in subs:
        sub = await ok(await client.get(f"/v1/subscriptions/{sub_id}", headers=OPS))
        assert (sub["state"], sub["term_end"]) == ("active", "2028-04-01")


# ----- early cancellation fee ---------------------------------------------------------------


def _seats(quantity: int, **terms: Any) -> dict[str, Any]:
    return line("price_seats", quantity, **{"term_months": 12, "effective_date": "2027-01-01", **terms})


async def _cancel(client: httpx.AsyncClient, sub_id: str, on: str) -> httpx.Response:
    return await client.post(f"/v1/subscriptions/{sub_id}/cancel", json={"effective_date": on}, headers=CRM)


async def test_cancelling_a_committed_term_early_charges_its_fee(
    any_db_app: tuple[FastAPI, httpx.AsyncClient], catalog: InMemoryCatalog
) -> None:
    app, client = any_db_app
    catalog.add_product(
        "prod_exit", price_id="price_exit", unit_price="37.505", charge_type="one_time", billing_period=None
    )
    _, account_id = await customer_with_account(client)
    committed, uncommitted, at_term_end, without_fee = await _activated(
        client,
        account_id,
        [
            _seats(40, termination_fee_price_id="price_exit"),
            _seats(41, commitment_quantity=0, termination_fee_price_id="price_exit"),
            _seats(42, termination_fee_price_id="price_exit"),
            _seats(43),
        ],
    )
    sub = await ok(await client.get(f"/v1/subscriptions/{committed}", headers=OPS))
    assert (sub["termination_fee_price_id"], sub["termination_fee"]) == ("price_exit", None)

    # The catalog prices the fee when the subscription is cancelled: down, nothing changes.
    catalog.unavailable = True
    assert (await _cancel(client, committed, "2027-06-01")).status_code == 503
    catalog.unavailable = False
    assert (await ok(await client.get(f"/v1/subscriptions/{committed}", headers=OPS)))["state"] == "active"

    cancelled = await ok(await _cancel(client, committed, "2027-06-01"))
    # 40 committed seats x 37.505 = 1,500.20.
    fee = {"price_id": "price_exit", "price_version": 1, "amount": "1500.20", "currency": "USD"}
    assert (cancelled["state"], cancelled["termination_fee"]) == ("cancelled", fee)
    assert (await ok(await client.get(f"/v1/subscriptions/{committed}", headers=OPS)))[
        "termination_fee"
    ] == fee

    # No commitment, no early end, or no fee price: no fee.
    for sub_id, on in ((uncommitted, "2027-06-01"), (at_term_end, "2028-01-01"), (without_fee, "2027-06-01")):
        assert (await ok(await _cancel(client, sub_id, on)))["termination_fee"] is None

    events = {e["subscription_id"]: e for e in await outbox_payloads(app, "subscription.cancelled")}
    assert (events[committed]["ended_before_term"], events[committed]["termination_fee"]) == (True, fee)
    assert [events[s]["termination_fee"] for s in (uncommitted, at_term_end, without_fee)] == [None] * 3
    assert events[at_term_end]["ended_before_term"] is False


async def test_a_termination_fee_is_a_one_time_catalog_price_in_the_account_currency(
    client: httpx.AsyncClient, catalog: InMemoryCatalog
) -> None:
    catalog.add_product(
        "prod_exit_eur", price_id="price_exit_eur", unit_price="10.00", currency="EUR", charge_type="one_time"
    )
    _, account_id = await customer_with_account(client)
    refused = await client.post(
        "/v1/orders",
        json={
            "account_id": account_id,
            "lines": [
                _seats(1, termination_fee_price_id="price_nope"),
                _seats(2, termination_fee_price_id="price_support"),
                _seats(3, termination_fee_price_id="price_exit_eur"),
            ],
        },
        headers=CRM,
    )
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("lines.0.termination_fee_price_id", "unknown_price"),
        ("lines.1.termination_fee_price_id", "not_one_time"),
        ("lines.2.termination_fee_price_id", "currency_mismatch"),
    ]
    assert (await ok(await client.get(f"/v1/orders?account_id={account_id}", headers=OPS)))["data"] == []
