"""`/v1/payments` on SQLite and PostgreSQL, through the API: partial payments, an overpayment carried
to the next invoice, refunds, a bounced check reopening invoices, an idempotent replay, refusals
that change nothing, a 0-decimal currency; the events and audit records they leave. Every amount
is worked by hand in the test's docstring. The service's clock is noon in New York on 2026-08-01."""

from __future__ import annotations

import asyncio
from datetime import date

from tests.invoicing.integration.conftest import Invoicing
from tests.invoicing.integration.payments_support import FINANCE, OPS, Books, key

JULY_1, AUGUST_1 = date(2026, 7, 1), date(2026, 8, 1)


async def test_partial_payments_then_paid(invoicing: Invoicing) -> None:
    """An invoice of 300.00: a check of 100.00 leaves 200.00 due (partially paid); a wire of 200.00
    pays it (paid, `invoice.paid` once)."""
    books = await Books(invoicing).open()
    invoice = await books.issue("300.00", AUGUST_1)
    first = await books.pay("100.00", reference="CHK 1001")
    assert (first["state"], first["applied"], first["unapplied"], first["received_on"]) == (
        "received",
        "100.00",
        "0.00",
        "2026-08-01",
    )
    assert [(a["invoice_number"], a["amount"]) for a in first["allocations"]] == [
        ("INV-2026-000001", "100.00")
    ]
    assert await books.invoice(invoice) == ("partially_paid", "100.00", "200.00")
    assert await invoicing.outbox("invoice.paid") == []

    second = await books.pay("200.00", method_kind="wire", reference="WIRE 77")
    assert second["allocations"][0]["amount"] == "200.00"
    assert await books.invoice(invoice) == ("paid", "300.00", "0.00")
    [paid] = await invoicing.outbox("invoice.paid")
    assert (paid["invoice_id"], paid["total"]) == (invoice, "300.00")
    received = await invoicing.outbox("payment.received")
    assert [(p["amount"], p["allocations"][0]["invoice_amount_due"], p["unapplied"]) for p in received] == [
        ("100.00", "200.00", "0.00"),
        ("200.00", "0.00", "0.00"),
    ]
    assert await invoicing.audit_actions(first["id"]) == ["payment.received"]
    listed = await invoicing.client.get("/v1/payments", params={"invoice_id": invoice}, headers=OPS)
    assert [p["id"] for p in listed.json()["data"]] == [first["id"], second["id"]]


async def test_unnamed_payment_pays_oldest_first_and_overpayment_pays_the_next_invoice(
    invoicing: Invoicing,
) -> None:
    """July 200.00 and August 300.00 open; a check of 650.00 pays July, then August, and 150.00 stays
    as credit. A September invoice of 400.00, once finalized, takes the 150.00: 250.00 due."""
    books = await Books(invoicing).open()
    august = await books.issue("300.00", AUGUST_1)
    july = await books.issue("200.00", JULY_1)
    payment = await books.pay("650.00")
    assert [(a["invoice_id"], a["amount"]) for a in payment["allocations"]] == [
        (july, "200.00"),
        (august, "300.00"),
    ]
    assert payment["unapplied"] == "150.00"
    [received] = await invoicing.outbox("payment.received")
    assert received["unapplied"] == "150.00"

    september = await books.issue("400.00", date(2026, 9, 1))
    assert await books.invoice(september) == ("partially_paid", "150.00", "250.00")
    after = await books.payment(payment["id"])
    assert (after["applied"], after["unapplied"]) == ("650.00", "0.00")
    assert [(a["invoice_id"], a["amount"], a["source"]) for a in after["allocations"]][-1] == (
        september,
        "150.00",
        "account_credit",
    )
    [applied] = await invoicing.outbox("payment.credit_applied")
    assert (applied["allocations"][0]["amount"], applied["allocations"][0]["invoice_amount_due"]) == (
        "150.00",
        "250.00",
    )
    assert applied["unapplied"] == "0.00"


async def test_credit_that_covers_the_next_invoice_pays_it(invoicing: Invoicing) -> None:
    """A check of 500.00 with nothing open is all credit; an invoice of 120.00 is paid at finalizing
    (`invoice.paid`), 380.00 credit remains."""
    books = await Books(invoicing).open()
    payment = await books.pay("500.00")
    assert (payment["applied"], payment["unapplied"]) == ("0.00", "500.00")
    invoice = await books.issue("120.00", AUGUST_1)
    assert await books.invoice(invoice) == ("paid", "120.00", "0.00")
    assert (await books.payment(payment["id"]))["unapplied"] == "380.00"
    assert [p["invoice_id"] for p in await invoicing.outbox("invoice.paid")] == [invoice]


