"""Vendor commitments and vendor invoices over HTTP, on SQLite and PostgreSQL: the seed's 3-year
commitment of 250 seats expects three vendor invoices of 30,000.00; received ones are matched or
flagged with their difference, approved and paid in order; a vendor's number is taken once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.overage.factories import (
    COST_BOOK,
    VENDOR,
    cost_book_published,
    price_published,
    product_changed,
    subscription_activated,
)
from tests.overage.integration.conftest import Overage
from tests.support.services import auth

pytestmark = pytest.mark.asyncio

FINANCE = auth("finance")


def vendor_invoice(year: int = 2026, amount: str | int = "30000.00", **fields: Any) -> dict[str, Any]:
    """The vendor's annual invoice for the commitment year starting 1 March `year`."""
    body: dict[str, Any] = {
        "vendor_id": VENDOR,
        "number": f"MON-{year}-0250",
        "kind": "annual",
        "subscription_id": "sub_wfm",
        "currency": "USD",
        "amount": amount,
        "invoice_date": f"{year}-03-01",
        "period_start": f"{year}-03-01",
        "period_end": f"{year + 1}-03-01",
        "source": "vendor",
    }
    body.update(fields)
    return body


async def _commitment(overage: Overage) -> dict[str, Any]:
    await overage.deliver(
        product_changed(), cost_book_published(), price_published(), subscription_activated()
    )
    found = await overage.client.get(
        "/v1/vendor-commitments", params={"subscription_id": "sub_wfm"}, headers=FINANCE
    )
    assert found.status_code == 200, found.text
    (commitment,) = found.json()["data"]
    return commitment


async def test_a_resold_activation_expects_three_annual_vendor_invoices(overage: Overage) -> None:
    commitment = await _commitment(overage)
    assert (commitment["vendor_id"], commitment["account_id"], commitment["seats"]) == (
        VENDOR,
        "acct_acme",
        "250",
    )
    assert (commitment["cost_book_id"], commitment["unit_cost"], commitment["book_period"]) == (
        COST_BOOK,
        "10",
        "monthly",
    )
    assert (commitment["annual_amount"], commitment["total_amount"], commitment["source"]) == (
        "30000.00",
        "90000.00",
        "subscription",
    )
    assert [
        (e["sequence"], e["invoice_date"], e["period_end"], e["amount"], e["status"])
        for e in commitment["expected_invoices"]
    ] == [
        (1, "2026-03-01", "2027-03-01", "30000.00", "expected"),
        (2, "2027-03-01", "2028-03-01", "30000.00", "expected"),
        (3, "2028-03-01", "2029-03-01", "30000.00", "expected"),
    ]
    # The activation redelivered, or finance entering it too: still one commitment.
    await overage.deliver(subscription_activated())
    again = await overage.client.post(
        "/v1/vendor-commitments",
        json={
            "vendor_id": VENDOR,
            "account_id": "acct_acme",
            "subscription_id": "sub_wfm",
            "cost_book_id": COST_BOOK,
            "seats": 250,
            "term_start": "2026-03-01",
            "term_months": 36,
        },
        headers=FINANCE,
    )
    assert again.status_code == 200, again.text
    assert again.json()["id"] == commitment["id"]
    listed = await overage.client.get(
        "/v1/vendor-commitments", params={"account_id": "acct_acme"}, headers=FINANCE
    )
    assert len(listed.json()["data"]) == 1


async def test_received_invoices_match_the_expected_ones(overage: Overage) -> None:
    commitment = await _commitment(overage)
    received = []
    for year in (2026, 2027, 2028):
        answer = await overage.client.post("/v1/vendor-invoices", json=vendor_invoice(year), headers=FINANCE)
        assert answer.status_code == 201, answer.text
        received.append(answer.json())
    assert [
        (r["match"], r["flagged"], r["expected_amount"], r["difference"], r["account_id"]) for r in received
    ] == [("matched", False, "30000.00", "0.00", "acct_acme")] * 3
    assert [r["expected_invoice_id"] for r in received] == [e["id"] for e in commitment["expected_invoices"]]
    view = (await overage.client.get(f"/v1/vendor-commitments/{commitment['id']}", headers=FINANCE)).json()
    assert [
        (e["status"], e["received_amount"], e["vendor_invoice_id"]) for e in view["expected_invoices"]
    ] == [("received", "30000.00", r["id"]) for r in received]
    published = await overage.outbox("vendor.invoice_received")
    assert [(p["number"], p["amount"], p["match"], p["account_id"]) for p in published] == [
        (f"MON-{y}-0250", "30000.00", "matched", "acct_acme") for y in (2026, 2027, 2028)
    ]


