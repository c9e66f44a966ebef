"""`/v1/adjustments`, `/v1/credit-notes` and `/v1/disputes` on SQLite and PostgreSQL: amounts to the
cent, CN numbers, events and audit, refusals that change nothing, two credit notes at once."""

from __future__ import annotations

import asyncio
import io
from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader

from invoicing.handlers import adjustments as adjustment_handlers
from libs.platform.settings import Role
from tests.invoicing.factories import billing_account, invoice_line
from tests.invoicing.integration.conftest import Invoicing
from tests.support.services import auth

FINANCE, ERP, OPS = auth(Role.FINANCE), auth(Role.ERP), auth(Role.OPS)


async def _issued(invoicing: Invoicing) -> dict[str, Any]:
    """An issued August invoice of acct_1 (3,000.00 + 266.25 and 92.59 + 8.22: 3,367.06), the
    account known to the read model."""
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        await uow.billing_inputs.save_account(billing_account(), event_at=uow.clock.now())
        await uow.commit()
    drafted = await invoicing.draft()
    await invoicing.finalize(drafted.invoice.id)
    response = await invoicing.client.get(f"/v1/invoices/{drafted.invoice.id}", headers=OPS)
    return dict(response.json())


def _note(invoice_id: str, *lines: dict[str, str], currency: str = "USD") -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
        "currency": currency,
        "reason": "Billed 12 seats, 10 used",
        "lines": list(lines),
    }


async def test_a_credit_note_credits_a_line_with_its_tax_and_lowers_the_amount_due(
    invoicing: Invoicing,
) -> None:
    invoice = await _issued(invoicing)
    headers = FINANCE | {"Idempotency-Key": "cn-1"}
    body = _note(invoice["id"], {"charge_key": "sub_1:2026-08", "amount": "500.00"})
    response = await invoicing.client.post("/v1/credit-notes", json=body, headers=headers)
    assert response.status_code == 201, response.text
    note = response.json()
    assert (note["number"], note["invoice_number"], note["subtotal"], note["tax_total"], note["total"]) == (
        "CN-2026-000001",
        "INV-2026-000001",
        "500.00",
        "44.38",
        "544.38",
    )
    assert [(line["amount"], line["tax_rate"], line["tax_amount"]) for line in note["lines"]] == [
        ("500.00", "8.875", "44.38")
    ]
    replayed = await invoicing.client.post("/v1/credit-notes", json=body, headers=headers)
    assert replayed.headers.get("Idempotent-Replayed") == "true" and replayed.json()["id"] == note["id"]
    after = (await invoicing.client.get(f"/v1/invoices/{invoice['id']}", headers=ERP)).json()
    assert (after["state"], after["total"], after["credited"], after["amount_due"]) == (
        "finalized",
        "3367.06",
        "544.38",
        "2822.68",
    )
    [published] = await invoicing.outbox("credit_note.issued")
    assert (
        published["number"],
        published["total"],
        published["invoice_amount_due"],
        published["account_credit"],
    ) == (
        "CN-2026-000001",
        "544.38",
        "2822.68",
        "0.00",
    )
    assert await invoicing.audit_actions(note["id"]) == ["credit_note.issued"]
    listed = await invoicing.client.get("/v1/credit-notes", params={"invoice_id": invoice["id"]}, headers=OPS)
    assert [n["number"] for n in listed.json()["data"]] == ["CN-2026-000001"]


async def test_credit_note_refusals_change_nothing(invoicing: Invoicing) -> None:
    invoice = await _issued(invoicing)
    too_much = await invoicing.client.post(
        "/v1/credit-notes",
        json=_note(invoice["id"], {"charge_key": "ru_1", "amount": "92.60"}),
        headers=FINANCE,
    )
    assert too_much.status_code == 422, too_much.text
    assert [e["field"] for e in too_much.json()["errors"]] == ["lines.0.amount"]
    beyond_total = await invoicing.client.post(
        "/v1/credit-notes", json=_note(invoice["id"], {"amount": "3092.60"}), headers=FINANCE
    )
    assert beyond_total.status_code == 422 and beyond_total.json()["errors"][0]["field"] == "lines"
    other_currency = await invoicing.client.post(
        "/v1/credit-notes", json=_note(invoice["id"], {"amount": "1.00"}, currency="EUR"), headers=FINANCE
    )
    assert other_currency.status_code == 422 and other_currency.json()["errors"][0]["field"] == "currency"
    unknown = await invoicing.client.post(
        "/v1/credit-notes", json=_note("inv_missing", {"amount": "1.00"}), headers=FINANCE
    )
    assert unknown.status_code == 404
    drafted = await invoicing.draft(
        period_start=date(2026, 9, 1), period_end=date(2026, 10, 1), lines=[invoice_line("sep")]
    )
    on_draft = await invoicing.client.post(
        "/v1/credit-notes", json=_note(drafted.invoice.id, {"amount": "1.00"}), headers=FINANCE
    )
    assert on_draft.status_code == 409, on_draft.text
    read_only = await invoicing.client.post(
        "/v1/credit-notes", json=_note(invoice["id"], {"amount": "1.00"}), headers=OPS
    )
    assert read_only.status_code == 403
    after = (await invoicing.client.get(f"/v1/invoices/{invoice['id']}", headers=OPS)).json()
    assert after["amount_due"] == "3367.06"
    assert await invoicing.outbox("credit_note.issued") == []
    for path in (
        "/v1/credit-notes/cn_missing",
        "/v1/credit-notes/cn_missing/pdf",
        "/v1/adjustments/adj_missing",
        "/v1/disputes/dsp_missing",
    ):
        assert (await invoicing.client.get(path, headers=OPS)).status_code == 404