async def test_refunds_take_credit_first_then_reopen_the_latest_invoice(invoicing: Invoicing) -> None:
    """One invoice of 300.00 and a check of 450.00: 150.00 credit. A refund of 100.00 takes credit
    only; a refund of 100.00 more takes the last 50.00 of credit and 50.00 off the invoice (250.00
    paid, 50.00 due); asking 250.01 more is refused (250.00 remains), and nothing changes."""
    books = await Books(invoicing).open()
    invoice = await books.issue("300.00", AUGUST_1)
    payment = await books.pay("450.00")
    path = f"/v1/payments/{payment['id']}/refunds"
    first = await books.post(path, {"amount": "100.00", "reason": "overpaid"}, expect=201)
    assert (first["amount"], first["account_credit_used"], first["invoices_reopened"]) == (
        "100.00",
        "100.00",
        [],
    )
    assert await books.invoice(invoice) == ("paid", "300.00", "0.00")
    second = await books.post(path, {"amount": "100.00"}, expect=201)
    assert second["account_credit_used"] == "50.00"
    assert [(r["invoice_id"], r["amount"], r["invoice_amount_due"]) for r in second["invoices_reopened"]] == [
        (invoice, "50.00", "50.00")
    ]
    assert await books.invoice(invoice) == ("partially_paid", "250.00", "50.00")
    too_much = await invoicing.client.post(path, json={"amount": "250.01"}, headers=key())
    assert too_much.status_code == 422, too_much.text
    assert too_much.headers["content-type"].startswith("application/problem+json")
    assert await books.invoice(invoice) == ("partially_paid", "250.00", "50.00")
    after = await books.payment(payment["id"])
    assert (after["state"], after["refunded"], after["unapplied"]) == ("received", "200.00", "0.00")
    refunded = await invoicing.outbox("payment.refunded")
    assert [(r["refunded"], r["account_credit_used"]) for r in refunded] == [
        ("100.00", "100.00"),
        ("100.00", "50.00"),
    ]


async def test_a_bounced_check_reopens_the_invoices_it_paid(invoicing: Invoicing) -> None:
    """July 200.00 and August 300.00 paid by one check of 500.00; the check bounces: both open again
    (finalized, nothing paid), August first (latest allocation), and the payment cannot be refunded."""
    books = await Books(invoicing).open()
    july = await books.issue("200.00", JULY_1)
    august = await books.issue("300.00", AUGUST_1)
    payment = await books.pay("500.00", reference="CHK 2002")
    assert await books.invoice(july) == ("paid", "200.00", "0.00")
    reversal = await books.post(
        f"/v1/payments/{payment['id']}/reverse", {"reason": "returned: insufficient funds"}, expect=201
    )
    assert (reversal["kind"], reversal["amount"]) == ("reversal", "500.00")
    assert [(r["invoice_id"], r["amount"]) for r in reversal["invoices_reopened"]] == [
        (august, "300.00"),
        (july, "200.00"),
    ]
    assert await books.invoice(july) == ("finalized", "0.00", "200.00")
    assert await books.invoice(august) == ("finalized", "0.00", "300.00")
    after = await books.payment(payment["id"])
    assert (after["state"], after["applied"], after["reversal_reason"]) == (
        "reversed",
        "0.00",
        "returned: insufficient funds",
    )
    [reversed_] = await invoicing.outbox("payment.reversed")
    assert (reversed_["reason"], [a["invoice_amount_due"] for a in reversed_["allocations"]]) == (
        "returned: insufficient funds",
        ["300.00", "200.00"],
    )
    again = await invoicing.client.post(f"/v1/payments/{payment['id']}/refunds", json={}, headers=key())
    assert again.status_code == 409, again.text
    assert await invoicing.audit_actions(payment["id"]) == ["payment.received", "payment.reversed"]