async def test_an_amount_that_differs_is_flagged_and_approved_only_when_accepted(overage: Overage) -> None:
    await _commitment(overage)
    answer = await overage.client.post(
        "/v1/vendor-invoices", json=vendor_invoice(amount="30600.00"), headers=FINANCE
    )
    assert answer.status_code == 201, answer.text
    flagged = answer.json()
    assert (flagged["match"], flagged["flagged"], flagged["expected_amount"], flagged["difference"]) == (
        "amount_differs",
        True,
        "30000.00",
        "600.00",
    )
    listed = await overage.client.get(
        "/v1/vendor-invoices", params={"match": "amount_differs"}, headers=FINANCE
    )
    assert [i["id"] for i in listed.json()["data"]] == [flagged["id"]]
    url = f"/v1/vendor-invoices/{flagged['id']}"
    refused = await overage.client.post(f"{url}/approve", json={}, headers=FINANCE)
    assert refused.status_code == 409, refused.text
    approved = await overage.client.post(
        f"{url}/approve", json={"accept_difference": True, "note": "2% uplift agreed"}, headers=FINANCE
    )
    assert (approved.status_code, approved.json()["state"]) == (200, "approved")


async def test_approve_then_pay_and_nothing_out_of_order(overage: Overage) -> None:
    await _commitment(overage)
    invoice = (
        await overage.client.post("/v1/vendor-invoices", json=vendor_invoice(), headers=FINANCE)
    ).json()
    url = f"/v1/vendor-invoices/{invoice['id']}"
    assert (await overage.client.post(f"{url}/pay", json={}, headers=FINANCE)).status_code == 409
    assert (await overage.client.post(f"{url}/approve", json={}, headers=FINANCE)).status_code == 200
    assert (await overage.client.post(f"{url}/approve", json={}, headers=FINANCE)).status_code == 409
    paid = await overage.client.post(f"{url}/pay", json={"payment_reference": "WIRE-0301"}, headers=FINANCE)
    assert paid.status_code == 200, paid.text
    assert (paid.json()["state"], paid.json()["payment_reference"], paid.json()["paid_by"].split(":")[0]) == (
        "paid",
        "WIRE-0301",
        "finance",
    )
    assert (await overage.client.post(f"{url}/pay", json={}, headers=FINANCE)).status_code == 409
    assert [p["state"] for p in await overage.outbox("vendor.invoice_paid")] == ["paid"]
    # The ERP key the vendor's feed posts with may not approve or pay.
    assert (await overage.client.post(f"{url}/approve", json={}, headers=auth("erp"))).status_code == 403


async def test_a_vendor_invoice_number_is_recorded_once(overage: Overage) -> None:
    await _commitment(overage)
    first = await overage.client.post("/v1/vendor-invoices", json=vendor_invoice(), headers=FINANCE)
    assert first.status_code == 201, first.text
    duplicate = await overage.client.post(
        "/v1/vendor-invoices", json=vendor_invoice(amount="1.00", kind="overage"), headers=auth("erp")
    )
    assert duplicate.status_code == 409, duplicate.text
    assert duplicate.headers["content-type"].startswith("application/problem+json")
    # Another vendor may use the same number.
    other = await overage.client.post(
        "/v1/vendor-invoices",
        json=vendor_invoice(vendor_id="ven_other", account_id="acct_acme"),
        headers=FINANCE,
    )
    assert (other.status_code, other.json()["match"]) == (201, "unmatched")
    listed = await overage.client.get("/v1/vendor-invoices", headers=FINANCE)
    assert len(listed.json()["data"]) == 2


async def test_a_second_invoice_for_a_matched_year_is_flagged_unmatched(overage: Overage) -> None:
    await _commitment(overage)
    await overage.client.post("/v1/vendor-invoices", json=vendor_invoice(), headers=FINANCE)
    second = await overage.client.post(
        "/v1/vendor-invoices", json=vendor_invoice(number="MON-2026-0250-B"), headers=FINANCE
    )
    assert (second.status_code, second.json()["match"], second.json()["flagged"]) == (201, "unmatched", True)


async def test_finance_enters_a_commitment_by_hand(overage: Overage) -> None:
    await overage.deliver(cost_book_published())
    body = {
        "vendor_id": VENDOR,
        "account_id": "acct_manual",
        "subscription_id": "sub_manual",
        "cost_book_id": COST_BOOK,
        "seats": "80",
        "term_start": "2026-04-15",
        "term_end": "2029-04-15",
    }
    made = await overage.client.post(
        "/v1/vendor-commitments", json=body, headers={**FINANCE, "Idempotency-Key": "c-1"}
    )
    assert made.status_code == 201, made.text
    # 80 seats: 12.00 a seat a month -> 11,520.00 a year.
    assert [(e["invoice_date"], e["amount"]) for e in made.json()["expected_invoices"]] == [
        ("2026-04-15", "11520.00"),
        ("2027-04-15", "11520.00"),
        ("2028-04-15", "11520.00"),
    ]
    assert made.json()["source"] == "finance"
    replay = await overage.client.post(
        "/v1/vendor-commitments", json=body, headers={**FINANCE, "Idempotency-Key": "c-1"}
    )
    assert (replay.status_code, replay.headers.get("idempotent-replayed")) == (201, "true")