async def test_two_credit_notes_at_once_that_together_exceed_what_remains_one_is_refused(
    invoicing: Invoicing,
) -> None:
    invoice = await _issued(invoicing)
    body = _note(invoice["id"], {"charge_key": "sub_1:2026-08", "amount": "2000.00"})
    first, second = await asyncio.gather(
        invoicing.client.post("/v1/credit-notes", json=body, headers=FINANCE),
        invoicing.client.post("/v1/credit-notes", json=body, headers=FINANCE),
    )
    assert sorted([first.status_code, second.status_code]) == [201, 422], (first.text, second.text)
    after = (await invoicing.client.get(f"/v1/invoices/{invoice['id']}", headers=OPS)).json()
    # 2,000.00 + 177.50 tax credited once
    assert after["amount_due"] == "1189.56"
    listed = (await invoicing.client.get("/v1/credit-notes", headers=OPS)).json()["data"]
    assert [n["number"] for n in listed] == ["CN-2026-000001"]


async def test_a_credit_note_on_a_paid_invoice_leaves_account_credit(invoicing: Invoicing) -> None:
    invoice = await _issued(invoicing)
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        paid = await uow.invoices.get(invoice["id"])
        paid.apply_payment(paid.amount_due, "USD")
        await uow.invoices.save(paid)
        await uow.commit()
    response = await invoicing.client.post(
        "/v1/credit-notes", json=_note(invoice["id"], {"amount": "100.00"}), headers=FINANCE
    )
    assert response.status_code == 201, response.text
    assert (response.json()["total"], response.json()["account_credit"]) == ("108.88", "108.88")
    after = (await invoicing.client.get(f"/v1/invoices/{invoice['id']}", headers=OPS)).json()
    assert (after["state"], after["amount_due"]) == ("paid", "0.00")


async def test_the_credit_note_documents_show_the_credited_lines(invoicing: Invoicing) -> None:
    invoice = await _issued(invoicing)
    created = await invoicing.client.post(
        "/v1/credit-notes",
        json=_note(invoice["id"], {"charge_key": "sub_1:2026-08", "amount": "500.00"}, {"amount": "10.00"}),
        headers=FINANCE,
    )
    note_id = created.json()["id"]
    html = await invoicing.client.get(f"/v1/credit-notes/{note_id}/html", headers=OPS)
    assert html.status_code == 200 and "CN-2026-000001" in html.text and "INV-2026-000001" in html.text
    pdf = await invoicing.client.get(f"/v1/credit-notes/{note_id}/pdf", headers=OPS)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    for shown in ("CREDIT NOTE", "CN-2026-000001", "INV-2026-000001", "$500.00", "$44.38", "$555.27"):
        assert shown in text, (shown, text)