async def test_a_replayed_payment_changes_nothing(invoicing: Invoicing) -> None:
    """The same payment sent twice with one Idempotency-Key: one payment, 100.00 paid once."""
    books = await Books(invoicing).open()
    invoice = await books.issue("300.00", AUGUST_1)
    headers = FINANCE | {"Idempotency-Key": "pay-once"}
    body = {"account_id": "acct_1", "amount": "100.00", "currency": "USD", "method_kind": "check"}
    first = await invoicing.client.post("/v1/payments", json=body, headers=headers)
    replayed = await invoicing.client.post("/v1/payments", json=body, headers=headers)
    assert first.status_code == replayed.status_code == 201
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.json() == first.json()
    assert await books.count_payments() == 1
    assert await books.invoice(invoice) == ("partially_paid", "100.00", "200.00")
    assert len(await invoicing.outbox("payment.received")) == 1


async def test_refusals_change_nothing(invoicing: Invoicing) -> None:
    """Paying a draft or a void invoice (409), another currency (422), too many decimals (422), a
    card without a stored method (422), an unknown account (404): no payment, invoices as they were."""
    books = await Books(invoicing).open()
    draft = await books.issue("300.00", AUGUST_1, finalize=False)
    void = await books.issue("80.00", JULY_1)
    response = await invoicing.client.post(
        f"/v1/invoices/{void}/void", json={"reason": "wrong"}, headers=key()
    )
    assert response.status_code == 200, response.text
    await books.pay("50.00", invoice_ids=[draft], expect=409)
    await books.pay("50.00", invoice_ids=[void], expect=409)
    await books.pay("50.00", currency="EUR", expect=422)
    await books.pay("50.005", expect=422)
    await books.pay("50.00", method_kind="card", expect=422)
    await books.pay("50.00", account_id="acct_unknown", expect=404)
    assert await books.count_payments() == 0
    assert await books.invoice(draft) == ("draft", "0.00", "0.00")
    assert await invoicing.outbox("payment.received") == []


async def test_yen_have_no_decimals(invoicing: Invoicing) -> None:
    """A JPY account: an invoice of ¥1,235, a payment of ¥1,000 leaves ¥235 due; ¥10.5 is refused."""
    books = await Books(invoicing, account_id="acct_jp", currency="JPY").open(time_zone="Asia/Tokyo")
    invoice = await books.issue("1235", AUGUST_1)
    payment = await books.pay("1000")
    assert (payment["amount"], payment["allocations"][0]["amount"]) == ("1000", "1000")
    assert await books.invoice(invoice) == ("partially_paid", "1000", "235")
    await books.pay("10.5", expect=422)


async def test_two_payments_at_once_never_pay_an_invoice_twice(invoicing: Invoicing) -> None:
    """An invoice of 300.00 and two checks of 200.00 sent at once: 300.00 applied in all, 100.00
    left as credit on one of them, the invoice paid once."""
    books = await Books(invoicing).open()
    invoice = await books.issue("300.00", AUGUST_1)
    body = {"account_id": "acct_1", "amount": "200.00", "currency": "USD", "method_kind": "check"}
    first, second = await asyncio.gather(
        invoicing.client.post("/v1/payments", json=body, headers=key()),
        invoicing.client.post("/v1/payments", json=body, headers=key()),
    )
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    paid = sorted([first.json()["applied"], second.json()["applied"]])
    credit = sorted([first.json()["unapplied"], second.json()["unapplied"]])
    assert (paid, credit) == (["100.00", "200.00"], ["0.00", "100.00"])
    assert await books.invoice(invoice) == ("paid", "300.00", "0.00")
    assert len(await invoicing.outbox("invoice.paid")) == 1


async def test_bahraini_dinars_have_three_decimals(invoicing: Invoicing) -> None:
    """A BHD invoice of 10.125: 5.25 paid leaves 4.875 due; a refund of 0.0005 is refused (422); a
    refund of 1.125 reopens it by 1.125: 5.250 - 1.125 = 4.125 paid, 10.125 - 4.125 = 6.000 due."""
    books = await Books(invoicing, account_id="acct_bh", currency="BHD").open(time_zone="Asia/Bahrain")
    invoice = await books.issue("10.125", AUGUST_1)
    payment = await books.pay("5.25")
    assert (payment["amount"], payment["allocations"][0]["amount"]) == ("5.250", "5.250")
    assert await books.invoice(invoice) == ("partially_paid", "5.250", "4.875")
    path = f"/v1/payments/{payment['id']}/refunds"
    refused = await invoicing.client.post(path, json={"amount": "0.0005"}, headers=key())
    assert refused.status_code == 422, refused.text
    await books.post(path, {"amount": "1.125"}, expect=201)
    assert await books.invoice(invoice) == ("partially_paid", "4.125", "6.000")