BAD_INPUT: list[tuple[str, dict[str, Any], int, str | None]] = [
    ("/v1/vendor-invoices", vendor_invoice(amount=30000), 422, "amount"),
    ("/v1/vendor-invoices", vendor_invoice(amount="30000.001"), 422, "amount"),
    ("/v1/vendor-invoices", vendor_invoice(amount="0.00"), 422, "amount"),
    ("/v1/vendor-invoices", vendor_invoice(kind="quarterly"), 422, "kind"),
    ("/v1/vendor-invoices", vendor_invoice(period_end="2026-02-01"), 422, "period_end"),
    ("/v1/vendor-invoices", vendor_invoice(currency="XXX1"), 422, "currency"),
    ("/v1/vendor-invoices", vendor_invoice(number="bad number!"), 422, "number"),
    ("/v1/vendor-invoices", vendor_invoice(subscription_id="sub_unknown"), 422, "account_id"),
    ("/v1/vendor-invoices", vendor_invoice(account_id="acct_other"), 422, "account_id"),
    ("/v1/vendor-invoices", vendor_invoice(currency="EUR"), 422, "currency"),
    ("/v1/vendor-invoices", {**vendor_invoice(), "extra": 1}, 422, "extra"),
    (
        "/v1/vendor-commitments",
        {
            "vendor_id": VENDOR,
            "account_id": "a",
            "subscription_id": "s",
            "cost_book_id": "cb_none",
            "seats": 5,
            "term_start": "2026-03-01",
            "term_months": 12,
        },
        422,
        "cost_book_id",
    ),
    (
        "/v1/vendor-commitments",
        {
            "vendor_id": "ven_x",
            "account_id": "a",
            "subscription_id": "s",
            "cost_book_id": COST_BOOK,
            "seats": 5,
            "term_start": "2026-03-01",
            "term_months": 12,
        },
        422,
        "vendor_id",
    ),
    (
        "/v1/vendor-commitments",
        {
            "vendor_id": VENDOR,
            "account_id": "a",
            "subscription_id": "s",
            "cost_book_id": COST_BOOK,
            "seats": 0,
            "term_start": "2026-03-01",
            "term_months": 12,
        },
        422,
        "seats",
    ),
    (
        "/v1/vendor-commitments",
        {
            "vendor_id": VENDOR,
            "account_id": "a",
            "subscription_id": "s",
            "cost_book_id": COST_BOOK,
            "seats": 5,
            "term_start": "2026-03-01",
            "term_months": 12,
            "term_end": "2027-03-01",
        },
        422,
        "term_months",
    ),
]
"""Refused requests: (path, body, status, a field the problem names)."""


async def test_bad_input_is_refused_and_changes_nothing(overage: Overage) -> None:
    await _commitment(overage)
    for path, body, status, field in BAD_INPUT:
        answer = await overage.client.post(path, json=body, headers=FINANCE)
        assert answer.status_code == status, (body, answer.text)
        problem = answer.json()
        assert problem["status"] == status
        if field is not None:
            assert any(e["field"].split(".")[-1] == field for e in problem["errors"]), problem
    assert (await overage.client.get("/v1/vendor-invoices", headers=FINANCE)).json()["data"] == []
    assert len((await overage.client.get("/v1/vendor-commitments", headers=FINANCE)).json()["data"]) == 1


async def test_unknown_ids_and_roles(overage: Overage) -> None:
    assert (await overage.client.get("/v1/vendor-invoices/vinv_nope", headers=FINANCE)).status_code == 404
    assert (await overage.client.get("/v1/vendor-commitments/vcom_nope", headers=FINANCE)).status_code == 404
    assert (await overage.client.get("/v1/vendor-invoices/bad id!", headers=FINANCE)).status_code == 422
    assert (
        await overage.client.post("/v1/vendor-invoices/vinv_nope/approve", json={}, headers=FINANCE)
    ).status_code == 404
    assert (
        await overage.client.post("/v1/vendor-invoices", json=vendor_invoice(), headers=auth("ops"))
    ).status_code == 403
    assert (await overage.client.get("/v1/vendor-invoices")).status_code == 401
