"""`/v1/payment-methods` and card payments through the built-in sandbox gateway, on SQLite and
PostgreSQL: tokens only (a card number in any field is a 422 and nothing is stored), Level 2/3 data
sent with the charge, a declined card recorded and retried on its schedule, the account updater's
new token, and the retry of a day run twice. The service's clock: noon in New York, 2026-08-01."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from invoicing.bootstrap import InvoicingRuntime
from invoicing.models.payments import PaymentMethodRow
from invoicing.sandbox_gateway import SandboxGateway
from libs.platform.audit import AuditRecord
from tests.invoicing.integration.conftest import Invoicing
from tests.invoicing.integration.payments_support import OPS, Books, key

AUGUST_1 = date(2026, 8, 1)
PAN = "4111111111111111"


def _card(token: str, **overrides: Any) -> dict[str, Any]:
    card = {"token": token, "brand": "visa", "last_four": "4242", "exp_month": 7, "exp_year": 2026}
    return card | overrides


async def _card_method(books: Books, token: str) -> dict[str, Any]:
    body = {
        "account_id": books.account_id,
        "kind": "card",
        "card": _card(token),
        "label": "AP corporate card",
    }
    return await books.post("/v1/payment-methods", body, expect=201)


def _gateway(invoicing: Invoicing) -> SandboxGateway:
    runtime = invoicing.runtime
    assert isinstance(runtime, InvoicingRuntime) and isinstance(runtime.payment_gateway, SandboxGateway)
    return runtime.payment_gateway


async def test_a_card_payment_sends_level_2_and_3_data(invoicing: Invoicing) -> None:
    """A card pays an invoice of 250 seats at 12.00 with 8.875% tax (3,000.00 + 266.25 = 3,266.25):
    the gateway gets the customer code, the tax amount 266.25 and the line with its tax."""
    books = await Books(invoicing).open()
    drafted = await invoicing.draft(lines=[_seats()])
    await invoicing.finalize(drafted.invoice.id)
    method = await _card_method(books, "tok_visa_4242")
    payment = await books.pay("3266.25", payment_method_id=method["id"])
    assert (payment["state"], payment["method_kind"], payment["applied"]) == ("received", "card", "3266.25")
    [attempt] = payment["attempts"]
    assert (attempt["outcome"], attempt["gateway_reference"]) == ("approved", "sbx_ch_1")
    sent = attempt["enhanced_data"]
    assert (sent["customer_code"], sent["tax_amount"], sent["invoice_numbers"]) == (
        "acct_1",
        "266.25",
        ["INV-2026-000001"],
    )
    assert [(i["quantity"], i["unit_price"], i["amount"], i["tax_amount"]) for i in sent["line_items"]] == [
        ("250", "12", "3000.00", "266.25")
    ]
    [charge] = _gateway(invoicing).charges.values()
    assert (charge.token, str(charge.amount), str(charge.level3.tax_amount)) == (
        "tok_visa_4242",
        "3266.25",
        "266.25",
    )
    assert await books.invoice(drafted.invoice.id) == ("paid", "3266.25", "0.00")


def _seats() -> Any:
    from tests.invoicing.factories import invoice_line

    return invoice_line("sub_1:2026-08")


async def test_a_declined_card_is_retried_with_the_updated_token_and_then_approved(
    invoicing: Invoicing,
) -> None:
    """An expired card declines 300.00 on August 1: recorded (`expired_card`), nothing applied, retry
    due August 2. A retry run on August 1 does nothing. The account updater gives the method a new
    token; the run of August 2 charges it: approved, the invoice paid. A second run of August 2
    changes nothing."""
    books = await Books(invoicing).open()
    invoice = await books.issue("300.00", AUGUST_1)
    method = await _card_method(books, "tok_expired_0726")
    declined = await books.pay("300.00", payment_method_id=method["id"])
    assert (declined["state"], declined["applied"], declined["next_retry_on"]) == (
        "declined",
        "0.00",
        "2026-08-02",
    )
    assert [(a["outcome"], a["decline_code"]) for a in declined["attempts"]] == [("declined", "expired_card")]
    assert await books.invoice(invoice) == ("finalized", "0.00", "300.00")
    assert await invoicing.outbox("payment.received") == []
    (added,) = await invoicing.outbox("payment_method.added")
    assert added == {
        "payment_method_id": method["id"],
        "account_id": "acct_1",
        "kind": "card",
        "brand": "visa",
        "last_four": "4242",
        "exp_month": 7,
        "exp_year": 2026,
        "bank_last_four": None,
        "added_at": added["added_at"],
    }
    (decline,) = await invoicing.outbox("payment.declined")
    assert {k: decline[k] for k in decline if k != "declined_at"} == {
        "payment_id": declined["id"],
        "account_id": "acct_1",
        "currency": "USD",
        "amount": "300.00",
        "method_kind": "card",
        "reference": None,
        "payment_method_id": method["id"],
        "decline_code": "expired_card",
        "attempt_number": 1,
        "attempted_on": "2026-08-01",
        "next_retry_on": "2026-08-02",
        "given_up": False,
    }

    early = await books.post("/v1/payments/retry-declined", {"on": "2026-08-01"}, expect=200)
    assert (early["approved"], early["declined"], early["failed"]) == (0, 0, 0)

    update = {"card": _card("tok_visa_renewed", exp_year=2029), "reason": "renewed by the issuer"}
    updated = await books.post(f"/v1/payment-methods/{method['id']}/token-update", update, expect=200)
    assert (
        updated["id"],
        updated["token_version"],
        updated["card"]["token"],
        updated["card"]["exp_year"],
    ) == (
        method["id"],
        2,
        "tok_visa_renewed",
        2029,
    )
    assert [(v["version"], v["card"]["token"], v["reason"]) for v in updated["previous_tokens"]] == [
        (1, "tok_expired_0726", "renewed by the issuer")
    ]
    (token_event,) = await invoicing.outbox("payment_method.token_updated")
    assert "tok_visa_renewed" not in str(token_event) and "tok_expired_0726" not in str(token_event)
    assert {k: token_event[k] for k in token_event if k != "updated_at"} == {
        "payment_method_id": method["id"],
        "account_id": "acct_1",
        "kind": "card",
        "brand": "visa",
        "last_four": "4242",
        "exp_month": 7,
        "exp_year": 2029,
        "bank_last_four": None,
        "token_version": 2,
        "previous_last_four": "4242",
        "previous_exp_month": 7,
        "previous_exp_year": 2026,
        "reason": "renewed by the issuer",
    }

    run = await books.post("/v1/payments/retry-declined", {"on": "2026-08-02"}, expect=200)
    assert (run["approved"], run["declined"], run["failed"]) == (1, 0, 0)
    after = await books.payment(declined["id"])
    assert (after["state"], after["received_on"], after["applied"]) == ("received", "2026-08-02", "300.00")
    assert [(a["number"], a["outcome"]) for a in after["attempts"]] == [(1, "declined"), (2, "approved")]
    assert await books.invoice(invoice) == ("paid", "300.00", "0.00")
    again = await books.post("/v1/payments/retry-declined", {"on": "2026-08-02"}, expect=200)
    assert (again["approved"], again["declined"]) == (0, 0)
    assert len(await invoicing.outbox("payment.received")) == 1
    assert len(await invoicing.outbox("payment.declined")) == 1
    assert len(await invoicing.outbox("payment_method.token_updated")) == 1
    listed = await invoicing.client.get("/v1/payments", params={"account_id": "acct_1"}, headers=OPS)
    assert [p["payment_method_id"] for p in listed.json()["data"]] == [method["id"]]


async def test_a_card_declined_on_every_retry_is_given_up(invoicing: Invoicing) -> None:
    """Declined August 1, 2, 4 and 8 (1, 3 and 7 days after the first): failed."""
    books = await Books(invoicing).open()
    method = await _card_method(books, "tok_decline_always")
    payment = await books.pay("10.00", payment_method_id=method["id"])
    for day in ("2026-08-02", "2026-08-04"):
        assert (await books.post("/v1/payments/retry-declined", {"on": day}, expect=200))["declined"] == 1
    last = await books.post("/v1/payments/retry-declined", {"on": "2026-08-08"}, expect=200)
    assert last["failed"] == 1
    after = await books.payment(payment["id"])
    assert (after["state"], after["next_retry_on"], len(after["attempts"])) == ("failed", None, 4)
    declines = await invoicing.outbox("payment.declined")
    assert [
        (
            d["payment_id"],
            d["amount"],
            d["attempt_number"],
            d["attempted_on"],
            d["next_retry_on"],
            d["given_up"],
        )
        for d in declines
    ] == [
        (payment["id"], "10.00", 1, "2026-08-01", "2026-08-02", False),
        (payment["id"], "10.00", 2, "2026-08-02", "2026-08-04", False),
        (payment["id"], "10.00", 3, "2026-08-04", "2026-08-08", False),
        (payment["id"], "10.00", 4, "2026-08-08", None, True),
    ]


async def test_ach_check_and_wire_methods_hold_no_card(invoicing: Invoicing) -> None:
    books = await Books(invoicing).open()
    ach = await books.post(
        "/v1/payment-methods",
        {"account_id": "acct_1", "kind": "ach", "ach": {"mandate_id": "md_2026_7", "bank_last_four": "6789"}},
        expect=201,
    )
    assert (ach["mandate_id"], ach["bank_last_four"], ach["card"]) == ("md_2026_7", "6789", None)
    payment = await books.pay("25.00", payment_method_id=ach["id"])
    assert (payment["state"], payment["method_kind"]) == ("received", "ach")
    await books.pay("25.00", payment_method_id=ach["id"], received_on="2026-07-01", expect=422)
    conflict = await invoicing.client.post(
        f"/v1/payment-methods/{ach['id']}/token-update", json={"card": _card("tok_new")}, headers=key()
    )
    assert conflict.status_code == 409
    await books.post("/v1/payment-methods", {"account_id": "acct_1", "kind": "ach"}, expect=422)
    await books.post("/v1/payment-methods", {"account_id": "acct_1", "kind": "card"}, expect=422)
    await books.post("/v1/payment-methods", {"account_id": "acct_none", "kind": "wire"}, expect=404)


@pytest.mark.parametrize(
    "body",
    [
        {"account_id": "acct_1", "kind": "card", "card": _card(PAN)},
        {
            "account_id": "acct_1",
            "kind": "card",
            "card": _card("tok_ok"),
            "label": f"card {PAN[:4]} {PAN[4:8]} {PAN[8:12]} {PAN[12:]}",
        },
        {"account_id": "acct_1", "kind": "ach", "ach": {"mandate_id": PAN}},
    ],
    ids=["token", "label", "mandate"],
)
async def test_a_card_number_in_any_field_is_refused_and_not_stored(
    invoicing: Invoicing, body: dict[str, Any]
) -> None:
    books = await Books(invoicing).open()
    response = await invoicing.client.post("/v1/payment-methods", json=body, headers=key())
    assert response.status_code == 422, response.text
    assert PAN not in response.text and PAN[:4] + " " + PAN[4:8] not in response.text
    async with invoicing.runtime.db.session() as session:
        assert (await session.exec(select(PaymentMethodRow))).all() == []
        audits = (await session.exec(select(AuditRecord))).all()
    assert not any(PAN in str(a.changes) for a in audits)
    listed = await invoicing.client.get("/v1/payment-methods", headers=OPS)
    assert listed.json()["data"] == []
    assert await invoicing.outbox("payment_method.added") == []  # refused: nothing published
    assert books.account_id == "acct_1"