async def test_adjustments_are_created_listed_cancelled_and_read_by_the_bill_run(
    invoicing: Invoicing,
) -> None:
    await _issued(invoicing)
    body = {
        "account_id": "acct_1",
        "currency": "USD",
        "direction": "credit",
        "amount": "25.00",
        "reason": "Goodwill",
    }
    created = await invoicing.client.post(
        "/v1/adjustments", json=body, headers=FINANCE | {"Idempotency-Key": "adj-1"}
    )
    assert created.status_code == 201, created.text
    adjustment = created.json()
    assert (
        adjustment["state"],
        adjustment["signed_amount"],
        adjustment["charge_key"],
        adjustment["effective_date"],
    ) == (
        "pending",
        "-25.00",
        f"adjustment:{adjustment['id']}",
        "2026-08-01",
    )
    debit = await invoicing.client.post(
        "/v1/adjustments", json=body | {"direction": "debit", "amount": "10.00"}, headers=FINANCE
    )
    assert debit.status_code == 201
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        pending = await adjustment_handlers.pending_adjustments(uow=uow, account_ids=["acct_1", "acct_2"])
    assert sorted((p.direction.value, str(p.amount)) for p in pending["acct_1"]) == [
        ("credit", "25.00"),
        ("debit", "10.00"),
    ]

    # The bill run bills the credit: a line keyed adjustment:{id} on the next invoice applies it.
    line = invoice_line(f"adjustment:{adjustment['id']}", quantity="1", unit_price="-25.00", tax_rate="0")
    september = await invoicing.draft(
        period_start=date(2026, 9, 1), period_end=date(2026, 10, 1), lines=[line]
    )
    applied = (await invoicing.client.get(f"/v1/adjustments/{adjustment['id']}", headers=OPS)).json()
    assert (applied["state"], applied["applied_invoice_id"]) == ("applied", september.invoice.id)
    refused = await invoicing.client.post(f"/v1/adjustments/{adjustment['id']}/cancel", headers=FINANCE)
    assert refused.status_code == 409
    cancelled = await invoicing.client.post(
        f"/v1/adjustments/{debit.json()['id']}/cancel", json={"reason": "duplicate"}, headers=FINANCE
    )
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    for state, expected in (
        ("applied", [adjustment["id"]]),
        ("cancelled", [debit.json()["id"]]),
        ("pending", []),
    ):
        listed = await invoicing.client.get("/v1/adjustments", params={"state": state}, headers=OPS)
        assert [a["id"] for a in listed.json()["data"]] == expected, state
    assert [p["adjustment_id"] for p in await invoicing.outbox("adjustment.created")] == [
        adjustment["id"],
        debit.json()["id"],
    ]
    assert [p["adjustment_id"] for p in await invoicing.outbox("adjustment.cancelled")] == [
        debit.json()["id"]
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "EUR"}, "currency"),
        ({"account_id": "acct_unknown"}, "account_id"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"kind": "service_credit"}, "subscription_id"),
        ({"amount": 10}, "amount"),
    ],
)
async def test_adjustment_refusals_are_422_and_change_nothing(
    invoicing: Invoicing, change: dict[str, object], field: str
) -> None:
    await _issued(invoicing)
    body = {
        "account_id": "acct_1",
        "currency": "USD",
        "direction": "credit",
        "amount": "25.00",
        "reason": "Goodwill",
    }
    response = await invoicing.client.post("/v1/adjustments", json=body | change, headers=FINANCE)
    assert response.status_code == 422, response.text
    assert field in [e["field"].split(".")[-1] for e in response.json()["errors"]], response.text
    assert (await invoicing.client.get("/v1/adjustments", headers=OPS)).json()["data"] == []


async def test_a_dispute_is_opened_reviewed_and_resolved_with_a_credit_note(invoicing: Invoicing) -> None:
    invoice = await _issued(invoicing)
    body = {
        "invoice_id": invoice["id"],
        "reason": "Usage double counted",
        "charge_key": "ru_1",
        "disputed_amount": "40.00",
    }
    opened = await invoicing.client.post("/v1/disputes", json=body, headers=FINANCE)
    assert opened.status_code == 201, opened.text
    dispute_id = opened.json()["id"]
    second = await invoicing.client.post("/v1/disputes", json=body, headers=FINANCE)
    assert second.status_code == 409, second.text
    review = await invoicing.client.post(f"/v1/disputes/{dispute_id}/review", headers=FINANCE)
    assert review.json()["state"] == "under_review"
    resolved = await invoicing.client.post(
        f"/v1/disputes/{dispute_id}/resolve",
        json={"outcome": "credit", "amount": "30.00", "note": "agreed"},
        headers=FINANCE,
    )
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["state"], resolved.json()["credited_amount"]) == ("resolved_credit", "30.00")
    note = (
        await invoicing.client.get(f"/v1/credit-notes/{resolved.json()['credit_note_id']}", headers=OPS)
    ).json()
    # 8.22 x 30 / 92.59 = 2.663 -> 2.66
    assert (note["number"], note["total"], note["dispute_id"]) == ("CN-2026-000001", "32.66", dispute_id)
    again = await invoicing.client.post(
        f"/v1/disputes/{dispute_id}/resolve", json={"outcome": "reject"}, headers=FINANCE
    )
    assert again.status_code == 409
    assert [p["state"] for p in await invoicing.outbox("dispute.resolved")] == ["resolved_credit"]
    assert [p["dispute_id"] for p in await invoicing.outbox("dispute.opened")] == [dispute_id]
    listed = await invoicing.client.get("/v1/disputes", params={"state": "resolved_credit"}, headers=OPS)
    assert [d["id"] for d in listed.json()["data"]] == [dispute_id]
